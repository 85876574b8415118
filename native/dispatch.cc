#include "dispatch.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <cmath>
#include <vector>

#include "handle.h"

namespace yt {
namespace {

enum class Kind { Tensor, TensorList, OptionalTensorList, Int, Float, Bool, Scalar, String, IntList, FloatList, BoolList, Other };

struct Arg {
  Kind kind;
  bool optional;
  std::string name;
  c10::optional<c10::IValue> defaultValue;
};

struct Op {
  c10::OperatorHandle handle;
  std::string name;
  std::vector<Arg> args;
};

std::vector<Op> gOps;

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1: larger doubles are not all integers

bool isIntLike(const c10::TypePtr& t) { return t->kind() == c10::TypeKind::IntType || t->kind() == c10::TypeKind::SymIntType; }

Kind classify(const c10::TypePtr& type, bool& optional) {
  c10::TypePtr t = type;
  optional = false;
  if (auto inner = t->cast<c10::OptionalType>()) {
    optional = true;
    t = inner->getElementType();
  }
  switch (t->kind()) {
    case c10::TypeKind::TensorType: return Kind::Tensor;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: return Kind::Int;
    case c10::TypeKind::FloatType: return Kind::Float;
    case c10::TypeKind::BoolType: return Kind::Bool;
    case c10::TypeKind::NumberType: return Kind::Scalar;
    case c10::TypeKind::StringType: return Kind::String;
    case c10::TypeKind::ListType: {
      auto elem = t->expectRef<c10::ListType>().getElementType();
      if (elem->kind() == c10::TypeKind::TensorType) return Kind::TensorList;
      if (auto optElem = elem->cast<c10::OptionalType>()) {
        if (optElem->getElementType()->kind() == c10::TypeKind::TensorType) return Kind::OptionalTensorList;
      }
      if (isIntLike(elem)) return Kind::IntList;
      if (elem->kind() == c10::TypeKind::FloatType) return Kind::FloatList;
      if (elem->kind() == c10::TypeKind::BoolType) return Kind::BoolList;
      return Kind::Other;
    }
    default: return Kind::Other;
  }
}

[[noreturn]] void badArg(Napi::Env env, const Op& op, const Arg& arg, const char* expected) {
  throw Napi::TypeError::New(env, op.name + ": expected " + expected + " for argument '" + arg.name + "'");
}

int64_t toInt(Napi::Env env, const Op& op, const Arg& arg, const Napi::Value& v) {
  if (!v.IsNumber()) badArg(env, op, arg, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  // Checked before the cast: converting a double outside int64's range is undefined behaviour.
  if (!(std::abs(d) <= kMaxSafeInteger) || d != std::trunc(d)) badArg(env, op, arg, "an integer");
  return static_cast<int64_t>(d);
}

const at::Tensor& toTensor(Napi::Env env, const Op& op, const Arg& arg, const Napi::Value& v) {
  Handle* handle = handleOf(env, v);
  if (!handle) badArg(env, op, arg, "a tensor");
  if (!handle->tensor.defined())
    throw Napi::Error::New(env, op.name + ": tensor used after dispose() for argument '" + arg.name + "'");
  return handle->tensor;
}

c10::IValue toIValue(Napi::Env env, const Op& op, const Arg& arg, const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) {
    if (arg.defaultValue) return *arg.defaultValue;
    if (arg.optional) return c10::IValue();
    badArg(env, op, arg, "a value (it has no default)");
  }
  switch (arg.kind) {
    case Kind::Tensor: return toTensor(env, op, arg, v);
    case Kind::Int: return toInt(env, op, arg, v);
    case Kind::Float:
      if (!v.IsNumber()) badArg(env, op, arg, "a number");
      return v.As<Napi::Number>().DoubleValue();
    case Kind::Bool:
      if (!v.IsBoolean()) badArg(env, op, arg, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case Kind::Scalar: {
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      if (!v.IsNumber()) badArg(env, op, arg, "a number");
      double d = v.As<Napi::Number>().DoubleValue();
      // Integral values stay integral so that integer tensors keep their dtype.
      if (std::abs(d) <= kMaxSafeInteger && d == std::trunc(d))
        return c10::Scalar(static_cast<int64_t>(d));
      return c10::Scalar(d);
    }
    case Kind::String:
      if (!v.IsString()) badArg(env, op, arg, "a string");
      return v.As<Napi::String>().Utf8Value();
    case Kind::IntList: {
      if (!v.IsArray()) {
        if (v.IsNumber()) return c10::List<int64_t>({toInt(env, op, arg, v)});
        badArg(env, op, arg, "an array of integers");
      }
      auto a = v.As<Napi::Array>();
      c10::List<int64_t> list;
      list.reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) list.push_back(toInt(env, op, arg, a.Get(i)));
      return list;
    }
    case Kind::FloatList: {
      if (!v.IsArray()) badArg(env, op, arg, "an array of numbers");
      auto a = v.As<Napi::Array>();
      c10::List<double> list;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        if (!e.IsNumber()) badArg(env, op, arg, "an array of numbers");
        list.push_back(e.As<Napi::Number>().DoubleValue());
      }
      return list;
    }
    case Kind::BoolList: {
      if (!v.IsArray()) badArg(env, op, arg, "an array of booleans");
      auto a = v.As<Napi::Array>();
      c10::List<bool> list;
      for (uint32_t i = 0; i < a.Length(); ++i) list.push_back(a.Get(i).ToBoolean().Value());
      return list;
    }
    case Kind::TensorList: {
      if (!v.IsArray()) badArg(env, op, arg, "an array of tensors");
      auto a = v.As<Napi::Array>();
      c10::List<at::Tensor> list;
      list.reserve(a.Length());
      for (uint32_t i = 0; i < a.Length(); ++i) list.push_back(toTensor(env, op, arg, a.Get(i)));
      return list;
    }
    case Kind::OptionalTensorList: {
      if (!v.IsArray()) badArg(env, op, arg, "an array of tensors or nulls");
      auto a = v.As<Napi::Array>();
      c10::List<c10::optional<at::Tensor>> list;
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        if (e.IsNull() || e.IsUndefined()) list.push_back(c10::nullopt);
        else list.push_back(toTensor(env, op, arg, e));
      }
      return list;
    }
    case Kind::Other:
      break;
  }
  badArg(env, op, arg, "null (this argument type is not supported from JS)");
}

