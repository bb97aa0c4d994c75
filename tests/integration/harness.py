# SPDX-License-Identifier: Apache-2.0
"""Helpers for cloudtime's integration tests: start real peers (cloudtimed, chronyd, ntpdig)
on loopback or inside network namespaces that the tests create and remove themselves.

Nothing here sends a packet beyond 127.0.0.0/8, ::1 or a namespace of our own, and nothing
changes this machine's clock: chronyd always runs with -x, and every test class checks that
the kernel's time state (adjtimex status and frequency) is the same after it as before.
"""

import contextlib
import ctypes
import functools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("CLOUDTIME_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
CLOUDTIMED = os.path.join(BIN, "cloudtimed")
CLOUDTIME = os.path.join(BIN, "cloudtime")
SKIP = 77  # ctest's SKIP_RETURN_CODE for these scripts
# The suite's tier (docs/testing.md): scripts/test.sh sets "full" with --full; the default run
# leaves out what is listed there as --full only, and says so where it does.
FULL = os.environ.get("CLOUDTIME_TEST_TIER", "default") == "full"


def require_full_tier(what):
    """Skips the calling test (or class) outside `scripts/test.sh --full`, naming what."""
    if not FULL:
        raise unittest.SkipTest(f"{what}: in the --full tier only (docs/testing.md); "
                                "CLOUDTIME_TEST_TIER=full runs it")

# Most tests send far more than a real client would from one address: they run without rate
# limiting, which test_rate_limit.py exercises on its own.
LOCAL_CONFIG = ('[clock]\nsource = "local"\nlocal_stratum = 10\n'
                '[rate_limit]\nenabled = false\n')


class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("constant", ctypes.c_long),
                ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long),
                ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
                ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long),
                ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long),
                ("tai", ctypes.c_int), ("pad", ctypes.c_int * 11)]


def kernel_time_state():
    """(status, freq, offset) through a read-only adjtimex (modes = 0)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    tx = Timex()
    tx.modes = 0
    if libc.adjtimex(ctypes.byref(tx)) < 0:
        raise OSError(ctypes.get_errno(), "adjtimex")
    return (tx.status, tx.freq, tx.offset)


# adjtimex status bits (linux/timex.h), to say which changed.
STATUS_BITS = ("STA_PLL", "STA_PPSFREQ", "STA_PPSTIME", "STA_FLL", "STA_INS", "STA_DEL",
               "STA_UNSYNC", "STA_FREQHOLD", "STA_PPSSIGNAL", "STA_PPSJITTER", "STA_PPSWANDER",
               "STA_PPSERROR", "STA_CLOCKERR", "STA_NANO", "STA_MODE", "STA_CLK")
# Kernel log lines that tell of a clock changed from outside: a VM snapshot restored or
# migrated, a clocksource change, a step.
CLOCK_LOG = re.compile(r"virtual machine fork|vm ?gen|clocksource|clock|time|tsc|ptp", re.I)


def kernel_log_since(monotonic_s):
    """The kernel log's lines stamped after `monotonic_s` (CLOCK_MONOTONIC seconds, which
    /dev/kmsg's microsecond stamps follow closely), as "[seconds] text"; [] where the log
    cannot be read."""
    lines = []
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return lines
    try:
        while True:
            try:
                record = os.read(fd, 8192).decode(errors="replace")
            except BlockingIOError:
                break
            except OSError:  # EPIPE: a record was overwritten while reading; go on
                continue
            head, _, text = record.partition(";")
            fields = head.split(",")
            if len(fields) >= 3 and int(fields[2]) >= (monotonic_s - 1) * 1e6:
                lines.append(f"[{int(fields[2]) / 1e6:.3f}] {text.splitlines()[0]}")
    finally:
        os.close(fd)
    return lines


def time_daemons():
    """The processes that could steer this machine's clock, with their command lines."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        name = os.path.basename(argv[0].decode(errors="replace"))
        if name in ("chronyd", "ntpd", "systemd-timesyncd", "ptp4l", "phc2sys", "openntpd"):
            found.append(f"{pid} {b' '.join(argv).decode(errors='replace').strip()}")
    return found


