#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""NTS key establishment latency, one run: cloudtimed beside chronyd 4.3, each serving NTS-KE on
127.0.0.1:4460 in turn inside a network namespace this script creates and removes (the servers
of nts_benchmark.py, pinned to CPU 1). One client on CPU 0 makes --count key establishments one
after the other (TLS 1.3 handshake, the request, eight cookies, the server's close), twice: with
Nagle's algorithm on its socket (as chrony's and most clients' sockets are) and with
TCP_NODELAY. Reports the median and p99 of each, --repeat times, and their medians.

    sudo ./bench/nts_ke_latency.py [--count 200] [--repeat 3] [--json FILE]
"""

import argparse
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import nts_benchmark
import run_benchmark as common
from run_benchmark import harness

REQUEST = bytes.fromhex("80010002 0000 80040002 000f 80000000".replace(" ", ""))


def exchange(context, nodelay):
    """One key establishment; its seconds (None when it did not bring eight cookies)."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", nts_benchmark.KE_PORT), timeout=5) as raw:
        if nodelay:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw) as tls:
            tls.sendall(REQUEST)
            data = b""
            while True:
                try:
                    chunk = tls.recv(4096)
                except ssl.SSLError:  # a close without close_notify: the answer is whole
                    break
                if not chunk:
                    break
                data += chunk
    took = time.perf_counter() - start
    return took if data.count(bytes.fromhex("00050064")) == 8 else None


def client(count):
    """In the namespace: the latencies (ms) of `count` exchanges, without and with NODELAY."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["ntske/1"])
    deadline = time.monotonic() + 10
    while True:  # until the server answers
        try:
            if exchange(context, True) is not None:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server does not answer key establishment")
        time.sleep(0.1)
    out = {}
    for nodelay in (False, True):
        times = [exchange(context, nodelay) for _ in range(count)]
        failed = times.count(None)
        ms = sorted(t * 1000 for t in times if t is not None)
        out["nodelay" if nodelay else "nagle"] = {
            "p50_ms": statistics.median(ms), "p99_ms": ms[min(len(ms) - 1, len(ms) * 99 // 100)],
            "failed": failed}
    print(json.dumps(out))


def measure(ns, name, cmd, count):
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", common.SERVER_CPU] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p = subprocess.run(["ip", "netns", "exec", ns, "taskset", "-c", common.LOAD_CPU,
                            sys.executable, os.path.abspath(__file__), "--client", str(count)],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise SystemExit(f"{name}: {p.stderr}")
        return json.loads(p.stdout)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client(args.client)
    harness.require_root()
    runs = {"cloudtimed": [], "chronyd": []}
    with tempfile.TemporaryDirectory(prefix="cloudtime-ke-bench-") as workdir, \
            harness.network_namespace("ct-kebench") as ns:
        cert, key = harness.self_signed_certificate(workdir)
        commands = nts_benchmark.server_commands(workdir, cert, key)
        for _ in range(args.repeat):
            for name in runs:  # interleaved, so that a noisy moment hits both
                runs[name].append(measure(ns, name, commands[name], args.count))
    summary = {}
    for name, results in runs.items():
        summary[name] = {mode: {k: statistics.median(r[mode][k] for r in results)
                                for k in ("p50_ms", "p99_ms", "failed")}
                         for mode in ("nagle", "nodelay")}
    print(f"\nNTS-KE latency, {args.count} exchanges x {args.repeat} runs (medians):")
    print(f"  {'server':<11}{'nagle p50':>11}{'p99':>9}{'nodelay p50':>13}{'p99':>9}")
    for name, s in summary.items():
        print(f"  {name:<11}{s['nagle']['p50_ms']:>9.2f}ms{s['nagle']['p99_ms']:>7.2f}ms"
              f"{s['nodelay']['p50_ms']:>11.2f}ms{s['nodelay']['p99_ms']:>7.2f}ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "summary": summary}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
