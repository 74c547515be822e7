#!/usr/bin/env python3
"""A byte-counting TCP relay in front of the registry, so the push benchmark can say how many
bytes each tool sent and when its pushes started and ended (stdlib only).

Usage: byte_relay.py UPSTREAM_PORT PORT_FILE

Listens on two free 127.0.0.1 ports, written to PORT_FILE as `RELAY_PORT CONTROL_PORT`: every
connection to RELAY_PORT is relayed byte for byte to 127.0.0.1:UPSTREAM_PORT (TCP_NODELAY both
ways) and counted under the label in force when it was accepted. CONTROL_PORT speaks just enough
HTTP for `POST /label/<label>` (set the label) and `GET /counts` (JSON: per label the bytes sent
up and down, the connections, and the seconds of the first accept and the last byte).
Exits when its stdin reaches EOF.
"""
import json
import os
import socket
import sys
import threading
import time

lock = threading.Lock()
label = "idle"
counts = {}


def entry(name):
    return counts.setdefault(name, {"up": 0, "down": 0, "connections": 0, "first": None, "last": None})


def pump(src, dst, name, direction):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    try:
        while True:
            n = src.recv_into(buf)
            if n == 0:
                break
            dst.sendall(view[:n])
            with lock:
                e = entry(name)
                e[direction] += n
                e["last"] = time.time()
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def relay(client, upstream_port):
    with lock:
        name = label
        e = entry(name)
        e["connections"] += 1
        e["first"] = e["first"] or time.time()
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    down = threading.Thread(target=pump, args=(upstream, client, name, "down"), daemon=True)
    down.start()
    pump(client, upstream, name, "up")
    down.join()
    client.close()
    upstream.close()


def control(conn):
    global label
    with conn, conn.makefile("rb") as f:
        request = f.readline().decode().split()
        while f.readline() not in (b"\r\n", b"\n", b""):
            pass
        method, path = request[0], request[1]
        if method == "POST" and path.startswith("/label/"):
            with lock:
                label = path[len("/label/"):]
            body = b"{}"
        else:
            with lock:
                body = json.dumps(counts).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def serve(listener, handler, *args):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handler, args=(conn, *args), daemon=True).start()


def main():
    upstream_port, port_file = int(sys.argv[1]), sys.argv[2]
    listeners = []
    for _ in range(2):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(128)
        listeners.append(s)
    threading.Thread(target=serve, args=(listeners[0], relay, upstream_port), daemon=True).start()
    threading.Thread(target=serve, args=(listeners[1], control), daemon=True).start()
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{listeners[0].getsockname()[1]} {listeners[1].getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    main()
