#include "handle.h"

#include <atomic>

namespace yt {
namespace {

// A fixed random tag so that foreign externals are never mistaken for tensors.
const napi_type_tag kTensorTag = {0x7a3c5f1e9b2d4c68ULL, 0x91e0b4d7a65f23c1ULL};
std::atomic<int64_t> gLive{0};

int64_t ownedBytes(const at::Tensor& t) {
  // Views share their base's storage; counting them again would overstate memory pressure.
  if (!t.defined() || !t.has_storage() || t.is_view()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

void finalize(Napi::Env env, Handle* handle) {
  if (handle->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, -handle->accountedBytes);
  if (handle->tensor.defined()) --gLive;
  delete handle;
}

}  // namespace

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* handle = new Handle{std::move(tensor), 0};
  handle->accountedBytes = ownedBytes(handle->tensor);
  if (handle->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, handle->accountedBytes);
  ++gLive;
  auto external = Napi::External<Handle>::New(env, handle, finalize);
  napi_type_tag_object(env, external, &kTensorTag);
  return external;
}

bool isHandle(Napi::Env env, const Napi::Value& value) {
  if (!value.IsExternal()) return false;
  bool tagged = false;
  napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  return tagged;
}

Handle* handleOf(Napi::Env env, const Napi::Value& value) {
  return isHandle(env, value) ? value.As<Napi::External<Handle>>().Data() : nullptr;
}

const at::Tensor& unwrap(Napi::Env env, const Napi::Value& value, const char* what) {
  Handle* handle = handleOf(env, value);
  if (!handle) throw Napi::TypeError::New(env, std::string("expected a tensor for ") + what);
  if (!handle->tensor.defined()) throw Napi::Error::New(env, std::string("tensor used after dispose() for ") + what);
  return handle->tensor;
}

void dispose(Napi::Env env, const Napi::Value& value) {
  if (!isHandle(env, value)) throw Napi::TypeError::New(env, "dispose: expected a tensor handle");
  auto* handle = value.As<Napi::External<Handle>>().Data();
  if (!handle->tensor.defined()) return;
  handle->tensor.reset();
  --gLive;
  if (handle->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, -handle->accountedBytes);
  handle->accountedBytes = 0;
}

int64_t liveHandles() { return gLive.load(); }

}  // namespace yt
