#!/usr/bin/env bash
# The hand X-ray sex model in models/ (RSNA Pediatric Bone Age, 100 x 100 copies): the CSV's
# male column is the label; val and test are carved out by image (one image per child).
# 64 px on purpose: at 128 and 160 px (light or standard augmentation, bfloat16 or float32) and
# with cnn5 at 112 px the network stayed at the majority class for 7-13 epochs; at 64 px it
# leaves it within a few epochs and reaches val accuracy 0.70 (see the model card).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/train-task.sh hand-sex-resnet10s "${DATA:-../shared/data/hand-sex}" 7 \
  --preset hand-sex --arch resnet10s --size 64 --epochs "${EPOCHS:-60}" --batch 32 --optimizer adamw \
  --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment light --patience 15 --mixed-precision "$@"