class KernelTimeGuard:
    """The kernel's time state (adjtimex status and frequency) and the realtime clock against
    CLOCK_MONOTONIC when made; changed() says what differs since, in words that tell a clock
    stepped from outside this project (a VM fork in the kernel log, no daemon of ours that
    could) from one that a test changed."""

    def __init__(self):
        self.state = kernel_time_state()
        self.monotonic = time.clock_gettime(time.CLOCK_MONOTONIC)
        self.realtime_ahead = time.clock_gettime(time.CLOCK_REALTIME) - self.monotonic

    def changed(self):
        """None when status and frequency are as they were; else what was seen."""
        after = kernel_time_state()
        if after[:2] == self.state[:2]:
            return None
        status_before, status_after = self.state[0], after[0]
        flipped = status_before ^ status_after
        bits = [("+" if status_after & (1 << i) else "-") + name
                for i, name in enumerate(STATUS_BITS) if flipped & (1 << i)]
        now = time.clock_gettime(time.CLOCK_MONOTONIC)
        moved = time.clock_gettime(time.CLOCK_REALTIME) - now - self.realtime_ahead
        log = [line for line in kernel_log_since(self.monotonic) if CLOCK_LOG.search(line)]
        daemons = time_daemons()
        return "\n".join([
            f"kernel time state changed: {self.state} -> {after}",
            f"  status 0x{status_before:x} -> 0x{status_after:x}"
            f" ({' '.join(bits) if bits else 'no bit changed'})",
            f"  frequency {self.state[1] / 65536:+.3f} -> {after[1] / 65536:+.3f} ppm",
            f"  the realtime clock moved {moved:+.6f} s against CLOCK_MONOTONIC in the"
            f" {now - self.monotonic:.0f} s since this class started",
            "  kernel log since then: " + ("; ".join(log[-20:]) if log else "nothing about clocks"),
            "  time daemons running now: " + ("; ".join(daemons) if daemons else "none"),
            "  (this project's tests run chronyd only with -x and never set adjtimex: a change"
            " beside a VM-fork line or no daemon that could make it came from outside)"])


def free_udp_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def daemon_user_directory(parent, name="keys"):
    """PARENT/NAME, 0700 and the daemon user's, as the package makes /var/lib/cloudtime (where
    the NTS key file lives and is rotated as that user)."""
    path = os.path.join(parent, name)
    os.mkdir(path, 0o700)
    shutil.chown(path, "_cloudtime", "_cloudtime")
    return path


def free_tcp_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def proc_status(pid, task=None):
    """/proc/PID/status (or one thread's, /proc/PID/task/TASK/status) as {field: value}."""
    path = f"/proc/{pid}/task/{task}/status" if task is not None else f"/proc/{pid}/status"
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


@functools.cache
def sanitized():
    """Whether the binaries under test are built with AddressSanitizer: their memory figures
    (shadow memory, quarantine) say nothing about the release build's. Every instrumented
    binary calls __asan_init, whether the runtime is linked in (clang) or a library (gcc)."""
    with open(CLOUDTIMED, "rb") as binary:
        return b"__asan_init" in binary.read()


def require_root():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        raise SystemExit(SKIP)


def require_program(path):
    if shutil.which(path) is None:
        print(f"SKIP: {path} is not installed (run scripts/bootstrap.sh)")
        raise SystemExit(SKIP)


