#include "distributed.h"

// Built only where Gloo's headers are (find-libtorch.mjs defines YOLOV5_GLOO): a libtorch without them still gives
// every single-process feature, and multi-process training says what is missing.
#include "group.h"
#ifdef YOLOV5_GLOO

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <map>
#include <memory>

#include "handle.h"

namespace yt {
namespace {

// Tensors grouped into flat buckets of one dtype and at most `capBytes` (a tensor larger than the cap is a bucket of
// its own): one collective per bucket instead of one per tensor, as DDP's 25 MB buckets.
std::vector<Bucket> bucketize(const std::vector<at::Tensor>& tensors, int64_t capBytes) {
  std::map<c10::ScalarType, std::vector<std::vector<at::Tensor>>> byType;
  std::map<c10::ScalarType, int64_t> filled;
  for (const auto& t : tensors) {
    auto& groups = byType[t.scalar_type()];
    int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    int64_t& used = filled[t.scalar_type()];
    if (groups.empty() || used + bytes > capBytes) {
      groups.emplace_back();
      used = 0;
    }
    groups.back().push_back(t);
    used += bytes;
  }
  std::vector<Bucket> out;
  for (auto& [type, groups] : byType)
    for (auto& members : groups) out.push_back(flatten(std::move(members)));
  return out;
}

int64_t capOf(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return 25LL << 20;
  int64_t cap = info[index].As<Napi::Number>().Int64Value();
  if (cap < 1) throw Napi::RangeError::New(info.Env(), "bucket size must be positive");
  return cap;
}

// Sum over every process, differentiable: the gradient of each rank's input is the sum of all ranks' output
// gradients, which is again an all-reduce. Synchronized BatchNorm is built from it in JS.
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, int64_t group) {
    ctx->saved_data["group"] = group;
    return reduce(input, group);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    return {reduce(grads[0], ctx->saved_data["group"].toInt()), at::Tensor()};
  }
  static at::Tensor reduce(const at::Tensor& input, int64_t group) {
    // The group is passed as its address: an IValue cannot hold it. JS keeps it alive for as long as graphs use it.
    auto* pg = reinterpret_cast<c10d::ProcessGroupGloo*>(group);
    std::vector<at::Tensor> tensors{input.detach().clone(at::MemoryFormat::Contiguous)};
    pg->allreduce(tensors)->wait();
    return tensors[0];
  }
};

}  // namespace

// createGroup(masterAddr, masterPort, rank, worldSize, timeoutMs, interface | null) -> Promise<group>
Napi::Value CreateGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string addr = info[0].As<Napi::String>().Utf8Value();
    int port = info[1].As<Napi::Number>().Int32Value();
    int rank = info[2].As<Napi::Number>().Int32Value();
    int size = info[3].As<Napi::Number>().Int32Value();
    int64_t timeout = info[4].As<Napi::Number>().Int64Value();
    std::string iface = info.Length() > 5 && info[5].IsString() ? info[5].As<Napi::String>().Utf8Value() : "";
    if (port < 1 || port > 65535) throw Napi::RangeError::New(env, "master port must be in 1..65535");
    if (size < 1 || rank < 0 || rank >= size) throw Napi::RangeError::New(env, "rank must be in 0..world size - 1");
    if (timeout < 1) throw Napi::RangeError::New(env, "timeout must be positive");
    auto box = new GroupBox(std::make_shared<Group>());
    GroupBox group = *box;
    auto external = Napi::External<GroupBox>::New(env, box, [](Napi::Env, GroupBox* b) { delete b; });
    // Every rank blocks here until all have joined (or the timeout passes): off the main thread.
    return queue(env, [=] {
      c10d::TCPStoreOptions options;
      options.port = static_cast<uint16_t>(port);
      options.isServer = rank == 0;
      options.numWorkers = static_cast<size_t>(size);
      options.timeout = std::chrono::milliseconds(timeout);
      group->store = c10::make_intrusive<c10d::TCPStore>(addr, options);
      auto pgOptions = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeout));
      pgOptions->devices.push_back(iface.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                 : c10d::ProcessGroupGloo::createDeviceForInterface(iface));
      group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, rank, size, pgOptions);
    }, external);
  });
}

Napi::Value DestroyGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw Napi::TypeError::New(env, "expected a process group");
  auto* box = info[0].As<Napi::External<GroupBox>>().Data();
  if (*box) {
    (*box)->pg.reset();
    (*box)->store.reset();
    box->reset();
  }
  return env.Undefined();
}

// allReduce(group, tensors, bucketBytes?) -> Promise: sums in place; collectives start now (their order must match
// across ranks), the wait and the copies back happen off the main thread.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto pg = groupOf(env, info[0]);
    auto tensors = tensorList(env, info[1], "allReduce");
    auto buckets = std::make_shared<std::vector<Bucket>>(bucketize(tensors, capOf(info, 2)));
    auto works = std::make_shared<std::vector<c10::intrusive_ptr<c10d::Work>>>();
    for (auto& bucket : *buckets) {
      std::vector<at::Tensor> one{bucket.flat};
      works->push_back(pg->allreduce(one));
    }
    return queue(env, [buckets, works] {
      for (size_t i = 0; i < works->size(); ++i) {
        (*works)[i]->wait();
        unflatten((*buckets)[i]);
      }
    });
  });
}

// broadcast(group, tensors, root, bucketBytes?) -> Promise: in place, from `root` to every other rank.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto pg = groupOf(env, info[0]);
    auto tensors = tensorList(env, info[1], "broadcast");
    c10d::BroadcastOptions options;
    options.rootRank = info[2].As<Napi::Number>().Int64Value();
    auto buckets = std::make_shared<std::vector<Bucket>>(bucketize(tensors, capOf(info, 3)));
    auto works = std::make_shared<std::vector<c10::intrusive_ptr<c10d::Work>>>();
    for (auto& bucket : *buckets) {
      std::vector<at::Tensor> one{bucket.flat};
      works->push_back(pg->broadcast(one, options));
    }
    return queue(env, [buckets, works] {
      for (size_t i = 0; i < works->size(); ++i) {
        (*works)[i]->wait();
        unflatten((*buckets)[i]);
      }
    });
  });
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto work = groupOf(env, info[0])->barrier();
    return queue(env, [work] { work->wait(); });
  });
}

// allReduceSumGrad(group, tensor) -> tensor: blocking and differentiable (see AllReduceSum).
Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto pg = groupOf(env, info[0]);
    const at::Tensor& input = unwrap(env, info[1], "allReduceSumGrad");
    return wrap(env, AllReduceSum::apply(input, reinterpret_cast<int64_t>(pg.get())));
  });
}

}  // namespace yt

#else

namespace yt {
namespace {
Napi::Value unavailable(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(),
                         "multi-process training needs Gloo's headers when the addon is built (Debian: apt-get install "
                         "libgloo-dev), then a rebuild of the addon (make, or npm rebuild yolov5-ts)");
}
}  // namespace

Napi::Value CreateGroup(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value DestroyGroup(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value AllReduce(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value Broadcast(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value Barrier(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value CreateGradientReducer(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value ReducerArm(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value ReducerFinish(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value ReducerStats(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value DisposeGradientReducer(const Napi::CallbackInfo& info) { return unavailable(info); }
}  // namespace yt

#endif
