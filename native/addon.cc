// The yolov5-ts native addon: libtorch tensors, operators and autograd for JS. No model logic lives here.
#include <napi.h>

#include "autograd.h"
#include "data_view.h"
#include "dispatch.h"
#include "distributed.h"
#include "tensor_io.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
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
