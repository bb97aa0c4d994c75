# SPDX-License-Identifier: Apache-2.0
# cloudtime's facts gatherer: run inside a VM of a cloud we cannot reach (user-data; the VM may
# have no route anywhere), it gathers what `cloudtime check` judges, raw, and prints it on the
# console, where the cloud's API hands it back (`openstack console log show`). It judges
# nothing: `cloudtime check --console FILE` reads the record and applies the same rules as
# `cloudtime check` inside a VM. Python 3.5 and later, standard library only (an image that
# runs cloud-init has a Python 3). Shipped as the body of a `#!/bin/sh` user-data part
# (`cloudtime check --gatherer`); what it gathers is described in docs/design.md.
import base64
import binascii
import glob
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

WAIT_S = int(os.environ.get("CLOUDTIME_WAIT_S", "300"))
# For the tests on a host (never set in a VM): the directory the VM's files are read under,
# chronyc's command (with -h SOCKET), and where the record is written instead of the console.
ROOT = os.environ.get("CLOUDTIME_FACTS_ROOT", "")
CHRONYC = os.environ.get("CLOUDTIME_FACTS_CHRONYC", "chronyc").split()
CONSOLE = os.environ.get("CLOUDTIME_FACTS_CONSOLE", "/dev/console")
METADATA = "http://169.254.169.254/openstack/latest/"
LINK_LOCAL = ["169.254.169.254", "169.254.169.123", "fe80::a9fe:a9fe"]
LEASES = ["/var/lib/dhcp/dhclient*.leases", "/var/lib/dhclient/*.lease*",
          "/run/systemd/netif/leases/*", "/var/lib/NetworkManager/*.lease",
          "/run/NetworkManager/devices/*"]
TIMESYNCD_CONFIGS = ["/etc/systemd/timesyncd.conf", "/etc/systemd/timesyncd.conf.d/*.conf",
                     "/run/systemd/timesyncd.conf.d/*.conf"]
NTP_EPOCH = 2208988800
LINE = 76  # base64 characters per console line
SETTLED_S = 0.001  # chronyd's correction still to apply when the clock counts as converged


def run(*cmd):
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(timeout=10)
        return {"exit": p.returncode, "out": out.decode("utf-8", "replace"),
                "err": err.decode("utf-8", "replace")[-500:]}
    except Exception as e:  # not installed, hung: what happened is the fact
        return {"error": str(e)}


def http_get(url):
    try:
        import urllib.request
        with urllib.request.urlopen(url, timeout=5) as r:
            return {"status": r.status, "body": r.read(1 << 20).decode("utf-8", "replace")}
    except Exception as e:
        code = getattr(e, "code", None)
        return {"status": code} if code else {"error": str(e)}


def at(path):
    """A path of the VM as this process reaches it (ROOT: the tests)."""
    return ROOT + path


