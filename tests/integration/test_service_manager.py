# SPDX-License-Identifier: Apache-2.0
"""cloudtimed under a service manager (systemd's Type=notify protocol, spoken to a socket the
test holds as $NOTIFY_SOCKET): READY=1 once it serves, RELOADING=1 then READY=1 around a
SIGHUP, STOPPING=1 on SIGTERM, watchdog pings when WatchdogSec= is set; also as its user
(the seccomp filter on)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness


class NotifySocket:
    """What systemd listens on: a datagram socket; messages as dicts of KEY=VALUE."""

    def __init__(self, private=False):
        self.dir = tempfile.mkdtemp(prefix="cloudtime-notify-")
        # systemd's socket is open to everyone; start-stop-daemon's (--notify-await) is
        # root's alone, and the daemon sends after dropping to its user.
        os.chmod(self.dir, 0o700 if private else 0o755)
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o600 if private else 0o666)

    def messages(self, until, timeout=5.0):
        """Messages received until one has `until` as a key (or the timeout)."""
        received = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            message = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
            received.append(message)
            if until in message:
                break
        return received

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class ServiceManager(harness.TestCase):
    def setUp(self):
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)

    def start(self, env=None):
        daemon = harness.Daemon(env=dict({"NOTIFY_SOCKET": self.notify.path}, **(env or {})))
        self.addCleanup(daemon.cleanup)
        return daemon

    def test_ready_reloading_stopping(self):
        daemon = self.start()
        ready = self.notify.messages(until="READY")
        self.assertEqual(ready[-1].get("READY"), "1", ready)
        self.assertIn("serving NTP on 1 address; clock synchronized, stratum 10",
                      ready[-1]["STATUS"])
        # The ready status socket was answering already: READY=1 came after it served.
        self.assertEqual(len(daemon.status()["listen"]), 1)
        daemon.proc.send_signal(signal.SIGHUP)
        reload = self.notify.messages(until="READY")
        self.assertEqual(reload[0].get("RELOADING"), "1", reload)
        self.assertGreater(int(reload[0]["MONOTONIC_USEC"]), 0)
        self.assertEqual(reload[-1].get("READY"), "1", reload)
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(self.notify.messages(until="STOPPING")[-1].get("STOPPING"), "1")
        self.assertNotIn("type=1326", daemon.read_log())

    def test_watchdog_pings_at_half_the_interval(self):
        self.start(env={"WATCHDOG_USEC": "2000000"})
        self.notify.messages(until="READY")
        start = time.monotonic()
        pings = []
        while time.monotonic() - start < 5.5:
            pings += [m for m in self.notify.messages(until="WATCHDOG", timeout=2.5)
                      if m.get("WATCHDOG") == "1"]
        # Every 1 s (half of 2 s): 4 to 6 in 5.5 s, never a gap the watchdog would kill for.
        self.assertGreaterEqual(len(pings), 4)
        self.assertLessEqual(len(pings), 7)

    def test_a_socket_only_root_may_reach_hears_every_state(self):
        # Connected once, as root, before the drop: READY=1 after the drop reaches it.
        self.notify = NotifySocket(private=True)
        self.addCleanup(self.notify.close)
        daemon = self.start()
        self.assertEqual(self.notify.messages(until="READY")[-1].get("READY"), "1")
        self.assertNotEqual(harness.proc_status(daemon.proc.pid)["Uid"].split()[0], "0")
        daemon.proc.send_signal(signal.SIGHUP)
        self.assertEqual(self.notify.messages(until="READY")[-1].get("READY"), "1")
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(self.notify.messages(until="STOPPING")[-1].get("STOPPING"), "1")

    def test_start_stop_daemon_waits_until_it_serves(self):
        # The init script's way (debian/cloudtimed.init): start-stop-daemon --notify-await
        # returns 0 once cloudtimed said READY=1, with the status socket answering.
        work = tempfile.mkdtemp(prefix="cloudtime-ssd-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        config = os.path.join(work, "cloudtimed.toml")
        with open(config, "w") as f:
            f.write(harness.LOCAL_CONFIG)
        pidfile = os.path.join(work, "cloudtimed.pid")
        status = os.path.join(work, "status.sock")
        started = subprocess.run([
            "start-stop-daemon", "--start", "--background", "--make-pidfile", "--pidfile",
            pidfile, "--notify-await", "--notify-timeout", "20", "--output",
            os.path.join(work, "cloudtimed.log"), "--exec", harness.CLOUDTIMED, "--",
            "--config", config, "--runtime-directory", work, "--status-socket", status,
            "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        stop = ["start-stop-daemon", "--stop", "--quiet", "--retry=TERM/10/KILL/5",
                "--pidfile", pidfile]
        self.addCleanup(subprocess.run, stop, check=False)
        self.assertEqual(started.returncode, 0, started.stderr)
        self.assertEqual(len(harness.read_status(status)["listen"]), 1)
        self.assertEqual(subprocess.run(stop, timeout=30).returncode, 0)

    def test_without_a_watchdog_no_pings(self):
        self.start()
        self.notify.messages(until="READY")
        self.assertEqual([m for m in self.notify.messages(until="WATCHDOG", timeout=2.5)
                          if "WATCHDOG" in m], [])


if __name__ == "__main__":
    unittest.main()
