# SPDX-License-Identifier: Apache-2.0
"""`cloudtime bench`: the load generator's accounting against cloudtimed's own counters, its
many source addresses, and its refusal of targets beyond loopback."""

import subprocess
import json
import unittest

import harness


def bench(*args, netns=None):
    cmd = [harness.CLOUDTIME, "bench", "--json", *args]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr


class Bench(harness.DaemonTestCase):
    def test_counts_agree_with_the_server(self):
        before = self.daemon.counters()
        rc, r, err = bench("--rate", "2000", "--duration", "1", "--sources", "50",
                           "--threads", "2", self.daemon.addresses[0])
        self.assertEqual(rc, 0, err)
        after = self.daemon.counters()
        self.assertEqual(r["sent"], 2000)
        self.assertEqual(r["sent"], after["received"] - before["received"])
        self.assertEqual(r["answered"], after["answered"] - before["answered"])
        self.assertEqual(r["answered"] + r["kod"] + r["lost"], r["sent"])
        self.assertGreaterEqual(r["answered"], 1990)
        for key in ("p50_s", "p99_s", "p999_s"):
            self.assertGreater(r["latency"][key], 0)
            self.assertGreaterEqual(r["server_processing"][key], 0)
        self.assertLessEqual(r["latency"]["p50_s"], r["latency"]["p99_s"])

    def test_sources_never_include_the_real_clients_addresses(self):
        # A server that ignores 127.0.0.0/16 (where tests' real clients are) answers every
        # request of a many-source bench: none came from there.
        daemon = harness.Daemon(config=harness.LOCAL_CONFIG + '[access]\nignore = ["127.0.0.0/16"]\n')
        self.addCleanup(daemon.cleanup)
        rc, r, err = bench("--rate", "2000", "--duration", "1", "--sources", "1000",
                           daemon.addresses[0])
        self.assertEqual(rc, 0, err)
        self.assertEqual(daemon.counters()["dropped.ignored"], 0)
        self.assertGreaterEqual(r["answered"], 1990)

    def test_ipv6(self):
        rc, r, err = bench("--rate", "500", "--duration", "1", self.daemon.addresses[1])
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(r["answered"], 495)

    def test_refuses_targets_beyond_loopback(self):
        for target in ("192.0.2.1:123", "10.0.0.1:123", "[2001:db8::1]:123",
                       "169.254.169.254:123"):
            rc, _, err = bench("--rate", "10", "--duration", "0.1", target)
            self.assertEqual(rc, 64, target)
            self.assertIn("refusing", err)

    def test_link_local_allowed_inside_a_test_namespace(self):
        if harness.os.geteuid() != 0:
            self.skipTest("needs root")
        with harness.network_namespace() as ns:
            subprocess.run(["ip", "-n", ns, "addr", "add", "169.254.169.254/32", "dev", "lo"],
                           check=True)
            d = harness.Daemon(listen=("169.254.169.254:123",), netns=ns)
            try:
                rc, r, err = bench("--rate", "200", "--duration", "0.5", "169.254.169.254:123",
                                   netns=ns)
                self.assertEqual(rc, 0, err)
                self.assertEqual(r["answered"], 100)
            finally:
                d.cleanup()

    def test_usage_errors(self):
        for args in (["--rate", "0", "127.0.0.1:1"], ["--sources", "2", "[::1]:1"], []):
            rc, _, err = bench(*args)
            self.assertNotEqual(rc, 0, args)
            self.assertTrue(err.strip(), args)


if __name__ == "__main__":
    unittest.main()
