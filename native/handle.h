// Tensor handles: how a libtorch tensor lives inside a JS value.
// A handle is a type-tagged JS object wrapping one reference to an at::Tensor.
// Disposing it drops that reference (and the wrap) at once; garbage collection drops it otherwise.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace yt {

struct Handle {
  at::Tensor tensor;
  int64_t accountedBytes;  // counted in what V8 is told of external memory, so GC keeps up with native allocations
};

Napi::Value wrap(Napi::Env env, at::Tensor tensor);
bool isHandle(Napi::Env env, const Napi::Value& value);
// The handle inside `value` (one with an undefined tensor once disposed), or nullptr when `value` is not a handle.
Handle* handleOf(Napi::Env env, const Napi::Value& value);
// Throws a JS TypeError naming `what` when `value` is not a live tensor handle.
const at::Tensor& unwrap(Napi::Env env, const Napi::Value& value, const char* what);
void dispose(Napi::Env env, const Napi::Value& value);
int64_t liveHandles();

// Runs `body`, turning every C++ exception (libtorch's included) into a JS Error with its message.
template <typename Body>
Napi::Value guarded(Napi::Env env, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace yt
