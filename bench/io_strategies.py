#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What beats what on this machine for the serving loop: poll vs user-space busy polling,
recvmmsg/sendmmsg vs io_uring (measured on the bare reflectors, where nothing but I/O
costs), and cloudtimed's worker threads. Every variant is offered the same load (beyond
one core's capacity) inside a network namespace this script creates, and its replies are
counted by the server itself; the median of --repeat runs is reported.

    sudo ./bench/io_strategies.py [--rate 400000] [--seconds 5] [--repeat 3]
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_benchmark as rb  # noqa: E402


def variants(workdir):
    reflector = os.path.join(rb.BIN, "ntp_reflector")
    uring = os.path.join(rb.BIN, "uring_reflector")
    one = rb.cloudtimed_command(workdir, rate_limit=False, threads=1)
    two = rb.cloudtimed_command(workdir, rate_limit=False, threads=2)
    cpu = rb.SERVER_CPU
    both = f"{rb.LOAD_CPU},{rb.SERVER_CPU}"
    return [
        ("reflector poll, batch 32", "reflector-poll", [reflector, "127.0.0.1:123", "32", "poll"], cpu),
        ("reflector spin, batch 32", "reflector-spin", [reflector, "127.0.0.1:123", "32", "spin"], cpu),
        ("io_uring reflector, depth 32", "uring-reflector-32", [uring, "127.0.0.1:123", "32"], cpu),
        ("io_uring reflector, depth 128", "uring-reflector-128", [uring, "127.0.0.1:123", "128"], cpu),
        ("cloudtimed, 1 thread, 1 CPU", "cloudtimed-1", one, cpu),
        ("cloudtimed, 1 thread, both CPUs", "cloudtimed-1-both", one, both),
        ("cloudtimed, 2 threads, both CPUs", "cloudtimed-2-both", two, both),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=400_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sources", type=int, default=1000)
    args = parser.parse_args()
    rb.harness.require_root()
    before = rb.harness.kernel_time_state()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cloudtime-io-") as workdir, \
            rb.harness.network_namespace("ct-io") as ns:
        for label, name, cmd, cpus in variants(workdir):
            runs, offered = [], []
            for _ in range(args.repeat):
                r = rb.saturate(ns, workdir, name, cmd, args.rate, args.seconds, args.sources, cpus)
                runs.append(r["server_answered_per_s"] or 0)
                offered.append(r["generator_sent"] / args.seconds)
            rows.append((label, cpus, statistics.median(runs), runs))
            print(f"  {label:<34} cpus {cpus:<4} {statistics.median(runs):>10.0f} replies/s  "
                  f"runs {[round(r) for r in runs]}, generator sent "
                  f"{statistics.median(offered):.0f}/s", flush=True)
    if rb.harness.kernel_time_state()[:2] != before[:2]:
        raise SystemExit("the kernel's time state changed during the benchmark")
    base = rows[0][2]
    print(f"\n| variant | CPUs | saturated replies/s (median of {args.repeat}) | vs reflector poll |")
    print("| --- | --- | ---: | ---: |")
    for label, cpus, median, _ in rows:
        figure = f"{median:,.0f}".replace(",", " ")
        print(f"| {label} | {cpus} | {figure} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
