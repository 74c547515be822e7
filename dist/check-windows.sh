#!/usr/bin/env bash
# Checks that samrs compiles for Windows (x86_64-pc-windows-gnu) from Linux: no Windows build is
# released, but Unix-only code must stay behind cfg(unix). zig's C toolchain (cargo-zigbuild)
# cross-compiles aws-lc-sys's C code, which even `cargo check` builds.
set -euo pipefail
cd "$(dirname "$0")/.."
. dist/zigbuild-env.sh
rustup target add x86_64-pc-windows-gnu
cargo-zigbuild check --locked --target x86_64-pc-windows-gnu
