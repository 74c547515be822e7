#!/usr/bin/env bash
# Packs a built samrs for TARGET as a release archive: target/dist/samrs-<version>-<TARGET>.tar.gz
# holding samrs-<version>-<TARGET>/{samrs,LICENSE,README.md} (the layout Cargo.toml's
# [package.metadata.binstall] describes), and a .sha256 beside it in `sha256sum -c` format.
# Usage: pack.sh TARGET BINARY        (prints the archive's path)
set -euo pipefail
TARGET=${1:?usage: pack.sh TARGET BINARY}
BINARY=${2:?usage: pack.sh TARGET BINARY}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
NAME="samrs-$VERSION-$TARGET"
OUT="$ROOT/target/dist"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$OUT" "$STAGE/$NAME"
cp "$BINARY" "$STAGE/$NAME/samrs"
cp "$ROOT/LICENSE" "$ROOT/README.md" "$STAGE/$NAME/"
if tar --version 2>/dev/null | grep -q GNU; then
  # The same sources give the same archive: fixed order, owners and times, no gzip timestamp.
  EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" -C "$STAGE" -cf - "$NAME" \
    | gzip -n -9 > "$OUT/$NAME.tar.gz"
else
  tar -C "$STAGE" -czf "$OUT/$NAME.tar.gz" "$NAME"  # macOS's bsdtar
fi
if command -v sha256sum >/dev/null; then sum=(sha256sum); else sum=(shasum -a 256); fi
(cd "$OUT" && "${sum[@]}" "$NAME.tar.gz" > "$NAME.tar.gz.sha256")
echo "$OUT/$NAME.tar.gz"
