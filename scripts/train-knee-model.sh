#!/usr/bin/env bash
# Trains the knee KL-grade model that ships in models/ with Lightbox's own trainer, from
# scratch, on ../shared/data/knee-kl (train/ to train, val/ to select the epoch; a test split
# is carved out of train by patient for an honest check), then copies the best epoch into
# models/ . Arguments go to `lightbox-cli train` (e.g. --device cuda --epochs 60 on a GPU).
# Mixed precision is asked for: bfloat16 on a CPU with AVX-512 BF16 or AMX (about twice as
# fast there), float16 on a GPU; elsewhere the trainer ignores it and trains in float32.
#
#   scripts/train-knee-model.sh [--size 224] [--epochs 30] [...]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/knee-kl}
RUN=${RUN:-runs/knee-kl-resnet10s}
[ -x build/app/lightbox-cli ] || scripts/build.sh
build/app/lightbox-cli train --data "$DATA" --preset knee-kl --arch resnet10s \
  --size "${SIZE:-224}" --epochs "${EPOCHS:-30}" --batch 32 --optimizer adamw --lr 0.002 --weight-decay 0.0005 \
  --schedule cosine --augment light --patience 10 --seed 7 --mixed-precision --out "$RUN" "$@"
cp "$RUN/best.lbx" models/knee-kl-resnet10s.lbx
build/app/lightbox-cli evaluate --model models/knee-kl-resnet10s.lbx --data "$DATA" --split val --json \
  > "$RUN/val-evaluation.json"
echo "shipped models/knee-kl-resnet10s.lbx; validation report in $RUN/val-evaluation.json"