def require_system_python_module(module, package):
    """Skips the test class unless Debian's python3 imports `module` (from `package`)."""
    probe = subprocess.run(["/usr/bin/python3", "-c", f"import {module}"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        raise unittest.SkipTest(f"{package} is not installed (scripts/bootstrap.sh)")


def read_status(path, timeout=2.0):
    """The status document a cloudtimed writes to whoever connects to its status socket; None
    while nothing answers there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        return None
    finally:
        sock.close()
    try:
        return json.loads(data)
    except ValueError:
        return None


class Daemon:
    """A cloudtimed process, started with a config text and extra arguments. It is ready when
    its status socket answers (the daemon answers only once it serves), never judged by a log
    line; its counters come from the status socket too."""

    def __init__(self, config=LOCAL_CONFIG, listen=("127.0.0.1:0",), args=(), netns=None,
                 workdir=None, wait_ready=True, prefix=(), env=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="cloudtime-test-")
        self.config_path = os.path.join(self.dir, "cloudtimed.toml")
        configured = re.search(r'^\[status\]\s*\nsocket\s*=\s*"([^"]*)"', config, re.M)
        # Never the machine's /run/cloudtime, never shared: its own, unless the test names one.
        self.status_socket = (configured.group(1) if configured
                              else os.path.join(self.dir, "status.sock"))
        with open(self.config_path, "w") as f:
            f.write(config)
        self.log_path = os.path.join(self.dir, "cloudtimed.log")
        # Its runtime directory (given to the user it drops to) is the test's own too.
        cmd = [CLOUDTIMED, "--config", self.config_path, "--runtime-directory", self.dir]
        if not configured:
            cmd += ["--status-socket", self.status_socket]
        for address in listen:
            cmd += ["--listen", address]
        cmd += list(args)
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        cmd = list(prefix) + cmd  # a program that execs the rest ("prlimit", ...)
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        self.addresses = self._wait_until_serving(len(listen)) if wait_ready else []

    def _wait_until_serving(self, count, timeout=10.0):
        if not self.status_socket:
            raise AssertionError("a daemon without a status socket cannot say it is ready")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = read_status(self.status_socket)
            if status is not None and len(status["listen"]) >= count:
                return status["listen"]
            if self.proc.poll() is not None:
                raise AssertionError(f"cloudtimed exited with {self.proc.returncode}:\n"
                                     + self.read_log())
            time.sleep(0.02)
        raise AssertionError("cloudtimed did not start:\n" + self.read_log())

    @property
    def address(self):
        return self.addresses[0]

    def host_port(self, index=0):
        host, _, port = self.addresses[index].rpartition(":")
        return host.strip("[]"), int(port)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def status(self):
        status = read_status(self.status_socket)
        if status is None:
            raise AssertionError("the status socket does not answer:\n" + self.read_log())
        return status

    def vendordata_status(self, until=lambda counts: True, timeout=2.0):
        """The status's "vendordata" object once `until(it)` holds (the endpoint's process
        reports its counters within 100 ms), or after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.status()["vendordata"]
            if until(counts) or time.monotonic() > deadline:
                return counts
            time.sleep(0.05)

    def wait_tenant_served(self, namespace, count=1, timeout=5.0):
        """Waits until the status socket lists `namespace` served on `count` addresses; returns
        them."""
        deadline = time.monotonic() + timeout
        while True:
            served = {n["namespace"]: n["addresses"] for n in self.status()["tenant_networks"]}
            if len(served.get(namespace, [])) >= count:
                return served[namespace]
            if time.monotonic() > deadline:
                raise AssertionError(f"{namespace} not served on {count} addresses: {served}\n"
                                     + self.read_log())
            time.sleep(0.02)

    def counters(self, timeout=5.0):
        """The counters from the status socket, flat as the log names them: received,
        answered, dropped, dropped.<reason>, kod_sent, deny_sent, leaked, send_errors,
        interleaved_tx.<source>, ... (the document nests them: no key holds a dot).

        A worker counts a reply after its send returns, which may be after the client has
        it: wait until every received datagram is accounted for (answered, dropped or a
        send error), which is also an invariant of the counters.
        """
        deadline = time.monotonic() + timeout
        while True:
            raw = self.status()["counters"]
            c = {}
            for key, value in raw.items():
                if isinstance(value, dict):
                    prefix = "dropped" if key == "dropped_by_reason" else key
                    c.update({f"{prefix}.{inner}": n for inner, n in value.items()})
                else:
                    c[key] = value
            if c["received"] == c["answered"] + c["dropped"] + c["send_errors"]:
                return c
            if time.monotonic() > deadline:
                raise AssertionError(f"counters do not add up: {c}")
            time.sleep(0.02)

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("cloudtimed did not stop on SIGTERM:\n" + self.read_log())
        self.log.close()
        return self.proc.returncode

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def self_signed_certificate(directory, address="127.0.0.1"):
    """(certificate, key) PEM files in `directory`: EC P-256, valid one day, for `address`
    (subjectAltName IP), as the vendordata endpoint's TLS tests need."""
    require_program("openssl")
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", f"/CN={address}", "-addext",
                    f"subjectAltName=IP:{address}"], check=True, capture_output=True)
    return cert, key


def run_query(target, *args, netns=None, timeout=60):
    """Runs `cloudtime query` and returns (exit code, parsed JSON or None, stderr)."""
    cmd = [CLOUDTIME, "query", "--json", *args, target]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    data = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, data, p.stderr


