#!/usr/bin/env bash
# Configures and builds Lightbox (Release) into build/. Extra arguments go to CMake,
# e.g. -DCMAKE_PREFIX_PATH=/path/to/libtorch for a CUDA LibTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
# One <torch/torch.h> translation unit needs about 1.3 GB: keep jobs within memory.
jobs=$(nproc)
cmake --build "$BUILD_DIR" -j "$jobs"
