#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""One run, one load generator, one core budget: cloudtimed beside chronyd, ntpsec's ntpd and a
bare recvmmsg/sendmmsg reflector (the physical limit), all serving 127.0.0.1:123 in turn inside
a network namespace this script creates and removes.

Each server is pinned to CPU 1 with one thread; the load generator (`cloudtime bench`) runs
on CPU 0. Rate limiting is off in every server. For each server: a rate ladder finds the
highest rate with < 1 % loss (median of --repeat runs per step), then the server's CPU time
per 1000 replies, its peak RSS, and the processing time (transmit minus receive, from the
replies) at half that rate.

    sudo ./bench/run_benchmark.py [--duration 2] [--repeat 3] [--sources 1000] [--json FILE]

ntpsec is not installed (it conflicts with chrony): its package is downloaded from the Debian
mirror and unpacked into bench/.cache, and its ntpd runs without CAP_SYS_TIME so that it
cannot touch this host's clock (it answers unsynchronized, which costs it the same work).
"""

import argparse
import ctypes
import glob
import json
import os
import re
import socket
import struct
import threading
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
CACHE = os.path.join(HERE, ".cache")
RATES = [5_000, 10_000, 15_000, 25_000, 50_000, 75_000, 100_000, 125_000, 150_000, 200_000, 250_000, 300_000,
         400_000, 500_000, 600_000, 800_000]
SERVER_CPU = "1"
LOAD_CPU = "0"


def ntpsec_ntpd():
    ntpd = os.path.join(CACHE, "ntpsec/usr/sbin/ntpd")
    if not os.path.exists(ntpd):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["apt-get", "download", "ntpsec"], cwd=CACHE, check=True,
                       capture_output=True)
        deb = sorted(glob.glob(os.path.join(CACHE, "ntpsec_*.deb")))[-1]
        subprocess.run(["dpkg", "-x", deb, os.path.join(CACHE, "ntpsec")], check=True)
    return ntpd


def cloudtimed_command(workdir, rate_limit, threads=1):
    conf = os.path.join(workdir, f"cloudtimed-{rate_limit}-{threads}.toml")
    with open(conf, "w") as f:
        f.write(f'[server]\nthreads = {threads}\n[clock]\nsource = "local"\n'
                f'[rate_limit]\nenabled = {"true" if rate_limit else "false"}\n')
    return [os.path.join(BIN, "cloudtimed"), "--config", conf, "--listen", "127.0.0.1:123",
            "--log-level", "warn"]


def server_commands(workdir):
    chrony_conf = os.path.join(workdir, "chrony.conf")
    with open(chrony_conf, "w") as f:
        f.write(f"port 123\nbindaddress 127.0.0.1\nallow 127.0.0.0/8\nlocal stratum 8\n"
                f"cmdport 0\nbindcmdaddress {workdir}/chronyd.sock\n"
                f"pidfile {workdir}/chronyd.pid\ndriftfile {workdir}/drift\n")
    ntp_conf = os.path.join(workdir, "ntp.conf")
    with open(ntp_conf, "w") as f:
        f.write(f"refclock local stratum 8\nrestrict default\ndriftfile {workdir}/ntp.drift\n")
    return {
        "reflector": [os.path.join(BIN, "ntp_reflector"), "127.0.0.1:123"],
        "cloudtimed": cloudtimed_command(workdir, rate_limit=False),
        "chronyd": ["chronyd", "-x", "-d", "-u", "root", "-f", chrony_conf],
        "ntpsec": ["setpriv", "--bounding-set=-sys_time", ntpsec_ntpd(), "-n", "-c", ntp_conf],
    }


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def load(ns, rate, duration, sources, interleaved=False, extra=()):
    """`cloudtime bench` from CPU 0; `extra`: more of its options (--nts ...)."""
    p = subprocess.run(["ip", "netns", "exec", ns, "taskset", "-c", LOAD_CPU,
                        os.path.join(BIN, "cloudtime"), "bench", "--json", "--rate", str(rate),
                        "--duration", str(duration), "--sources", str(sources),
                        *(["--interleaved"] if interleaved else []), *extra,
                        "127.0.0.1:123"], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"cloudtime bench failed: {p.stderr}")
    r = json.loads(p.stdout)
    replies = r["answered"] + r["kod"]  # ntpsec answers unsynchronized (kiss code INIT)
    r["replies"] = replies
    r["loss"] = 1.0 - replies / r["sent"] if r["sent"] else 1.0
    return r


def measure(ns, name, cmd, args, extra=()):
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", SERVER_CPU] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(ns, name, proc, extra)
        best = None
        for rate in RATES:
            runs = [load(ns, rate, args.duration, args.sources, extra=extra)
                    for _ in range(args.repeat)]
            loss = statistics.median(r["loss"] for r in runs)
            print(f"  {name:<10} {rate:>8}/s  loss {loss * 100:6.2f} %  "
                  f"(generator sent {statistics.median(r['sent'] for r in runs) / args.duration:.0f}/s)",
                  flush=True)
            if loss >= 0.01:
                break
            best = rate
        if best is None:
            return {"server": name, "lossless_rate": 0}
        half = best // 2
        cpu_before = cpu_seconds(proc.pid)
        runs = [load(ns, half, args.duration, args.sources, extra=extra)
                for _ in range(args.repeat)]
        cpu = cpu_seconds(proc.pid) - cpu_before
        replies = sum(r["replies"] for r in runs)
        return {
            "server": name,
            "lossless_rate": best,
            "cpu_ms_per_1000_replies": 1000.0 * cpu / replies * 1000 if replies else None,
            # Replies one fully busy core would give at this cost: a capacity that does not
            # depend on whether the load generator can keep up.
            "replies_per_cpu_second": replies / cpu if cpu > 0 else None,
            "peak_rss_kib": peak_rss_kib(proc.pid),
            "processing_p50_us": statistics.median(r["server_processing"]["p50_s"] for r in runs) * 1e6,
            "processing_p99_us": statistics.median(r["server_processing"]["p99_s"] for r in runs) * 1e6,
            "latency_p50_us": statistics.median(r["latency"]["p50_s"] for r in runs) * 1e6,
            "latency_p99_us": statistics.median(r["latency"]["p99_s"] for r in runs) * 1e6,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_answering(ns, name, proc, extra=()):
    """Probes until the server answers; returns how many probe requests it was sent."""
    deadline = time.monotonic() + 30
    probes = 0
    while True:
        try:
            r = load(ns, 100, 0.2, 1, extra=extra)
        except SystemExit:  # an NTS-KE before the server listens
            r = {"sent": 0, "replies": 0}
        probes += r["sent"]
        if r["replies"] >= 15:
            return probes
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"{name} did not start answering")
        time.sleep(0.5)


def saturate(ns, workdir, name, cmd, rate, seconds, sources, cpus=SERVER_CPU, extra=()):
    """Offers `rate` (beyond what the generator can read back) to a fresh server and counts
    what the *server* says it answered: its capacity on `cpus`, whatever the generator's.
    `name` starts with the kind of server: cloudtimed, chronyd or a reflector. With NTS in
    `extra`, only the authenticated replies count."""
    nts = "--nts" in extra
    if name.startswith("cloudtimed"):
        cmd = [c if c != "warn" else "info" for c in cmd]  # counters at exit
    log_path = os.path.join(workdir, f"{name}-saturate.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", cpus] + cmd,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            probes = wait_answering(ns, name, proc, extra)
            r = load(ns, rate, seconds, sources, extra=extra)
            answered = None
            if name == "chronyd":
                out = subprocess.run(["chronyc", "-h", f"{workdir}/chronyd.sock", "serverstats"],
                                     capture_output=True, text=True, timeout=10).stdout
                received = re.search(r"NTP packets received\s*:\s*(\d+)", out)
                dropped = re.search(r"NTP packets dropped\s*:\s*(\d+)", out)
                authenticated = re.search(r"Authenticated NTP packets\s*:\s*(\d+)", out)
                if nts and authenticated:
                    answered = int(authenticated.group(1))
                elif received and dropped and not nts:
                    answered = int(received.group(1)) - int(dropped.group(1))
        finally:
            proc.terminate()
            proc.wait(10)
    with open(log_path) as f:
        text = f.read()
    if name.startswith("cloudtimed"):
        found = re.findall(r"counters: .*\bnts=(\d+)" if nts else
                           r"counters: received=\d+ answered=(\d+)", text)
        answered = int(found[-1]) if found else None
    elif "reflector" in name:
        found = re.findall(r"reflected (\d+)", text)
        answered = int(found[-1]) if found else None
    sent = {"offered": rate, "generator_sent": r["sent"], "generator_sending_s": r["sending_s"]}
    if answered is None:
        return {**sent, "server_answered_per_s": None}
    return {**sent, "server_answered_per_s": (answered - probes) / r["sending_s"]}


class RealClient(threading.Thread):
    """One well-behaved client polling at 1 Hz from an address outside the flood's range."""

    def __init__(self, ns_pid, count):
        super().__init__(daemon=True)
        self.ns_pid = ns_pid
        self.count = count
        self.answered = 0

    def run(self):
        # Enter the namespace in this thread only (setns is per thread; Python 3.11 has no
        # os.setns).
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        fd = os.open(f"/proc/{self.ns_pid}/ns/net", os.O_RDONLY)
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns")
        os.close(fd)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.200.0.1", 0))
            s.settimeout(0.9)
            for _ in range(self.count):
                start = time.monotonic()
                request = harness.ntp_request()
                s.sendto(request, ("127.0.0.1", 123))
                try:
                    while True:
                        r = harness.decode_reply(s.recv(2048))
                        if r["origin"] == struct.unpack("!Q", request[40:48])[0]:
                            if r["mode"] == 4 and r["stratum"] != 0:
                                self.answered += 1
                            break
                except socket.timeout:
                    pass
                time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))


