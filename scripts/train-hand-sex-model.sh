#!/usr/bin/env bash
# The hand X-ray sex model in models/ (RSNA Pediatric Bone Age, 100 x 100 copies): the CSV's
# male column is the label; val and test are carved out by image (one image per child).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/train-task.sh hand-sex-resnet10s "${DATA:-../shared/data/hand-sex}" 7 \
  --preset hand-sex --arch resnet10s --size 128 --epochs "${EPOCHS:-60}" --batch 32 --optimizer adamw \
  --lr 0.002 --weight-decay 0.0005 --schedule cosine --augment standard --patience 15 --mixed-precision "$@"
