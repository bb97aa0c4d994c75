#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""NTS serving, one run, one load generator: cloudtimed beside chronyd 4.3, both serving NTS
(RFC 8915) on 127.0.0.1 (NTP 123, NTS-KE 4460) in turn, inside a network namespace this script
creates and removes, with one certificate the script makes.

The setup of run_benchmark.py: each server pinned to CPU 1 with one thread, rate limiting off;
the load generator (`cloudtime bench --nts`: one key establishment, then every request with a
unique identifier, a cookie and an authenticator, every reply verified) on CPU 0. For each
server: the rate ladder (highest rate with < 1 % loss, median of --repeat runs per step), the
server's CPU time per reply, peak RSS and processing time at half that rate, and a saturation
run counted by the server itself. Replies that do not verify count as lost.

    sudo ./bench/nts_benchmark.py [--duration 2] [--repeat 3] [--sources 1000] [--json FILE]
"""

import argparse
import json
import os
import sys
import tempfile

import run_benchmark as common
from run_benchmark import harness

KE_PORT = 4460


def server_commands(workdir, cert, key):
    conf = os.path.join(workdir, "cloudtimed-nts.toml")
    with open(conf, "w") as f:
        # As root, like the chronyd beside it (the key file is in this script's directory).
        f.write('[server]\nthreads = 1\nuser = ""\n[clock]\nsource = "local"\n'
                '[rate_limit]\nenabled = false\n'
                f'[nts]\nenabled = true\ncertificate = "{cert}"\nprivate_key = "{key}"\n'
                f'ke_port = {KE_PORT}\nkey_file = "{workdir}/nts-keys"\n')
    chrony_conf = os.path.join(workdir, "chrony-nts.conf")
    with open(chrony_conf, "w") as f:
        f.write(f"port 123\nbindaddress 127.0.0.1\nallow 127.0.0.0/8\nlocal stratum 8\n"
                f"ntsserverkey {key}\nntsservercert {cert}\nntsport {KE_PORT}\n"
                f"ntsdumpdir {workdir}\n"
                f"cmdport 0\nbindcmdaddress {workdir}/chronyd.sock\n"
                f"pidfile {workdir}/chronyd.pid\ndriftfile {workdir}/drift\n")
    return {
        "cloudtimed": [os.path.join(common.BIN, "cloudtimed"), "--config", conf, "--listen",
                       "127.0.0.1:123", "--log-level", "warn"],
        "chronyd": ["chronyd", "-x", "-d", "-u", "root", "-f", chrony_conf],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--servers", default="cloudtimed,chronyd")
    parser.add_argument("--saturate-rate", type=int, default=2_000_000,
                        help="offered rate of the saturation run (0: skip)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    harness.require_root()
    before = harness.kernel_time_state()
    results = []
    with tempfile.TemporaryDirectory(prefix="cloudtime-nts-bench-") as workdir, \
            harness.network_namespace("ct-ntsbench") as ns:
        cert, key = harness.self_signed_certificate(workdir)
        extra = ("--nts", "--nts-ca", cert, "--nts-port", str(KE_PORT))
        commands = server_commands(workdir, cert, key)
        for name in args.servers.split(","):
            result = common.measure(ns, name, commands[name], args, extra)
            if args.saturate_rate > 0:
                result["saturated"] = common.saturate(ns, workdir, name, commands[name],
                                                      args.saturate_rate, 5.0, args.sources,
                                                      extra=extra)
            results.append(result)
    if harness.kernel_time_state()[:2] != before[:2]:
        raise SystemExit("the kernel's time state changed during the benchmark")

    by_name = {r["server"]: r for r in results}
    print(f"\nNTS: {'server':<11}{'lossless/s':>11}{'replies/cpu-s':>14}{'peak RSS':>10}"
          f"{'proc p50':>10}{'proc p99':>10}{'saturated/s':>12}{'vs chronyd':>11}")
    reference = (by_name.get("chronyd", {}).get("saturated") or {}).get("server_answered_per_s")
    for r in results:
        saturated = (r.get("saturated") or {}).get("server_answered_per_s")
        print(f"     {r['server']:<11}{r['lossless_rate']:>11}"
              f"{r.get('replies_per_cpu_second') or 0:>14.0f}"
              f"{r.get('peak_rss_kib', 0) / 1024:>8.1f}Mi"
              f"{r.get('processing_p50_us', 0):>8.1f}us{r.get('processing_p99_us', 0):>8.1f}us"
              f"{saturated or 0:>12.0f}"
              + (f"{saturated / reference:>10.2f}x" if saturated and reference else f"{'-':>11}"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"servers": results}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
