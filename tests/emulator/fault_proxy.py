#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between samrs and the patched moto or the registry (stdlib only).

Usage: fault_proxy.py UPSTREAM_URL
Listens on a free 127.0.0.1 port, prints that port on the first line of stdout, and exits when its
stdin reaches EOF (so it dies with whoever started it, however that process ends).

Every request is named by the AWS call it makes:
  <service>:<Action>       query services (CloudFormation, STS): the `Action=` form field
  ecr:<Operation>          JSON services: the `X-Amz-Target` header
  s3:<METHOD> <path>       everything else: method and path with query (`?x-id=PutObject` etc.)
  registry:<METHOD> <path> registry v2 API calls (paths under /v2/), without the query
and forwarded, unless a rule matches the name (Python `re.search`) and still has uses left:
  throttle  HTTP 400 with the service's throttling error (`Throttling` XML for query services,
            `ThrottlingException` JSON for ECR, `SlowDown` 503 for S3, 429 `TOOMANYREQUESTS`
            for the registry)
  500, 503  the service's internal-failure / unavailable error
  401       the registry's refusal of an expired ECR token (`DENIED`)
  reset     the connection is reset (TCP RST) after the request was read; nothing is forwarded
  cut       the request line, headers and the first `bytes` bytes of the body are forwarded, then
            both connections are cut (the upstream sees a client that went away mid-request)
  delay     the request is held `seconds`, then forwarded

Control API on the same port (bucket names cannot start with `_`, so no S3 path collides):
  PUT /__faults/rules   body: JSON list of {"match": REGEX, "fault": NAME, "seconds": F, "bytes": N, "times": N|null,
                        "first_attempts": BOOL, "skip": N, "body": REGEX} (times null: always;
                        first_attempts: only a call's first attempt, by the SDK's `amz-sdk-request:
                        attempt=N` header, so every call fails once and its retry goes through; skip: the
                        first N matching calls go through; body: the URL-decoded request body must match
                        too, e.g. `StackName=app&`); replaces the rules
  GET /__faults/log     JSON list of {"call": NAME, "fault": NAME|null, "status": CODE|null}, one per
                        request in arrival order; status is set once the answer is known (after a delay's
                        forward, even when the caller is gone)
"""
import http.client
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlparse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
CONTROL = "/__faults/"

lock = threading.Lock()
rules = []  # dicts: match (compiled), fault, seconds, left (None: always)
log = []  # dicts: call, fault, status


def call_name(method, path, headers, body):
    if path.startswith("/v2/"):
        return f"registry:{method} {path.split('?', 1)[0]}"
    auth = headers.get("Authorization", "")
    scope = re.search(r"Credential=[^/]*/[^/]*/[^/]*/([^/]*)/", auth)
    service = scope.group(1) if scope else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"{service}:{action[0]}"
    return f"{service}:{method} {path}"


def attempt(headers):
    """The SDK's attempt number of this request (`amz-sdk-request: attempt=2; max=5`), 1 if unsaid."""
    found = re.search(r"attempt=(\d+)", headers.get("amz-sdk-request", ""))
    return int(found.group(1)) if found else 1


def take_fault(name, attempt_no, body):
    with lock:
        for rule in rules:
            if rule["first_attempts"] and attempt_no != 1:
                continue
            if not rule["match"].search(name) or not rule["body"].search(body):
                continue
            if rule["skip"] > 0:
                rule["skip"] -= 1
                continue
            if rule["left"] is None or rule["left"] > 0:
                if rule["left"] is not None:
                    rule["left"] -= 1
                return rule
    return None


def error_answer(name, fault):
    """(status, content type, body) of the service's own error for `fault`."""
    service = name.split(":", 1)[0]
    if service == "registry":
        status, code, message = {
            "throttle": (429, "TOOMANYREQUESTS", "injected throttle fault"),
            "500": (500, "UNKNOWN", "injected 500 fault"),
            "503": (503, "UNAVAILABLE", "injected 503 fault"),
            "401": (401, "DENIED", "Your authorization token has expired. Reauthenticate and try again."),
        }[fault]
        return status, "application/json", json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    status = {"throttle": 400, "500": 500, "503": 503}[fault]
    if service == "ecr":
        kind = {"throttle": "ThrottlingException", "500": "ServerException", "503": "ServiceUnavailableException"}[fault]
        body = json.dumps({"__type": kind, "message": f"injected {fault} fault"})
        return status, "application/x-amz-json-1.1", body.encode()
    if service == "s3":
        code = {"throttle": "SlowDown", "500": "InternalError", "503": "ServiceUnavailable"}[fault]
        status = 503 if fault == "throttle" else status
        body = f"<Error><Code>{code}</Code><Message>injected {fault} fault</Message><RequestId>fault</RequestId></Error>"
        return status, "application/xml", body.encode()
    code = {"throttle": "Throttling", "500": "InternalFailure", "503": "ServiceUnavailable"}[fault]
    kind = "Sender" if fault == "throttle" else "Receiver"
    body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>injected {fault} fault</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
    return status, "text/xml", body.encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port)

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))

    def answer(self, status, headers, body, entry):
        with lock:
            entry["status"] = status  # before writing: a caller that went away still ends the hold
        self.send_response_only(status)
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def control(self, body):
        global rules
        if self.command == "PUT" and self.path == CONTROL + "rules":
            new = [{"match": re.compile(r["match"]), "fault": r["fault"], "seconds": r.get("seconds", 0),
                    "bytes": r.get("bytes", 0),
                    "left": r.get("times"), "first_attempts": r.get("first_attempts", False),
                    "skip": r.get("skip", 0), "body": re.compile(r.get("body", ""))}
                   for r in json.loads(body or b"[]")]
            with lock:
                rules = new
            out = b"{}"
        else:
            with lock:
                out = json.dumps(log).encode()
        self.answer(200, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))], out, {})

    def forward(self, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        if self.command != "HEAD":
            out = [(k, v) for k, v in out if k.lower() != "content-length"] + [("Content-Length", str(len(data)))]
        return resp.status, out, data

    def cut(self, body, sent):
        """Sends the upstream the request with only `sent` bytes of its body, then cuts both ends."""
        upstream = socket.create_connection(self.upstream, timeout=30)
        head = [f"{self.command} {self.path} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
        head.append(f"Content-Length: {len(body)}")
        upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:sent])
        time.sleep(0.2)  # the upstream takes in what it got before it sees the end
        upstream.close()
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith(CONTROL):
            return self.control(body)
        name = call_name(self.command, self.path, self.headers, body)
        rule = take_fault(name, attempt(self.headers), unquote_plus(body.decode("utf-8", "replace")))
        fault = rule["fault"] if rule else None
        entry = {"call": name, "fault": fault, "status": None}
        with lock:
            log.append(entry)
        if fault == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "cut":
            return self.cut(body, int(rule["bytes"]))
        if fault in ("throttle", "500", "503", "401"):
            status, ctype, out = error_answer(name, fault)
            headers = [("Content-Type", ctype), ("Content-Length", str(len(out)))]
            if fault == "401":
                headers.append(("WWW-Authenticate", 'Basic realm="ecr"'))
            return self.answer(status, headers, out, entry)
        if fault == "delay":
            time.sleep(float(rule["seconds"]))
        status, headers, data = self.forward(body)
        self.answer(status, headers, data, entry)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a reset fault or a client that went away: nothing to report


def exit_on_stdin_eof():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    upstream = urlparse(sys.argv[1])
    Handler.upstream = (upstream.hostname, upstream.port)
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
