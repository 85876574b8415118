{
  "targets": [
    {
      "target_name": "yolov5_torch",
      "sources": ["addon.cc", "handle.cc", "dispatch.cc", "tensor_io.cc", "data_view.cc", "autograd.cc", "distributed.cc", "group.cc", "gradient_reducer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<!@(node find-libtorch.mjs include)"],
      "libraries": ["-L<!(node find-libtorch.mjs lib)", "-Wl,-rpath,<!(node find-libtorch.mjs lib)", "-ltorch", "-ltorch_cpu", "-lc10"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "<!@(node find-libtorch.mjs defines)"]
    }
  ]
}
