# SPDX-License-Identifier: Apache-2.0
"""cloudtimed under a service manager (systemd's Type=notify protocol, spoken to a socket the
test holds as $NOTIFY_SOCKET): READY=1 once it serves, RELOADING=1 then READY=1 around a
SIGHUP, STOPPING=1 on SIGTERM, watchdog pings when WatchdogSec= is set; also as its user
(the seccomp filter on)."""

import os
import shutil
import signal
import socket
import tempfile
import time
import unittest

import harness


class NotifySocket:
    """What systemd listens on: a datagram socket; messages as dicts of KEY=VALUE."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cloudtime-notify-")
        os.chmod(self.dir, 0o755)  # the daemon sends after dropping to its user
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)

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

    def test_without_a_watchdog_no_pings(self):
        self.start()
        self.notify.messages(until="READY")
        self.assertEqual([m for m in self.notify.messages(until="WATCHDOG", timeout=2.5)
                          if "WATCHDOG" in m], [])


if __name__ == "__main__":
    unittest.main()
