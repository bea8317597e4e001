#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan; fuzz/) and runs each for a share of
# SECONDS, then prints the executions and crashes per harness and in total.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]  fuzz (default 600 s in all; dicom, raster,
#                                           jpeg2000, model, csv), corpora kept in fuzz-out/
#   scripts/fuzz.sh --smoke [SECONDS]       CI: every harness from its seeds alone, about 60 s
#                                           in all; exits 1 on any crash
#   scripts/fuzz.sh --build-only            configure and build the harnesses only
#   --no-build                              (before the others) use the harnesses as built
#
# Time is split by weight (dicom 30 %, jpeg2000 20 %, raster 20 %, model 15 %, csv 15 %).
# A harness that crashes is restarted for the rest of its time (up to 5 crashes each).
# fuzz-out/ (git-ignored) holds corpus/<harness>/, crashes/<harness>/ (the artefacts),
# logs/ and stats.tsv, whose totals over all runs are printed too. A crash becomes
# tests/data/fuzz-regressions/<harness>/<name> with an expected outcome in
# tests/tst_fuzz_regressions.cpp. Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_OUT
# (fuzz-out), FUZZ_JOBS (build jobs, default all cores), FUZZ_TIMEOUT (seconds an input may
# take, default 60: generous, as a loaded machine slows the sanitizers), LIGHTBOX_SHARED_DATA
# (../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
OUT=${FUZZ_OUT:-fuzz-out}
SHARED=${LIGHTBOX_SHARED_DATA:-$ROOT/../shared/data}
PYDICOM=/usr/lib/python3/dist-packages/pydicom/data/test_files
PYTHON=/usr/bin/python3 # Debian's, with pydicom and torch (scripts/setup.sh)
ALL=(dicom jpeg2000 raster model csv)
declare -A WEIGHT=([dicom]=30 [jpeg2000]=20 [raster]=20 [model]=15 [csv]=15)
declare -A MAXLEN=([dicom]=65536 [jpeg2000]=65536 [raster]=65536 [model]=16384 [csv]=4096)

build=1 smoke=0 buildOnly=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --smoke) smoke=1; shift ;;
    --build-only) buildOnly=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