def read(path, limit=1 << 20):
    try:
        with open(at(path), "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except OSError as e:
        return None if e.errno == 2 else "error: " + str(e)


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return None


def files(patterns):
    out = {}
    for pattern in patterns:
        for found in sorted(glob.glob(at(pattern))):
            path = found[len(ROOT):]
            text = read(path)
            if text is not None:
                out[path] = text
    return out


def config_drive():
    """The config drive's openstack/latest files, mounted read-only where it is not yet."""
    device = "/dev/disk/by-label/config-2"
    if not os.path.exists(at(device)):
        device = "/dev/disk/by-label/CONFIG-2"
        if not os.path.exists(at(device)):
            return {"error": "no device labelled config-2"}
    mount = "/run/cloudtime-facts/config-2"
    try:
        os.makedirs(mount)
    except OSError:
        pass
    mounted = run("mount", "-o", "ro", at(device), mount)
    if mounted.get("exit") != 0:
        return {"error": "mount {}: {}".format(device, mounted.get("err") or mounted)}
    try:
        return {"device": device, "files": {
            name: read_file(os.path.join(mount, "openstack", "latest", name))
            for name in ("vendor_data.json", "vendor_data2.json", "meta_data.json")}}
    finally:
        run("umount", mount)


def exchange(address, port=123, scope=None):
    """One NTP client request (everything zero but the version, the mode and a random
    transmit field, RFC 9109's data minimization), its reply as hex, T1 and T4."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        nonce = random.getrandbits(64)
        request = struct.pack("!B47xQ", 0x23, nonce)[:40] + struct.pack("!Q", nonce)
        target = (address, port, 0, scope) if scope else (address, port)
        t1 = time.time()
        s.sendto(request, target)
        while True:
            data, _ = s.recvfrom(2048)
            t4 = time.time()
            if len(data) >= 48 and data[24:32] == request[40:48]:
                return {"t1": t1, "t4": t4, "nonce": "{:016x}".format(nonce),
                        "reply": base64.b64encode(data).decode()}
    except socket.timeout:
        return {"t1": t1, "lost": True}
    except OSError as e:
        return {"error": str(e)}
    finally:
        s.close()


def measure(address):
    scopes = [None]
    if address.lower().startswith("fe80:"):
        scopes = [socket.if_nametoindex(n) for n in os.listdir("/sys/class/net") if n != "lo"]
    out = []
    for scope in scopes:
        exchanges = []
        for i in range(4):
            exchanges.append(exchange(address, scope=scope))
            time.sleep(0.25)
        out.append({"scope": scope, "exchanges": exchanges})
    return out


def candidates(texts):
    """Addresses NTP servers may be named by in what was gathered (vendordata, leases, the
    client's configuration): every IPv4 or IPv6 literal after a server keyword, and the
    link-local ones. The host's rules say which of them are the cloud's."""
    found = list(LINK_LOCAL)
    pattern = re.compile(r"(?:server|pool|NTP=|ntp-servers|NTP|ntp_servers)[\s=:\"'\[]*"
                         r"([0-9a-fA-F:.,\s]+)")
    for text in texts:
        for m in pattern.finditer(text or ""):
            for word in re.split(r"[\s,]+", m.group(1)):
                if re.match(r"^\d+\.\d+\.\d+\.\d+$", word) or (":" in word and len(word) > 2):
                    if word not in found:
                        found.append(word)
    return found


def chrony():
    if not (os.path.exists("/usr/bin/chronyc") or os.path.exists("/bin/chronyc")):
        return None
    return {"tracking": run(*CHRONYC, "-c", "-n", "tracking"),
            "sources": run(*CHRONYC, "-c", "-n", "sources"),
            "authdata": run(*CHRONYC, "-c", "-n", "authdata"),
            "running": run("pidof", "chronyd").get("exit") == 0,
            "socket": os.path.exists(at("/run/chrony/chronyd.sock"))}


def synchronized():
    """Whether the VM's client says it is synchronized now (the gatherer waits for that)."""
    c = chrony()
    if c and c["running"]:
        t = c["tracking"].get("out", "").split(",")
        s = c["sources"].get("out", "")
        return len(t) > 13 and t[13].strip() == "Normal" and re.search(r"^.,\*,", s, re.M)
    return os.path.exists(at("/run/systemd/timesync/synchronized"))


def client_is_timesyncd():
    return run("pidof", "systemd-timesyncd").get("exit") == 0


def client_present():
    return (run("pidof", "chronyd").get("exit") == 0 or
            run("pidof", "systemd-timesyncd").get("exit") == 0)


def uptime():
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def correction():
    """How far chronyd still has to slew the clock onto its source (tracking's system time),
    in seconds; None without a chronyd to ask."""
    c = chrony()
    fields = c["tracking"].get("out", "").split(",") if c and c["running"] else []
    try:
        return abs(float(fields[4]))
    except (IndexError, ValueError):
        return None


def kernel_offset():
    """The offset the kernel's PLL still has to slew away (adjtimex, read only: modes 0), in
    seconds: where systemd-timesyncd keeps the time, its first offset goes there."""
    try:
        import ctypes
        import ctypes.util

        class Timex(ctypes.Structure):  # struct timex's head; the kernel fills all 208 bytes
            _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long),
                        ("freq", ctypes.c_long), ("maxerror", ctypes.c_long),
                        ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                        ("rest", ctypes.c_byte * 164)]

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = Timex()
        if libc.adjtimex(ctypes.byref(tx)) < 0:
            return None
        return abs(tx.offset) / (1e9 if tx.status & 0x2000 else 1e6)  # STA_NANO: ns, else us
    except (OSError, AttributeError, ValueError):
        return None


