#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (ctest). Used by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export QT_QPA_PLATFORM=offscreen
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --no-tests=error -j 2 "$@"
