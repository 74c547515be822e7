#!/usr/bin/env bash
# samrs vs the real SAM CLI, against the project's local AWS emulator (issues 8 and 19).
#
#   bash bench/compare-sam.sh [--rounds N]                                  # instant model
#   bash bench/compare-sam.sh --op-seconds 8 --changeset-seconds 2 [--rounds N]  # wall-clock model
#
# Instant model (the emulator finishes every stack operation inside the API call): per round and
# tool, create -> no-op redeploy -> update (one image function removed, one added) -> delete of an
# app with 5 image functions and a zip function, on a stack of its own, the two tools alternating
# phase by phase; also `--version` start-up and the peak RSS of a deploy. Writes
# bench/results/latest.md.
#
# Wall-clock model (--op-seconds T, the emulator's MOTO_CFN_OP_SECONDS): every stack operation
# takes T seconds and every change set C (--changeset-seconds, default T/4), as on AWS; per round
# and tool, create -> update (one image function added, one removed) -> delete of an app with a
# zip function and two image functions, the managed bucket created before timing. The report has
# the floors (the operations a deploy cannot avoid waiting for), and each run's operations with the
# time between an operation's end and the tool's noticing it. Writes bench/results/wall-clock.md.
#
# Each command is timed wall-clock, its exit status and the emulator's state are checked, and its
# AWS API calls are counted (with their times and stacks) by a proxy in front of the emulator.
#
# Needs python3, curl and cargo; installs the SAM CLI into $SAM_VENV (pip) when it has none and,
# when missing and run as root, hyperfine and GNU time (apt). Env: ROUNDS (5), OP_SECONDS and
# CHANGESET_SECONDS (the options), SAM_VENV (a venv with the SAM CLI, default bench/.sam-venv,
# e.g. /work/tools/sam-venv), CARGO_TARGET_DIR, SAMRS_BIN (skip the release build), KEEP_WORK=1
# (keep the temp dir with every log).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
ROUNDS=${ROUNDS:-5}
OP_SECONDS=${OP_SECONDS:-0}
CHANGESET_SECONDS=${CHANGESET_SECONDS:-}
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --op-seconds) OP_SECONDS=$2; shift 2 ;;
    --changeset-seconds) CHANGESET_SECONDS=$2; shift 2 ;;
    *) echo "usage: bash bench/compare-sam.sh [--rounds N] [--op-seconds T [--changeset-seconds C]]" >&2; exit 2 ;;
  esac
done
if python3 -c "import sys; sys.exit(0 if float('$OP_SECONDS') > 0 else 1)"; then
  MODE=wall-clock
  CHANGESET_SECONDS=${CHANGESET_SECONDS:-$(python3 -c "print(float('$OP_SECONDS') / 4)")}
else
  MODE=instant
fi
WORK=$(mktemp -d /tmp/samrs-bench.XXXXXX)
PIDS=()

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; log "logs kept in $WORK"; KEEP_WORK=1; exit 1; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then log "work dir: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_install() { # package: only as root with apt, else the caller falls back
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- tools
SAM_VENV=${SAM_VENV:-$BENCH/.sam-venv}
if [ ! -x "$SAM_VENV/bin/sam" ]; then
  log "installing the SAM CLI into $SAM_VENV (~1 min)"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install -q aws-sam-cli
fi
SAM=$SAM_VENV/bin/sam

if [ -n "${SAMRS_BIN:-}" ]; then
  SAMRS=$SAMRS_BIN
else
  log "building samrs (release; several minutes on a cold cache)"
  (cd "$ROOT" && cargo build --release --quiet)
  SAMRS=${CARGO_TARGET_DIR:-$ROOT/target}/release/samrs
fi
[ -x "$SAMRS" ] || die "no samrs binary at $SAMRS"

command -v hyperfine >/dev/null || apt_install hyperfine || true
[ -x /usr/bin/time ] || apt_install time || true

