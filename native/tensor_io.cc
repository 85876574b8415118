#include "tensor_io.h"

#include <cstring>

#include "handle.h"
#include "tensor_io.h"

namespace yt {

// fromBuffer(view: TypedArray | Buffer, shape: number[], dtype: number) copies the bytes into a new tensor.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromBuffer: expected a TypedArray");
    auto view = info[0].As<Napi::TypedArray>();
    auto shapeArr = info[1].As<Napi::Array>();
    std::vector<int64_t> shape(shapeArr.Length());
    for (uint32_t i = 0; i < shapeArr.Length(); ++i) shape[i] = shapeArr.Get(i).As<Napi::Number>().Int64Value();
    auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    size_t bytes = t.nbytes();
    if (bytes != view.ByteLength())
      throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(view.ByteLength()) + " bytes given, shape needs " +
                                           std::to_string(bytes));
    auto* src = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    if (bytes) std::memcpy(t.data_ptr(), src, bytes);
    return wrap(env, std::move(t));
  });
}

// toBuffer(t) copies a tensor's elements (row-major) into a new ArrayBuffer.
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = unwrap(env, info[0], "toBuffer").detach().cpu().contiguous();
    auto buffer = Napi::ArrayBuffer::New(env, t.nbytes());
    if (t.nbytes()) std::memcpy(buffer.Data(), t.data_ptr(), t.nbytes());
    return buffer;
  });
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& t = unwrap(env, info[0], "item");
    if (t.numel() != 1)
      throw Napi::Error::New(env, "item(): tensor with " + std::to_string(t.numel()) + " elements cannot be a scalar");
    at::Scalar s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    return Napi::Number::New(env, s.toDouble());
  });
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = unwrap(env, info[0], "shape");
  auto sizes = t.sizes();
  auto out = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(static_cast<uint32_t>(i), static_cast<double>(sizes[i]));
  return out;
}

Napi::Value DType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, static_cast<int>(unwrap(env, info[0], "dtype").scalar_type()));
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  dispose(info.Env(), info[0]);
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle* handle = handleOf(env, info[0]);
  if (!handle) throw Napi::TypeError::New(env, "isDisposed: expected a tensor handle");
  return Napi::Boolean::New(env, !handle->tensor.defined());
}

Napi::Value LiveHandles(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(liveHandles()));
}

}  // namespace yt
