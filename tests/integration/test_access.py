# SPDX-License-Identifier: Apache-2.0
"""Allow and deny lists in cloudtimed: ignored prefixes get nothing, `kod` prefixes get a KoD
DENY, others are served; the longest prefix wins and the counters say what happened."""

import socket
import struct
import unittest

import harness

CONFIG = ('[clock]\nsource = "local"\n[rate_limit]\nenabled = false\n'
          '[access]\ndefault = "{default}"\n'
          'allow = ["127.0.0.0/8", "::1"]\n'
          'ignore = ["127.0.5.0/24"]\n'
          'kod = ["127.0.6.0/24"]\n')


def ask_from(source, host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(0.3)
        s.sendto(harness.ntp_request(), (host, port))
        try:
            return harness.decode_reply(s.recv(2048))
        except socket.timeout:
            return None


class Access(harness.TestCase):
    def daemon(self, default):
        d = harness.Daemon(config=CONFIG.format(default=default))
        self.addCleanup(d.cleanup)
        return d

    def test_ignore_kod_and_allow(self):
        d = self.daemon("ignore")
        host, port = d.host_port()
        self.assertIsNone(ask_from("127.0.5.9", host, port))
        deny = ask_from("127.0.6.9", host, port)
        self.assertIsNotNone(deny)
        self.assertEqual(deny["stratum"], 0)
        self.assertEqual(deny["leap"], 3)
        self.assertEqual(struct.pack("!I", deny["refid"]), b"DENY")
        self.assertEqual(deny["length"], 48)
        served = ask_from("127.0.7.9", host, port)
        self.assertIsNotNone(served)
        self.assertEqual(served["stratum"], 10)
        c = d.counters()
        self.assertEqual(c["dropped.ignored"], 1)
        self.assertEqual(c["deny_sent"], 1)
        self.assertEqual(c["answered"], 2)
        # The allow list beats the default: cloudtime query from 127.0.0.1 is served.
        rc, _, err = harness.run_query(d.address, "-n", "1")
        self.assertEqual(rc, 0, err)

    def test_garbage_from_kod_prefix_is_never_answered(self):
        d = self.daemon("allow")
        host, port = d.host_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.6.1", 0))
            s.settimeout(0.3)
            s.sendto(harness.ntp_request(mode=6), (host, port))
            with self.assertRaises(socket.timeout):
                s.recv(2048)

    def test_default_ignore_drops_unlisted_ipv6(self):
        d = harness.Daemon(config=CONFIG.format(default="ignore").replace('"::1"', '"fd00::/8"'),
                           listen=("[::1]:0",))
        self.addCleanup(d.cleanup)
        rc, _, err = harness.run_query(d.address, "-n", "1", "-t", "0.3")
        self.assertEqual(rc, 2, err)
        self.assertEqual(d.counters()["dropped.ignored"], 1)


if __name__ == "__main__":
    unittest.main()