# ---------------------------------------------------------------- emulator + counting proxy
EMU=$ROOT/tests/emulator
[ -f "$EMU/moto_server_patched.py" ] || EMU=/work/shared/emulator
[ -f "$EMU/moto_server_patched.py" ] || die "no moto_server_patched.py in tests/emulator or /work/shared/emulator"
MOTO_PY=${MOTO_PY:-python3}
if ! "$MOTO_PY" -c 'import moto, flask, samtranslator' 2>/dev/null; then
  bash "$EMU/emulators.sh" install
  MOTO_PY=${MOTO_VENV:-/tmp/motovenv}/bin/python
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  die "not ready: $1"
}

MOTO_PORT=$(free_port)
MOTO_ENV=()
[ "$MODE" = wall-clock ] && MOTO_ENV=(MOTO_CFN_OP_SECONDS="$OP_SECONDS" MOTO_CFN_CHANGESET_SECONDS="$CHANGESET_SECONDS")
env "${MOTO_ENV[@]}" AWS_DEFAULT_REGION=us-east-1 "$MOTO_PY" "$EMU/moto_server_patched.py" -H 127.0.0.1 -p "$MOTO_PORT" \
  > "$WORK/moto.log" 2>&1 &
PIDS+=($!)
MOTO=http://127.0.0.1:$MOTO_PORT
wait_http "$MOTO/moto-api/"

mkdir -p "$WORK/calls" "$WORK/out"
python3 "$BENCH/count_proxy.py" "$MOTO_PORT" "$WORK/calls" "$WORK/proxy.port" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
PROXY=http://127.0.0.1:$(cat "$WORK/proxy.port")
wait_http "$PROXY/moto-api/"
log "moto $MOTO (pid ${PIDS[0]}, $MODE${MOTO_ENV[*]:+: ${MOTO_ENV[*]}}), counting proxy $PROXY (pid ${PIDS[1]})"

# ---------------------------------------------------------------- one command
mkdir -p "$WORK/home"
# The same clean environment for both tools; no SAM_CLI_POLL_DELAY: each polls as it does by default.
TOOL_ENV=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 SAM_CLI_TELEMETRY=0
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$PROXY")
if [ "$MODE" = wall-clock ]; then
  TEMPLATE_CREATE=template-wall-clock.yaml TEMPLATE_UPDATE=template-wall-clock-update.yaml
  FUNCTIONS_CREATE=ZipFunction,ImageFunction1,ImageFunction2
  FUNCTIONS_UPDATE=ZipFunction,ImageFunction1,ImageFunction3
  PHASES=(create update delete)
else
  TEMPLATE_CREATE=template.yaml TEMPLATE_UPDATE=template-update.yaml
  FUNCTIONS_CREATE=ZipFunction,ImageFunction1,ImageFunction2,ImageFunction3,ImageFunction4,ImageFunction5
  FUNCTIONS_UPDATE=ZipFunction,ImageFunction1,ImageFunction2,ImageFunction3,ImageFunction4,ImageFunction6
  PHASES=(create noop update delete)
fi

tool_bin() { if [ "$1" = sam ]; then echo "$SAM"; else echo "$SAMRS"; fi; }

# run_phase TOOL PHASE LABEL STACK [WRAPPER...]: runs, times and checks one command
run_phase() {
  local tool=$1 phase=$2 label=$3 stack=$4
  shift 4
  local dir=$WORK/app/$stack bin
  bin=$(tool_bin "$tool")
  local args=(deploy --stack-name "$stack" --resolve-s3 --resolve-image-repos --no-confirm-changeset
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset)
  case $phase in
    create) rm -rf "$dir"; mkdir -p "$dir"; cp -r "$BENCH/app/." "$dir/"; cp "$BENCH/app/$TEMPLATE_CREATE" "$dir/template.yaml" ;;
    update) cp "$BENCH/app/$TEMPLATE_UPDATE" "$dir/template.yaml" ;;
    delete) args=(delete --stack-name "$stack" --no-prompts) ;;
  esac
  curl -s -X POST "$PROXY/__bench__/label/$label" >/dev/null
  local start end rc=0
  start=$(date +%s%N)
  (cd "$dir" && env -i "${TOOL_ENV[@]}" "$@" "$bin" "${args[@]}") > "$WORK/out/$label.out" 2>&1 || rc=$?
  end=$(date +%s%N)
  curl -s -X POST "$PROXY/__bench__/label/idle" >/dev/null
  [ "$rc" = 0 ] || { tail -n 20 "$WORK/out/$label.out" >&2; die "$tool $phase exited $rc ($WORK/out/$label.out)"; }
  local expect=(deployed "$FUNCTIONS_CREATE")
  [ "$phase" = update ] && expect=(deployed "$FUNCTIONS_UPDATE")
  [ "$phase" = delete ] && expect=(gone)
  "$SAM_VENV/bin/python" "$BENCH/check_state.py" "$MOTO" "$stack" "${expect[@]}" \
    || die "$tool $phase left the wrong state ($WORK/out/$label.out)"
  printf '%s\t%s\t%s\t%s\n' "$tool" "$phase" "$label" $(((end - start) / 1000000)) >> "$WORK/times.tsv"
  log "$(printf '%-6s %-7s %-22s %6d ms %4d calls' "$tool" "$phase" "$stack" $(((end - start) / 1000000)) \
    "$(wc -l < "$WORK/calls/$label.log" 2>/dev/null || echo 0)")"
}

