#!/usr/bin/env bash
# A model that ships in models/: it loads, classifies its bundled sample(s) with a Grad-CAM map
# (probabilities summing to one over the card's classes, an expected grade for graded tasks),
# and evaluating it on the val split of its shared data set (carved with the card's seed where
# the data has no val folder) reproduces the validation figures its card claims, which stay
# above a floor (a worse model must not ship silently).
# usage: shipped_model.sh LIGHTBOX_CLI PYTHON SOURCE_DIR SHARED_DATA NAME DATASET SEED FLOOR SAMPLE...
set -euo pipefail
cli=$1 python=$2 src=$3 data=$4 name=$5 dataset=$6 seed=$7 floor=$8
shift 8
model=$src/models/$name.lbx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$model" ] || { echo "missing $model"; exit 1; }
samples=()
for s in "$@"; do samples+=("$src/resources/samples/$s"); done

"$cli" predict --model "$model" --threads 1 --cam "$tmp/cam.png" --json "${samples[@]}" >"$tmp/predict.json"
"$python" - "$tmp" "${#samples[@]}" <<'PY'
import json, os, sys
tmp, count = sys.argv[1], int(sys.argv[2])
doc = json.load(open(os.path.join(tmp, "predict.json")))
results = doc["results"]
assert len(results) == count, results
for r in results:
    p = r["probabilities"]
    assert len(p) >= 2 and abs(sum(p.values()) - 1) < 1e-4, p
    assert r["className"] in p, r
    if "expectedGrade" in r:
        assert 0 <= r["expectedGrade"] <= len(p) - 1, r
cams = [f for f in os.listdir(tmp) if f.startswith("cam") and f.endswith(".png")]
assert len(cams) == len(results), cams
print("samples:", ", ".join(f'{os.path.basename(r["file"])} -> {r["className"]} ({r["probability"]:.2f})'
                            for r in results))
PY

if [ ! -d "$data/$dataset" ]; then
  echo "the shared data ($data/$dataset) is missing: validation figures not checked"
  exit 77
fi
"$cli" evaluate --model "$model" --data "$data/$dataset" --split val --seed "$seed" --threads 1 --json >"$tmp/val.json"
"$python" - "$tmp" "$floor" <<'PY'
import json, math, os, sys
doc = json.load(open(os.path.join(sys.argv[1], "val.json")))
floor = float(sys.argv[2])
card = doc["card_metrics"]
print(f'val: {doc["samples"]} images ({doc["split_source"]}), accuracy {doc["accuracy"]:.4f} '
      f'(card {card["val_accuracy"]:.4f}), macro F1 {doc["macro_f1"]:.4f}, macro AUC {doc["macro_auc"]:.4f}')
assert doc["samples"] > 0
assert abs(doc["accuracy"] - card["val_accuracy"]) < 1e-6, "val accuracy differs from the card"
if "val_qwk" in card:
    assert abs(doc["quadratic_kappa"] - card["val_qwk"]) < 1e-6, "val QWK differs from the card"
assert doc["accuracy"] >= floor, f"below the shipping floor {floor}"
if doc.get("not_covered"):
    print("not covered:", ", ".join(doc["not_covered"]))
PY
