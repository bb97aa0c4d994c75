#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What a client ends up with: a chronyd client measuring cloudtimed and chronyd 4.3 over the
same veth link, both serving this host's clock (so the true offset is 0), in basic and in
interleaved mode (`xleave`), idle and while the server is loaded from another namespace at
half its lossless rate on that link.

Three namespaces, made and removed by this script, link-local addresses only:

    client  169.254.99.10  --veth--  server 169.254.99.1 (cloudtimed), 169.254.99.2 (chronyd)
    load    169.254.98.2   --veth--  server 169.254.98.1

Both servers are pinned to CPU 1 (one thread each; rate limiting off in both); the client
chronyd (`-x`, `minpoll -3 maxpoll -3`: 8 requests a second, `log measurements`) and the load
generator (`cloudtime bench`) to CPU 0. Each row is one client run against one server alone;
rows alternate between the servers, `--rounds` times; the table gives medians over rounds of
each run's |mean offset| and standard deviation of the offsets chronyd measured (the first
`--settle` seconds left out).

    sudo ./bench/accuracy.py [--seconds 20] [--rounds 3] [--json FILE]
"""

import argparse
import calendar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
import harness  # noqa: E402

BIN = os.path.join(ROOT, "build/bin")
SERVER_CPU = "1"
CLIENT_CPU = "0"
SERVERS = {"cloudtimed": "169.254.99.1", "chronyd": "169.254.99.2"}
# The top is about what one generator thread sends over veth on this machine: a server that
# is lossless there is reported at it, and loaded at half of it.
LADDER = [10_000, 25_000, 50_000, 75_000, 100_000, 125_000, 150_000, 200_000, 250_000, 300_000]


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Topology:
    """client <-> server <-> load, veth links, removed on exit."""

    def __init__(self):
        tag = os.urandom(3).hex()
        self.client, self.server, self.load = (f"ct-acc-{n}-{tag}" for n in ("c", "s", "l"))
        self.names = [self.client, self.server, self.load]
        for ns in self.names:
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("link", "add", "acc-s0", "netns", self.server, "type", "veth", "peer", "name", "acc-c0",
           "netns", self.client)
        ip("link", "add", "acc-s1", "netns", self.server, "type", "veth", "peer", "name", "acc-l0",
           "netns", self.load)
        ip("-n", self.server, "addr", "add", "169.254.99.1/24", "dev", "acc-s0")
        ip("-n", self.server, "addr", "add", "169.254.99.2/24", "dev", "acc-s0")
        ip("-n", self.client, "addr", "add", "169.254.99.10/24", "dev", "acc-c0")
        ip("-n", self.server, "addr", "add", "169.254.98.1/24", "dev", "acc-s1")
        ip("-n", self.load, "addr", "add", "169.254.98.2/24", "dev", "acc-l0")
        for ns, dev in ((self.server, "acc-s0"), (self.server, "acc-s1"), (self.client, "acc-c0"),
                        (self.load, "acc-l0")):
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", self.load, "route", "add", "169.254.99.0/24", "via", "169.254.98.1")

    def remove(self):
        for ns in self.names:
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                subprocess.run(["kill", "-9", pid], capture_output=True)
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def start_server(topo, workdir, name, extra=""):
    if name == "cloudtimed":
        conf = os.path.join(workdir, "cloudtimed.toml")
        with open(conf, "w") as f:
            f.write(f'[server]\nthreads = 1\nuser = ""\n{extra}[clock]\nsource = "local"\n'
                    '[rate_limit]\nenabled = false\n')
        cmd = [os.path.join(args_bin(), "cloudtimed"), "--config", conf, "--listen",
               f"{SERVERS[name]}:123", "--log-level", "warn", "--runtime-directory", workdir,
               "--status-socket", os.path.join(workdir, "status.sock")]
    else:
        conf = os.path.join(workdir, "chrony-server.conf")
        with open(conf, "w") as f:
            f.write(f"port 123\nbindaddress {SERVERS[name]}\nallow all\nlocal stratum 8\n"
                    f"cmdport 0\nbindcmdaddress {workdir}/server.sock\n"
                    f"pidfile {workdir}/server.pid\ndriftfile {workdir}/server.drift\n")
        cmd = ["chronyd", "-x", "-d", "-u", "root", "-f", conf]
    return subprocess.Popen(["ip", "netns", "exec", topo.server, "taskset", "-c", SERVER_CPU]
                            + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


BIN_OVERRIDE = []


def args_bin():
    """cloudtimed's directory: --bin (a build to compare), else this checkout's."""
    return BIN_OVERRIDE[0] if BIN_OVERRIDE else BIN


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(topo, target, rate, seconds):
    p = subprocess.run(["ip", "netns", "exec", topo.load, "taskset", "-c", CLIENT_CPU,
                        os.path.join(BIN, "cloudtime"), "bench", "--json", "--rate", str(rate),
                        "--duration", str(seconds), f"{target}:123"],
                       capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise SystemExit(f"cloudtime bench failed: {p.stderr}")
    r = json.loads(p.stdout)
    r["loss"] = 1.0 - (r["answered"] + r["kod"]) / r["sent"] if r["sent"] else 1.0
    return r


def wait_answering(topo, target):
    for _ in range(60):
        if bench(topo, target, 100, 0.2)["loss"] < 0.5:
            return
        time.sleep(0.5)
    raise SystemExit(f"{target} does not answer")


def lossless_rate(topo, workdir, name):
    """The highest ladder rate with < 1 % loss from the load namespace (one 2 s run each)."""
    proc = start_server(topo, workdir, name)
    try:
        wait_answering(topo, SERVERS[name])
        best = 0
        for rate in LADDER:
            if bench(topo, SERVERS[name], rate, 2.0)["loss"] >= 0.01:
                break
            best = rate
        return best
    finally:
        stop(proc)


def parse_measurements(path, server, settle_until):
    """(offsets in seconds, modes) of chronyd's measurements.log lines for `server`."""
    offsets, modes = [], []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 20 or fields[2] != server or not re.match(r"\d{4}-", fields[0]):
                continue
            when = calendar.timegm(time.strptime(f"{fields[0]} {fields[1]}", "%Y-%m-%d %H:%M:%S"))
            if when < settle_until:
                continue
            offsets.append(float(fields[11]))
            modes.append(fields[17][-1])  # version and mode: "4B" basic, "4I" interleaved
    return offsets, modes


