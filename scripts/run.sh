#!/usr/bin/env bash
# Sets up, builds and opens the GUI on the bundled sample radiograph (or the files given).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
if [ $# -eq 0 ]; then
  set -- resources/samples/chest-cr-RG1_J2KI.dcm
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "run: no display found; starting the GUI under Xvfb (xvfb-run)" >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" build/app/lightbox "$@"
fi
exec build/app/lightbox "$@"
