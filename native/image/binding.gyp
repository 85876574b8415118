# The image addon: pre-processing without libtorch (resample.h), built apart from the libtorch addon so that users
# who only run ONNX models get it too.
{
  "targets": [
    {
      "target_name": "yolov5_image",
      "sources": ["image.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      # -O3 vectorises the pixel loops. -ffp-contract=off: the sample positions and weights must be those the JS path
      # computes, every product rounded before a sum; a fused multiply-add (GCC's default on arm64) would round once.
      # -fno-trapping-math lets the clamp to 255 vectorise; it changes no value (nothing here traps on FP exceptions).
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-ffp-contract=off", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"]
    }
  ]
}
