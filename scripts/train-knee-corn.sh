#!/usr/bin/env bash
# Trains the knee KL-grade model's recipe (scripts/train-knee-model.sh: same split seed, seed,
# schedule and epochs) with a CORN ordinal head instead of softmax, to measure the head against
# the shipped model's argmax and cut points. Resumable: run it again after a stop.
#
#   scripts/train-knee-corn.sh            -> runs/knee-kl-corn (best.lbx, report.json)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/knee-kl}
RUN=${RUN:-runs/knee-kl-corn}
cli=build/app/lightbox-cli
[ -x "$cli" ] || scripts/build.sh
if [ -f "$RUN/report.json" ]; then
  echo "done: $RUN"
elif [ -f "$RUN/checkpoint.pt" ]; then
  "$cli" train --resume --out "$RUN"
else
  "$cli" train --data "$DATA" --preset knee-kl --arch resnet10s --size 224 --epochs "${EPOCHS:-30}" --batch 32 \
    --optimizer adamw --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment light --patience 10 \
    --seed 7 --mixed-precision --head corn --out "$RUN"
fi
