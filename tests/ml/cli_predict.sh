#!/usr/bin/env bash
# Smoke test of `lightbox-cli predict`: exports a TorchScript model with the system Python,
# classifies the sample radiographs (PNG and JPEG 2000 DICOM) with a crop and a Grad-CAM
# overlay, and checks that a foreign model file and an ROI outside the image are refused.
# usage: cli_predict.sh LIGHTBOX_CLI PYTHON SOURCE_DIR
set -euo pipefail
cli=$1 python=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" "$src/scripts/export_torchvision.py" --arch resnet18 --channels 1 --classes 5 \
    --class-names KL0,KL1,KL2,KL3,KL4 --ordinal --size 128 "$tmp/knee.pt" >/dev/null
knee=$src/resources/samples/knee-kl2-9015402R.png
chest=$src/resources/samples/chest-cr-RG1_J2KI.dcm

"$cli" predict --model "$tmp/knee.pt" --device cpu --roi 20,20,150,160 --cam "$tmp/cam.png" --json \
    "$knee" "$chest" >"$tmp/out.json"
"$python" - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
doc = json.load(open(os.path.join(tmp, "out.json")))
assert len(doc["results"]) == 2, doc
for r in doc["results"]:
    p = r["probabilities"]
    assert set(p) == {"KL0", "KL1", "KL2", "KL3", "KL4"}, p
    assert abs(sum(p.values()) - 1) < 1e-4, p
    assert r["className"] == max(p, key=p.get), r
    assert abs(r["expectedGrade"] - sum(i * p[f"KL{i}"] for i in range(5))) < 1e-4, r
    assert os.path.getsize(r["cam"]["file"]) > 1000, r
assert doc["results"][0]["cam"]["file"].endswith("cam-knee-kl2-9015402R.png")
PY

if "$cli" predict --model "$knee" "$knee" 2>"$tmp/err"; then echo "foreign model accepted"; exit 1; fi
grep -q "not a Lightbox bundle" "$tmp/err"
if "$cli" predict --model "$tmp/knee.pt" --roi 0,0,5000,10 "$knee" 2>"$tmp/err"; then echo "bad ROI accepted"; exit 1; fi
grep -q "outside" "$tmp/err"
echo "cli predict: ok"
