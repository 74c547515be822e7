#!/usr/bin/env bash
# Builds the Linux release archive of samrs: a binary that runs on glibc 2.17 or later (Amazon
# Linux 2, on which many CodeBuild images stand, has 2.26; this machine's toolchain would link
# against its own, newer glibc). cargo-zigbuild links against glibc 2.17's symbol versions with
# zig's C toolchain, which also compiles aws-lc-sys's C code, so neither a new Rust target nor an
# old sysroot is needed. dist/pack.sh then writes target/dist/samrs-<version>-TARGET.tar.gz and
# its .sha256 (and this prints the archive's path); dist/check-linux-archive.sh checks them.
# Usage: build-linux.sh [TARGET]     (x86_64-unknown-linux-gnu by default, or aarch64-unknown-linux-gnu)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${1:-x86_64-unknown-linux-gnu}
GLIBC=2.17
. dist/zigbuild-env.sh

cargo zigbuild --locked --release --target "$TARGET.$GLIBC" --bin samrs
bash dist/pack.sh "$TARGET" "target/$TARGET/release/samrs"
