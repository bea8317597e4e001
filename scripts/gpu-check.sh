#!/usr/bin/env bash
# GPU check for a machine that has a CUDA LibTorch and nothing else (no Qt, OpenCV or DCMTK),
# e.g. one with a CUDA PyTorch installed: builds core/ml alone against that LibTorch
# (-DLIGHTBOX_ML_ONLY=ON) and runs ml_selftest on the first GPU (zoo, bundles, classifier
# and Grad-CAM on the device, half precision included). The build compiles the distributed
# trainer (core/ml/Distributed.cpp) too, with NCCL when the LibTorch has it and nccl.h is
# found (the line after cmake says which). TORCH_PREFIX overrides where
# TorchConfig.cmake is looked for; DEVICE (default cuda:0) the device tested.
#   scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIGHTBOX_ML_ONLY=ON -DCMAKE_PREFIX_PATH="$prefix"
grep -E '^LIGHTBOX_(GLOO|NCCL)_INCLUDE' build-gpu/CMakeCache.txt || true
cmake --build build-gpu -j "$(nproc)"
build-gpu/core/ml/ml_selftest "${DEVICE:-cuda:0}"
