#!/usr/bin/env bash
# Checks a Linux release archive as a user gets it: the .sha256 beside it matches, it unpacks to
# samrs-<version>-<target>/ with the binary, LICENSE and README.md, no symbol of the binary needs a
# glibc newer than 2.17 (objdump -T lists the GLIBC_x.y versions it binds to), and the unpacked
# binary runs and reports the version the archive is named for.
# Usage: check-linux-archive.sh target/dist/samrs-<version>-<target>.tar.gz
set -euo pipefail
fail() { echo "check-linux-archive.sh: $*" >&2; exit 1; }
[ -f "${1:-}" ] || fail "no archive ${1:-given}; usage: check-linux-archive.sh target/dist/samrs-<version>-<target>.tar.gz"
ARCHIVE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
FLOOR=2.17
NAME=$(basename "$ARCHIVE" .tar.gz)
VERSION=${NAME#samrs-}
VERSION=${VERSION%-*-unknown-linux-gnu}
command -v objdump >/dev/null || fail "no objdump: apt-get install binutils"

(cd "$(dirname "$ARCHIVE")" && sha256sum --quiet -c "$NAME.tar.gz.sha256") || fail "$NAME.tar.gz does not match its .sha256"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$ARCHIVE" -C "$WORK"
[ "$(ls "$WORK")" = "$NAME" ] || fail "the archive holds $(ls "$WORK"), not one directory $NAME"
for file in samrs LICENSE README.md; do
  [ -f "$WORK/$NAME/$file" ] || fail "no $file in the archive"
done
BIN="$WORK/$NAME/samrs"

# The newest glibc symbol version the binary binds to must not be newer than the floor.
NEWEST=$(objdump -T "$BIN" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -u -V | tail -n 1)
[ -n "$NEWEST" ] || fail "objdump -T shows no glibc symbol versions: is $BIN dynamically linked against glibc?"
[ "$(printf '%s\n%s\n' "$NEWEST" "$FLOOR" | sort -V | tail -n 1)" = "$FLOOR" ] \
  || fail "$BIN needs glibc $NEWEST ($(objdump -T "$BIN" | grep -c "GLIBC_$NEWEST") symbols), more than $FLOOR"

REPORTED=$("$BIN" --version) || fail "$BIN --version failed"
[ "$REPORTED" = "samrs $VERSION" ] || fail "$BIN --version says '$REPORTED', not 'samrs $VERSION'"
echo "$NAME.tar.gz: checksum ok; binary, LICENSE, README.md; needs glibc $NEWEST at most (floor $FLOOR); $REPORTED"
