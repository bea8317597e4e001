#!/usr/bin/env bash
# Fits the trust figures of every shipped model without re-training it (lightbox-cli calibrate):
# the out-of-distribution detector on the penultimate features of the model's own train split,
# its threshold and a temperature on its val split. The splits are the ones each model was
# trained with (docs/model-runs/<name>/splits.csv; the knee model: given train/val folders with
# the test carve of seed 7), so the test split stays untouched. Rewrites models/*.lbx in place;
# the weights do not change. Then prints the cross-task matrix (tests/bench/ood_matrix).
#
#   scripts/calibrate-models.sh [--percentile 97.5]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
cli=build/app/lightbox-cli
[ -x "$cli" ] || scripts/build.sh
"$cli" calibrate --model models/knee-kl-resnet10s.lbx --data "$DATA/knee-kl" --seed 7 "$@"
for name in chest-pneumonia chest-4class hand-sex skin-isic; do
  "$cli" calibrate --model "models/$name-resnet10s.lbx" --data "$DATA/$name" \
    --splits "docs/model-runs/$name-resnet10s" "$@"
done
if [ -x build/tests/bench/ood_matrix ]; then
  build/tests/bench/ood_matrix
fi
