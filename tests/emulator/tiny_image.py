"""Write a tiny one-layer image without any container engine, stdlib only.

Tests use the docker-archive (the `docker save` format) to put an image into the registry (with
v2push.py) or into a Docker-compatible engine (`docker load -i` / `podman load -i`); with --oci it
writes an OCI image layout instead (what buildx, buildah and skopeo write), named by TAG, as the
demo app's images in examples/demo/images are. MARKER goes into the layer's file, so different
markers give different image digests; the same arguments always give the same bytes. PAD_BYTES adds
a file of that many random bytes to the layer, for tests that need a layer big enough to be cut in
the middle of its upload (those bytes differ on every run).
Usage: tiny_image.py OUT.tar NAME:TAG [MARKER [PAD_BYTES]]
       tiny_image.py --oci OUT_DIR TAG [MARKER [PAD_BYTES]]
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

oci = sys.argv[1] == "--oci"
args = sys.argv[2:] if oci else sys.argv[1:]
out, ref = args[:2]
marker = args[2] if len(args) > 2 else ref
pad = int(args[3]) if len(args) > 3 else 0


def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


files = [("var/task/app.py", f"def handler(event, context):\n    return {marker!r}\n".encode())]
if pad:
    files.append(("var/task/pad.bin", os.urandom(pad)))
layer = tar_bytes(files)
diff_id = sha256(layer)
config = json.dumps({
    "architecture": "amd64",
    "os": "linux",
    "config": {"Cmd": ["app.handler"], "WorkingDir": "/var/task"},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "tiny_image.py"}],
}, sort_keys=True).encode()


def write_oci_layout():
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data, media_type):
        digest = sha256(data)
        with open(os.path.join(blobs, digest.split(":")[1]), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": put(config, "application/vnd.oci.image.config.v1+json"),
        "layers": [put(gzip.compress(layer, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")],
    }, sort_keys=True).encode()
    entry = put(manifest, "application/vnd.oci.image.manifest.v1+json")
    entry["annotations"] = {"org.opencontainers.image.ref.name": ref}
    entry["platform"] = {"architecture": "amd64", "os": "linux"}
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}\n')
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [entry]}, f, sort_keys=True)
        f.write("\n")


def write_docker_archive():
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id.split(":")[1] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref], "Layers": [layer_name]}]).encode()
    with open(out, "wb") as f:
        f.write(tar_bytes([(config_name, config), (layer_name, layer), ("manifest.json", manifest)]))


write_oci_layout() if oci else write_docker_archive()
