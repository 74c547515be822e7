#!/bin/bash
# Offline AWS for samrs's tests: patched moto (CloudFormation, ECR, S3, STS, Lambda, IAM) + an OCI registry.
#   emulators.sh install                              # once per machine (idempotent, fast when all is present)
#   emulators.sh start [STATE [MOTO_PORT [REGISTRY_PORT]]]
#   emulators.sh stop  [STATE]                        # kills exactly the PIDs that `start` recorded in STATE
#   emulators.sh python                               # prints the python that runs moto (it has boto3)
# Ports also come from env MOTO_PORT (default 5101) and REGISTRY_PORT (5102); STATE defaults to
# /tmp/aws-emulators. MOTO_PY names a python that imports moto, flask and samtranslator; otherwise the
# global python3 is used when it can, else the venv that `install` made ($MOTO_VENV, default
# ~/.cache/samrs/motovenv).
# The registry takes basic auth user AWS / password 123456789012-auth-token: what moto's
# ecr:GetAuthorizationToken decodes to, so a client doing the real ECR login flow gets in. Its
# upload Locations are relative, so they stay right behind a TLS endpoint or a proxy in front of it.
# With EMULATORS_OWNER_PID set, `start` stops what it started and fails if that process dies
# meanwhile: whoever was to stop the servers later is gone.
# `start` writes STATE/env (MOTO_URL, REGISTRY_URL, ...) for shells that want to reuse the servers.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CMD=${1:-start}
STATE=${2:-/tmp/aws-emulators}
MOTO_PORT=${3:-${MOTO_PORT:-5101}}
REGISTRY_PORT=${4:-${REGISTRY_PORT:-5102}}
VENV=${MOTO_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/samrs/motovenv}
MOTO_PIP_SPEC=("moto[server,cloudformation]==5.2.5" "aws-sam-translator==1.115.0")
REGISTRY_USER=AWS
REGISTRY_PASSWORD=123456789012-auth-token

has_moto() { "$1" -c 'import moto, flask, samtranslator' 2>/dev/null; }
# Importing moto takes a second or two: call this once per command and keep the answer.
pick_python() {
  if [ -n "${MOTO_PY:-}" ]; then echo "$MOTO_PY"; return; fi
  if has_moto python3; then echo python3; return; fi
  echo "$VENV/bin/python"
}

# Debian packages for every command the servers and tests call; prints the missing ones.
missing_packages() {
  local -A pkg_of=([docker-registry]=docker-registry [skopeo]=skopeo [htpasswd]=apache2-utils
                   [tmux]=tmux [groff]=groff-base [curl]=curl [python3]=python3 [flock]=util-linux [podman]=podman
                   [openssl]=openssl)
  local cmd
  for cmd in "${!pkg_of[@]}"; do
    command -v "$cmd" >/dev/null || echo "${pkg_of[$cmd]}"
  done
  # the venv is needed when the system python lacks moto; Debian ships `venv` separately
  if [ "$PY" != python3 ] && ! has_moto "$PY" && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo python3-venv
  fi
}

install() {
  local missing
  PY=$(pick_python)
  missing=$(missing_packages | sort -u | tr '\n' ' ')
  if [ -n "${missing// /}" ]; then
    echo "emulators.sh: installing $missing" >&2
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  fi
  if [ "$PY" != python3 ] && ! has_moto "$PY"; then
    echo "emulators.sh: installing moto into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "${MOTO_PIP_SPEC[@]}"
    has_moto "$PY" || { echo "emulators.sh: $PY cannot import moto, flask and samtranslator" >&2; exit 1; }
  fi
}

