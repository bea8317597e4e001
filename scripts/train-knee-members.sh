#!/usr/bin/env bash
# Trains further members for the knee KL-grade ensemble: the shipped recipe
# (scripts/train-knee-model.sh) with other initialisation seeds and the same split seed (7), so
# every member keeps the same test carve out of train untouched. Each member is resumable: run
# the script again after a stop and it continues where its run folder left off.
#
#   scripts/train-knee-members.sh [SEED...]      (default: 8 9)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/knee-kl}
cli=build/app/lightbox-cli
[ -x "$cli" ] || scripts/build.sh
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(8 9)
for seed in "${seeds[@]}"; do
  run=runs/knee-kl-members/seed-$seed
  if [ -f "$run/report.json" ]; then
    echo "member seed $seed: done ($run)"
    continue
  fi
  if [ -f "$run/checkpoint.pt" ]; then
    "$cli" train --resume --out "$run"
  else
    "$cli" train --data "$DATA" --preset knee-kl --arch resnet10s --size 224 --epochs "${EPOCHS:-40}" --batch 32 \
      --optimizer adamw --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment light --patience 12 \
      --seed "$seed" --split-seed 7 --mixed-precision --no-leakage-check --out "$run"
  fi
done