Napi::Value toJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), wrap(env, list.get(i)));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(static_cast<uint32_t>(i), toJs(env, elems[i]));
    return out;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), toJs(env, list[i]));
    return out;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw Napi::Error::New(env, "operator returned a value of unsupported type " + v.tagKind());
}

}  // namespace

Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsString() || !info[1].IsString())
      throw Napi::TypeError::New(env, "resolveOp: expected (name: string, overload: string)");
    std::string name = info[0].As<Napi::String>();
    std::string overload = info[1].As<Napi::String>();
    auto maybe = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!maybe) throw Napi::Error::New(env, "unknown operator " + name + (overload.empty() ? "" : "." + overload));
    Op op{*maybe, name, {}};
    for (const auto& a : maybe->schema().arguments()) {
      Arg arg{Kind::Other, false, a.name(), c10::nullopt};
      arg.kind = classify(a.type(), arg.optional);
      if (a.default_value()) arg.defaultValue = *a.default_value();
      op.args.push_back(std::move(arg));
    }
    gOps.push_back(std::move(op));
    return Napi::Number::New(env, static_cast<double>(gOps.size() - 1));
  });
}

// callOp(id, ...args): missing trailing arguments take the schema's defaults.
Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    if (id >= gOps.size()) throw Napi::Error::New(env, "callOp: unknown operator id");
    const Op& op = gOps[id];
    size_t given = info.Length() - 1;
    if (given > op.args.size())
      throw Napi::TypeError::New(env, op.name + ": too many arguments (" + std::to_string(given) + " for " +
                                          std::to_string(op.args.size()) + ")");
    torch::jit::Stack stack;
    stack.reserve(op.args.size());
    for (size_t i = 0; i < op.args.size(); ++i) {
      stack.push_back(toIValue(env, op, op.args[i], i < given ? info[i + 1] : env.Undefined()));
    }
    op.handle.callBoxed(stack);
    if (stack.size() == 1) return toJs(env, stack[0]);
    if (stack.empty()) return env.Undefined();
    auto out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), toJs(env, stack[i]));
    return out;
  });
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= gOps.size()) throw Napi::Error::New(info.Env(), "opSchema: unknown operator id");
  std::ostringstream s;
  s << gOps[id].handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

}  // namespace yt
