#!/usr/bin/env bash
# Checks dist/install.sh (what action.yml runs) against an x86_64 Linux archive and its .sha256,
# served over HTTP on a free loopback port laid out as a GitHub release: it installs a working
# samrs, and it refuses an archive that does not match its .sha256. The server is stopped by PID,
# however this ends.
# Usage: check-install.sh target/dist/samrs-<version>-x86_64-unknown-linux-gnu.tar.gz
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "check-install.sh: $*" >&2; exit 1; }
[ -f "${1:-}" ] || fail "no archive ${1:-given}; usage: check-install.sh target/dist/samrs-<version>-x86_64-unknown-linux-gnu.tar.gz"
DIR=$(cd "$(dirname "$1")" && pwd)
ARCHIVE=$(basename "$1")
VERSION=${ARCHIVE#samrs-}
VERSION=${VERSION%-x86_64-unknown-linux-gnu.tar.gz}

WORK=$(mktemp -d)
SERVER=
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/good/v$VERSION" "$WORK/bad/v$VERSION"
cp "$DIR/$ARCHIVE" "$DIR/$ARCHIVE.sha256" "$WORK/good/v$VERSION/"
# A release whose archive was changed after its checksum was published.
cp "$DIR/$ARCHIVE.sha256" "$WORK/bad/v$VERSION/"
{ cat "$DIR/$ARCHIVE"; echo tampered; } > "$WORK/bad/v$VERSION/$ARCHIVE"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$WORK" "$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

SAMRS_DOWNLOAD_URL="http://127.0.0.1:$PORT/good" bash "$HERE/install.sh" "v$VERSION" "$WORK/bin"
[ "$("$WORK/bin/samrs" --version)" = "samrs $VERSION" ] || fail "the installed samrs does not report $VERSION"

if SAMRS_DOWNLOAD_URL="http://127.0.0.1:$PORT/bad" bash "$HERE/install.sh" "$VERSION" "$WORK/bad-bin" 2>"$WORK/bad.err"; then
  fail "install.sh installed an archive that does not match its .sha256"
fi
grep -q "does not match its published SHA-256" "$WORK/bad.err" || fail "unexpected refusal: $(cat "$WORK/bad.err")"
[ ! -e "$WORK/bad-bin/samrs" ] || fail "install.sh left the mismatched binary at $WORK/bad-bin/samrs"
echo "install.sh: installs samrs $VERSION from a release and refuses an archive that does not match its .sha256"
