#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What batch size (datagrams per recvmmsg/sendmmsg) costs and buys cloudtimed on this machine.

For each batch size, cloudtimed (one thread, CPU 1, rate limiting off) serves a fixed load
from `cloudtime bench` (CPU 0) inside a private network namespace; reported: the server's CPU
time per reply (as replies per CPU-second) and its processing time p50/p99, medians of
--repeat runs.

    sudo ./bench/batch_size.py [--rate 60000] [--duration 3] [--repeat 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_benchmark as rb  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=60_000)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,4,16,32,64,128")
    args = parser.parse_args()
    rb.harness.require_root()
    print(f"cloudtimed, one thread, {args.rate}/s from 1000 sources, {args.repeat} x "
          f"{args.duration} s per batch size")
    print(f"{'batch':>6}{'replies/cpu-s':>15}{'loss':>8}{'proc p50':>10}{'proc p99':>10}")
    with tempfile.TemporaryDirectory(prefix="cloudtime-batch-") as workdir, \
            rb.harness.network_namespace("ct-batch") as ns:
        for size in [int(s) for s in args.sizes.split(",")]:
            conf = os.path.join(workdir, f"b{size}.toml")
            with open(conf, "w") as f:
                f.write(f'[server]\nthreads = 1\nbatch_size = {size}\n[clock]\nsource = "local"\n'
                        '[rate_limit]\nenabled = false\n')
            proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, "taskset", "-c", rb.SERVER_CPU,
                 os.path.join(rb.BIN, "cloudtimed"), "--config", conf, "--listen",
                 "127.0.0.1:123", "--log-level", "warn"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                capacity, loss, p50, p99 = [], [], [], []
                for _ in range(args.repeat):
                    before = rb.cpu_seconds(proc.pid)
                    r = rb.load(ns, args.rate, args.duration, 1000)
                    cpu = rb.cpu_seconds(proc.pid) - before
                    capacity.append(r["replies"] / cpu if cpu > 0 else 0)
                    loss.append(r["loss"])
                    p50.append(r["server_processing"]["p50_s"] * 1e6)
                    p99.append(r["server_processing"]["p99_s"] * 1e6)
                print(f"{size:>6}{statistics.median(capacity):>15.0f}"
                      f"{statistics.median(loss) * 100:>7.2f}%"
                      f"{statistics.median(p50):>8.1f}us{statistics.median(p99):>8.1f}us",
                      flush=True)
            finally:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
