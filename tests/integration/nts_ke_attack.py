# SPDX-License-Identifier: Apache-2.0
"""Hostile NTS-KE clients on loopback, and what they do to a server: clients from many
127.0.0.0/8 addresses that complete TLS 1.3, send a valid request (or nothing) and then never
read nor close, while one honest client keeps establishing keys beside them. Samples the
server's open descriptors and RSS throughout and after; the honest client's latencies.

As a script, against a running server (its PID, its KE port):

    ./nts_ke_attack.py PID PORT [--clients 3000] [--workers 2] [--silent] [--ntp-port N]
"""

import argparse
import json
import multiprocessing
import os
import resource
import socket
import ssl
import struct
import threading
import time

import harness


def record(kind, body, critical=True):
    return struct.pack(">HH", kind | (0x8000 if critical else 0), len(body)) + body


GOOD_REQUEST = record(1, b"\x00\x00") + record(4, b"\x00\x0f") + record(0, b"")


def client_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["ntske/1"])
    return context


def source_address(worker, index):
    """A distinct loopback address per connection: the per-client limit never applies."""
    n = worker * 1_000_000 + index + 1
    return f"127.{100 + (n >> 16) % 100}.{(n >> 8) & 255}.{n & 255 or 1}"


def attacker(port, worker, count, silent, go, ready, release):
    """Once `go` is set, opens `count` connections, each answered (or silent after the
    handshake), and keeps them until `release` is set; never reads. Puts how many it made on
    `ready`."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (count + 64, count + 64))
    context = client_context()
    go.wait(60)
    held, failed = [], 0
    for i in range(count):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            raw.bind((source_address(worker, i), 0))
            raw.settimeout(5)
            raw.connect(("127.0.0.1", port))
            tls = context.wrap_socket(raw)
            if not silent:
                tls.sendall(GOOD_REQUEST)
            held.append(tls)
        except OSError:
            failed += 1
            raw.close()
    ready.put((len(held), failed))
    release.wait(120)
    for s in held:
        s.close()


def honest_exchange(port, timeout=5.0):
    """One whole key establishment; its seconds, or None when it failed."""
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with client_context().wrap_socket(raw) as tls:
                tls.sendall(GOOD_REQUEST)
                data = b""
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
    except (OSError, ssl.SSLError):
        return None
    # Eight cookies, then End of Message.
    return time.monotonic() - start if data.count(b"\x00\x05\x00\x64") == 8 else None


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    return int(harness.proc_status(pid)["VmRSS"].split()[0])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else None


def ntp_answered(host, port):
    """Whether one NTP query (mode 3) to host:port gets a server reply within 0.5 s."""
    request = bytes([0x23]) + bytes(39) + os.urandom(8)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(request, (host, port))
        try:
            reply = s.recv(1024)
        except OSError:
            return False
    return len(reply) >= 48 and reply[0] & 7 == 4 and reply[24:32] == request[40:48]


def attack(pid, port, clients=3000, workers=2, silent=False, after_s=3.0, ntp=None):
    """Runs the attack against the server `pid` serving NTS-KE on 127.0.0.1:`port` (and NTP on
    `ntp`, (host, port), asked every 50 ms meanwhile); returns the figures: peak descriptors
    and RSS during, both after the clients are gone, the honest client's latencies (p50, p99,
    failures) during, NTP queries answered, how many attacking connections were made."""
    before = {"fds": fd_count(pid), "rss_kib": rss_kib(pid)}
    samples, latencies, failures = [], [], [0]
    ntp_asked, ntp_answers = [0], [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append((fd_count(pid), rss_kib(pid)))
            except OSError:
                return
            time.sleep(0.05)

    def honest():
        while not stop.is_set():
            took = honest_exchange(port)
            if took is None:
                failures[0] += 1
            else:
                latencies.append(took)
            time.sleep(0.05)

    def ask_ntp():
        while ntp and not stop.is_set():
            ntp_asked[0] += 1
            ntp_answers[0] += ntp_answered(*ntp)
            time.sleep(0.05)

    # The attackers are forked before any thread starts: a fork while another thread holds a
    # lock (OpenSSL's, in the honest client's handshake) can leave the child waiting forever.
    ctx = multiprocessing.get_context("fork")
    go, ready, release = ctx.Event(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=attacker,
                         args=(port, w, clients // workers, silent, go, ready, release))
             for w in range(workers)]
    for p in procs:
        p.start()
    threads = [threading.Thread(target=f) for f in (sample, honest, ask_ntp)]
    for t in threads:
        t.start()
    go.set()
    made = [ready.get(timeout=180) for _ in procs]
    time.sleep(1.0)  # the connections sit
    release.set()
    for p in procs:
        p.join(60)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(after_s)  # the server lets go
    during_fds = max(s[0] for s in samples) if samples else 0
    during_rss = max(s[1] for s in samples) if samples else 0
    return {
        "before": before,
        "made": sum(m[0] for m in made),
        "refused": sum(m[1] for m in made),
        "peak_fds": during_fds,
        "peak_rss_kib": during_rss,
        "after": {"fds": fd_count(pid), "rss_kib": rss_kib(pid)},
        "honest": {"count": len(latencies), "failed": failures[0],
                   "p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99)},
        "ntp": {"asked": ntp_asked[0], "answered": ntp_answers[0]},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pid", type=int)
    parser.add_argument("port", type=int)
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--silent", action="store_true",
                        help="send nothing after the handshake (instead of a valid request)")
    parser.add_argument("--ntp-port", type=int, help="also ask NTP on 127.0.0.1 at this port")
    args = parser.parse_args()
    ntp = ("127.0.0.1", args.ntp_port) if args.ntp_port else None
    print(json.dumps(attack(args.pid, args.port, args.clients, args.workers, args.silent,
                            ntp=ntp), indent=1))


if __name__ == "__main__":
    main()
