// dataView(t) returns [ArrayBuffer over t's whole storage, byte offset of t's first element], without copying.
//
// Why this is safe:
// - Lifetime: the buffer's finalizer owns a reference to the storage, so the memory outlives both the tensor handle
//   and any dispose(); it is freed only after V8 collects the buffer (N-API runs the finalizer on the JS thread).
// - Reallocation: while a buffer exists the storage is marked non-resizable, so resize_() (and ops writing into it
//   with a larger size) throw instead of moving the memory from under JS; the flag is restored when the last
//   buffer over the storage is finalized.
// - One backing store per pointer: older V8 refused to register the same memory twice (a fatal CHECK). Each storage
//   therefore gets one ArrayBuffer, reused while JS can still reach it. Only in the short window between its
//   collection and its finalizer can a second buffer be made over the same memory; V8 9.1 and later (Node 20 ships
//   11.3) no longer register non-wasm backing stores globally, so that is harmless.
// The caller (src/torch) only asks for contiguous CPU tensors that do not require grad, like torch's numpy().
#include "data_view.h"

#include <mutex>
#include <unordered_map>

#include "handle.h"

namespace yt {
namespace {

struct ViewOwner {
  c10::Storage storage;
};

struct Registered {
  napi_ref buffer;  // weak: does not keep the ArrayBuffer alive
  int live;         // buffers over this storage not yet finalized
  bool wasResizable;
};

// Keyed by the storage's data pointer, which cannot move or be reused while an entry holds the storage.
std::unordered_map<const void*, Registered> gViews;
std::mutex gViewsMutex;  // worker threads each run their own env on the same addon

void release(napi_env env, void* data, void* hint) {
  auto* owner = static_cast<ViewOwner*>(hint);
  {
    std::lock_guard<std::mutex> lock(gViewsMutex);
    auto it = gViews.find(data);
    if (it != gViews.end() && --it->second.live == 0) {
      napi_delete_reference(env, it->second.buffer);
      owner->storage.unsafeGetStorageImpl()->set_resizable(it->second.wasResizable);
      gViews.erase(it);
    }
  }
  delete owner;
}

Napi::Value existingBuffer(Napi::Env env, const Registered& entry) {
  napi_value value = nullptr;
  if (napi_get_reference_value(env, entry.buffer, &value) != napi_ok || value == nullptr) return Napi::Value();
  return Napi::Value(env, value);
}

Napi::Value bufferFor(Napi::Env env, const c10::Storage& storage) {
  void* data = storage.data();
  std::lock_guard<std::mutex> lock(gViewsMutex);
  auto it = gViews.find(data);
  if (it != gViews.end()) {
    Napi::Value reused = existingBuffer(env, it->second);
    if (!reused.IsEmpty()) return reused;
  }
  auto* owner = new ViewOwner{storage};
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, data, storage.nbytes(), release, owner, &buffer) != napi_ok) {
    delete owner;
    throw Napi::Error::New(env, "dataView(): this JavaScript runtime does not allow external buffers; use data() for a copy");
  }
  napi_ref ref;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, buffer, 0, &ref), Napi::Value());
  if (it == gViews.end()) {
    c10::StorageImpl* impl = storage.unsafeGetStorageImpl();
    gViews.emplace(data, Registered{ref, 1, impl->resizable()});
    impl->set_resizable(false);
  } else {
    napi_delete_reference(env, it->second.buffer);
    it->second.buffer = ref;
    ++it->second.live;
  }
  return Napi::Value(env, buffer);
}

}  // namespace

Napi::Value DataView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& t = unwrap(env, info[0], "dataView");
    if (!t.device().is_cpu()) throw Napi::Error::New(env, "dataView(): only CPU tensors can be viewed; use data()");
    if (!t.is_contiguous()) throw Napi::Error::New(env, "dataView(): the tensor is not contiguous; call contiguous() first or use data()");
    auto result = Napi::Array::New(env, 2);
    if (t.numel() == 0) {
      result.Set(0u, Napi::ArrayBuffer::New(env, 0));
      result.Set(1u, 0.0);
      return result;
    }
    result.Set(0u, bufferFor(env, t.storage()));
    result.Set(1u, static_cast<double>(t.storage_offset() * t.element_size()));
    return result;
  });
}

}  // namespace yt
