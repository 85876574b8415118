// Moving data between JS memory and tensors, and reading tensor metadata.
#pragma once
#include <napi.h>

namespace yt {
Napi::Value FromBuffer(const Napi::CallbackInfo& info);
Napi::Value ToBuffer(const Napi::CallbackInfo& info);
Napi::Value Item(const Napi::CallbackInfo& info);
Napi::Value Shape(const Napi::CallbackInfo& info);
Napi::Value DType(const Napi::CallbackInfo& info);
Napi::Value Dispose(const Napi::CallbackInfo& info);
Napi::Value IsDisposed(const Napi::CallbackInfo& info);
Napi::Value LiveHandles(const Napi::CallbackInfo& info);
}  // namespace yt
