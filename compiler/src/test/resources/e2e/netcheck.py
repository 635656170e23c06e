#!/usr/bin/env python3
"""Traffic helper for meshc's end-to-end suite; runs inside the network namespaces it is given.

serve NAME PORT [LOG]        TCP and UDP server on PORT: answers every connection/datagram with
                             NAME; appends one line per UDP datagram to LOG (when given)
connect HOST PORT N SPORT    N TCP connections from source ports SPORT..SPORT+N-1; prints JSON
                             {"replies": {name: count}, "failed": count, "errors": {how: count},
                             "seconds": s}; how: timeout, closed, or an errno name (ECONNREFUSED...)
udp HOST PORT N SPORT        the same with one UDP datagram each (a reply within 1 s counts)
send-udp SRC HOST PORT N     N UDP datagrams from address SRC, replies not awaited
stream HOST PORT SPORT SECS TAG  one-way UDP from source port SPORT, a datagram "TAG-i" every 50 ms
                             for SECS seconds (a statsd-like client keeping one conntrack entry)
hold HOST PORT SPORT SECS    one TCP connection kept open for SECS seconds, a line sent every 100 ms
                             and its answer awaited; prints one line per exchange: "<t> ok|fail"
ra IFACE PREFIX              one ICMPv6 router advertisement on IFACE (high preference, lifetime
                             1800 s, prefix PREFIX/64 for SLAAC), from link-local fe80::bad
echo PORT                    TCP server on PORT echoing every byte back (prints "ready")
bulk HOST PORT NBYTES        sends NBYTES of random data to an echo server while reading the echo;
                             prints JSON {"sent", "received", "intact", "seconds"}
pcap-stats FILE INNER        one pass over a capture of tunnel packets (Ethernet, outer IPv4): counts
                             of all, 1500-byte, larger and fragmented outer packets, outer TTLs, and the
                             MSS options of inner TCP SYNs found INNER bytes after the outer IP header
agent                        reads commands (the others but serve and echo, one JSON array a line) from
                             stdin and answers each with its JSON line: one process per namespace
                             instead of one per probe (which costs seconds in an emulated guest)
df-udp HOST PORT SIZE N TAG  N UDP datagrams of SIZE bytes (IP) with DF set (IP_PMTUDISC_DO), payload
                             starting with TAG; prints JSON {"sent", "emsgsize", "path_mtu"}
"""
import errno
import hashlib
import os
import json
import socket
import sys
import threading
import time


def serve(name, port, log=None, quiet=False):
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
    if not quiet:
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


def exchange(s, host, port, udp):
    """One ping on socket s (UDP datagram or TCP connection): the name the server answers, '' for none."""
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
    return data.decode().strip()


def error_name(e):
    """How a try failed: 'timeout' (nothing came back), else the errno's name (ECONNREFUSED: a TCP reset,
    EHOSTUNREACH: an ICMP host unreachable), so a caller can tell an active refusal from a silent drop."""
    if isinstance(e, socket.timeout):
        return "timeout"
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def connect(host, port, n, sport, udp=False):
    replies, failed, errors = {}, 0, {}
    start = time.perf_counter()
    for i in range(n):
        kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(1.0)
        try:
            s.bind(("0.0.0.0", sport + i))
            name = exchange(s, host, port, udp)
            if name:
                replies[name] = replies.get(name, 0) + 1
            else:
                failed += 1
                errors["closed"] = errors.get("closed", 0) + 1
        except OSError as e:
            failed += 1
            errors[error_name(e)] = errors.get(error_name(e), 0) + 1
        finally:
            s.close()
    elapsed = time.perf_counter() - start
    print(json.dumps({"replies": replies, "failed": failed, "errors": errors, "seconds": round(elapsed, 6)}, sort_keys=True))


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