class Chronyd:
    """A chronyd that never touches the clock (-x), with its files in a private directory,
    running as Debian's package runs it: as `_chrony`, its directory 0750 _chrony:_chrony
    (an unprivileged cloudtimed asks it on its UDP command port)."""

    def __init__(self, lines, netns=None, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="cloudtime-chrony-")
        # chronyd refuses a socket directory open to others, or not its user's
        os.chmod(self.dir, 0o750)
        shutil.chown(self.dir, "_chrony", "_chrony")
        self.conf = os.path.join(self.dir, "chrony.conf")
        # Its UDP command port too, where an unprivileged cloudtimed asks (chronyc as a user);
        # a chronyd started again in the same directory keeps it, as a restarted one does.
        self.command_port = free_udp_port()
        if workdir and os.path.exists(self.conf):
            with open(self.conf) as f:
                self.command_port = int(re.search(r"^cmdport (\d+)$", f.read(), re.M).group(1))
        with open(self.conf, "w") as f:
            f.write("\n".join(lines + [
                f"cmdport {self.command_port}",
                "bindcmdaddress 127.0.0.1",
                f"pidfile {self.dir}/chronyd.pid",
                f"driftfile {self.dir}/drift",
                f"bindcmdaddress {self.dir}/chronyd.sock",
            ]) + "\n")
        self.log_path = os.path.join(self.dir, "chronyd.log")
        cmd = ["chronyd", "-x", "-d", "-u", "_chrony", "-f", self.conf]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.log = open(self.log_path, "a+")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def socket(self):
        return os.path.join(self.dir, "chronyd.sock")

    @property
    def command_address(self):
        return f"127.0.0.1:{self.command_port}"

    def clock_config(self):
        """cloudtimed's [clock] lines that reach this chronyd (socket and command port)."""
        return (f'chrony_socket = "{self.socket}"\n'
                f'chrony_command_address = "{self.command_address}"\n')

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def tracking(self):
        """chronyc's view of chronyd's tracking state (CSV fields by name), None if unreachable."""
        p = subprocess.run(["chronyc", "-c", "-h", self.socket, "tracking"], capture_output=True,
                           text=True, timeout=10)
        fields = p.stdout.strip().split(",")
        if p.returncode != 0 or len(fields) < 14:
            return None
        names = ["refid", "reference", "stratum", "ref_time", "system_time", "last_offset",
                 "rms_offset", "frequency", "residual_frequency", "skew", "root_delay",
                 "root_dispersion", "update_interval", "leap"]
        return dict(zip(names, fields))

    def chronyc(self, *args):
        """chronyc against this chronyd's socket; its stdout (raises if it fails)."""
        return subprocess.run(["chronyc", "-h", self.socket, *args], capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def sources(self):
        """`chronyc -c -n sources` by name: {"169.254.169.254": {"state": "*", "reach": 0o377}};
        None while chronyd does not answer."""
        p = subprocess.run(["chronyc", "-h", self.socket, "-c", "-n", "sources"],
                           capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            return None
        out = {}
        for line in p.stdout.splitlines():
            fields = line.split(",")
            if len(fields) >= 6:
                out[fields[2]] = {"mode": fields[0], "state": fields[1],
                                  "reach": int(fields[5], 8)}
        return out

    def stop(self):
        """Stops chronyd, keeping its directory (to start another in it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def chrony_measure(host, port, samples=4, timeout=20):
    """chronyd -Q as a one-shot client; returns the offset it measured in seconds."""
    workdir = tempfile.mkdtemp(prefix="cloudtime-chronyq-")
    try:
        cmd = ["chronyd", "-Q", "-u", "root", "-t", "15", "-f", "/dev/null",
               f"server {host} port {port} iburst maxsamples {samples}",
               f"pidfile {workdir}/pid", "cmdport 0", f"driftfile {workdir}/drift"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out = p.stdout + p.stderr
        m = re.search(r"System clock wrong by (-?[0-9.]+) seconds", out)
        if not m:
            raise AssertionError("chronyd -Q measured nothing:\n" + out)
        return float(m.group(1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def network_namespace(prefix="ct-test"):
    """A fresh network namespace with loopback up; removed afterwards, also on failure."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        # Kill anything left in the namespace before removing it.
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        for pid in pids.stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "delete", name], check=False)


def ntp_request(version=4, mode=3, transmit=None, poll=6, extra=b""):
    transmit = secrets.randbits(64) if transmit is None else transmit
    first = (version << 3) | mode
    header = struct.pack("!BBbb", first, 0, poll, 0) + bytes(36) + struct.pack("!Q", transmit)
    return header + extra


def decode_reply(data):
    first, stratum, poll, precision, root_delay, root_disp, refid = struct.unpack(
        "!BBbbIII", data[:16])
    reference, origin, receive, transmit = struct.unpack("!QQQQ", data[16:48])
    return dict(leap=first >> 6, version=(first >> 3) & 7, mode=first & 7, stratum=stratum,
                poll=poll, precision=precision, root_delay=root_delay,
                root_dispersion=root_disp, refid=refid, reference=reference, origin=origin,
                receive=receive, transmit=transmit, length=len(data))


def exchange(host, port, payload, timeout=0.5):
    """Sends one datagram; returns the reply bytes or None after `timeout`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (host, port))
        try:
            return s.recv(4096)
        except socket.timeout:
            return None


class TestCase(unittest.TestCase):
    """Guards the machine: the kernel's time state must be untouched by every test class."""

    @classmethod
    def setUpClass(cls):
        cls._kernel_before = KernelTimeGuard()

    @classmethod
    def tearDownClass(cls):
        changed = cls._kernel_before.changed()
        if changed:
            raise AssertionError(changed)


class DaemonTestCase(TestCase):
    """A test class that shares one cloudtimed (local clock, no rate limiting) on IPv4 and
    IPv6 loopback, started before its tests and stopped after them."""

    listen = ("127.0.0.1:0", "[::1]:0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemon = Daemon(listen=cls.listen)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        super().tearDownClass()
