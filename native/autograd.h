// Autograd and global engine state: gradients, grad mode, random seed, threads.
#pragma once
#include <napi.h>

namespace yt {
Napi::Value Backward(const Napi::CallbackInfo& info);
Napi::Value Grad(const Napi::CallbackInfo& info);
Napi::Value SetGrad(const Napi::CallbackInfo& info);
Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info);
Napi::Value ManualSeed(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);
}  // namespace yt
