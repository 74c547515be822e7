"""Write a tiny docker-archive (the `docker save` format) without any container engine, stdlib only.

Tests use it to put an image into the registry (with v2push.py) or into a Docker-compatible engine
(`docker load -i` / `podman load -i`). MARKER goes into the layer's file, so different markers give
different image digests.
Usage: tiny_image.py OUT.tar NAME:TAG [MARKER]
"""
import hashlib
import io
import json
import sys
import tarfile

out, ref = sys.argv[1:3]
marker = sys.argv[3] if len(sys.argv) > 3 else ref


def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


layer = tar_bytes([("var/task/app.py", f"def handler(event, context):\n    return {marker!r}\n".encode())])
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
