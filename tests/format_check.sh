#!/usr/bin/env bash
# Fails when a tracked C++ file differs from the pinned .clang-format.
set -euo pipefail
cd "$1"
if ! command -v clang-format >/dev/null; then
  echo "clang-format is not installed (scripts/setup.sh installs it)"; exit 1
fi
files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find app core ui tests -name '*.cpp' -o -name '*.h')
bad=$(echo "$files" | xargs clang-format --dry-run 2>&1 | grep -o '^[^:]*:[0-9]*:[0-9]*: warning' | cut -d: -f1 | sort -u || true)
if [ -n "$bad" ]; then
  echo "not formatted with the pinned .clang-format (run clang-format -i):"; echo "$bad"; exit 1
fi
echo "$(echo "$files" | wc -l) files formatted"
