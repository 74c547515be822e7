#!/usr/bin/env bash
# Builds the Linux release archive of samrs: a binary that runs on glibc 2.17 or later (Amazon
# Linux 2, on which many CodeBuild images stand, has 2.26; this machine's toolchain would link
# against its own, newer glibc). cargo-zigbuild links against glibc 2.17's symbol versions with
# zig's C toolchain, which also compiles aws-lc-sys's C code, so neither a new Rust target nor an
# old sysroot is needed. dist/pack.sh then writes target/dist/samrs-<version>-TARGET.tar.gz and
# its .sha256; dist/check-linux-archive.sh checks them.
# cargo-zigbuild and zig come from PyPI (cargo-zigbuild, ziglang) into a venv when missing.
# Usage: build-linux.sh [TARGET]     (x86_64-unknown-linux-gnu by default, or aarch64-unknown-linux-gnu)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${1:-x86_64-unknown-linux-gnu}
GLIBC=2.17
VENV=${ZIGBUILD_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/samrs/zigvenv}
PIP_SPEC=(cargo-zigbuild==0.24.1 ziglang==0.15.2)

if ! "$VENV/bin/cargo-zigbuild" --version >/dev/null 2>&1 || ! "$VENV/bin/python" -m ziglang version >/dev/null 2>&1; then
  echo "build-linux.sh: installing ${PIP_SPEC[*]} into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "${PIP_SPEC[@]}"
fi
# cargo-zigbuild runs zig as `python3 -m ziglang` when there is no zig on PATH: the venv's python.
export PATH="$VENV/bin:$PATH"

cargo zigbuild --locked --release --target "$TARGET.$GLIBC" --bin samrs
bash dist/pack.sh "$TARGET" "target/$TARGET/release/samrs"