SECONDS_TOTAL=${1:-$([ $smoke = 1 ] && echo 60 || echo 600)}
[ $# -gt 0 ] && shift
HARNESSES=("$@")
[ ${#HARNESSES[@]} -eq 0 ] && HARNESSES=("${ALL[@]}")
for h in "${HARNESSES[@]}"; do
  [ -n "${WEIGHT[$h]:-}" ] || { echo "fuzz: unknown harness '$h' (known: ${ALL[*]})"; exit 2; }
done

# --- build ---------------------------------------------------------------------------------
if [ $build = 1 ]; then
  scripts/setup.sh --fuzz
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DLIGHTBOX_FUZZ=ON -DCMAKE_BUILD_TYPE=Fuzz >/dev/null
  cmake --build "$BUILD_DIR" -j "${FUZZ_JOBS:-$(nproc)}" --target fuzz_make_seeds \
    $(printf 'fuzz_%s ' "${ALL[@]}")
fi
[ $buildOnly = 1 ] && exit 0
for h in "${HARNESSES[@]}"; do
  [ -x "$BUILD_DIR/fuzz/fuzz_$h" ] || { echo "fuzz: $BUILD_DIR/fuzz/fuzz_$h is not built"; exit 1; }
done

# --- seeds (made afresh each run from files elsewhere; nothing large is committed) ----------
SEEDS=$OUT/seeds
mkdir -p "$OUT/logs"
# copy_small DEST MAX_BYTES FILE...: copies the files (that exist) up to MAX_BYTES.
copy_small() {
  local dest=$1 max=$2; shift 2
  mkdir -p "$dest"
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le "$max" ] && cp "$f" "$dest/" || true
  done
}
seeds_for() {
  local h=$1 dir=$SEEDS/$1 log=$OUT/logs/seeds-$1.log
  rm -rf "$dir"
  mkdir -p "$dir"
  case $h in
    dicom)
      copy_small "$dir" 300000 "$PYDICOM"/*.dcm tests/data/htj2k/*.dcm "$SHARED"/dicom/*.dcm \
        resources/samples/*.dcm
      # 32-bit, float, palette colour and VOI files written by the test generators.
      "$PYTHON" tests/tools/make_decode_kinds.py "$dir/kinds" >"$log" 2>&1 &&
        copy_small "$dir" 300000 "$dir"/kinds/*.dcm || echo "fuzz: no generated DICOM seeds (see $log)"
      "$PYTHON" tests/tools/make_voi_files.py "$PYDICOM/CT_small.dcm" "$dir/voi" >>"$log" 2>&1 &&
        copy_small "$dir" 300000 "$dir"/voi/*.dcm || true
      rm -rf "$dir/kinds" "$dir/voi" ;;
    jpeg2000)
      "$BUILD_DIR/fuzz/fuzz_make_seeds" jpeg2000 "$dir" >"$log" 2>&1
      "$PYTHON" fuzz/extract_frames.py "$dir" "$PYDICOM"/*.dcm tests/data/htj2k/*.dcm \
        "$SHARED"/dicom/*J2K*.dcm >>"$log" 2>&1 || echo "fuzz: no JPEG 2000 frames from DICOM (see $log)"
      find "$dir" -type f -size +300k -delete ;;
    raster)
      "$BUILD_DIR/fuzz/fuzz_make_seeds" raster "$dir" >"$log" 2>&1
      copy_small "$dir" 65536 resources/samples/*.png resources/samples/*.jpg resources/samples/*.jpeg
      # A few small real images of each shared data set.
      if [ -d "$SHARED" ]; then
        for set in "$SHARED"/*/; do
          mapfile -t small < <(find "$set" -type f \( -iname '*.png' -o -iname '*.jp*g' -o -iname '*.tif*' \
            -o -iname '*.bmp' \) -size -32k 2>/dev/null | sort)
          for f in "${small[@]:0:3}"; do
            cp "$f" "$dir/$(basename "$set")-$(basename "$f")"
          done
        done
      fi ;;
    model)
      "$BUILD_DIR/fuzz/fuzz_make_seeds" model "$dir" models/*.lbx >"$log" 2>&1
      "$PYTHON" fuzz/make_model_seeds.py "$dir" >>"$log" 2>&1 || echo "fuzz: no tiny archives (see $log)" ;;
    csv)
      cp fuzz/seeds/csv/*.csv "$dir/"
      [ -f "$SHARED/hand-sex/boneage.csv" ] && head -n 20 "$SHARED/hand-sex/boneage.csv" >"$dir/boneage-head.csv"
      true ;;
  esac
  if [ -d "tests/data/fuzz-regressions/$h" ]; then
    find "tests/data/fuzz-regressions/$h" -type f ! -name '*.md' -exec cp {} "$dir/" \;
  fi
}

# --- run -------------------------------------------------------------------------------------
# Crashes, leaks, timeouts and out-of-memory inputs count; libFuzzer's slow-unit-* notes (an
# input over 10 s, usually a loaded machine) are kept beside them but are not failures.
artefacts() { find "$1" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0}
export QT_QPA_PLATFORM=offscreen LIGHTBOX_TORCH_THREADS=1 OMP_NUM_THREADS=1

weights=0
for h in "${HARNESSES[@]}"; do weights=$((weights + WEIGHT[$h])); done
declare -A EXECS CRASHES SPENT
status=0
for h in "${HARNESSES[@]}"; do
  seeds_for "$h"
  budget=$((SECONDS_TOTAL * WEIGHT[$h] / weights))
  [ $budget -lt 5 ] && budget=5
  if [ $smoke = 1 ]; then
    corpus=$(mktemp -d)
  else
    corpus=$OUT/corpus/$h
    mkdir -p "$corpus"
  fi
  crashdir=$OUT/crashes/$h
  mkdir -p "$crashdir"
  before=$(artefacts "$crashdir")
  execs=0 start=$(date +%s) attempt=0
  while :; do
    left=$((budget - ($(date +%s) - start)))
    [ $left -lt 2 ] && break
    attempt=$((attempt + 1))
    log=$OUT/logs/$h-$(date +%Y%m%d-%H%M%S)-$attempt.log
    rc=0
    "$BUILD_DIR/fuzz/fuzz_$h" -max_total_time=$left -max_len=${MAXLEN[$h]} -timeout=${FUZZ_TIMEOUT:-60} -rss_limit_mb=2560 \
      -dict="fuzz/dict/$h.dict" -artifact_prefix="$crashdir/" -print_final_stats=1 \
      "$corpus" "$SEEDS/$h" >"$log" 2>&1 || rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$n" ]; then # a crash prints no final stats: take the last progress line
      n=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    fi
    execs=$((execs + ${n:-0}))
    if [ $rc -ne 0 ]; then
      echo "fuzz: $h stopped (exit $rc): $(grep -m1 -E 'ERROR: |SUMMARY: |runtime error' "$log" || true)"
      echo "      log: $log"
      status=1
      [ $smoke = 1 ] && break
      [ $(($(artefacts "$crashdir") - before)) -ge 5 ] && break
    else
      break
    fi
  done
  SPENT[$h]=$(($(date +%s) - start))
  EXECS[$h]=$execs
  CRASHES[$h]=$(($(artefacts "$crashdir") - before))
  [ $smoke = 1 ] && rm -rf "$corpus"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$h" "${SPENT[$h]}" "$execs" "${CRASHES[$h]}" \
    "$([ $smoke = 1 ] && echo smoke || echo run)" >>"$OUT/stats.tsv"
done

# --- report ----------------------------------------------------------------------------------
printf '\n%-10s %8s %12s %8s %8s %16s\n' harness seconds executions exec/s crashes "all runs: execs"
total=0 totalCrashes=0
for h in "${HARNESSES[@]}"; do
  all=$(awk -F'\t' -v h="$h" '$2 == h { s += $4 } END { print s + 0 }' "$OUT/stats.tsv")
  rate=$((EXECS[$h] / (SPENT[$h] > 0 ? SPENT[$h] : 1)))
  printf '%-10s %8s %12s %8s %8s %16s\n' "$h" "${SPENT[$h]}" "${EXECS[$h]}" "$rate" "${CRASHES[$h]}" "$all"
  total=$((total + EXECS[$h]))
  totalCrashes=$((totalCrashes + CRASHES[$h]))
done
allRuns=$(awk -F'\t' '{ s += $4 } END { print s + 0 }' "$OUT/stats.tsv")
printf '%-10s %8s %12s %8s %8s %16s\n' total "" "$total" "" "$totalCrashes" "$allRuns"
if [ $totalCrashes -gt 0 ] || [ $status -ne 0 ]; then
  echo "fuzz: crashes in $OUT/crashes/ (reproduce: $BUILD_DIR/fuzz/fuzz_<harness> FILE)"
  exit 1
fi
