#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (ctest). Used by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz
# The libFuzzer harnesses (clang, build-fuzz/): ctest runs each for a few seconds (fuzz_smoke).
# LIGHTBOX_FUZZ_SMOKE=0 leaves them out.
if [ "${LIGHTBOX_FUZZ_SMOKE:-1}" != 0 ]; then
  scripts/fuzz.sh --build-only
fi
scripts/build.sh
export QT_QPA_PLATFORM=offscreen
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --no-tests=error -j 2 "$@"
