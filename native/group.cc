#include "group.h"
#ifdef YOLOV5_GLOO

#include "handle.h"

namespace yt {

c10::intrusive_ptr<c10d::ProcessGroupGloo> groupOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsExternal()) throw Napi::TypeError::New(env, "expected a process group");
  auto* box = value.As<Napi::External<GroupBox>>().Data();
  if (!*box || !(*box)->pg) throw Napi::Error::New(env, "process group used after destroy()");
  return (*box)->pg;
}

std::vector<at::Tensor> tensorList(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string("expected an array of tensors for ") + what);
  auto array = value.As<Napi::Array>();
  std::vector<at::Tensor> tensors;
  tensors.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) tensors.push_back(unwrap(env, array.Get(i), what));
  return tensors;
}

Bucket flatten(std::vector<at::Tensor> members) {
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> pieces;
  pieces.reserve(members.size());
  for (const auto& t : members) pieces.push_back(t.reshape({-1}));
  at::Tensor flat = at::cat(pieces);
  return {std::move(members), std::move(flat)};
}

// Collectives move data, not computation: parameters and gradients are written without recording it for autograd.
void unflatten(const Bucket& bucket) {
  at::NoGradGuard noGrad;  // grad mode is per thread, and this runs on a pool thread
  int64_t offset = 0;
  for (const auto& t : bucket.members) {
    int64_t n = t.numel();
    at::Tensor target = t;
    target.copy_(bucket.flat.narrow(0, offset, n).view_as(t));
    offset += n;
  }
}

namespace {

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

// A promise settled by a libuv pool thread: blocking rendezvous and waits on c10d work happen there, so the event
// loop (data-loader threads' messages, timers, signals) keeps running while a collective is in flight.
class Task : public Napi::AsyncWorker {
 public:
  // `result` (optional) is what the promise resolves to; undefined otherwise.
  Task(Napi::Env env, std::function<void()> body, Napi::Value result = Napi::Value())
      : Napi::AsyncWorker(env, "yolov5-ts:c10d"), body_(std::move(body)), deferred_(Napi::Promise::Deferred::New(env)) {
    if (!result.IsEmpty()) result_ = Napi::Reference<Napi::Value>::New(result, 1);
  }
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      body_();
    } catch (...) {
      SetError(describe(std::current_exception()));
    }
  }
  void OnOK() override { deferred_.Resolve(result_.IsEmpty() ? Env().Undefined() : result_.Value()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  std::function<void()> body_;
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Value> result_;
};

}  // namespace

Napi::Value queue(Napi::Env env, std::function<void()> body, Napi::Value result) {
  auto* task = new Task(env, std::move(body), result);
  Napi::Promise promise = task->promise();
  task->Queue();
  return promise;
}

}  // namespace yt
#endif
