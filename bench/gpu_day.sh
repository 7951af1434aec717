#!/usr/bin/env bash
# GPU day (RELIABILITY.md section 7): the one prepared script to run when a task is lent a device.
#
#   bench/gpu_day.sh [JUDGE_MODEL_DIR]      # or set RADGAME_JUDGE_PATH (or RADGAME_JUDGE=openai...)
#
# 1. S23: the LLM judge on the injection pairs (bench/judge_injection.py). With no judge model
#    (nothing is downloaded; weights must already be on the machine) it runs on the tests' tiny
#    random model and says that the S23 figures were not taken.
# 2. Real-size throughput: MedGemma-4B's architecture, random weights (bench/gpu.py).
# The report pairs are read from RADGAME_IU_DATA (default ../shared/data, beside the checkout):
# copy iu-demo/pairs.jsonl and iu-reports-dev/reports.jsonl there on the device, never into git.
# Each step has its own timeout so that the whole run stays under ~9 minutes, leaving room for one
# rerun in a 15-minute device budget. Output also goes to $OUT when it is set.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
out=${OUT:-$(mktemp -d)}
data=${RADGAME_IU_DATA:-../shared/data}
judge=${1:-${RADGAME_JUDGE_PATH:-}}
# A gpu worker runs with as many threads as its batch; the judge's answers fit 512 tokens.
export RADGAME_JUDGE_BATCH_SIZE=${RADGAME_JUDGE_BATCH_SIZE:-16}
export RADGAME_JUDGE_MAX_NEW_TOKENS=${RADGAME_JUDGE_MAX_NEW_TOKENS:-512}
status=0
pairs=(--demo "$data/iu-demo/pairs.jsonl" --dev "$data/iu-reports-dev/reports.jsonl")

echo "== 1. S23: LLM judge on the injection pairs"
if [ -n "$judge" ]; then
    model=(--model "$judge")
elif [ "${RADGAME_JUDGE:-none}" != "none" ]; then
    model=()
else
    echo "no judge model (pass its directory or set RADGAME_JUDGE_PATH): S23 figures NOT taken"
    model=(--tiny)
fi
timeout 330 "$python" bench/judge_injection.py "${model[@]}" "${pairs[@]}" \
    | tee "$out/judge_injection.txt" || status=1

echo "== 2. throughput at MedGemma-4B dimensions (random weights)"
timeout 200 "$python" bench/gpu.py --section throughput | tee "$out/gpu_throughput.txt" || status=1

echo "gpu day: exit $status (output in $out)"
exit $status
