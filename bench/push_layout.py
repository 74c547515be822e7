#!/usr/bin/env python3
"""Writes the OCI image layout the push benchmark pushes (stdlib only).

Usage: push_layout.py DIR FUNCTIONS SHARED_MIB OWN_KIB

One layout holding FUNCTIONS images, named fn1..fnN (`oci:DIR:fnI`), each made of one layer all
images share (SHARED_MIB MiB), a layer of its own (OWN_KIB KiB) and a config of its own: the
shape of functions built from one base image. Layer bytes are random (incompressible, as real
gzip layers are) and declared as gzip layers; registries store them without looking inside.
Prints the layout's unique bytes (blobs and manifests), which the benchmark compares with the
bytes each tool sent.
"""
import hashlib
import json
import os
import sys

CHUNK = 1 << 20


def write_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return f"sha256:{digest}", len(data)


def write_random_blob(blobs, size):
    """A blob of `size` random bytes, written and hashed a chunk at a time."""
    tmp = os.path.join(blobs, "partial")
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(CHUNK, left))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    os.rename(tmp, os.path.join(blobs, h.hexdigest()))
    return f"sha256:{h.hexdigest()}", size


def descriptor(media_type, digest_size):
    return {"mediaType": media_type, "digest": digest_size[0], "size": digest_size[1]}


def main():
    out, functions, shared_mib, own_kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layer_type = "application/vnd.oci.image.layer.v1.tar+gzip"
    shared = write_random_blob(blobs, shared_mib << 20)
    unique = shared[1]
    index = []
    for n in range(1, functions + 1):
        own = write_random_blob(blobs, own_kib << 10)
        config = write_blob(blobs, json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": [f"fn{n}.handler"], "WorkingDir": "/var/task"},
            "rootfs": {"type": "layers", "diff_ids": [shared[0], own[0]]},
        }).encode())
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [descriptor(layer_type, shared), descriptor(layer_type, own)],
        }).encode()
        digest = write_blob(blobs, manifest)
        unique += own[1] + config[1] + digest[1]
        entry = descriptor("application/vnd.oci.image.manifest.v1+json", digest)
        entry["annotations"] = {"org.opencontainers.image.ref.name": f"fn{n}"}
        index.append(entry)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": index}, f)
    print(unique)


if __name__ == "__main__":
    main()
