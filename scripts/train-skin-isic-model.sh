#!/usr/bin/env bash
# The dermoscopy skin-lesion model in models/ (9 ISIC classes, CC BY-NC 4.0): RGB, lesion-safe
# augmentation (flips both ways, small rotation, no crop or zoom), classes weighted by count.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/train-task.sh skin-isic-resnet10s "${DATA:-../shared/data/skin-isic}" 7 \
  --preset skin-isic --arch resnet10s --size 176 --epochs "${EPOCHS:-80}" --batch 32 --optimizer adamw \
  --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment dermoscopy --class-weights --patience 20 \
  --mixed-precision "$@"
