#!/usr/bin/env bash
# The pediatric chest X-ray pneumonia/normal model in models/ (Kermany et al., CC BY 4.0):
# val and test are carved out of ../shared/data/chest-pneumonia/train by patient.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/train-task.sh chest-pneumonia-resnet10s "${DATA:-../shared/data/chest-pneumonia}" 7 \
  --preset chest-pneumonia --arch resnet10s --size 224 --epochs "${EPOCHS:-16}" --batch 32 --optimizer adamw \
  --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment light --class-weights --patience 6 \
  --mixed-precision "$@"
