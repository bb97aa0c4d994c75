# SPDX-License-Identifier: Apache-2.0
"""NTS under attack, at the scale an attacker brings (loopback only): thousands of key
establishment clients from as many addresses that take their answer and never close, or complete
the handshake and say nothing. The daemon's descriptors stay within `max_connections`, its memory
within 64 MiB during and after, an honest client keeps getting its keys in well under a second
and every NTP query is answered meanwhile."""

import shutil
import tempfile
import unittest

import harness
import nts_ke_attack
from test_nts import nts_config

MAX_CONNECTIONS = 1000  # the default, which the config below does not change
RSS_BOUND_KIB = 64 * 1024


class KeyEstablishmentFlood(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        super().setUpClass()

    def start(self):
        directory = tempfile.mkdtemp(prefix="cloudtime-nts-attack-")
        self.addCleanup(shutil.rmtree, directory, True)
        ke_port = harness.free_tcp_port()
        _, config = nts_config(directory, ke_port)
        # The deadline of the default too: what an answered connection could once hold.
        config = config.replace("ke_timeout_ms = 1000\n", "")
        daemon = harness.Daemon(config=config, workdir=directory)
        self.addCleanup(daemon.cleanup)
        return daemon, ke_port

    def check(self, figures, daemon):
        print(f"\n{figures}", flush=True)
        self.assertGreater(figures["made"], 2 * MAX_CONNECTIONS, figures)
        # Every connection counts until its socket is closed. At the limit the newest is accepted
        # (and judged: its address may be over its own limit) before another is closed for it.
        self.assertLessEqual(figures["peak_fds"],
                             figures["before"]["fds"] + MAX_CONNECTIONS + 1, figures)
        self.assertEqual(figures["after"]["fds"], figures["before"]["fds"], figures)
        if not harness.sanitized():  # ASan's shadow memory and quarantine are not the daemon's
            self.assertLess(figures["peak_rss_kib"], RSS_BOUND_KIB, figures)
            self.assertLess(figures["after"]["rss_kib"], RSS_BOUND_KIB, figures)
        honest = figures["honest"]
        self.assertEqual(honest["failed"], 0, figures)
        self.assertGreater(honest["count"], 10, figures)
        self.assertLess(honest["p99_s"], 1.0, figures)
        self.assertGreater(figures["ntp"]["asked"], 20, figures)
        self.assertEqual(figures["ntp"]["answered"], figures["ntp"]["asked"], figures)
        ke = daemon.status()["nts"]["ke"]
        self.assertLessEqual(ke["open"], MAX_CONNECTIONS, ke)
        return ke

    def test_answered_clients_that_never_close(self):
        daemon, ke_port = self.start()
        figures = nts_ke_attack.attack(daemon.proc.pid, ke_port, clients=3000,
                                       ntp=daemon.host_port())
        ke = self.check(figures, daemon)
        self.assertGreaterEqual(ke["established"], figures["made"], ke)

    def test_silent_clients_after_the_handshake(self):
        daemon, ke_port = self.start()
        figures = nts_ke_attack.attack(daemon.proc.pid, ke_port, clients=3000, silent=True,
                                       ntp=daemon.host_port())
        ke = self.check(figures, daemon)
        # Room was made for the newer ones (the honest client's among them), and the log says
        # so, once (then at most once a minute).
        self.assertGreater(ke["evicted"], 0, ke)
        told = [line for line in daemon.read_log().splitlines()
                if "connections closed to make room at max_connections (1000)" in line]
        self.assertEqual(len(told), 1, daemon.read_log()[-3000:])


if __name__ == "__main__":
    unittest.main()
