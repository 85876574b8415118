// The yolov5-ts native addon: libtorch tensors, operators and autograd for JS. No model logic lives here.
#include <napi.h>

#include "autograd.h"
#include "data_view.h"
#include "dispatch.h"
#include "distributed.h"
#include "tensor_io.h"

#include <c10/core/CPUAllocator.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#if defined(__GLIBC__)
#include <malloc.h>

#include <climits>
#endif

namespace {

// A training step frees and allocates again tensors of tens to hundreds of megabytes (a batch's activations and
// their gradients). glibc serves every allocation above 32 MB with a fresh mmap and unmaps it on free, so each step
// pays a page fault and a zeroing for every 4 KB page of them: yolov5n at 640, batch 16, spent more time in page
// faults than in its kernels (forward + backward 4.5 s a step; 2.1 s with freed memory kept, as PyTorch's CPU guide
// gets from jemalloc). So freed memory stays in the heap (no mmap for large blocks, no trimming), and tensors are
// allocated by malloc with the alignment made by hand: posix_memalign asks the heap for the size plus the alignment,
// which a freed block of the same size can never serve, and the heap would grow at every step. RSS stays at the
// peak use. YOLOV5_RELEASE_MEMORY=1 keeps glibc's and libtorch's defaults.
#if defined(__GLIBC__)
class KeptMemoryAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kAlignment = 64;  // libtorch's own CPU alignment, for its vectorised kernels

  c10::DataPtr allocate(size_t n) const override {
    void* base = std::malloc(n + kAlignment);
    if (!base) throw std::bad_alloc();
    // malloc's blocks are 16-byte aligned, so at least 16 bytes lie before the aligned start: room for `base`.
    auto start = (reinterpret_cast<uintptr_t>(base) + kAlignment) & ~uintptr_t(kAlignment - 1);
    void* data = reinterpret_cast<void*>(start);
    reinterpret_cast<void**>(data)[-1] = base;
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

 private:
  static void release(void* data) {
    if (data) std::free(reinterpret_cast<void**>(data)[-1]);
  }
};

void keepFreedMemory() {
  const char* release = std::getenv("YOLOV5_RELEASE_MEMORY");
  if (release && std::strcmp(release, "1") == 0) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  static KeptMemoryAllocator allocator;
  c10::SetCPUAllocator(&allocator, /*priority=*/1);
}
#else
void keepFreedMemory() {}
#endif

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  keepFreedMemory();
  const std::pair<const char*, Napi::Function::Callback> functions[] = {
      {"resolveOp", yt::ResolveOp},         {"callOp", yt::CallOp},
      {"opSchema", yt::OpSchema},           {"fromBuffer", yt::FromBuffer},
      {"toBuffer", yt::ToBuffer},           {"dataView", yt::DataView},
      {"item", yt::Item},                   {"shape", yt::Shape},
      {"dtype", yt::DType},                 {"dispose", yt::Dispose},
      {"isDisposed", yt::IsDisposed},       {"liveHandles", yt::LiveHandles},
      {"backward", yt::Backward},           {"grad", yt::Grad},
      {"setGrad", yt::SetGrad},             {"requiresGrad", yt::RequiresGrad},
      {"setRequiresGrad", yt::SetRequiresGrad}, {"setGradEnabled", yt::SetGradEnabled},
      {"manualSeed", yt::ManualSeed},       {"setNumThreads", yt::SetNumThreads},
      {"getNumThreads", yt::GetNumThreads},
      {"createGroup", yt::CreateGroup},     {"destroyGroup", yt::DestroyGroup},
      {"allReduce", yt::AllReduce},         {"broadcast", yt::Broadcast},
      {"barrier", yt::Barrier},             {"allReduceSumGrad", yt::AllReduceSumGrad},
      {"createGradientReducer", yt::CreateGradientReducer}, {"reducerArm", yt::ReducerArm},
      {"reducerFinish", yt::ReducerFinish}, {"reducerStats", yt::ReducerStats},
      {"disposeGradientReducer", yt::DisposeGradientReducer},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
  return exports;
}

}  // namespace

NODE_API_MODULE(yolov5_torch, Init)
