#include "handle.h"

#include <algorithm>
#include <atomic>

namespace yt {
namespace {

// A fixed random tag so that foreign objects are never mistaken for tensors.
const napi_type_tag kTensorTag = {0x7a3c5f1e9b2d4c68ULL, 0x91e0b4d7a65f23c1ULL};
std::atomic<int64_t> gLive{0};
// What a disposed handle resolves to: its undefined tensor makes every use report "used after dispose()".
Handle gDisposed{at::Tensor(), 0};

int64_t ownedBytes(const at::Tensor& t) {
  // Views share their base's storage; counting them again would overstate memory pressure.
  if (!t.defined() || !t.has_storage() || t.is_view()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// V8 is told how much memory the tensors hold, so that garbage holding much of it gets collected. It used to be told
// of every tensor as it came, and of none as it went (napi_adjust_external_memory refuses a null result pointer,
// silently): its total only grew, and it ran a full mark-compact at nearly every yolov5n inference (batch 1,
// 640×384: 54 ms a pass, 44 ms untold). Told of both exactly, the churn of short-lived tensors alone still started
// full collections (7 in test/engine-memory's 30 passes of 48 MB). So it hears the level in steps: when the
// tensors' bytes double (and grow by at least 64 MB) or halve since it was last told. What it knows stays within a
// factor of two of the truth (64 MB at the low end), and garbage still presses the GC as it accumulates. One
// account per thread: every JS thread (worker) is its own V8 isolate.
constexpr int64_t kExternalStep = int64_t{64} << 20;
struct ExternalMemory {
  int64_t held = 0;
  int64_t told = 0;
};
thread_local ExternalMemory gExternal;

void account(napi_env env, int64_t change) {
  ExternalMemory& m = gExternal;
  m.held += change;
  if (m.held > m.told + std::max(m.told, kExternalStep) || m.held < m.told / 2) {
    int64_t total;  // unused, but required: with a null pointer the call does nothing
    napi_adjust_external_memory(env, m.held - m.told, &total);
    m.told = m.held;
  }
}

void release(napi_env env, Handle* handle) {
  if (handle->accountedBytes) account(env, -handle->accountedBytes);
  if (handle->tensor.defined()) --gLive;
  delete handle;
}

// Runs when V8 collects a handle that was never disposed.
void finalize(napi_env env, void* data, void* /*hint*/) { release(env, static_cast<Handle*>(data)); }

}  // namespace

// A handle is a plain object wrapping a Handle, rather than an External: dispose() can then remove the wrap and free
// everything at once. Node defers N-API finalizers to the event loop, so with Externals every disposed handle left
// its finalizer record queued until the loop turned, and a long synchronous training loop grew by ~100 bytes a tensor.
Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* handle = new Handle{std::move(tensor), 0};
  handle->accountedBytes = ownedBytes(handle->tensor);
  if (handle->accountedBytes) account(env, handle->accountedBytes);
  ++gLive;
  napi_value object;
  napi_status status = napi_create_object(env, &object);
  if (status == napi_ok) status = napi_wrap(env, object, handle, finalize, nullptr, nullptr);
  if (status != napi_ok) {
    release(env, handle);
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  napi_type_tag_object(env, object, &kTensorTag);
  return Napi::Value(env, object);
}

bool isHandle(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) return false;
  bool tagged = false;
  napi_check_object_type_tag(env, value, &kTensorTag, &tagged);
  return tagged;
}

Handle* handleOf(Napi::Env env, const Napi::Value& value) {
  if (!isHandle(env, value)) return nullptr;
  void* data = nullptr;
  // A tagged object without a wrap is a disposed handle.
  return napi_unwrap(env, value, &data) == napi_ok ? static_cast<Handle*>(data) : &gDisposed;
}

const at::Tensor& unwrap(Napi::Env env, const Napi::Value& value, const char* what) {
  Handle* handle = handleOf(env, value);
  if (!handle) throw Napi::TypeError::New(env, std::string("expected a tensor for ") + what);
  if (!handle->tensor.defined()) throw Napi::Error::New(env, std::string("tensor used after dispose() for ") + what);
  return handle->tensor;
}

void dispose(Napi::Env env, const Napi::Value& value) {
  Handle* handle = handleOf(env, value);
  if (!handle) throw Napi::TypeError::New(env, "dispose: expected a tensor handle");
  if (handle == &gDisposed) return;
  void* data = nullptr;
  // Once unwrapped the finalizer can no longer run, so freeing here is the only release.
  NAPI_THROW_IF_FAILED_VOID(env, napi_remove_wrap(env, value, &data));
  release(env, handle);
}

int64_t liveHandles() { return gLive.load(); }

}  // namespace yt
