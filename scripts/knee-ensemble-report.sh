#!/usr/bin/env bash
# Builds the knee KL ensemble from the shipped model (seed 7) and the members trained by
# scripts/train-knee-members.sh (same split), calibrates it (detector, temperature, cut points
# tuned on val), and prints val and test figures for each step: single network, test-time
# augmentation, cut points, ensemble, and the CORN ordinal head (scripts/train-knee-corn.sh)
# when its run is there. Selection happens on val; test is only reported.
#
#   scripts/knee-ensemble-report.sh [MEMBER_BUNDLE...]   (default: runs/knee-kl-members/seed-*/best.lbx)
#   SINGLE=bundle (default: the committed models/knee-kl-resnet10s.lbx), CORN=bundle
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/knee-kl}
OUT=${OUT:-runs/knee-kl-ensemble}
cli=build/app/lightbox-cli
mkdir -p "$OUT"
members=("$@")
[ ${#members[@]} -gt 0 ] || members=(runs/knee-kl-members/seed-*/best.lbx)
if [ -n "${SINGLE:-}" ]; then cp "$SINGLE" "$OUT/single.lbx"; else git show HEAD:models/knee-kl-resnet10s.lbx >"$OUT/single.lbx"; fi
"$cli" ensemble --out "$OUT/ensemble-raw.lbx" "$OUT/single.lbx" "${members[@]}"
"$cli" calibrate --model "$OUT/single.lbx" --data "$DATA" --seed 7 --cut-points --out "$OUT/single-cut.lbx"
"$cli" calibrate --model "$OUT/ensemble-raw.lbx" --data "$DATA" --seed 7 --out "$OUT/ensemble.lbx"
"$cli" calibrate --model "$OUT/ensemble-raw.lbx" --data "$DATA" --seed 7 --cut-points --out "$OUT/ensemble-cut.lbx"
row() { # name model [--tta]
  local name=$1 model=$2
  shift 2
  for split in val test; do
    "$cli" evaluate --model "$model" --data "$DATA" --seed 7 --split "$split" --json "$@" >"$OUT/$name-$split.json"
  done
  python3 - "$OUT/$name-val.json" "$OUT/$name-test.json" "$name" <<'PY'
import json, sys
v, t = (json.load(open(p)) for p in sys.argv[1:3])
f = lambda d: f'{d["accuracy"]:.3f} / {d["quadratic_kappa"]:.3f} / {d["ece"]:.3f}'
print(f'| {sys.argv[3]} | {f(v)} | {f(t)} |')
PY
}
echo "| model | val accuracy / QWK / ECE | test accuracy / QWK / ECE |"
echo "|---|---|---|"
row single "$OUT/single.lbx"
row single+tta "$OUT/single.lbx" --tta
row single+cut-points "$OUT/single-cut.lbx"
row ensemble "$OUT/ensemble.lbx"
row ensemble+tta "$OUT/ensemble.lbx" --tta
row ensemble+cut-points "$OUT/ensemble-cut.lbx"
row ensemble+cut-points+tta "$OUT/ensemble-cut.lbx" --tta
CORN=${CORN:-runs/knee-kl-corn/best.lbx}
if [ -f "$CORN" ]; then
  "$cli" calibrate --model "$CORN" --data "$DATA" --seed 7 --out "$OUT/corn.lbx" >"$OUT/corn-calibrate.txt"
  "$cli" calibrate --model "$CORN" --data "$DATA" --seed 7 --cut-points --out "$OUT/corn-cut.lbx" >"$OUT/corn-cut-calibrate.txt"
  row corn "$OUT/corn.lbx"
  row corn+tta "$OUT/corn.lbx" --tta
  row corn+cut-points "$OUT/corn-cut.lbx"
  row corn+cut-points+tta "$OUT/corn-cut.lbx" --tta
fi
