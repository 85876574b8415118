// Process groups for training over several processes and machines: libtorch's c10d (a TCPStore rendezvous and
// ProcessGroupGloo collectives), exposed to JS as promises so that waiting for peers never blocks the event loop.
#pragma once
#include <napi.h>

namespace yt {
Napi::Value CreateGroup(const Napi::CallbackInfo& info);
Napi::Value DestroyGroup(const Napi::CallbackInfo& info);
Napi::Value AllReduce(const Napi::CallbackInfo& info);
Napi::Value Broadcast(const Napi::CallbackInfo& info);
Napi::Value Barrier(const Napi::CallbackInfo& info);
Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info);
// Gradient averaging overlapped with backward (gradient_reducer.cc).
Napi::Value CreateGradientReducer(const Napi::CallbackInfo& info);
Napi::Value ReducerArm(const Napi::CallbackInfo& info);
Napi::Value ReducerFinish(const Napi::CallbackInfo& info);
Napi::Value ReducerStats(const Napi::CallbackInfo& info);
Napi::Value DisposeGradientReducer(const Napi::CallbackInfo& info);
}  // namespace yt
