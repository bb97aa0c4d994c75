# SPDX-License-Identifier: Apache-2.0
"""`cloudtime query` against cloudtimed on loopback (IPv4 and IPv6)."""

import statistics
import unittest

import harness


class QueryCloudtimed(harness.DaemonTestCase):
    def check_measurement(self, target):
        rc, data, err = harness.run_query(target, "--samples", "8", "--interval", "0.05")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(data["samples"]), 8)
        for key in ("server", "samples", "offset_s", "delay_s", "jitter_s", "stratum", "leap",
                    "refid", "root_delay_s", "root_dispersion_s"):
            self.assertIn(key, data)
        for sample in data["samples"]:
            for key in ("offset_s", "delay_s", "stratum", "leap", "refid", "version"):
                self.assertIn(key, sample)
        self.assertLess(abs(data["offset_s"]), 100e-6, data)
        self.assertLess(data["delay_s"], 1e-3, data)
        self.assertEqual(data["stratum"], 10)
        self.assertEqual(data["refid"], "127.127.1.1")
        self.assertEqual(data["leap"], "normal")
        self.assertEqual(data["version"], 4)
        # The best sample is the one with the smallest delay.
        self.assertEqual(data["delay_s"], min(s["delay_s"] for s in data["samples"]))
        return data

    def test_ipv4(self):
        self.check_measurement(self.daemon.addresses[0])

    def test_ipv6(self):
        self.check_measurement(self.daemon.addresses[1])

    def test_human_output(self):
        import subprocess
        p = subprocess.run([harness.CLOUDTIME, "query", "-n", "2", "-i", "0.05",
                            self.daemon.address], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("stratum 10, refid 127.127.1.1, leap normal", p.stdout)
        self.assertRegex(p.stdout, r"offset [+-]0\.\d{9} s, delay 0\.\d{9} s")

    def test_counters_move(self):
        before = self.daemon.counters()
        rc, _, err = harness.run_query(self.daemon.address, "-n", "3", "-i", "0.01")
        self.assertEqual(rc, 0, err)
        after = self.daemon.counters()
        self.assertEqual(after["received"] - before["received"], 3)
        self.assertEqual(after["answered"] - before["answered"], 3)


if __name__ == "__main__":
    unittest.main()
