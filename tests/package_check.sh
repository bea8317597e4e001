#!/usr/bin/env bash
# Builds the Debian package from the build tree, unpacks it into a temporary prefix and
# checks that the installed programs start: lightbox-cli reports its version and reads the
# installed sample, and the GUI renders a screenshot of it (offscreen).
#   package_check.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$build"
cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/*.deb)
echo "package: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb -f "$deb" Package Version Depends | sed 's/^/  /'
dpkg-deb -f "$deb" Depends | grep -q 'libtorch' || { echo "Depends lacks libtorch"; exit 1; }
dpkg-deb -x "$deb" "$work/root"
root="$work/root/usr"
for f in bin/lightbox bin/lightbox-cli share/applications/lightbox.desktop \
         share/icons/hicolor/scalable/apps/lightbox.svg share/icons/hicolor/256x256/apps/lightbox.png \
         share/lightbox/samples/ATTRIBUTION.md share/lightbox/samples/chest-cr-RG1_J2KI.dcm; do
  [ -e "$root/$f" ] || { echo "missing from the package: $f"; exit 1; }
done
grep -q '^Exec=lightbox' "$root/share/applications/lightbox.desktop"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$root/share/applications/lightbox.desktop"; fi
"$root/bin/lightbox-cli" version | head -1 | grep -q '^lightbox-cli '
"$root/bin/lightbox-cli" info "$root/share/lightbox/samples/chest-cr-RG1_J2KI.dcm" | grep -q '1841 x 1955'
QT_QPA_PLATFORM=offscreen "$root/bin/lightbox" --screenshot "$work/shot.png" \
  "$root/share/lightbox/samples/chest-cr-RG1_J2KI.dcm"
[ -s "$work/shot.png" ] || { echo "the installed GUI wrote no screenshot"; exit 1; }
# The bundled knee model classifies the bundled knee sample, from the CLI and in the GUI.
model="$root/share/lightbox/models/knee-kl-resnet10s.lbx"
knee="$root/share/lightbox/samples/knee-kl2-9015402R.png"
[ -f "$model" ] && [ -f "$root/share/lightbox/models/knee-kl-resnet10s.md" ] || { echo "the knee model is not packaged"; exit 1; }
"$root/bin/lightbox-cli" predict --model "$model" --threads 1 "$knee" | grep -q 'expected grade'
QT_QPA_PLATFORM=offscreen "$root/bin/lightbox" --screenshot "$work/knee.png" --model "$model" "$knee"
[ -s "$work/knee.png" ] || { echo "the installed GUI did not classify the knee sample"; exit 1; }
echo "installed programs start; screenshot $(du -k "$work/shot.png" | cut -f1) KiB"