def client_run(topo, workdir, name, interleaved, load_rate, args):
    """One client chronyd against one server for --seconds; the server loaded at `load_rate`."""
    cdir = tempfile.mkdtemp(prefix="client-", dir=workdir)
    os.chmod(cdir, 0o755)
    conf = os.path.join(cdir, "chrony.conf")
    target = SERVERS[name]
    with open(conf, "w") as f:
        f.write(f"server {target} minpoll -3 maxpoll -3{' xleave' if interleaved else ''}\n"
                f"logdir {cdir}\nlog measurements\ncmdport 0\nbindcmdaddress {cdir}/sock\n"
                f"pidfile {cdir}/pid\ndriftfile {cdir}/drift\n")
    server = start_server(topo, workdir, name, args.server_extra)
    load = None
    try:
        wait_answering(topo, target)
        if load_rate:
            load = subprocess.Popen(
                ["ip", "netns", "exec", topo.load, "taskset", "-c", CLIENT_CPU,
                 os.path.join(BIN, "cloudtime"), "bench", "--json", "--rate", str(load_rate),
                 "--duration", str(args.seconds + 5), f"{target}:123"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)
        started = time.time()
        client = subprocess.Popen(["ip", "netns", "exec", topo.client, "taskset", "-c",
                                   CLIENT_CPU, "chronyd", "-x", "-d", "-u", "root", "-f", conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(args.seconds)
        stop(client)
        load_loss = None
        if load:
            out, _ = load.communicate(timeout=args.seconds + 60)
            r = json.loads(out)
            load_loss = 1.0 - (r["answered"] + r["kod"]) / r["sent"] if r["sent"] else None
    finally:
        if load and load.poll() is None:
            stop(load)
        stop(server)
    offsets, modes = parse_measurements(os.path.join(cdir, "measurements.log"), target,
                                        started + args.settle)
    shutil.rmtree(cdir, ignore_errors=True)
    if len(offsets) < 10:
        raise SystemExit(f"{name}: only {len(offsets)} measurements")
    return {"server": name, "mode": "interleaved" if interleaved else "basic",
            "load_rate": load_rate, "samples": len(offsets),
            "interleaved_share": modes.count("I") / len(modes),
            "mean_offset_us": statistics.fmean(offsets) * 1e6,
            "abs_mean_offset_us": abs(statistics.fmean(offsets)) * 1e6,
            "sd_us": statistics.stdev(offsets) * 1e6, "load_loss": load_loss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each client run")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds of each run left out at its start")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-cloudtimed", type=int, default=0,
                        help="load rate for cloudtimed (0: half its lossless rate, measured)")
    parser.add_argument("--load-chronyd", type=int, default=0,
                        help="load rate for chronyd (0: half its lossless rate, measured)")
    parser.add_argument("--modes", default="basic,interleaved")
    parser.add_argument("--loads", default="idle,loaded")
    parser.add_argument("--bin", help="the cloudtimed to measure (a build directory's bin)")
    parser.add_argument("--server-extra", default="",
                        help="lines added to cloudtimed's [server] section (experiments)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.bin:
        BIN_OVERRIDE.append(args.bin)
    harness.require_root()
    before = harness.kernel_time_state()
    topo = Topology()
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="cloudtime-accuracy-") as workdir:
            os.chmod(workdir, 0o755)
            loads = {}
            for name, given in (("cloudtimed", args.load_cloudtimed),
                                ("chronyd", args.load_chronyd)):
                if "loaded" not in args.loads:
                    loads[name] = 0
                    continue
                lossless = lossless_rate(topo, workdir, name) if not given else 2 * given
                loads[name] = lossless // 2
                top = " (the ladder's top: the generator's limit)" if lossless == LADDER[-1] else ""
                print(f"{name}: lossless {lossless}/s over the veth link{top}, load "
                      f"{loads[name]}/s", flush=True)
            for rnd in range(args.rounds):
                for interleaved in [m == "interleaved" for m in args.modes.split(",")]:
                    for loaded in [w == "loaded" for w in args.loads.split(",")]:
                        for name in SERVERS:
                            r = client_run(topo, workdir, name, interleaved,
                                           loads[name] if loaded else 0, args)
                            r["round"] = rnd
                            runs.append(r)
                            print(f"  round {rnd + 1} {name:<10} {r['mode']:<11} load "
                                  f"{r['load_rate']:>6}/s  mean {r['mean_offset_us']:+7.3f} us"
                                  f"  sd {r['sd_us']:7.3f} us  ({r['samples']} samples, "
                                  f"{r['interleaved_share'] * 100:.0f} % interleaved)", flush=True)
    finally:
        topo.remove()
    if harness.kernel_time_state()[:2] != before[:2]:
        raise SystemExit("the kernel's time state changed during the benchmark")

    rows = []
    print(f"\n{'mode':<12}{'load':<10}{'server':<11}{'|mean offset|':>14}{'sd':>10}"
          f"{'interleaved':>12}{'vs chronyd |mean|':>19}{'sd':>7}")
    for interleaved in args.modes.split(","):
        for loaded in [w == "loaded" for w in args.loads.split(",")]:
            medians = {}
            for name in SERVERS:
                rs = [r for r in runs if r["server"] == name and r["mode"] == interleaved
                      and bool(r["load_rate"]) == loaded]
                medians[name] = {
                    "mean": statistics.median(r["abs_mean_offset_us"] for r in rs),
                    "sd": statistics.median(r["sd_us"] for r in rs),
                    "share": statistics.median(r["interleaved_share"] for r in rs),
                    "load": rs[0]["load_rate"]}
            for name in SERVERS:
                m, c = medians[name], medians["chronyd"]
                rows.append({"mode": interleaved, "loaded": loaded, "server": name, **m})
                print(f"{interleaved:<12}{('%d/s' % m['load']) if loaded else 'idle':<10}"
                      f"{name:<11}{m['mean']:>11.3f} us{m['sd']:>7.3f} us{m['share'] * 100:>11.0f}%"
                      f"{m['mean'] / c['mean']:>18.2f}x{m['sd'] / c['sd']:>6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
