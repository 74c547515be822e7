#!/usr/bin/env bash
# samrs doing its job end to end with no AWS account: starts the offline AWS of the tests (patched
# moto and an OCI registry, tests/emulator) on free loopback ports, deploys examples/demo (a zip
# function and two image functions whose images are OCI layouts in the repo: no Docker daemon) with
# managed ECR repositories, shows what AWS then holds, redeploys (nothing to do), deletes it all and
# stops the emulator by PID, also when a step fails or on Ctrl-C.
# Needs `bash tests/emulator/emulators.sh install` once. Runs `samrs` from PATH, or $SAMRS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EMULATORS="$ROOT/tests/emulator/emulators.sh"
SAMRS=${SAMRS:-samrs}
STACK=samrs-demo

command -v "$SAMRS" >/dev/null || {
  echo "demo.sh: no $SAMRS on PATH: run \`cargo install --locked --path .\` first, or set SAMRS=/path/to/samrs" >&2
  exit 1
}
PY=$(bash "$EMULATORS" python)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/samrs-demo.XXXXXX")
cleanup() {
  local status=$?
  bash "$EMULATORS" stop "$WORK/emulators" || status=1
  rm -rf "$WORK"
  [ "$status" = 0 ] && echo "Done: the emulator is stopped and nothing is left behind."
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD= PLAIN=; fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
run() { printf '$ %s\n' "$*"; "$@"; }
now_ms() { date +%s%3N; }

step "Starting the offline AWS (patched moto and an OCI registry)"
read -r MOTO_PORT REGISTRY_PORT < <("$PY" -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')
EMULATORS_OWNER_PID=$$ bash "$EMULATORS" start "$WORK/emulators" "$MOTO_PORT" "$REGISTRY_PORT"
# What a deploy on the emulator needs: its endpoints and dummy credentials, and nothing from ~/.aws.
set -a
# shellcheck source=/dev/null # written by emulators.sh start
. "$WORK/emulators/env"
set +a
export AWS_ENDPOINT_URL=$MOTO_URL SAMRS_REGISTRY_ENDPOINT=$REGISTRY_URL \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_DEFAULT_REGION=$AWS_REGION  # boto3 reads this one

cp -R "$ROOT/examples/demo" "$WORK/app"
cd "$WORK/app"
DEPLOY=("$SAMRS" deploy --stack-name "$STACK" --resolve-s3 --resolve-image-repos
        --capabilities CAPABILITY_IAM --no-confirm-changeset --no-fail-on-empty-changeset)

step "Deploying examples/demo: a zip function and two image functions, repositories managed by samrs"
run "${DEPLOY[@]}"

step "What AWS holds now: the stack, its companion stack, the repositories and the pushed images"
"$PY" show.py "$STACK"

step "Deploying again: nothing changed, so nothing is pushed or deployed"
start=$(now_ms)
run "${DEPLOY[@]}"
echo "(the no-op deploy took $(( $(now_ms) - start )) ms)"

step "Deleting the stack, its companion stack and the repositories with their images"
run "$SAMRS" delete --stack-name "$STACK" --no-prompts

step "What AWS holds now"
"$PY" show.py "$STACK"
