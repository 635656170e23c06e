#!/usr/bin/env python3
"""Traffic helper for meshc's end-to-end suite; runs inside the network namespaces it is given.

serve NAME PORT [LOG]        TCP and UDP server on PORT: answers every connection/datagram with
                             NAME; appends one line per UDP datagram to LOG (when given)
connect HOST PORT N SPORT    N TCP connections from source ports SPORT..SPORT+N-1; prints JSON
                             {"replies": {name: count}, "failed": count}
udp HOST PORT N SPORT        the same with one UDP datagram each (a reply within 1 s counts)
send-udp SRC HOST PORT N     N UDP datagrams from address SRC, replies not awaited
stream HOST PORT SPORT SECS TAG  one-way UDP from source port SPORT, a datagram "TAG-i" every 50 ms
                             for SECS seconds (a statsd-like client keeping one conntrack entry)
hold HOST PORT SPORT SECS    one TCP connection kept open for SECS seconds, a line sent every 100 ms
                             and its answer awaited; prints one line per exchange: "<t> ok|fail"
ra IFACE PREFIX              one ICMPv6 router advertisement on IFACE (high preference, lifetime
                             1800 s, prefix PREFIX/64 for SLAAC), from link-local fe80::bad
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

    def tcp_conn(conn):
        # answers at once with NAME, then once more per chunk received (hold's exchanges)
        try:
            conn.sendall(reply)
            while True:
                data = conn.recv(256)
                if not data:
                    break
                conn.sendall(reply)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        conn, _ = tcp.accept()
        threading.Thread(target=tcp_conn, args=(conn,), daemon=True).start()


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


def stream(host, port, sport, secs, tag):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    end, i = time.time() + secs, 0
    while time.time() < end:
        try:
            s.sendto(b"%s-%d" % (tag.encode(), i), (host, port))
        except OSError:
            pass
        i += 1
        time.sleep(0.05)
    print(json.dumps({"sent": i}), flush=True)


def hold(host, port, sport, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.settimeout(2.0)
    start = time.time()
    try:
        s.connect((host, port))
        s.recv(256)
    except OSError as e:
        print("%.2f fail connect %s" % (time.time() - start, e), flush=True)
        return
    print("%.2f connected" % (time.time() - start), flush=True)
    s.settimeout(0.5)
    while time.time() - start < secs:
        try:
            s.sendall(b"x\n")
            data = s.recv(256)
            print("%.2f %s" % (time.time() - start, "ok" if data else "fail closed"), flush=True)
            if not data:
                return
        except OSError:
            print("%.2f fail" % (time.time() - start), flush=True)
        time.sleep(0.1)


def ra(iface, prefix):
    import ipaddress
    import struct
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.SOL_SOCKET, 25, iface.encode())  # SO_BINDTODEVICE
    s.bind(("fe80::bad", 0, 0, socket.if_nametoindex(iface)))
    # type 134, code 0, checksum (kernel), hop limit 64, flags: preference high (01 << 3), lifetime 1800
    msg = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0x08, 1800, 0, 0)
    pfx = ipaddress.IPv6Address(prefix).packed
    msg += struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0) + pfx
    s.sendto(msg, ("ff02::1", 0, 0, socket.if_nametoindex(iface)))
    print(json.dumps({"sent": 1}), flush=True)


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
    elif cmd == "stream":
        stream(args[0], int(args[1]), int(args[2]), float(args[3]), args[4])
    elif cmd == "hold":
        hold(args[0], int(args[1]), int(args[2]), float(args[3]))
    elif cmd == "ra":
        ra(args[0], args[1])
    else:
        sys.exit("unknown command " + cmd)