def echo(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    print("ready", flush=True)

    def handle(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def bulk(host, port, n):
    blob = os.urandom(n)
    s = socket.create_connection((host, port), timeout=60)
    start = time.perf_counter()

    def send():
        s.sendall(blob)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = hashlib.sha256()
    received = 0
    while True:
        data = s.recv(65536)
        if not data:
            break
        got.update(data)
        received += len(data)
    t.join()
    s.close()
    print(json.dumps({"sent": n, "received": received, "intact": received == n and got.digest() == hashlib.sha256(blob).digest(),
                      "seconds": round(time.perf_counter() - start, 3)}, sort_keys=True))


def df_udp(host, port, size, n, tag):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF set, never fragment
    s.connect((host, port))
    payload = (tag.encode() + b"-" * size)[:size - 28]
    sent = emsgsize = 0
    for _ in range(n):
        try:
            s.send(payload)
            sent += 1
        except OSError as e:
            if e.errno != errno.EMSGSIZE:
                raise
            emsgsize += 1
        time.sleep(0.3)
    print(json.dumps({"sent": sent, "emsgsize": emsgsize, "path_mtu": s.getsockopt(socket.IPPROTO_IP, 14)}, sort_keys=True))  # IP_MTU


def pcap_stats(path, inner):
    import struct
    st = {"all": 0, "full": 0, "larger": 0, "fragments": 0, "ttl": {}, "syn_mss": {}}
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    pos = 24
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        ip = pkt[14:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        st["all"] += 1
        length = struct.unpack(">H", ip[2:4])[0]
        st["full"] += length == 1500
        st["larger"] += length > 1500
        st["fragments"] += (struct.unpack(">H", ip[6:8])[0] & 0x3fff) != 0
        st["ttl"][str(ip[8])] = st["ttl"].get(str(ip[8]), 0) + 1
        payload = ip[(ip[0] & 15) * 4 + inner:]
        if len(payload) >= 40 and payload[0] >> 4 == 4 and payload[9] == 6:
            tcp = payload[(payload[0] & 15) * 4:]
            if len(tcp) >= 20 and tcp[13] & 2:
                opts, i = tcp[20:(tcp[12] >> 4) * 4], 0
                while i < len(opts) and opts[i] != 0:
                    if opts[i] == 1:
                        i += 1
                        continue
                    if opts[i] == 2 and i + 4 <= len(opts):
                        mss = str(struct.unpack(">H", opts[i + 2:i + 4])[0])
                        st["syn_mss"][mss] = st["syn_mss"].get(mss, 0) + 1
                    if i + 1 >= len(opts) or opts[i + 1] < 2:
                        break
                    i += opts[i + 1]
    print(json.dumps(st, sort_keys=True))


def listen(name, ports):
    """serve() on several ports at once, in this process's threads (the agent's): one process per container."""
    for port in ports:
        threading.Thread(target=serve, args=(name, port, None, True), daemon=True).start()
    time.sleep(0.2)
    print(json.dumps({"listening": ports}))


def probe(flows, n, timeout):
    """Each flow [host, port, proto] tried n times, all at once: the names that answered, per flow."""
    results = [dict() for _ in flows]

    def one(k, host, port, udp):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            name = exchange(s, host, port, udp)
            if name:
                results[k][name] = results[k].get(name, 0) + 1
        except OSError:
            pass
        finally:
            s.close()

    threads = []
    for k, (host, port, proto) in enumerate(flows):
        for _ in range(n):
            t = threading.Thread(target=one, args=(k, host, int(port), proto == "udp"), daemon=True)
            t.start()
            threads.append(t)
    for t in threads:
        t.join()
    print(json.dumps({"replies": results}))


def agent():
    print("ready", flush=True)
    for line in sys.stdin:
        argv = json.loads(line)
        try:
            run(argv[0], argv[1:])
        except Exception as e:  # answered, so the caller sees it
            print(json.dumps({"error": repr(e)}))
        sys.stdout.flush()


def run(cmd, args):
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
    elif cmd == "echo":
        echo(int(args[0]))
    elif cmd == "bulk":
        bulk(args[0], int(args[1]), int(args[2]))
    elif cmd == "df-udp":
        df_udp(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
    elif cmd == "pcap-stats":
        pcap_stats(args[0], int(args[1]))
    elif cmd == "agent":
        agent()
    elif cmd == "listen":
        listen(args[0], [int(p) for p in args[1].split(",")])
    elif cmd == "probe":
        probe(json.loads(args[0]), int(args[1]), float(args[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
