#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A/B of two cloudtimed builds: CPU time per 1000 replies at one fixed rate, each pinned to
CPU 1 with one thread and rate limiting off, loaded by `cloudtime bench` on CPU 0 from 100
sources; the builds alternate for --rounds rounds and the medians are compared. For changes
that must not slow the hot path (a refactor, a new per-datagram step).

    sudo ./bench/ab_cpu.py --before OLD/bin/cloudtimed [--after build/bin/cloudtimed]
                           [--rate 150000] [--rounds 5] [--scrape-after] [--nts]

--scrape-after: the "after" run has [metrics] on and is scraped (GET /metrics) every 100 ms
while it serves, 150 times Prometheus's usual rate: what a scrape costs the workers.
--nts: both serve NTS (a certificate made here, NTS-KE on 127.0.0.1:12460) and every request
is an NTS request (`cloudtime bench --nts`: one key establishment, every reply verified); use
a rate the NTS path sustains (bench/nts_benchmark.py), e.g. --rate 40000.

CPU time comes from /proc/PID/stat (10 ms ticks): keep rate x 3 s well above 1000 replies.
Loopback only (127.0.0.1:12123).
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
import harness  # noqa: E402
CONFIG = '[clock]\nsource = "local"\n[rate_limit]\nenabled = false\n[status]\nsocket = ""\n'
TARGET = "127.0.0.1:12123"
METRICS = "127.0.0.1:12124"
NTS_KE_PORT = 12460


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape_until(stop):
    """GET /metrics every 100 ms until `stop` is set; how many scrapes answered."""
    answered = 0
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=2) as r:
                answered += r.status == 200
        except OSError:
            pass
        stop.wait(0.1)
    return answered


def one_run(binary, bench, config, rate, scrape=False, nts_ca=None):
    server = subprocess.Popen(["taskset", "-c", "1", binary, "--config", config, "--listen",
                               TARGET, "--threads", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        before = cpu_seconds(server.pid)
        stop = threading.Event()
        scraped = []
        scraper = threading.Thread(target=lambda: scraped.append(scrape_until(stop)))
        if scrape:
            scraper.start()
        nts = ["--nts", "--nts-port", str(NTS_KE_PORT), "--nts-ca", nts_ca] if nts_ca else []
        out = subprocess.run(["taskset", "-c", "0", bench, "bench", "--json", "--rate",
                              str(rate), "--duration", "3", "--sources", "100", *nts, TARGET],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        used = cpu_seconds(server.pid) - before
        if scrape:
            stop.set()
            scraper.join()
            if not scraped or scraped[0] == 0:
                raise SystemExit("--scrape-after: no scrape was answered")
    finally:
        server.terminate()
        server.wait()
    result = json.loads(out)
    return used / max(1, result["answered"]) * 1e3 * 1e6, result["loss_ratio"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", default=os.path.join(ROOT, "build/bin/cloudtimed"))
    parser.add_argument("--bench", default=os.path.join(ROOT, "build/bin/cloudtime"))
    parser.add_argument("--rate", type=int, default=150000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrape-after", action="store_true")
    parser.add_argument("--nts", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="cloudtime-ab-")
    config = CONFIG
    cert = None
    if args.nts:
        cert, key = harness.self_signed_certificate(work)
        config += ('[server]\nuser = ""\n'
                   f'[nts]\nenabled = true\ncertificate = "{cert}"\nprivate_key = "{key}"\n'
                   f'ke_port = {NTS_KE_PORT}\nkey_file = "{work}/nts-keys"\n')
    configs = {"before": os.path.join(work, "before.toml"), "after": os.path.join(work, "after.toml")}
    with open(configs["before"], "w") as f:
        f.write(config)
    with open(configs["after"], "w") as f:
        f.write(config + (f'[metrics]\nenabled = true\nlisten = "{METRICS}"\n'
                          if args.scrape_after else ""))
    results = {"before": [], "after": []}
    for round_ in range(args.rounds):
        for name in ("before", "after"):
            us, loss = one_run(getattr(args, name), args.bench, configs[name], args.rate,
                               scrape=args.scrape_after and name == "after", nts_ca=cert)
            results[name].append(us)
            print(f"round {round_} {name}: {us:.0f} us CPU per 1000 replies (loss {loss:.4f})",
                  flush=True)
    before = statistics.median(results["before"])
    after = statistics.median(results["after"])
    print(f"median before {before:.0f} us, after {after:.0f} us per 1000 replies: "
          f"after/before {after / before:.3f}")


if __name__ == "__main__":
    main()
