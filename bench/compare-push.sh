#!/usr/bin/env bash
# samrs's image push vs skopeo on the same registry (issue 18).
#
#   bash bench/compare-push.sh            # 5 rounds; ROUNDS=N to change
#
# Two generated OCI layouts (bench/push_layout.py), pushed through one byte-counting relay in
# front of the test emulator's registry (bench/byte_relay.py):
#   big:  4 functions sharing one 256 MiB layer (plus a 4 KiB layer and a config of their own)
#   many: 12 functions, a 16 MiB layer they share and a 16 MiB layer of their own each
# Per round and layout, the tools alternate: skopeo copies each image in turn (a fresh HOME per
# round, so its blob cache knows only that round's mounts), and samrs runs a whole `samrs deploy`
# of a fresh stack (managed bucket, companion stack, pushes, main stack). Measured: wall time,
# the bytes each tool sent to the registry, the span of samrs's registry traffic (its pushes),
# and samrs's peak RSS. Prints a Markdown table and writes it to bench/results/push-latest.md.
#
# Needs python3, curl, skopeo and cargo (installs GNU time with apt when root). Env: ROUNDS (5),
# CARGO_TARGET_DIR, SAMRS_BIN (skip the release build), SAMRS_BASELINE_BIN (an earlier samrs to
# time in the same rounds, e.g. main's), KEEP_WORK=1 (keep the temp dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d /tmp/samrs-push-bench.XXXXXX)
PIDS=()
EMU_STATE=$WORK/emulators

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; log "logs kept in $WORK"; KEEP_WORK=1; exit 1; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$ROOT/tests/emulator/emulators.sh" stop "$EMU_STATE" 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then log "work dir: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v skopeo >/dev/null || die "skopeo is missing (bash tests/emulator/emulators.sh install)"
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1 || true
fi

if [ -n "${SAMRS_BIN:-}" ]; then
  SAMRS=$SAMRS_BIN
else
  log "building samrs (release; several minutes on a cold cache)"
  build_start=$(date +%s)
  (cd "$ROOT" && cargo build --release --quiet)
  log "release build took $(( $(date +%s) - build_start )) s"
  SAMRS=${CARGO_TARGET_DIR:-$ROOT/target}/release/samrs
fi
[ -x "$SAMRS" ] || die "no samrs binary at $SAMRS"

# ---------------------------------------------------------------- emulator, relay, layouts
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(free_port)
REGISTRY_PORT=$(free_port)
bash "$ROOT/tests/emulator/emulators.sh" start "$EMU_STATE" "$MOTO_PORT" "$REGISTRY_PORT" >&2
# The relay lives as long as the pipe on its stdin, which this shell holds.
exec 8> >(python3 "$BENCH/byte_relay.py" "$REGISTRY_PORT" "$WORK/relay.ports")
for _ in $(seq 1 100); do [ -s "$WORK/relay.ports" ] && break; sleep 0.1; done
read -r RELAY_PORT CONTROL_PORT < "$WORK/relay.ports"
RELAY=127.0.0.1:$RELAY_PORT
CONTROL=http://127.0.0.1:$CONTROL_PORT
label() { curl -s -X POST "$CONTROL/label/$1" >/dev/null; }

log "writing the layouts"
UNIQUE_big=$(python3 "$BENCH/push_layout.py" "$WORK/big" 4 256 4)
UNIQUE_many=$(python3 "$BENCH/push_layout.py" "$WORK/many" 12 16 16384)
FUNCTIONS_big=4
FUNCTIONS_many=12

write_template() { # layout dir, functions, out
  {
    printf "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"
    for i in $(seq 1 "$2"); do
      printf "  Function%s:\n    Type: AWS::Serverless::Function\n    Properties:\n" "$i"
      printf "      PackageType: Image\n      ImageUri: oci:%s:fn%s\n" "$1" "$i"
      printf "    Metadata:\n      DockerTag: v1\n      DockerContext: ./fn%s\n" "$i"
    done
  } > "$3"
}

mkdir -p "$WORK/home" "$WORK/out"
TOOL_ENV=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  SAMRS_REGISTRY_ENDPOINT="http://$RELAY")
CREDS=AWS:123456789012-auth-token

now_ms() { date +%s%3N; }

# skopeo keeps a blob cache (where each blob was pushed, to mount it next time): root's is
# system-wide (/var/lib/containers/cache), anyone else's under HOME. Run as root, skopeo runs as
# nobody with a fresh HOME per round, so it knows only that round's pushes, as samrs does.
AS_SKOPEO_USER=()
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$WORK"
  AS_SKOPEO_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

