// What the c10d bindings share (distributed.cc, gradient_reducer.cc): a process group as JS holds it, and promises
// settled off the main thread. Only built with Gloo's headers (YOLOV5_GLOO).
#pragma once
#ifdef YOLOV5_GLOO
// libtorch's headers hide ProcessGroupGloo unless the build says Gloo is in (Debian's libtorch_cpu has it).
#define USE_C10D_GLOO

#include <napi.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace yt {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

// JS holds a group as an External; destroy() resets it early so the sockets close at a known point.
using GroupBox = std::shared_ptr<Group>;

// The live group inside `value`; a JS error when it is not one or was destroyed.
c10::intrusive_ptr<c10d::ProcessGroupGloo> groupOf(Napi::Env env, const Napi::Value& value);

std::vector<at::Tensor> tensorList(Napi::Env env, const Napi::Value& value, const char* what);

// Tensors of one dtype copied into one flat tensor: one collective instead of one per tensor.
struct Bucket {
  std::vector<at::Tensor> members;
  at::Tensor flat;
};
Bucket flatten(std::vector<at::Tensor> members);
// Copies the flat tensor's contents back into the members, in place and unrecorded by autograd.
void unflatten(const Bucket& bucket);

// A promise settled when `body` has run on a libuv pool thread, resolving to `result` (undefined when empty):
// blocking rendezvous and waits on c10d work happen there, so the event loop keeps running meanwhile.
Napi::Value queue(Napi::Env env, std::function<void()> body, Napi::Value result = Napi::Value());

}  // namespace yt
#endif