def gather():
    """Waits until the VM's client is synchronized and its clock has converged (chronyd slews a
    first offset away at a bounded rate, timesyncd through the kernel's PLL: a record taken at
    the first sign of synchronization shows the slew, not the cloud), or WAIT_S, or 30 s
    without any client; then gathers."""
    began = time.time()
    synced_at = synced_uptime = settled_at = None
    while time.time() - began < WAIT_S:
        if synchronized():
            if synced_at is None:
                synced_at, synced_uptime = time.time(), uptime()
            left = correction()
            if left is None and client_is_timesyncd():
                left = kernel_offset()
            if left is None or left < SETTLED_S:
                settled_at = time.time()
                break
        elif not client_present() and time.time() - began > 30:
            break
        time.sleep(2)
    facts = {"version": 1, "began": began, "synchronized_at": synced_at,
             "synchronized_uptime_s": synced_uptime, "settled_at": settled_at, "wait_s": WAIT_S,
             "clock_resolution_s": time.get_clock_info("time").resolution}
    facts["metadata"] = {name: http_get(METADATA + name)
                         for name in ("vendor_data2.json", "vendor_data.json", "meta_data.json")}
    facts["config_drive"] = config_drive()
    facts["leases"] = files(LEASES)
    facts["timesyncd"] = {"configs": files(TIMESYNCD_CONFIGS),
                          "synchronized": os.path.exists(at("/run/systemd/timesync/synchronized")),
                          "running": run("pidof", "systemd-timesyncd").get("exit") == 0}
    facts["chrony"] = chrony()
    facts["chrony_configs"] = files(["/etc/chrony/chrony.conf", "/etc/chrony.conf",
                                     "/etc/chrony/sources.d/*", "/run/chrony-dhcp/*"])
    ptp = at("/sys/class/ptp")
    facts["ptp"] = {name: read("/sys/class/ptp/{}/clock_name".format(name))
                    for name in (os.listdir(ptp) if os.path.isdir(ptp) else [])}
    facts["cloud_init"] = run("cloud-init", "--version")
    texts = [m.get("body") for m in facts["metadata"].values()]
    texts += list((facts["config_drive"].get("files") or {}).values())
    texts += list(facts["leases"].values()) + list(facts["timesyncd"]["configs"].values())
    texts += list(facts["chrony_configs"].values())
    if facts["chrony"]:
        texts.append("server " + " ".join(
            line.split(",")[2] for line in facts["chrony"]["sources"].get("out", "").splitlines()
            if line.count(",") > 3))
    facts["ntp"] = {address: measure(address) for address in candidates(texts)}
    facts["ended"] = time.time()
    return facts


def emit(facts):
    """The record, in lines a console can carry: numbered, with the payload's CRC-32 (a
    garbled or interleaved console line is found, not judged)."""
    payload = base64.b64encode(json.dumps(facts, sort_keys=True).encode()).decode()
    chunks = [payload[i:i + LINE] for i in range(0, len(payload), LINE)]
    digest = "{:08x}".format(binascii.crc32(payload.encode()) & 0xFFFFFFFF)
    lines = ["CLOUDTIME-FACTS-BEGIN 1 {}".format(len(chunks))]
    lines += ["CLOUDTIME-FACTS {} {}".format(i, c) for i, c in enumerate(chunks)]
    lines += ["CLOUDTIME-FACTS-END {} {}".format(len(chunks), digest)]
    # The kernel's console is the last console= of the command line; a cloud's console log is
    # its first serial port. Both, when they may differ: the last whole record counts.
    consoles = [word.split("=", 1)[1].split(",")[0]
                for word in (read_file("/proc/cmdline") or "").split()
                if word.startswith("console=")]
    targets = [CONSOLE]
    if CONSOLE == "/dev/console" and os.path.exists("/dev/ttyS0") and \
            (not consoles or consoles[-1] != "ttyS0"):
        targets.append("/dev/ttyS0")
    written = False
    for target in targets:
        try:
            out = os.open(target, os.O_WRONLY | os.O_NOCTTY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError:
            continue
        for line in lines:
            os.write(out, (line + "\r\n").encode())  # one write per line: nothing cuts in
        os.close(out)
        written = True
    if not written:
        for line in lines:
            sys.stdout.write(line + "\n")


if __name__ == "__main__":
    emit(gather())
