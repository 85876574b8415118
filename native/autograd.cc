#include "autograd.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include "handle.h"

namespace yt {

// backward(t, grad | null, retainGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& t = unwrap(env, info[0], "backward");
    at::Tensor gradient;
    if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) gradient = unwrap(env, info[1], "gradient");
    bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
    t.backward(gradient, retain);
    return env.Undefined();
  });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return wrap(env, unwrap(env, info[0], "grad").grad()); });
}

// setGrad(t, g | null): null clears the gradient (the cheap form of zeroGrad).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = unwrap(env, info[0], "setGrad");
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = unwrap(env, info[1], "grad");
    return env.Undefined();
  });
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Boolean::New(env, unwrap(env, info[0], "requiresGrad").requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = unwrap(env, info[0], "requiresGrad_");
    t.requires_grad_(info[1].ToBoolean().Value());
    return env.Undefined();
  });
}

// setGradEnabled(enabled) returns the previous mode, so scopes can restore it.
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = c10::GradMode::is_enabled();
  if (info.Length() > 0) c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

}  // namespace yt
