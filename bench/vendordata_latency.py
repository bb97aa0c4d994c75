#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Latency of cloudtimed's vendordata endpoint as Nova sees it: POSTs of Nova's request body
from C concurrent clients, a new TCP connection per request (the worst case; Nova's session
may keep one), timed from connect to the last byte of the answer. Beside it, the same load on
a static-JSON server of Python's standard library (http.server answering cloudtimed's own
answer as a fixed body), the simplest thing an operator would otherwise run. The client is
Python too, and on this 2-core machine it costs more than either server. Reports p50/p99/max and requests per second,
median of the repeats. Everything on 127.0.0.1.

    ./bench/vendordata_latency.py [--requests 2000] [--clients 8] [--repeat 3]
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests/integration"))
import harness  # noqa: E402
from test_vendordata import NOVA_BODY, NOVA_HEADERS, free_tcp_port  # noqa: E402

STATIC_SERVER = r"""
import http.server, sys
body = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def one_request(port, body):
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/", body=body, headers=NOVA_HEADERS)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"status {response.status}")
    return time.perf_counter() - start


def measure(port, requests, clients):
    body = json.dumps(NOVA_BODY).encode()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        latencies = sorted(pool.map(lambda _: one_request(port, body), range(requests)))
    elapsed = time.perf_counter() - start
    return {"p50_ms": latencies[len(latencies) // 2] * 1e3,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
            "max_ms": latencies[-1] * 1e3,
            "per_s": requests / elapsed}


def wait_listening(port):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    port = free_tcp_port()
    daemon = harness.Daemon(config=harness.LOCAL_CONFIG +
                            f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    static_port = free_tcp_port()
    static = None
    try:
        wait_listening(port)
        # The static server answers cloudtimed's own answer: the same bytes on the wire.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/", body=json.dumps(NOVA_BODY).encode(), headers=NOVA_HEADERS)
        answer = os.path.join(daemon.dir, "answer.json")
        with open(answer, "wb") as f:
            f.write(conn.getresponse().read())
        conn.close()
        static = subprocess.Popen([sys.executable, "-c", STATIC_SERVER, str(static_port),
                                   answer])
        wait_listening(static_port)
        results = {"cloudtimed": [], "python-static": []}
        for _ in range(args.repeat):
            results["cloudtimed"].append(measure(port, args.requests, args.clients))
            results["python-static"].append(measure(static_port, args.requests, args.clients))
        print(f"{args.requests} POSTs of Nova's body, {args.clients} clients, new connection "
              f"each, median of {args.repeat}")
        print(f"{'server':<16}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>9}")
        for name, runs in results.items():
            row = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name:<16}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['max_ms']:>9.2f}"
                  f"{row['per_s']:>9.0f}")
    finally:
        if static:
            static.kill()
            static.wait()
        daemon.cleanup()


if __name__ == "__main__":
    main()