run_skopeo() { # layout, round
  local layout=$1 round=$2 n home start end
  n=FUNCTIONS_$layout
  home=$WORK/skopeo-home-$layout-$round
  mkdir -p "$home"
  [ "$(id -u)" = 0 ] && chown 65534:65534 "$home"
  label "skopeo.$layout.$round"
  start=$(now_ms)
  for i in $(seq 1 "${!n}"); do
    env -i HOME="$home" PATH=/usr/bin:/bin "${AS_SKOPEO_USER[@]}" skopeo copy -q --dest-creds "$CREDS" --dest-tls-verify=false \
      "oci:$WORK/$layout:fn$i" "docker://$RELAY/skopeo-$layout-$round/fn$i:v1" \
      >> "$WORK/out/skopeo.$layout.$round.out" 2>&1 || die "skopeo failed (see $WORK/out)"
  done
  end=$(now_ms)
  label idle
  printf 'skopeo\t%s\t%s\t%s\n' "$layout" "$round" $((end - start)) >> "$WORK/times.tsv"
}

run_samrs() { # layout, round [wrapper...]
  deploy_with samrs "$SAMRS" "$@"
}

deploy_with() { # tool name, binary, layout, round [wrapper...]
  local tool=$1 binary=$2 layout=$3 round=$4 dir stack start end rc=0
  shift 4
  stack=push-$tool-$layout-$round
  dir=$WORK/app-$tool-$layout-$round
  mkdir -p "$dir"
  local n=FUNCTIONS_$layout
  write_template "$WORK/$layout" "${!n}" "$dir/template.yaml"
  label "$tool.$layout.$round"
  start=$(now_ms)
  (cd "$dir" && env -i "${TOOL_ENV[@]}" "$@" "$binary" deploy --stack-name "$stack" --resolve-s3 \
    --resolve-image-repos --capabilities CAPABILITY_IAM --no-confirm-changeset) \
    > "$WORK/out/$tool.$layout.$round.out" 2>&1 || rc=$?
  end=$(now_ms)
  label idle
  [ "$rc" = 0 ] || { tail -n 20 "$WORK/out/$tool.$layout.$round.out" >&2; die "$tool deploy exited $rc"; }
  printf '%s\t%s\t%s\t%s\n' "$tool" "$layout" "$round" $((end - start)) >> "$WORK/times.tsv"
}

# SAMRS_BASELINE_BIN: an earlier samrs, timed in the same rounds (its deploys as `baseline`).
run_baseline() { # layout, round
  [ -z "${SAMRS_BASELINE_BIN:-}" ] || deploy_with baseline "$SAMRS_BASELINE_BIN" "$@"
}

# ---------------------------------------------------------------- warm-up, rounds, RSS
log "warm-up (untimed): page cache, the managed bucket stack"
run_skopeo big warmup
run_samrs big warmup
run_baseline big warmup
: > "$WORK/times.tsv"
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.start"
for round in $(seq 1 "$ROUNDS"); do
  for layout in big many; do
    if [ $((round % 2)) = 1 ]; then
      run_skopeo "$layout" "$round"; run_samrs "$layout" "$round"; run_baseline "$layout" "$round"
    else
      run_baseline "$layout" "$round"; run_samrs "$layout" "$round"; run_skopeo "$layout" "$round"
    fi
    log "round $round $layout: $(tail -n 3 "$WORK/times.tsv" | cut -f1,4 | tr '\n\t' '  ')"
  done
done
cut -d' ' -f1-3 /proc/loadavg > "$WORK/load.end"
if [ -x /usr/bin/time ]; then
  for layout in big many; do
    run_samrs "$layout" rss /usr/bin/time -v
    awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/out/samrs.$layout.rss.out" > "$WORK/rss.$layout"
    if [ -n "${SAMRS_BASELINE_BIN:-}" ]; then
      run_baseline "$layout" rss /usr/bin/time -v
      awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/out/baseline.$layout.rss.out" > "$WORK/rss-baseline.$layout"
    fi
  done
fi
curl -s "$CONTROL/counts" > "$WORK/counts.json"

# ---------------------------------------------------------------- report
mkdir -p "$BENCH/results"
SAMRS_VERSION=$("$SAMRS" --version) SKOPEO_VERSION=$(skopeo --version) \
  UNIQUE_big=$UNIQUE_big UNIQUE_many=$UNIQUE_many \
  python3 "$BENCH/summarize_push.py" "$WORK" "$BENCH/results/push-latest.md"
cat "$BENCH/results/push-latest.md"
