// Gradient averaging overlapped with the backward pass, as PyTorch's DDP reducer does it: parameters are grouped
// into buckets in reverse order (the order backward produces their gradients), a hook on each parameter's gradient
// accumulator counts it ready, and a bucket's all-reduce starts as soon as all its gradients are in, while backward
// goes on with earlier layers. Buckets start strictly in index order, so every rank issues the same collectives in
// the same sequence.
#include "distributed.h"
#include "group.h"
#ifdef YOLOV5_GLOO

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <mutex>

#include "handle.h"

namespace yt {
namespace {

struct ReducerState {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::vector<at::Tensor> params;
  // The graph holds accumulators weakly: keeping them here keeps the hooked ones the ones every backward uses.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  std::vector<std::vector<size_t>> buckets;  // parameter indices, in launch order
  std::vector<size_t> bucketOf;

  std::mutex mutex;
  bool armed = false;
  std::vector<bool> ready;
  std::vector<size_t> pending;  // per bucket: parameters whose gradient has not arrived
  size_t launched = 0;
  std::vector<Bucket> flat;  // of the backward under way: each bucket's gradients and their flat copy
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  double waitedMs = 0;
  size_t startedInBackward = 0;  // of the last finish: buckets whose all-reduce backward started

  void arm() {
    std::lock_guard<std::mutex> lock(mutex);
    armed = true;
    launched = 0;
    ready.assign(params.size(), false);
    pending.clear();
    for (const auto& bucket : buckets) pending.push_back(bucket.size());
    flat.assign(buckets.size(), Bucket());
    works.assign(buckets.size(), {});
  }

  void markReady(size_t index) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || ready[index]) return;
    ready[index] = true;
    pending[bucketOf[index]]--;
    while (launched < buckets.size() && pending[launched] == 0) launch(launched++);
  }

  // A parameter without a gradient (unused in this backward) contributes zeros, so every rank reduces the same.
  void launch(size_t b) {
    std::vector<at::Tensor> grads;
    grads.reserve(buckets[b].size());
    for (size_t i : buckets[b]) {
      at::Tensor& grad = params[i].mutable_grad();
      if (!grad.defined()) grad = at::zeros_like(params[i]);
      grads.push_back(grad);
    }
    flat[b] = flatten(std::move(grads));
    std::vector<at::Tensor> one{flat[b].flat};
    works[b] = pg->allreduce(one);
  }

  // Starts what backward left (unused parameters' buckets); waitAndWriteBack then averages the sums into the gradients.
  void launchRest() {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) throw std::runtime_error("gradient reducer finished without arm() before the backward");
    armed = false;
    startedInBackward = launched;
    while (launched < buckets.size()) launch(launched++);
  }

  void waitAndWriteBack() {
    auto started = std::chrono::steady_clock::now();
    int size = pg->getSize();
    for (size_t b = 0; b < buckets.size(); ++b) {
      works[b]->wait();
      // Gloo has no AVG: sum, then divide, as DDP does.
      flat[b].flat.div_(size);
      unflatten(flat[b]);
      flat[b] = Bucket();
      works[b].reset();
    }
    waitedMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  }
};

using ReducerBox = std::shared_ptr<ReducerState>;

ReducerBox& reducerOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsExternal()) throw Napi::TypeError::New(env, "expected a gradient reducer");
  ReducerBox& box = *value.As<Napi::External<ReducerBox>>().Data();
  if (!box) throw Napi::Error::New(env, "gradient reducer used after dispose()");
  return box;
}

// Reverse parameter order, the first bucket capped at `firstBytes` so that communication starts early (DDP: 1 MiB),
// the others at `capBytes`.
std::vector<std::vector<size_t>> assignBuckets(const std::vector<at::Tensor>& params, int64_t firstBytes, int64_t capBytes) {
  std::vector<std::vector<size_t>> buckets;
  int64_t filled = 0;
  for (size_t k = params.size(); k-- > 0;) {
    int64_t bytes = params[k].numel() * static_cast<int64_t>(params[k].element_size());
    int64_t cap = buckets.size() <= 1 ? firstBytes : capBytes;  // the cap of the bucket being filled
    if (buckets.empty() || filled + bytes > cap) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(k);
    filled += bytes;
  }
  return buckets;
}

}  // namespace

// createGradientReducer(group, params, firstBucketBytes, bucketBytes) -> reducer
Napi::Value CreateGradientReducer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto state = std::make_shared<ReducerState>();
    state->pg = groupOf(env, info[0]);
    state->params = tensorList(env, info[1], "createGradientReducer");
    int64_t first = info[2].As<Napi::Number>().Int64Value();
    int64_t cap = info[3].As<Napi::Number>().Int64Value();
    if (first < 1 || cap < 1) throw Napi::RangeError::New(env, "bucket sizes must be positive");
    for (const auto& p : state->params) {
      if (!p.requires_grad() || !p.is_leaf()) throw Napi::TypeError::New(env, "gradient reducer: every parameter must be a leaf that requires grad");
      if (p.scalar_type() != state->params[0].scalar_type()) throw Napi::TypeError::New(env, "gradient reducer: parameters of one dtype only");
    }
    state->buckets = assignBuckets(state->params, first, cap);
    state->bucketOf.resize(state->params.size());
    for (size_t b = 0; b < state->buckets.size(); ++b)
      for (size_t i : state->buckets[b]) state->bucketOf[i] = b;
    std::weak_ptr<ReducerState> weak = state;
    for (size_t i = 0; i < state->params.size(); ++i) {
      auto accumulator = torch::autograd::impl::grad_accumulator(state->params[i]);
      // Hooks cannot be removed from a node: a reducer that is gone leaves one that does nothing.
      accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            if (auto reducer = weak.lock()) reducer->markReady(i);
            return outputs;
          }));
      state->accumulators.push_back(std::move(accumulator));
    }
    auto* box = new ReducerBox(std::move(state));
    return Napi::External<ReducerBox>::New(env, box, [](Napi::Env, ReducerBox* b) { delete b; });
  });
}

// reducerArm(reducer): the next backward's gradients are reduced as they arrive.
Napi::Value ReducerArm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    reducerOf(env, info[0])->arm();
    return env.Undefined();
  });
}

// reducerFinish(reducer) -> Promise: resolves when every gradient holds the mean over the ranks.
Napi::Value ReducerFinish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ReducerBox reducer = reducerOf(env, info[0]);
    reducer->launchRest();
    return queue(env, [reducer] { reducer->waitAndWriteBack(); });
  });
}

// reducerStats(reducer) -> { buckets, startedInBackward, waitedMs }: of the last finish, the buckets backward started
// and the wait for all, the communication backward did not hide.
Napi::Value ReducerStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ReducerBox& reducer = reducerOf(env, info[0]);
    Napi::Object stats = Napi::Object::New(env);
    stats.Set("buckets", Napi::Number::New(env, static_cast<double>(reducer->buckets.size())));
    stats.Set("startedInBackward", Napi::Number::New(env, static_cast<double>(reducer->startedInBackward)));
    stats.Set("waitedMs", Napi::Number::New(env, reducer->waitedMs));
    return stats;
  });
}

Napi::Value DisposeGradientReducer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw Napi::TypeError::New(env, "expected a gradient reducer");
  info[0].As<Napi::External<ReducerBox>>().Data()->reset();
  return env.Undefined();
}

}  // namespace yt
#endif
