#!/usr/bin/env bash
# Installs the Debian 12 packages Lightbox needs to build, test and benchmark; with --fuzz
# also clang and its libFuzzer/sanitizer runtimes (scripts/fuzz.sh).
# Installs nothing when everything is present; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-base-dev-tools libqt6svg6 qt6-image-formats-plugins libgl-dev
  libtorch-dev libopencv-dev libdcmtk-dev dcmtk orthanc libopenjp2-7-dev libqcustomplot-dev nlohmann-json3-dev
  libgloo-dev
  qt6-l10n-tools qt6-tools-dev qt6-translations-l10n
  xvfb xauth fonts-dejavu-core fonts-noto-cjk
  python3 python3-numpy python3-pydicom python3-torch python3-torchvision
  libgdcm-tools dpkg-dev desktop-file-utils clang-format zlib1g-dev poppler-utils
)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
