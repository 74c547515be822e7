"""Write a tiny docker-archive (the `docker save` format) without any container engine, stdlib only.

Tests use it to put an image into the registry (with v2push.py) or into a Docker-compatible engine
(`docker load -i` / `podman load -i`). MARKER goes into the layer's file, so different markers give
different image digests. PAD_BYTES adds a file of that many random bytes to the layer, for tests
that need a layer big enough to be cut in the middle of its upload.
Usage: tiny_image.py OUT.tar NAME:TAG [MARKER [PAD_BYTES]]
"""
import hashlib
import io
import json
import os
import sys
import tarfile

out, ref = sys.argv[1:3]
marker = sys.argv[3] if len(sys.argv) > 3 else ref
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0


def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


files = [("var/task/app.py", f"def handler(event, context):\n    return {marker!r}\n".encode())]
if pad:
    files.append(("var/task/pad.bin", os.urandom(pad)))
layer = tar_bytes(files)
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": "amd64",
    "os": "linux",
    "config": {"Cmd": ["app.handler"], "WorkingDir": "/var/task"},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "tiny_image.py"}],
}, sort_keys=True).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
layer_name = diff_id.split(":")[1] + "/layer.tar"
manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": [layer_name]}]).encode()

with open(out, "wb") as f:
    f.write(tar_bytes([(config_name, config), (layer_name, layer), ("manifest.json", manifest)]))
