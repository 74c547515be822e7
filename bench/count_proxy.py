#!/usr/bin/env python3
"""A counting HTTP proxy in front of the AWS emulator, so the benchmark can say how many AWS API
calls each tool makes per phase.

Usage: count_proxy.py UPSTREAM_PORT LOG_DIR PORT_FILE

It listens on a free 127.0.0.1 port (written to PORT_FILE), forwards every request to
127.0.0.1:UPSTREAM_PORT with its method, path, headers (Host included) and body unchanged, and
appends one line per request to LOG_DIR/<label>.log: `service:Action`, the HTTP status, the
milliseconds since the label was set, the milliseconds the emulator took and the stack the call
names (CloudFormation's `StackName` form field, else empty), tab-separated. The label is set by the
benchmark between commands with `POST /__bench__/label/<label>` (that request is not forwarded).

Action names: the `Action=` form field (query protocol: CloudFormation, STS, IAM), the
`X-Amz-Target` header (JSON protocol: ECR), else the REST operation derived from method and path
(S3 operations by name, other REST services as `METHOD /path`).
"""
import http.client
import http.server
import os
import re
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
CONTROL = "/__bench__/label/"
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

# S3 subresources that name an operation, by (method, subresource).
S3_BUCKET_OPS = {
    ("GET", "location"): "GetBucketLocation", ("GET", "versioning"): "GetBucketVersioning",
    ("PUT", "versioning"): "PutBucketVersioning", ("GET", "policy"): "GetBucketPolicy",
    ("PUT", "policy"): "PutBucketPolicy", ("GET", "tagging"): "GetBucketTagging",
    ("PUT", "tagging"): "PutBucketTagging", ("GET", "encryption"): "GetBucketEncryption",
    ("PUT", "encryption"): "PutBucketEncryption", ("PUT", "publicAccessBlock"): "PutPublicAccessBlock",
    ("GET", "versions"): "ListObjectVersions", ("GET", "list-type"): "ListObjectsV2",
    ("POST", "delete"): "DeleteObjects", ("GET", "uploads"): "ListMultipartUploads",
}
S3_OBJECT_OPS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}
S3_BUCKET_PLAIN = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}


def s3_operation(method, path, query, headers):
    parts = [p for p in path.split("/") if p]
    keys = list(urllib.parse.parse_qs(query, keep_blank_values=True))
    if not parts:
        return "ListBuckets"
    if len(parts) == 1:
        for key in keys:
            if (method, key) in S3_BUCKET_OPS:
                return S3_BUCKET_OPS[(method, key)]
        return S3_BUCKET_PLAIN.get(method, f"{method} bucket?{'&'.join(keys)}")
    if method == "POST" and "uploads" in keys:
        return "CreateMultipartUpload"
    if method == "PUT" and "partNumber" in keys:
        return "UploadPart"
    if method == "POST" and "uploadId" in keys:
        return "CompleteMultipartUpload"
    if method == "PUT" and headers.get("x-amz-copy-source"):
        return "CopyObject"
    if keys and method in ("GET", "PUT") and keys[0] in ("tagging", "acl"):
        return f"{method.title()}Object{keys[0].title()}"
    return S3_OBJECT_OPS.get(method, f"{method} object")


def stack_name(body):
    if not body or b"StackName=" not in body:
        return ""
    return urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("StackName", [""])[0]


def action_name(method, target, headers, body):
    url = urllib.parse.urlsplit(target)
    scope = CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    amz_target = headers.get("x-amz-target")
    if amz_target:
        return f"{service}:{amz_target.rsplit('.', 1)[-1]}"
    for source in (url.query, body.decode("utf-8", "replace") if body and b"Action=" in body else ""):
        action = urllib.parse.parse_qs(source).get("Action")
        if action:
            return f"{service}:{action[0]}"
    if service == "s3":
        return f"s3:{s3_operation(method, url.path, url.query, headers)}"
    return f"{service}:{method} {url.path}"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive towards the client, as with the real endpoint
    # Headers and body are separate writes: with Nagle on, the body would wait for the client's
    # delayed ACK (40 ms on Linux) and the proxy would add that to every call.
    disable_nagle_algorithm = True
    upstream_port = 0
    log_dir = "."
    label = "unlabelled"
    label_set = time.monotonic()
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def record(self, body, status, started):
        headers = {k.lower(): v for k, v in self.headers.items()}
        name = action_name(self.command, self.path, headers, body)
        now = time.monotonic()
        with Proxy.lock:
            at, took = (started - Proxy.label_set) * 1000, (now - started) * 1000
            with open(os.path.join(Proxy.log_dir, f"{Proxy.label}.log"), "a") as log:
                log.write(f"{name}\t{status}\t{at:.0f}\t{took:.0f}\t{stack_name(body)}\n")

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith(CONTROL):
            with Proxy.lock:
                Proxy.label = self.path[len(CONTROL):].strip("/") or "unlabelled"
                Proxy.label_set = time.monotonic()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        started = time.monotonic()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or body:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection("127.0.0.1", Proxy.upstream_port, timeout=300)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers.items():
                upstream.putheader(key, value)
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            payload = response.read()
            self.record(body, response.status, started)
            self.send_response_only(response.status, response.reason)
            # HEAD keeps the upstream Content-Length: it describes the object, not this reply.
            keep_length = self.command == "HEAD"
            for key, value in response.getheaders():
                if key.lower() in HOP_BY_HOP or (key.lower() == "content-length" and not keep_length):
                    continue
                self.send_header(key, value)
            if not keep_length or response.getheader("Content-Length") is None:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


def main():
    upstream_port, log_dir, port_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(log_dir, exist_ok=True)
    Proxy.upstream_port, Proxy.log_dir = upstream_port, log_dir
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
