#!/usr/bin/env bash
# Installs a samrs release for this machine (Linux or macOS, x86_64 or arm64) from its release
# archives into DEST (the binary lands at DEST/samrs), after checking the archive against the
# .sha256 published beside it. action.yml runs it; it works on any machine with curl and tar.
# Usage: install.sh VERSION|latest [DEST]     (DEST defaults to ~/.local/bin)
# Env: SAMRS_REPOSITORY  owner/name of the GitHub repository (default samrs-dev/samrs)
#      SAMRS_DOWNLOAD_URL where the release files are, up to the version's directory (default
#                         https://github.com/$SAMRS_REPOSITORY/releases/download; tests serve them locally)
set -euo pipefail
VERSION=${1:?usage: install.sh VERSION|latest [DEST]}
DEST=${2:-$HOME/.local/bin}
REPOSITORY=${SAMRS_REPOSITORY:-samrs-dev/samrs}
DOWNLOAD_URL=${SAMRS_DOWNLOAD_URL:-https://github.com/$REPOSITORY/releases/download}
fail() { echo "install.sh: $*" >&2; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) TARGET=x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) TARGET=aarch64-unknown-linux-gnu ;;
  Darwin-x86_64) TARGET=x86_64-apple-darwin ;;
  Darwin-arm64) TARGET=aarch64-apple-darwin ;;
  *) fail "no samrs release for $(uname -s) $(uname -m); build it with cargo install --locked samrs" ;;
esac

if [ "$VERSION" = latest ]; then
  # GitHub redirects .../releases/latest to .../releases/tag/v<version>.
  url=$(curl -fsSL -o /dev/null -w '%{url_effective}' "https://github.com/$REPOSITORY/releases/latest") \
    || fail "cannot find the latest release of $REPOSITORY"
  VERSION=${url##*/tag/v}
fi
VERSION=${VERSION#v}
NAME="samrs-$VERSION-$TARGET"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for file in "$NAME.tar.gz" "$NAME.tar.gz.sha256"; do
  curl -fsSL --retry 3 -o "$WORK/$file" "$DOWNLOAD_URL/v$VERSION/$file" \
    || fail "cannot download $DOWNLOAD_URL/v$VERSION/$file"
done
if command -v sha256sum >/dev/null; then check=(sha256sum); else check=(shasum -a 256); fi
(cd "$WORK" && "${check[@]}" -c "$NAME.tar.gz.sha256" >/dev/null 2>&1) \
  || fail "$NAME.tar.gz does not match its published SHA-256: not installed"
tar -xzf "$WORK/$NAME.tar.gz" -C "$WORK"
mkdir -p "$DEST"
install -m 0755 "$WORK/$NAME/samrs" "$DEST/samrs"
echo "installed $("$DEST/samrs" --version) at $DEST/samrs"
