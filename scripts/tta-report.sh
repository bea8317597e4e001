#!/usr/bin/env bash
# Measures test-time augmentation on the shipped chest, hand and skin models (the knee model's
# steps are in scripts/knee-ensemble-report.sh): val and test figures of each bundle with and
# without --tta, on the splits its run recorded. Prints a Markdown table; the JSON reports land
# in runs/tta-report/. Selection would happen on val; test is only reported.
#
#   scripts/tta-report.sh [NAME...]   (default: chest-pneumonia chest-4class hand-sex skin-isic)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/tta-report}
cli=build/app/lightbox-cli
[ -x "$cli" ] || scripts/build.sh
mkdir -p "$OUT"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(chest-pneumonia chest-4class hand-sex skin-isic)
echo "| model | views | val accuracy / AUC / ECE | test accuracy / AUC / ECE | ms per image (test) |"
echo "|---|---|---|---|---|"
for name in "${names[@]}"; do
  model=models/$name-resnet10s.lbx
  for tta in "" --tta; do
    tag=$name${tta:+-tta}
    for split in val test; do
      "$cli" evaluate --model "$model" --data "$DATA/$name" --splits "docs/model-runs/$name-resnet10s" \
        --split "$split" --json $tta >"$OUT/$tag-$split.json"
    done
    python3 - "$OUT/$tag-val.json" "$OUT/$tag-test.json" "$name" "${tta:-none}" <<'PY'
import json, sys
v, t = (json.load(open(p)) for p in sys.argv[1:3])
def f(d):
    auc = d.get("macro_auc", d.get("auc", float("nan")))
    return f'{d["accuracy"]:.3f} / {auc:.3f} / {d["ece"]:.3f}'
ms = 1000.0 * t["seconds"] / max(1, t["samples"]) if "seconds" in t else float("nan")
print(f'| {sys.argv[3]} | {t.get("views", 1)} ({sys.argv[4]}) | {f(v)} | {f(t)} | {ms:.1f} |')
PY
  done
done
