#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile clients against cloudtimed's vendordata endpoint, with Nova and an NTP client beside
them, on loopback only.

For each cloudtimed build given (--cloudtimed, and --before for the build to compare with), and
each of --rounds rounds of --duration seconds:
  - 8 connections trickle one header byte a second (from 127.0.0.2; reconnecting when cut);
  - 1000 idle connections (from 127.2.0.0/16; reconnecting when closed);
  - 2 threads send 3 MB headers, 2 threads send endless chunked bodies (127.0.0.4, .5);
  - Nova: a POST every 0.5 s from 127.0.0.1, 5 s timeout (a timeout counts as 5 s);
  - an NTP client asks 20 times a second from 127.0.0.1;
and reports, as the median over the rounds: the POSTs' p99 and worst latency and failures,
cloudtimed's peak RSS (the daemon and its children together), and the share of NTP queries
answered.

    bench/hostile_http.py [--cloudtimed build/bin/cloudtimed] [--before OLD] [--rounds 3]
                          [--duration 30] [--json]
"""
import argparse
import http.client
import json
import os
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

NOVA_BODY = json.dumps({"project-id": "p", "instance-id": "i", "image-id": "m",
                        "user-data": None, "hostname": "vm", "metadata": {},
                        "boot-roles": "member"}).encode()
MIB = 1 << 20


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib_of_tree(pid):
    total = 0
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def connect_from(source, port, timeout=5):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


class Attack:
    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.threads = []

    def spawn(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def loop(self, body):
        while not self.stop.is_set():
            try:
                body()
            except OSError:
                self.stop.wait(0.05)

    def trickle(self):
        def once():
            with connect_from("127.0.0.2", self.port) as s:
                s.sendall(b"POST / HTTP/1.1\r\n")
                while not self.stop.is_set():
                    s.sendall(b"X")
                    self.stop.wait(1.0)
        self.loop(once)

    def idle(self, index):
        source = f"127.2.{index // 250}.{index % 250 + 1}"

        def once():
            with connect_from(source, self.port, timeout=None) as s:
                s.recv(1)  # until the server closes it
        self.loop(once)

    def huge_headers(self):
        junk = b"a" * (3 * MIB)

        def once():
            with connect_from("127.0.0.4", self.port) as s:
                s.sendall(b"POST / HTTP/1.1\r\nX-Big: " + junk)
                s.recv(4096)
        self.loop(once)

    def chunked(self):
        chunk = b"100000\r\n" + b"x" * MIB + b"\r\n"

        def once():
            with connect_from("127.0.0.5", self.port) as s:
                s.sendall(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                while not self.stop.is_set():
                    s.sendall(chunk)
        self.loop(once)


def nova(port, stop, latencies, failures):
    while not stop.is_set():
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/", body=NOVA_BODY, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            conn.close()
            ok = response.status == 200
        except OSError as e:
            ok = False
            error = f"{type(e).__name__}: {e}"
        took = time.monotonic() - started
        latencies.append(took if ok else 5.0)
        if not ok:
            failures.append((round(took, 3), error if "error" in locals() else "not 200"))
        stop.wait(max(0.0, 0.5 - took))


def ntp_client(port, stop, counts):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1.0)
    while not stop.is_set():
        request = bytes([0x23]) + bytes(39) + struct.pack("!Q", time.time_ns())
        counts[0] += 1
        s.sendto(request, ("127.0.0.1", port))
        try:
            while True:
                data, _ = s.recvfrom(512)
                if data[24:32] == request[40:48]:  # the reply's origin is our transmit
                    counts[1] += 1
                    break
        except socket.timeout:
            pass
        stop.wait(0.05)
    s.close()


def one_round(cloudtimed, duration):
    http_port, ntp_port = free_port(), free_port(socket.SOCK_DGRAM)
    workdir = tempfile.mkdtemp(prefix="cloudtime-hostile-")
    config = os.path.join(workdir, "cloudtimed.toml")
    with open(config, "w") as f:
        f.write('[clock]\nsource = "local"\n[rate_limit]\nenabled = false\n[status]\nsocket = ""\n'
                f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{http_port}"\n')
    log = open(os.path.join(workdir, "cloudtimed.log"), "w")
    daemon = subprocess.Popen([cloudtimed, "--config", config, "--listen",
                               f"127.0.0.1:{ntp_port}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", http_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise RuntimeError(f"{cloudtimed} did not start; see {log.name}")
                time.sleep(0.05)
        attack = Attack(http_port)
        for _ in range(8):
            attack.spawn(attack.trickle)
        for i in range(1000):
            attack.spawn(attack.idle, i)
        for _ in range(2):
            attack.spawn(attack.huge_headers)
            attack.spawn(attack.chunked)
        stop = threading.Event()
        latencies, failures, ntp = [], [], [0, 0]
        observers = [threading.Thread(target=nova, args=(http_port, stop, latencies, failures)),
                     threading.Thread(target=ntp_client, args=(ntp_port, stop, ntp))]
        for t in observers:
            t.start()
        peak = 0
        end = time.monotonic() + duration
        while time.monotonic() < end:
            peak = max(peak, rss_kib_of_tree(daemon.pid))
            time.sleep(0.2)
        stop.set()
        attack.stop.set()
        for t in observers:
            t.join()
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if failures:
            print(f"{cloudtimed}: failed POSTs (seconds, why): {failures}", file=sys.stderr)
        return {"posts": len(latencies), "post_p99_s": p99, "post_max_s": latencies[-1],
                "post_failures": len(failures), "peak_rss_mib": peak / 1024,
                "ntp_answered_ratio": ntp[1] / max(1, ntp[0]), "ntp_sent": ntp[0]}
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()


def median_of(rounds):
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cloudtimed", default="build/bin/cloudtimed")
    parser.add_argument("--before", help="another cloudtimed build to run the same way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    builds = {"after": args.cloudtimed}
    if args.before:
        builds = {"before": args.before, **builds}
    results = {}
    for name, path in builds.items():
        rounds = [one_round(path, args.duration) for _ in range(args.rounds)]
        results[name] = {"median": median_of(rounds), "rounds": rounds}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.rounds} rounds of {args.duration:.0f} s; medians:")
    print(f"{'build':8} {'POSTs':>6} {'p99 s':>8} {'max s':>8} {'failed':>7} {'peak RSS MiB':>13}"
          f" {'NTP answered':>13}")
    for name, r in results.items():
        m = r["median"]
        print(f"{name:8} {m['posts']:6.0f} {m['post_p99_s']:8.3f} {m['post_max_s']:8.3f} "
              f"{m['post_failures']:7.0f} {m['peak_rss_mib']:13.1f} "
              f"{100 * m['ntp_answered_ratio']:12.2f}%")


if __name__ == "__main__":
    main()
