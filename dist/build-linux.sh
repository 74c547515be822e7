#!/usr/bin/env bash
# Builds the Linux release archive of samrs: a binary that runs on glibc 2.17 or later (Amazon
# Linux 2, on which many CodeBuild images stand, has 2.26; this machine's toolchain would link
# against its own, newer glibc). cargo-zigbuild links against glibc 2.17's symbol versions with
# zig's C toolchain, which also compiles aws-lc-sys's C code, so neither a new Rust target nor an
# old sysroot is needed. dist/pack.sh then writes target/dist/samrs-<version>-TARGET.tar.gz and
# its .sha256 (and this prints the archive's path); dist/check-linux-archive.sh checks them.
# Usage: build-linux.sh [TARGET]     (x86_64-unknown-linux-gnu by default, or aarch64-unknown-linux-gnu)
# SAMRS_DIST_PROFILE=dev builds with the dev profile instead of release. CI does: zig links against
# a glibc 2.17 that has no newer symbol, so a dependency that needs one fails the link in any
# profile, and the dev build checks that (and the packing) in about half a release build's time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${1:-x86_64-unknown-linux-gnu}
GLIBC=2.17
PROFILE=${SAMRS_DIST_PROFILE:-release}
. dist/zigbuild-env.sh

cargo zigbuild --locked --profile "$PROFILE" --target "$TARGET.$GLIBC" --bin samrs
# cargo names the dev profile's directory debug.
bash dist/pack.sh "$TARGET" "target/$TARGET/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/samrs"
