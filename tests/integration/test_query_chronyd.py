# SPDX-License-Identifier: Apache-2.0
"""`cloudtime query` against a chronyd server started by the test: stratum, refid, offset."""

import time
import unittest

import harness


class QueryChronyd(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        super().setUpClass()
        cls.port = harness.free_udp_port()
        cls.chronyd = harness.Chronyd([
            f"port {cls.port}",
            "bindaddress 127.0.0.1",
            "allow 127.0.0.0/8",
            "local stratum 8",
        ])

    @classmethod
    def tearDownClass(cls):
        cls.chronyd.cleanup()
        super().tearDownClass()

    def test_query_reads_chronyd(self):
        deadline = time.monotonic() + 15
        while True:
            rc, data, err = harness.run_query(f"127.0.0.1:{self.port}", "-n", "5", "-i", "0.1",
                                              "-t", "1")
            if rc == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # chronyd is still starting
        self.assertEqual(rc, 0, err + self.chronyd.read_log())
        self.assertEqual(data["stratum"], 8)            # chrony's `local stratum 8`
        self.assertEqual(data["refid"], "127.127.1.1")  # chrony's local reference id
        self.assertEqual(data["leap"], "normal")
        self.assertLess(abs(data["offset_s"]), 1e-3)
        self.assertLess(data["delay_s"], 1e-3)
        self.assertEqual(len(data["samples"]), 5)


if __name__ == "__main__":
    unittest.main()