def flood(ns, workdir, rate, seconds, interleaved=False):
    """cloudtimed with rate limiting on, flooded from 1,000,000 sources at `rate`, while a
    real client polls once a second: its answer ratio and cloudtimed's peak RSS. With
    `interleaved`, every flood request names an exchange (a record and a kernel transmit
    stamp per reply: interleaved mode's worst case)."""
    log_path = os.path.join(workdir, f"flood-{rate}.log")
    log = open(log_path, "w")
    command = cloudtimed_command(workdir, rate_limit=True)
    command[command.index("warn")] = "info"  # the counters at exit
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", SERVER_CPU] + command,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        client = RealClient(proc.pid, int(seconds))
        client.start()
        r = load(ns, rate, seconds, 1_000_000, interleaved)
        client.join()
        rss = peak_rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    with open(log_path) as f:
        lines = [l for l in f if "counters:" in l]
    server = dict((k, int(v)) for k, v in re.findall(r"(\S+)=(\d+)", lines[-1])) if lines else {}
    return {"flood_rate": rate, "flood_sources": 1_000_000, "interleaved": interleaved,
            "flood_sent": r["sent"],
            "flood_answered": r["answered"], "flood_kod": r["kod"],
            "server_received": server.get("received"), "server_answered": server.get("answered"),
            "server_rate_limited": server.get("dropped.rate_limited"),
            "real_client_polls": client.count, "real_client_answered": client.answered,
            "peak_rss_kib": rss}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--servers", default="reflector,cloudtimed,chronyd,ntpsec")
    parser.add_argument("--saturate-rate", type=int, default=2_000_000,
                        help="offered rate of the saturation run, counted by the servers "
                             "themselves (0: skip)")
    parser.add_argument("--flood-seconds", type=float, default=20.0,
                        help="length of each flood run (0: skip the flood runs)")
    parser.add_argument("--flood-interleaved", action="store_true",
                        help="also flood with requests that name an exchange (each reply costs "
                             "a record and a kernel transmit stamp)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    harness.require_root()
    before = harness.kernel_time_state()
    results = []
    with tempfile.TemporaryDirectory(prefix="cloudtime-bench-") as workdir, \
            harness.network_namespace("ct-bench") as ns:
        commands = server_commands(workdir)
        for name in args.servers.split(","):
            result = measure(ns, name, commands[name], args)
            if args.saturate_rate > 0:
                result["saturated"] = saturate(ns, workdir, name, commands[name],
                                               args.saturate_rate, 5.0, args.sources)
            results.append(result)
        floods = []
        ours = next((r for r in results if r["server"] == "cloudtimed"), None)
        if args.flood_seconds > 0 and ours and ours["lossless_rate"]:
            for rate in (ours["lossless_rate"], 2 * ours["lossless_rate"]):
                floods.append(flood(ns, workdir, rate, args.flood_seconds))
                if args.flood_interleaved:
                    floods.append(flood(ns, workdir, rate, args.flood_seconds, True))
    if harness.kernel_time_state()[:2] != before[:2]:
        raise SystemExit("the kernel's time state changed during the benchmark")

    by_name = {r["server"]: r for r in results}
    print(f"\n{'server':<11}{'lossless/s':>11}{'cpu ms/1k':>10}{'replies/cpu-s':>14}{'peak RSS':>10}"
          f"{'proc p50':>10}{'proc p99':>10}{'vs chronyd':>11}{'vs reflector':>13}")
    for r in results:
        def ratio(other):
            o = by_name.get(other, {}).get("lossless_rate")
            return f"{r['lossless_rate'] / o:.2f}x" if o else "-"
        print(f"{r['server']:<11}{r['lossless_rate']:>11}"
              f"{r.get('cpu_ms_per_1000_replies') or 0:>10.2f}"
              f"{r.get('replies_per_cpu_second') or 0:>14.0f}"
              f"{r.get('peak_rss_kib', 0) / 1024:>8.1f}Mi"
              f"{r.get('processing_p50_us', 0):>8.1f}us{r.get('processing_p99_us', 0):>8.1f}us"
              f"{ratio('chronyd'):>11}{ratio('reflector'):>13}")
    print("\nsaturated (offered {} /s for 5 s; replies counted by the server itself):".format(
        args.saturate_rate))
    for r in results:
        s = r.get("saturated") or {}
        v = s.get("server_answered_per_s")
        ref = (by_name.get("chronyd", {}).get("saturated") or {}).get("server_answered_per_s")
        print(f"  {r['server']:<11}" + (f"{v:>10.0f} replies/s" if v else "   not countable")
              + (f"   {v / ref:.2f}x chronyd" if v and ref else "")
              + f"   (generator sent {s.get('generator_sent', 0) / 5.0:.0f}/s)")
    for f in floods:
        print(f"flood {f['flood_rate']}/s from {f['flood_sources']} sources"
              f"{' (interleaved requests)' if f.get('interleaved') else ''} for "
              f"{args.flood_seconds:.0f} s (rate limiting on): sent {f['flood_sent']}, "
              f"cloudtimed received {f['server_received']} and answered "
              f"{f['server_answered']}, the generator got {f['flood_answered']}; real client answered "
              f"{f['real_client_answered']}/{f['real_client_polls']}, cloudtimed peak RSS "
              f"{f['peak_rss_kib'] / 1024:.1f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"servers": results, "floods": floods}, f, indent=2)


if __name__ == "__main__":
    main()
