#!/usr/bin/env python3
"""Traffic helper for meshc's end-to-end suite; runs inside the network namespaces it is given.

serve NAME PORT [LOG]        TCP and UDP server on PORT: answers every connection/datagram with
                             NAME; appends one line per UDP datagram to LOG (when given)
connect HOST PORT N SPORT    N TCP connections from source ports SPORT..SPORT+N-1; prints JSON
                             {"replies": {name: count}, "failed": count}
udp HOST PORT N SPORT        the same with one UDP datagram each (a reply within 1 s counts)
send-udp SRC HOST PORT N     N UDP datagrams from address SRC, replies not awaited
"""
import json
import socket
import sys
import threading
import time


def serve(name, port, log=None):
    reply = (name + "\n").encode()
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", port))
    tcp.listen(512)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))

    def udp_loop():
        while True:
            data, peer = udp.recvfrom(2048)
            if log:
                with open(log, "a") as f:
                    f.write("%s %s\n" % (peer[0], data.decode(errors="replace")))
            try:
                udp.sendto(reply, peer)
            except OSError:
                pass

    threading.Thread(target=udp_loop, daemon=True).start()
    print("ready", flush=True)
    while True:
        conn, _ = tcp.accept()
        try:
            conn.sendall(reply)
        finally:
            conn.close()


def connect(host, port, n, sport, udp=False):
    replies, failed = {}, 0
    start = time.perf_counter()
    for i in range(n):
        kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(1.0)
        try:
            s.bind(("0.0.0.0", sport + i))
            if udp:
                s.sendto(b"ping", (host, port))
                data, _ = s.recvfrom(2048)
            else:
                s.connect((host, port))
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    data += chunk
            name = data.decode().strip()
            if name:
                replies[name] = replies.get(name, 0) + 1
            else:
                failed += 1
        except OSError:
            failed += 1
        finally:
            s.close()
    elapsed = time.perf_counter() - start
    print(json.dumps({"replies": replies, "failed": failed, "seconds": round(elapsed, 6)}, sort_keys=True))


def send_udp(src, host, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for i in range(n):
        s.sendto(b"spoof-%d" % i, (host, port))
        time.sleep(0.01)
    print(json.dumps({"sent": n}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args[0], int(args[1]), args[2] if len(args) > 2 else None)
    elif cmd == "connect":
        connect(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif cmd == "udp":
        connect(args[0], int(args[1]), int(args[2]), int(args[3]), udp=True)
    elif cmd == "send-udp":
        send_udp(args[0], args[1], int(args[2]), int(args[3]))
    else:
        sys.exit("unknown command " + cmd)
