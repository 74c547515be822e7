#!/usr/bin/env python3
"""TLS in front of the emulators, for tests of private CAs and proxies (stdlib only).

  tls_proxy.py terminate CERT KEY UPSTREAM_PORT
      A TLS server (CERT, KEY in PEM) relaying each connection's plaintext to
      127.0.0.1:UPSTREAM_PORT: moto or the registry behind an HTTPS endpoint of a private CA.
  tls_proxy.py connect LOG [CERT KEY UPSTREAM_CA]
      An HTTP proxy: it answers `CONNECT host:port` and tunnels the bytes, and forwards plain
      HTTP requests in absolute form (`GET http://host:port/path`), appending `host:port` to LOG
      for each (with ` with credentials` when the client sent Proxy-Authorization). With CERT,
      KEY and UPSTREAM_CA it inspects TLS as corporate proxies do: it terminates the client's TLS
      with CERT (its own CA's) and opens its own TLS connection to host:port, trusting
      UPSTREAM_CA, relaying the plaintext between them.

Listens on a free 127.0.0.1 port, prints it on the first line of stdout, and exits when its stdin
reaches EOF (so it dies with whoever started it).
"""
import os
import select
import socket
import ssl
import sys
import threading
from urllib.parse import urlsplit


NOT_NOW = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError)


def send_all(sock, data):
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
        except NOT_NOW:
            select.select([sock], [sock], [])


def relay(a, b):
    """Relays between two sockets in one thread (an SSL socket must not be used from two threads
    at once), without blocking reads: a readable TLS socket may hold no application data (a
    TLS 1.3 session ticket), and waiting for some there would starve the other direction."""
    peer = {a: b, b: a}
    for s in (a, b):
        s.setblocking(False)
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [])
            for src in readable:
                while True:
                    try:
                        data = src.recv(1 << 16)
                    except NOT_NOW:
                        break
                    if not data:
                        return
                    send_all(peer[src], data)
                    # TLS may hold decrypted bytes that select() cannot see.
                    if not (isinstance(src, ssl.SSLSocket) and src.pending()):
                        break
    except OSError:
        pass
    finally:
        a.close()
        b.close()


def server_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def terminate(conn, context, upstream_port):
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()  # a client that refused our certificate: what the tests expect to see
        return
    relay(tls, socket.create_connection(("127.0.0.1", upstream_port)))


def connect(conn, log, inspect):
    # Unbuffered: bytes after the head (a forwarded request's body) must stay in the socket.
    with conn.makefile("rb", buffering=0) as f:
        head = [f.readline()]
        while head[-1] not in (b"\r\n", b"\n", b""):
            head.append(f.readline())
    request = head[0].decode("latin-1").split()
    credentials = any(line.lower().startswith(b"proxy-authorization:") for line in head)
    if len(request) < 2:
        conn.close()
        return
    tunnel = request[0] == "CONNECT"
    target = request[1] if tunnel else urlsplit(request[1]).netloc
    if not tunnel and (not request[1].startswith("http://") or ":" not in target):
        conn.sendall(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
        conn.close()
        return
    with open(log, "a") as f:
        f.write(target + (" with credentials" if credentials else "") + "\n")
    host, port = target.rsplit(":", 1)
    try:
        upstream = socket.create_connection((host, int(port)))
    except OSError:
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        conn.close()
        return
    if not tunnel:
        # A plain HTTP request in absolute form: servers take that form too.
        upstream.sendall(b"".join(head))
        return relay(conn, upstream)
    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if inspect is None:
        return relay(conn, upstream)
    own, upstream_context = inspect
    try:
        client = own.wrap_socket(conn, server_side=True)
        upstream = upstream_context.wrap_socket(upstream, server_hostname=host)
    except (ssl.SSLError, OSError):
        conn.close()
        upstream.close()
        return
    relay(client, upstream)


def main():
    mode = sys.argv[1]
    if mode == "terminate":
        context = server_context(sys.argv[2], sys.argv[3])
        handler, args = terminate, (context, int(sys.argv[4]))
    elif mode == "connect":
        inspect = None
        if len(sys.argv) > 3:
            inspect = (server_context(sys.argv[3], sys.argv[4]),
                       ssl.create_default_context(cafile=sys.argv[5]))
        handler, args = connect, (sys.argv[2], inspect)
    else:
        sys.exit(__doc__)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)

    def serve():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handler, args=(conn, *args), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    main()
