#!/usr/bin/env bash
# core/ml needs LibTorch and nothing else from Lightbox but core/base. This check copies the
# top CMakeLists.txt, core/base, core/ml and the ML self-test into an empty folder (no
# core/imaging, data, jobs, ui or app), configures it with -DLIGHTBOX_ML_ONLY=ON, compiles the
# torch-free sources and preprocesses the LibTorch ones, so every #include of core/ml must
# resolve without the other layers. (Compiling the LibTorch sources too is scripts/gpu-check.sh's
# job: it takes minutes.)  Usage: ml_standalone.sh SOURCE_DIR WORK_DIR [CMAKE_PREFIX_PATH]
set -euo pipefail
src=$1
work=$2
prefix=${3:-}
rm -rf "$work"
mkdir -p "$work/tree/core" "$work/tree/tests/ml" "$work/build"
cp "$src/CMakeLists.txt" "$work/tree/"
cp -r "$src/core/base" "$src/core/ml" "$work/tree/core/"
cp "$src/tests/ml/ml_selftest.cpp" "$work/tree/tests/ml/"
cd "$work/build"
args=(-G "Unix Makefiles" -DLIGHTBOX_ML_ONLY=ON -DCMAKE_BUILD_TYPE=Release)
[[ -n $prefix ]] && args+=("-DCMAKE_PREFIX_PATH=$prefix")
cmake "${args[@]}" ../tree > configure.log 2>&1 || { cat configure.log; echo "core/ml alone: configure failed"; exit 1; }
torch_free=() torch_units=()
for f in "$work"/tree/core/ml/*.cpp; do
    name=$(basename "$f" .cpp)
    # detail/TrainState.h is the one torch-free private header.
    if grep -E '#include (<torch/|"detail/|<ml/detail/)' "$f" | grep -qv 'TrainState.h'; then torch_units+=("$name.i"); else torch_free+=("$name.o"); fi
done
cd core/ml
make --no-print-directory "${torch_free[@]}" > build.log 2>&1 || { tail -40 build.log; echo "core/ml alone: a torch-free source does not compile"; exit 1; }
make --no-print-directory "${torch_units[@]}" > preprocess.log 2>&1 || { grep -m5 -B2 -A3 "error" preprocess.log; echo "core/ml alone: a LibTorch source's include does not resolve"; exit 1; }
echo "core/ml alone: configured with LibTorch only; compiled ${#torch_free[@]} torch-free sources (${torch_free[*]}), preprocessed ${#torch_units[@]} LibTorch sources (${torch_units[*]})"