# True while PID runs the program we started (guards against a recycled PID).
is_ours() { # pid pattern
  local cmdline
  cmdline=$(tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline") && [[ $cmdline == *"$2"* ]]
}

owner_alive() { [ -z "${EMULATORS_OWNER_PID:-}" ] || kill -0 "$EMULATORS_OWNER_PID" 2>/dev/null; }

wait_http() { # url pidfile tries(0.1 s each)
  local pid
  pid=$(cat "$2")
  for _ in $(seq 1 "$3"); do
    owner_alive || { say "emulators.sh: owner $EMULATORS_OWNER_PID exited during start"; return 1; }
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$pid" 2>/dev/null || { say "emulators.sh: process $pid exited before $1 answered"; return 1; }
    sleep 0.1
  done
  say "emulators.sh: no answer from $1 after $(( $3 / 10 )) s"
  return 1
}

stop() {
  local p pid pattern
  for p in moto registry; do
    [ -f "$STATE/$p.pid" ] || continue
    pid=$(cat "$STATE/$p.pid")
    pattern=$([ "$p" = moto ] && echo moto_server_patched || echo docker-registry)
    if is_ours "$pid" "$pattern"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do is_ours "$pid" "$pattern" || break; sleep 0.1; done
      if is_ours "$pid" "$pattern"; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$STATE/$p.pid"
  done
}

# Messages must never end the script: when the owner dies, stderr is a broken pipe.
say() { echo "$*" >&2 || true; }

fail_start() {
  local log
  stop
  for log in "$STATE/moto.log" "$STATE/registry.log"; do
    [ -f "$log" ] && { say "--- tail of $log"; tail -n 25 "$log" >&2 || true; }
  done
  owner_alive || rm -rf "$STATE"  # nobody is left to read the logs or clean up
  exit 1
}

start() {
  local py
  py=$(pick_python)
  [ "$py" = python3 ] || has_moto "$py" || { echo "emulators.sh: $py cannot import moto; run: $0 install" >&2; exit 1; }
  command -v docker-registry >/dev/null || { echo "emulators.sh: no docker-registry; run: $0 install" >&2; exit 1; }
  mkdir -p "$STATE/registry"
  htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" > "$STATE/htpasswd"
  cat > "$STATE/registry.yml" <<CFG
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $STATE/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$REGISTRY_PORT, secret: offline-tests, relativeurls: true}
auth: {htpasswd: {realm: basic-realm, path: $STATE/htpasswd}}
CFG
  # stdin from /dev/null and output to logs: the servers must hold no pipe of whoever started them,
  # nor the state lock (fd 9)
  AWS_DEFAULT_REGION=us-east-1 nohup "$py" "$HERE/moto_server_patched.py" -H 127.0.0.1 -p "$MOTO_PORT" \
    < /dev/null > "$STATE/moto.log" 2>&1 9<&- &
  echo $! > "$STATE/moto.pid"
  nohup docker-registry serve "$STATE/registry.yml" < /dev/null > "$STATE/registry.log" 2>&1 9<&- &
  echo $! > "$STATE/registry.pid"
  trap '' PIPE
  wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" "$STATE/moto.pid" 300 || fail_start
  wait_http "http://127.0.0.1:$REGISTRY_PORT/v2/" "$STATE/registry.pid" 100 || fail_start
  # checked after the PID files exist: an owner that died before is caught here, one that dies
  # later leaves PID files for its own cleanup to find
  owner_alive || { say "emulators.sh: owner $EMULATORS_OWNER_PID exited during start"; fail_start; }
  cat > "$STATE/env" <<ENV
MOTO_URL=http://127.0.0.1:$MOTO_PORT
REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT
REGISTRY_USER=$REGISTRY_USER
REGISTRY_PASSWORD=$REGISTRY_PASSWORD
ENV
  echo "moto http://127.0.0.1:$MOTO_PORT (pid $(cat "$STATE/moto.pid")), registry http://127.0.0.1:$REGISTRY_PORT (pid $(cat "$STATE/registry.pid"))"
}

# `stop` waits for a `start` in progress on the same STATE, so a stop that races a start (the owner
# died while the servers came up) still finds every PID file.
lock_state() { exec 9<"$STATE" && flock 9; }

case "$CMD" in
install) install ;;
start) mkdir -p "$STATE" && lock_state && start ;;
stop) if [ -d "$STATE" ]; then lock_state && stop; fi ;;
python) pick_python ;;
*) echo "usage: $0 install | start [STATE [MOTO_PORT [REGISTRY_PORT]]] | stop [STATE] | python" >&2; exit 2 ;;
esac
