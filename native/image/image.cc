// The image addon: pre-processing without libtorch (see resample.h), for JS. Every argument is checked here, so that
// a wrong call is a JS exception and never a crash.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

#include "resample.h"

namespace {

// The pixel loops are compiled for each of these instruction sets and the loader picks the best one this CPU has
// (GNU ifuncs): a 1280x720 frame to 640x384 took 1.3 ms with baseline x86-64, 0.87 ms with AVX2 and 0.61 ms with
// AVX-512 on the development machine, and a package built on one machine still runs on an older one. Elsewhere the
// baseline build is used.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define YI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define YI_CLONES
#endif

YI_CLONES void resizeRgb(const yi::Image& src, int width, int height, bool area, uint8_t* out, const yi::Placement& at) {
  yi::RgbSink sink(out, at, width, height);
  yi::resize(src, width, height, area, sink);
}

YI_CLONES void resizeInput(const yi::Image& src, int width, int height, bool area, float* out, const yi::Placement& at) {
  yi::PlaneSink sink(out, at, width, height);
  yi::resize(src, width, height, area, sink);
}

// Largest side accepted; keeps every size product below 2^63 and every index within an int.
constexpr double kMaxSide = 1 << 20;

class Arguments {
 public:
  Arguments(const Napi::CallbackInfo& info, const char* function) : info_(info), function_(function) {}

  int integer(size_t i, const char* name, double min, double max) const {
    const Napi::Value value = info_[i];
    if (!value.IsNumber()) throw type(std::string(name) + " must be a number");
    const double v = value.As<Napi::Number>().DoubleValue();
    if (!(v >= min && v <= max) || v != std::floor(v)) {
      throw range(std::string(name) + " must be an integer from " + format(min) + " to " + format(max) + ", got " + format(v));
    }
    return static_cast<int>(v);
  }

  bool area(size_t i) const {
    const Napi::Value value = info_[i];
    const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
    if (name == "area") return true;
    if (name == "linear") return false;
    throw type("interpolation must be 'area' or 'linear'");
  }

  template <class T>
  T* array(size_t i, const char* name, napi_typedarray_type kind, const char* kindName, size_t expected, const std::string& why) const {
    const Napi::Value value = info_[i];
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != kind) {
      throw type(std::string(name) + " must be a " + kindName);
    }
    auto array = value.As<Napi::TypedArrayOf<T>>();
    if (array.ElementLength() != expected) {
      throw range(std::string(name) + " has " + std::to_string(array.ElementLength()) + " elements, expected " + why + " = " + std::to_string(expected));
    }
    return array.Data();
  }

  Napi::Error range(const std::string& message) const { return Napi::RangeError::New(info_.Env(), std::string(function_) + ": " + message); }
  Napi::Error type(const std::string& message) const { return Napi::TypeError::New(info_.Env(), std::string(function_) + ": " + message); }

 private:
  static std::string format(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    if (v == std::floor(v)) return std::to_string(static_cast<long long>(v));
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
  }

  const Napi::CallbackInfo& info_;
  const char* function_;
};

// The arguments both functions share:
//   (src: Uint8Array, srcWidth, srcHeight, width, height, interpolation: 'area' | 'linear',
//    out, outWidth, outHeight, left, top, pad)
// The image is resized to width x height and placed at (left, top) in an outWidth x outHeight output; the rest of
// the output is `pad`.
template <class T>
Napi::Value run(const Napi::CallbackInfo& info, const char* function, napi_typedarray_type kind, const char* kindName,
                void (*resize)(const yi::Image&, int, int, bool, T*, const yi::Placement&)) {
  const Arguments args(info, function);
  if (info.Length() != 12) {
    throw args.type("expected 12 arguments (src, srcWidth, srcHeight, width, height, interpolation, out, outWidth, outHeight, left, top, pad), got " +
                    std::to_string(info.Length()));
  }
  const int srcWidth = args.integer(1, "srcWidth", 1, kMaxSide);
  const int srcHeight = args.integer(2, "srcHeight", 1, kMaxSide);
  const int width = args.integer(3, "width", 1, kMaxSide);
  const int height = args.integer(4, "height", 1, kMaxSide);
  const bool area = args.area(5);
  const int outWidth = args.integer(7, "outWidth", 1, kMaxSide);
  const int outHeight = args.integer(8, "outHeight", 1, kMaxSide);
  const int left = args.integer(9, "left", 0, kMaxSide);
  const int top = args.integer(10, "top", 0, kMaxSide);
  const int pad = args.integer(11, "pad", 0, 255);
  if (left + width > outWidth || top + height > outHeight) {
    throw args.range("a " + std::to_string(width) + "x" + std::to_string(height) + " image at (" + std::to_string(left) + ", " + std::to_string(top) +
                     ") does not fit in the " + std::to_string(outWidth) + "x" + std::to_string(outHeight) + " output");
  }
  const size_t srcBytes = 3 * static_cast<size_t>(srcWidth) * srcHeight;
  const uint8_t* src = args.array<uint8_t>(0, "src", napi_uint8_array, "Uint8Array", srcBytes, "3 x srcWidth x srcHeight");
  const size_t outLength = 3 * static_cast<size_t>(outWidth) * outHeight;
  T* out = args.template array<T>(6, "out", kind, kindName, outLength, "3 x outWidth x outHeight");
  const auto* outBytes = reinterpret_cast<const uint8_t*>(out);
  if (outBytes < src + srcBytes && src < outBytes + outLength * sizeof(T)) throw args.range("out must not share memory with src");

  resize(yi::Image{src, srcWidth, srcHeight}, width, height, area, out, yi::Placement{outWidth, outHeight, left, top, static_cast<uint8_t>(pad)});
  return info.Env().Undefined();
}

Napi::Value ResizeToRgb(const Napi::CallbackInfo& info) { return run<uint8_t>(info, "resizeToRgb", napi_uint8_array, "Uint8Array", resizeRgb); }

Napi::Value ResizeToInput(const Napi::CallbackInfo& info) { return run<float>(info, "resizeToInput", napi_float32_array, "Float32Array", resizeInput); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeToRgb", Napi::Function::New(env, ResizeToRgb, "resizeToRgb"));
  exports.Set("resizeToInput", Napi::Function::New(env, ResizeToInput, "resizeToInput"));
  return exports;
}

}  // namespace

NODE_API_MODULE(yolov5_image, Init)
