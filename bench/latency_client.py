#!/usr/bin/env python3
"""latency_client: one protocol-v1 client (stdlib only) that subscribes to
every surface of a running `volsurf serve` and, for each patch, prints the
wall-clock delay from the newest quote in it to the frame's arrival:

    receive time - max(quote_time of the expiries the patch changes)

i.e. the end-to-end latency of the *newest* quote of each version (the
freshest one the tick took; the oldest one is the server's
volsurf_quote_to_patch_ms plus the write). quote_time is in ms, so +-1 ms.

    bench/latency_client.py PORT DURATION_S > samples.txt   (one ms value a line)
"""
import base64
import json
import os
import socket
import struct
import sys
import time


def handshake(sock, port):
    key = base64.b64encode(os.urandom(16)).decode()
    req = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: volsurf.v1\r\n\r\n")
    sock.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("latency_client: connection closed during handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit("latency_client: upgrade refused: " + head.decode(errors="replace"))
    return rest


def send_text(sock, text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def frames(sock, buf):
    """Yields (receive_time_s, payload) of each complete unfragmented text frame."""
    t_recv = time.time()
    while True:
        while True:
            if len(buf) >= 2:
                n = buf[1] & 0x7F
                off = 2
                if n == 126 and len(buf) >= 4:
                    n, off = struct.unpack(">H", buf[2:4])[0], 4
                elif n == 127 and len(buf) >= 10:
                    n, off = struct.unpack(">Q", buf[2:10])[0], 10
                elif n >= 126:
                    break
                if len(buf) >= off + n:
                    op, payload, buf = buf[0] & 0x0F, buf[off:off + n], buf[off + n:]
                    if op == 8:
                        return
                    if op == 1:
                        yield t_recv, payload
                    continue
            break
        chunk = sock.recv(1 << 16)
        t_recv = time.time()
        if not chunk:
            return
        buf += chunk


def main():
    port, duration = int(sys.argv[1]), float(sys.argv[2])
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    buf = handshake(sock, port)
    subscribed = False
    end = time.time() + duration
    for t_recv, payload in frames(sock, buf):
        if time.time() > end:
            break
        msg = json.loads(payload)
        if msg.get("type") == "surfaces" and not subscribed:
            ids = [s["id"] for s in msg["surfaces"]]
            send_text(sock, json.dumps({"type": "subscribe", "surfaces": ids}))
            subscribed = True
        elif msg.get("type") == "patch":
            exps = (msg.get("data") or {}).get("expiries") or {}
            qt = [e["quote_time"] for e in exps.values() if isinstance(e, dict) and "quote_time" in e]
            if qt:
                print(f"{t_recv * 1e3 - max(qt):.1f}")
    sock.close()


if __name__ == "__main__":
    main()
