# SPDX-License-Identifier: Apache-2.0
"""Bad input sent raw to cloudtimed: no reply, the right drop counter moves, and the daemon
keeps answering good requests."""

import os
import re
import signal
import struct
import time
import unittest

import harness


class BadInput(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemon = harness.Daemon(listen=("127.0.0.1:0",))
        cls.host, cls.port = cls.daemon.host_port()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        super().tearDownClass()

    def assert_dropped(self, payloads, counter):
        before = self.daemon.counters()
        for payload in payloads:
            reply = harness.exchange(self.host, self.port, payload, timeout=0.2)
            self.assertIsNone(reply, f"answered {payload[:8].hex()}... ({len(payload)} octets)")
        after = self.daemon.counters()
        self.assertEqual(after[counter] - before[counter], len(payloads), counter)
        self.assertEqual(after["answered"], before["answered"])
        self.assert_still_serving()

    def assert_still_serving(self):
        request = harness.ntp_request()
        reply = harness.exchange(self.host, self.port, request, timeout=1.0)
        self.assertIsNotNone(reply, "a good request went unanswered")
        self.assertEqual(harness.decode_reply(reply)["origin"],
                         struct.unpack("!Q", request[40:48])[0])

    def test_truncated_packets(self):
        good = harness.ntp_request()
        self.assert_dropped([good[:n] for n in (1, 12, 47)], "dropped.too_short")

    def test_empty_datagram(self):
        self.assert_dropped([b""], "dropped.empty")

    def test_other_modes(self):
        self.assert_dropped([harness.ntp_request(mode=m) for m in (0, 1, 2, 4, 5)],
                            "dropped.bad_mode")

    def test_control_and_private_modes(self):
        ntpq_readvar = bytes([0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])  # mode 6, 12 octets
        monlist = bytes([0x17, 0x00, 0x03, 0x2A]) + bytes(4)              # mode 7 monlist
        self.assert_dropped([harness.ntp_request(mode=6), harness.ntp_request(mode=7),
                             ntpq_readvar, monlist], "dropped.control_mode")

    def test_bad_versions(self):
        self.assert_dropped([harness.ntp_request(version=v) for v in (0, 1, 2, 5, 6, 7)],
                            "dropped.bad_version")

    def test_bad_extension_lengths(self):
        def field(length, declared=None):
            declared = length if declared is None else declared
            return struct.pack("!HH", 0x2005, declared) + bytes(length - 4)
        payloads = [
            harness.ntp_request(extra=field(12)),                  # below 16
            harness.ntp_request(extra=field(32, declared=30)),     # not a multiple of 4
            harness.ntp_request(extra=field(32, declared=64)),     # beyond the packet
            harness.ntp_request(extra=field(32, declared=0)),      # zero
            harness.ntp_request(extra=field(16)),                  # last field under 28
            harness.ntp_request(extra=bytes(7)),                   # ragged trailer
        ]
        self.assert_dropped(payloads, "dropped.bad_extension")

    def test_legacy_mac_is_not_answered(self):
        self.assert_dropped([harness.ntp_request(extra=bytes(20)),
                             harness.ntp_request(extra=bytes(24))], "dropped.authenticated")

    def test_garbage(self):
        # 1 KiB of random octets with a mode other than 3 in the first octet.
        payloads = []
        for _ in range(20):
            blob = bytearray(os.urandom(1024))
            blob[0] = (blob[0] & 0xF8) | 0x5  # broadcast mode
            payloads.append(bytes(blob))
        self.assert_dropped(payloads, "dropped.bad_mode")

    def test_oversized_datagram(self):
        self.assert_dropped([harness.ntp_request(extra=bytes(4000))], "dropped.oversized")

    def test_status_and_the_log_count_the_same(self):
        self.assert_dropped([harness.ntp_request(extra=bytes(4000))] * 20, "dropped.oversized")
        self.assert_dropped([harness.ntp_request(mode=1)] * 5, "dropped.bad_mode")
        status = self.daemon.counters()
        self.daemon.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while not (lines := re.findall(r"info counters: (.*)", self.daemon.read_log())):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        logged = {k: int(v) for k, v in (kv.split("=") for kv in lines[-1].split())}
        self.assertEqual(logged, status)
        self.assertGreaterEqual(logged["dropped"], 25)

    def test_valid_extension_fields_get_a_48_octet_reply(self):
        extra = struct.pack("!HH", 0x2005, 64) + bytes(60)
        request = harness.ntp_request(extra=extra)
        reply = harness.exchange(self.host, self.port, request, timeout=1.0)
        self.assertIsNotNone(reply)
        self.assertEqual(len(reply), 48)

    def test_reply_rules(self):
        for version in (3, 4):
            request = harness.ntp_request(version=version, poll=9,
                                          transmit=0x0000_0001_3B9A_C9FF)
            reply = harness.exchange(self.host, self.port, request, timeout=1.0)
            self.assertIsNotNone(reply)
            r = harness.decode_reply(reply)
            self.assertEqual(r["length"], 48)
            self.assertEqual(r["mode"], 4)
            self.assertEqual(r["version"], version)
            self.assertEqual(r["poll"], 9)
            self.assertEqual(r["origin"], 0x0000_0001_3B9A_C9FF)  # bit-exact
            self.assertGreaterEqual(r["transmit"], r["receive"])
            self.assertNotEqual(r["reference"], 0)
            self.assertLessEqual(r["reference"], r["receive"])


if __name__ == "__main__":
    unittest.main()
