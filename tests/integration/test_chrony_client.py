# SPDX-License-Identifier: Apache-2.0
"""chrony 4.x as a client of cloudtimed: it must accept our replies and measure |offset| < 1 ms."""

import unittest

import harness


class ChronyClient(harness.DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        super().setUpClass()

    def test_chronyd_measures_ipv4(self):
        host, port = self.daemon.host_port(0)
        offset = harness.chrony_measure(host, port)
        self.assertLess(abs(offset), 1e-3)

    def test_chronyd_measures_ipv6(self):
        host, port = self.daemon.host_port(1)
        offset = harness.chrony_measure(host, port)
        self.assertLess(abs(offset), 1e-3)

    def test_chronyd_refuses_unsynchronized_server(self):
        # A kernel source on this machine (STA_UNSYNC) answers LI=3: chrony must not use it.
        if harness.kernel_time_state()[0] & 0x40 == 0:
            self.skipTest("this machine's kernel clock is synchronized")
        unsynced = harness.Daemon(config='[clock]\nsource = "kernel"\n')
        try:
            host, port = unsynced.host_port()
            with self.assertRaises(AssertionError):
                harness.chrony_measure(host, port, timeout=30)
        finally:
            unsynced.cleanup()


if __name__ == "__main__":
    unittest.main()
