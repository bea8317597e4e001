#!/usr/bin/env bash
# Trains one task's shipped model with Lightbox's own trainer, from scratch, then copies the
# best epoch (selected on val) into models/ and writes its val and test reports beside the run.
# The per-task scripts (train-*-model.sh) call it with their recipe; a run that was stopped or
# killed continues from its run folder (the trainer's checkpoint) when called again.
#
#   scripts/train-task.sh NAME DATA SEED [lightbox-cli train options...]
#
# NAME is the bundle name (models/NAME.lbx), DATA the data set, SEED the split and training
# seed (evaluation carves the same val and test splits with it). RUN=... sets the run folder.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 data=$2 seed=$3
shift 3
run=${RUN:-runs/$name}
cli=build/app/lightbox-cli
[ -x "$cli" ] || scripts/build.sh
if [ -f "$run/checkpoint.pt" ] && [ ! -f "$run/report.json" ]; then
  echo "continuing $run"
  "$cli" train --resume --out "$run"
elif [ ! -f "$run/report.json" ]; then
  "$cli" train --data "$data" --seed "$seed" --out "$run" "$@"
fi
cp "$run/best.lbx" "models/$name.lbx"
for split in val test; do
  "$cli" evaluate --model "models/$name.lbx" --data "$data" --split "$split" --seed "$seed" --json \
    >"$run/$split-evaluation.json"
done
echo "shipped models/$name.lbx; reports in $run/val-evaluation.json and $run/test-evaluation.json"
