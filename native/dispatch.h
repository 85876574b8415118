// Generic access to every ATen operator through the c10 dispatcher, autograd included.
// JS resolves an operator once by schema name and overload ("aten::conv2d", "") and then
// calls it by index; arguments are converted according to the operator's schema.
#pragma once
#include <napi.h>

namespace yt {
Napi::Value ResolveOp(const Napi::CallbackInfo& info);
Napi::Value CallOp(const Napi::CallbackInfo& info);
Napi::Value OpSchema(const Napi::CallbackInfo& info);
}  // namespace yt