# ---------------------------------------------------------------- warm-up, peak RSS, rounds
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.start" 2>/dev/null || true
# Warm-up (untimed): creates the shared managed bucket stack and warms the page cache for both.
for tool in sam samrs; do
  run_phase "$tool" create "warmup.$tool.create" "bench-warmup-$tool"
  run_phase "$tool" delete "warmup.$tool.delete" "bench-warmup-$tool"
done
: > "$WORK/times.tsv"

# Peak RSS of one create each (GNU time reports the largest process of the tree it waited for).
if [ "$MODE" = instant ] && [ -x /usr/bin/time ]; then
  for tool in sam samrs; do
    run_phase "$tool" create "rss.$tool.create" "bench-rss-$tool" /usr/bin/time -v
    awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/out/rss.$tool.create.out" > "$WORK/rss.$tool"
    run_phase "$tool" delete "rss.$tool.delete" "bench-rss-$tool"
  done
  : > "$WORK/times.tsv"
fi

for round in $(seq 1 "$ROUNDS"); do
  order=(sam samrs)
  [ $((round % 2)) = 0 ] && order=(samrs sam)
  for phase in "${PHASES[@]}"; do
    for tool in "${order[@]}"; do
      run_phase "$tool" "$phase" "$tool.$phase.$round" "bench-$tool-$round"
    done
  done
done

# ---------------------------------------------------------------- start-up
if [ "$MODE" = wall-clock ]; then
  :  # start-up is the same in both models: the instant run measures it
elif command -v hyperfine >/dev/null; then
  env -i "${TOOL_ENV[@]}" hyperfine -N --warmup 3 --min-runs 20 --export-json "$WORK/startup.json" \
    -n samrs "$SAMRS --version" -n sam "$SAM --version" >&2
else
  python3 - "$WORK/startup.json" "$SAMRS" "$SAM" <<'PY'
import json, os, subprocess, sys, time
out, samrs, sam = sys.argv[1:4]
results = []
for name, binary in (("samrs", samrs), ("sam", sam)):
    times = []
    for i in range(23):
        start = time.perf_counter()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
        if i >= 3:
            times.append(time.perf_counter() - start)
    times.sort()
    results.append({"command": name, "median": times[len(times) // 2], "min": times[0], "max": times[-1]})
json.dump({"results": results}, open(out, "w"))
PY
fi

# ---------------------------------------------------------------- report
mkdir -p "$BENCH/results"
REPORT=$BENCH/results/latest.md
[ "$MODE" = wall-clock ] && REPORT=$BENCH/results/wall-clock.md
SAMRS_VERSION=$("$SAMRS" --version) SAM_VERSION=$(env -i "${TOOL_ENV[@]}" "$SAM" --version) \
  MODE=$MODE OP_SECONDS=$OP_SECONDS CHANGESET_SECONDS=$CHANGESET_SECONDS \
  python3 "$BENCH/summarize.py" "$WORK" "$REPORT"
cat "$REPORT"
