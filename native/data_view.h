// Zero-copy reads: a JS ArrayBuffer over a tensor's own storage.
#pragma once
#include <napi.h>

namespace yt {
Napi::Value DataView(const Napi::CallbackInfo& info);
}  // namespace yt
