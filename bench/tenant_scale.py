#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cloudtimed serving many tenant networks at once: N namespaces named like ML2/OVN's
(ovnmeta-scale-*), each with 169.254.169.254 and fe80::a9fe:a9fe on a veth interface. Reports
the time to attach them all (at start and live), the daemon's fds and RSS per namespace, that
every namespace answers, and whether the hot path changed (the load generator on the main
socket with and without the N namespaces attached). Everything is removed afterwards.

    sudo ./bench/tenant_scale.py [--namespaces 200] [--rate 50000] [--duration 3]
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests/integration"))
import harness  # noqa: E402

BIN = os.path.join(os.path.dirname(HERE), "build/bin")


def ip_batch(commands):
    """Runs many `ip` commands in one process (ip -batch), fast for hundreds of namespaces."""
    with tempfile.NamedTemporaryFile("w", suffix=".ip", delete=False) as f:
        f.write("\n".join(commands) + "\n")
    try:
        subprocess.run(["ip", "-batch", f.name], check=True, capture_output=True, text=True)
    finally:
        os.unlink(f.name)


def create(names):
    ip_batch([f"netns add {n}" for n in names])
    for n in names:  # a veth pair inside the namespace stands in for the metadata port
        subprocess.run(["ip", "-n", n, "-batch", "-"], check=True, capture_output=True, text=True,
                       input="link set lo up\nlink add md0 type veth peer name md1\n"
                             "addr add 169.254.169.254/32 dev md0\n"
                             "addr add fe80::a9fe:a9fe/64 dev md0 nodad\n"
                             "link set md0 up\nlink set md1 up\n")


def remove(names):
    for n in names:
        subprocess.run(["ip", "netns", "delete", n], capture_output=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def served_count(daemon, prefix):
    """Addresses served so far (a log line may name several)."""
    lines = re.findall(rf"tenant network {prefix}\S+: serving NTP on ([^;\n]+)", daemon.read_log())
    return sum(len(line.split(", ")) for line in lines)


def wait_all_served(daemon, prefix, count, timeout=120):
    start = time.monotonic()
    while served_count(daemon, prefix) < count:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {served_count(daemon, prefix)} of {count} served")
        time.sleep(0.01)
    return time.monotonic() - start


def bench_main(daemon, rate, duration):
    p = subprocess.run([os.path.join(BIN, "cloudtime"), "bench", "--json", "--rate", str(rate),
                        "--duration", str(duration), "--sources", "100", daemon.address],
                       capture_output=True, text=True, timeout=120, check=True)
    return json.loads(p.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    harness.require_root()
    prefix = f"ovnmeta-scale{secrets.token_hex(2)}-"
    names = [f"{prefix}{i:04d}" for i in range(args.namespaces)]
    config = (harness.LOCAL_CONFIG + f'[server]\nthreads = 1\n'
              f'[tenant_networks]\nenabled = true\npatterns = ["{prefix}*"]\n')
    result = {"namespaces": args.namespaces}
    try:
        # Live: the daemon runs first, then the namespaces appear.
        daemon = harness.Daemon(config=config)
        try:
            time.sleep(0.5)
            fd0, rss0 = fds(daemon.proc.pid), rss_kib(daemon.proc.pid)
            before = [bench_main(daemon, args.rate, args.duration) for _ in range(args.repeat)]
            t0 = time.monotonic()
            create(names)
            created = time.monotonic() - t0
            result["live_attach_s"] = wait_all_served(daemon, prefix, 2 * len(names)) + created
            result["create_namespaces_s"] = created
            time.sleep(0.5)
            result["fds_per_namespace"] = (fds(daemon.proc.pid) - fd0) / len(names)
            result["rss_kib_per_namespace"] = (rss_kib(daemon.proc.pid) - rss0) / len(names)
            after = [bench_main(daemon, args.rate, args.duration) for _ in range(args.repeat)]
            for key, runs in (("without", before), ("with", after)):
                result[f"main_socket_{key}_namespaces"] = {
                    "answered_ratio": statistics.median(r["answered"] / r["sent"] for r in runs),
                    "processing_p50_us": statistics.median(r["server_processing"]["p50_s"] for r in runs) * 1e6,
                    "processing_p99_us": statistics.median(r["server_processing"]["p99_s"] for r in runs) * 1e6,
                }
            answered = 0
            for n in names:
                rc, _, _ = harness.run_query("169.254.169.254", "-n", "1", "-t", "1", netns=n)
                answered += rc == 0
            result["namespaces_answering"] = answered
        finally:
            daemon.cleanup()
        # At start: the namespaces exist before the daemon.
        daemon = harness.Daemon(config=config)
        try:
            result["start_attach_s"] = wait_all_served(daemon, prefix, 2 * len(names))
        finally:
            daemon.cleanup()
    finally:
        remove(names)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
