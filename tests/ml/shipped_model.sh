#!/usr/bin/env bash
# The knee model that ships in models/: it loads, classifies the bundled knee samples with a
# Grad-CAM map (probabilities summing to one, an expected grade in 0..4), and evaluating it on
# ../shared/data/knee-kl/val reproduces the validation figures its card claims, which stay
# above a floor (a worse model must not ship silently).
# usage: shipped_model.sh LIGHTBOX_CLI PYTHON SOURCE_DIR SHARED_DATA
set -euo pipefail
cli=$1 python=$2 src=$3 data=$4
model=$src/models/knee-kl-resnet10s.lbx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$model" ] || { echo "missing $model"; exit 1; }

"$cli" predict --model "$model" --threads 1 --cam "$tmp/cam.png" --json "$src"/resources/samples/knee-kl*.png \
    >"$tmp/predict.json"
"$python" - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
doc = json.load(open(os.path.join(tmp, "predict.json")))
results = doc["results"]
assert len(results) >= 3, results
for r in results:
    p = r["probabilities"]
    assert list(p) == ["KL 0", "KL 1", "KL 2", "KL 3", "KL 4"], p
    assert abs(sum(p.values()) - 1) < 1e-4, p
    assert 0 <= r["expectedGrade"] <= 4, r
cams = [f for f in os.listdir(tmp) if f.startswith("cam") and f.endswith(".png")]
assert len(cams) == len(results), cams
print("samples:", ", ".join(f'{os.path.basename(r["file"])} -> {r["className"]}' for r in results))
PY

if [ ! -d "$data/knee-kl/val" ]; then
  echo "the shared knee data ($data/knee-kl) is missing: validation figures not checked"
  exit 77
fi
"$cli" evaluate --model "$model" --data "$data/knee-kl" --split val --threads 1 --json >"$tmp/val.json"
"$python" - "$tmp" <<'PY'
import json, os, sys
doc = json.load(open(os.path.join(sys.argv[1], "val.json")))
card = doc["card_metrics"]
print(f'val: {doc["samples"]} images, accuracy {doc["accuracy"]:.4f} (card {card["val_accuracy"]:.4f}), '
      f'QWK {doc["quadratic_kappa"]:.4f} (card {card["val_qwk"]:.4f})')
assert doc["samples"] == 826, doc["samples"]
assert abs(doc["accuracy"] - card["val_accuracy"]) < 1e-6
assert abs(doc["quadratic_kappa"] - card["val_qwk"]) < 1e-6
assert doc["accuracy"] >= 0.58 and doc["quadratic_kappa"] >= 0.68, "below the shipping floor"
PY
