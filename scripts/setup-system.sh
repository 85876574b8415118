#!/usr/bin/env bash
# Installs the system packages yolov5-ts needs, only those missing: libtorch (unless LIBTORCH or a Python
# torch provides it), OpenBLAS (fast matrix products for it) and ffmpeg (video and streams). Safe to run again; quick when nothing is missing.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ -z "${LIBTORCH:-}" ] && ! python3 -c 'import torch' >/dev/null 2>&1 && ! dpkg -s libtorch-dev >/dev/null 2>&1; then
  need+=(libtorch-dev)
fi
# The headers of Gloo, the transport of libtorch's c10d process groups (multi-process training); the library comes with libtorch.
if [ -z "${LIBTORCH:-}" ] && ! python3 -c 'import torch' >/dev/null 2>&1; then
  dpkg -s libgloo-dev >/dev/null 2>&1 || need+=(libgloo-dev)
fi
# Debian's libtorch calls the system BLAS; the reference BLAS is ~40x slower than OpenBLAS for 1x1 convolutions.
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
[ ${#need[@]} -eq 0 ] && exit 0

echo "yolov5-ts: installing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "yolov5-ts: need root to install ${need[*]} (apt-get install ${need[*]}), or set LIBTORCH=/path/to/libtorch" >&2
    exit 1
  fi
else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
