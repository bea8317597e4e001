#!/usr/bin/env bash
# The adult chest X-ray normal/pneumonia/COVID-19 model in models/ (NIH ChestX-ray8 and the
# COVID-19 image data collection). The tuberculosis class of the task has no images here, so
# the model is trained on the three classes that have them and its card says so.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/train-task.sh chest-4class-resnet10s "${DATA:-../shared/data/chest-4class}" 7 \
  --preset chest-4class --skip-empty-classes --arch resnet10s --size 224 --epochs "${EPOCHS:-40}" --batch 32 \
  --optimizer adamw --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment light --class-weights \
  --patience 12 --mixed-precision "$@"
