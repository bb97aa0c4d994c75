#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Measures cloudtimed and chronyd side by side with `cloudtime query`, in one run, on loopback.

Both serve this host's clock: cloudtimed with a `local` clock source, chronyd with
`local stratum 8` and -x (it never touches the clock). The queries alternate between the
two servers, round by round, so that machine noise falls on both alike. Prints the median
offset and delay over all samples of each server, and the per-round best-sample figures.

    ./bench/query_compare.py [--samples 20] [--rounds 5] [--interval 0.2]
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/integration"))
import harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--interleaved", action="store_true",
                        help="query in interleaved mode (cloudtime query --interleaved)")
    args = parser.parse_args()

    port = harness.free_udp_port()
    chronyd = harness.Chronyd([f"port {port}", "bindaddress 127.0.0.1", "allow 127.0.0.0/8",
                               "local stratum 8"])
    daemon = harness.Daemon(listen=("127.0.0.1:0",))
    targets = {"cloudtimed": daemon.address, "chronyd": f"127.0.0.1:{port}"}
    results = {name: {"offset": [], "delay": []} for name in targets}
    try:
        for _ in range(args.rounds):
            for name, target in targets.items():
                rc, data, err = harness.run_query(
                    target, "--samples", str(args.samples), "--interval", str(args.interval),
                    "-t", "1", *(["--interleaved"] if args.interleaved else []))
                if rc != 0:
                    raise SystemExit(f"{name}: query failed ({rc}): {err}")
                # Interleaved: only the samples measured so (the first is basic).
                samples = [s for s in data["samples"]
                           if not args.interleaved or s.get("interleaved")]
                results[name]["offset"] += [s["offset_s"] for s in samples]
                results[name]["delay"] += [s["delay_s"] for s in samples]
    finally:
        daemon.cleanup()
        chronyd.cleanup()

    print(f"cloudtime query{' --interleaved' if args.interleaved else ''} "
          f"--samples {args.samples} --interval {args.interval}, "
          f"{args.rounds} rounds per server, loopback")
    print(f"{'server':<12} {'samples':>7} {'median offset':>15} {'median |offset|':>16} "
          f"{'median delay':>14}")
    for name, r in results.items():
        print(f"{name:<12} {len(r['offset']):>7} {statistics.median(r['offset']) * 1e6:>12.2f} us "
              f"{statistics.median(abs(x) for x in r['offset']) * 1e6:>13.2f} us "
              f"{statistics.median(r['delay']) * 1e6:>11.2f} us")


if __name__ == "__main__":
    main()
