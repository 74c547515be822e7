# Sourced by the dist scripts: puts cargo-zigbuild and zig (PyPI: cargo-zigbuild, ziglang) on PATH,
# from a venv made on first use (ZIGBUILD_VENV, default ~/.cache/samrs/zigvenv). cargo-zigbuild runs
# zig as `python3 -m ziglang` when there is no zig on PATH: the venv's python has it.
ZIGBUILD_VENV=${ZIGBUILD_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/samrs/zigvenv}
ZIGBUILD_PIP_SPEC=(cargo-zigbuild==0.24.1 ziglang==0.15.2)
if ! "$ZIGBUILD_VENV/bin/cargo-zigbuild" --version >/dev/null 2>&1 \
  || ! "$ZIGBUILD_VENV/bin/python" -m ziglang version >/dev/null 2>&1; then
  echo "installing ${ZIGBUILD_PIP_SPEC[*]} into $ZIGBUILD_VENV" >&2
  python3 -m venv "$ZIGBUILD_VENV"
  "$ZIGBUILD_VENV/bin/pip" install -q "${ZIGBUILD_PIP_SPEC[@]}"
fi
export PATH="$ZIGBUILD_VENV/bin:$PATH"
