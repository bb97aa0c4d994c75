# SPDX-License-Identifier: Apache-2.0
"""Rate limiting in cloudtimed: a source's burst is answered, the rest dropped or kissed
(RATE), other sources are not affected, and the counters tell which is which."""

import socket
import struct
import unittest

import harness

LIMITED = ('[clock]\nsource = "local"\n'
           '[rate_limit]\nenabled = true\ninterval = 1000.0\nburst = 4\nleak = 16\nkod = {kod}\n'
           '[server]\nthreads = 2\n')


def burst_from(source, host, port, count):
    """Sends `count` requests from `source` back to back; returns the replies received."""
    replies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(0.3)
        for _ in range(count):
            s.sendto(harness.ntp_request(), (host, port))
        try:
            while True:
                replies.append(harness.decode_reply(s.recv(2048)))
        except socket.timeout:
            pass
    return replies


class RateLimit(harness.TestCase):
    def daemon(self, kod):
        d = harness.Daemon(config=LIMITED.format(kod=kod))
        self.addCleanup(d.cleanup)
        return d

    def test_burst_then_dropped(self):
        d = self.daemon(kod=-1)
        host, port = d.host_port()
        replies = burst_from("127.0.0.1", host, port, 20)
        c = d.counters()
        self.assertEqual(len(replies), 4 + c["leaked"])
        self.assertEqual(c["dropped.rate_limited"], 16 - c["leaked"])
        self.assertEqual(c["kod_sent"], 0)
        self.assertTrue(all(r["stratum"] == 10 for r in replies))
        # Another source is not affected by the first one's limit.
        self.assertEqual(len(burst_from("127.0.0.2", host, port, 3)), 3)

    def test_kiss_of_death_rate(self):
        d = self.daemon(kod=0)  # every limited request that does not leak gets a KoD
        host, port = d.host_port()
        replies = burst_from("127.0.0.3", host, port, 10)
        c = d.counters()
        self.assertEqual(len(replies), 10)
        kods = [r for r in replies if r["stratum"] == 0]
        self.assertEqual(len(kods), 6 - c["leaked"])
        self.assertEqual(c["kod_sent"], len(kods))
        for r in kods:
            self.assertEqual(r["leap"], 3)
            self.assertEqual(struct.pack("!I", r["refid"]), b"RATE")
            self.assertEqual(r["length"], 48)
        # cloudtime query (from 127.0.0.1, a fresh source) gets its burst, then the KoD,
        # reports it as such and stops asking.
        rc, data, err = harness.run_query(d.address, "-n", "10", "-i", "0")
        self.assertEqual(rc, 1, err)
        self.assertIn("kiss-of-death RATE", err)
        self.assertGreaterEqual(len(data["samples"]), 4)
        self.assertEqual(data["sent"], len(data["samples"]) + 1)

    def test_limit_holds_across_workers(self):
        # Requests from one source but many ports land on both workers (SO_REUSEPORT hashes
        # the port too); the burst is still 4 in all.
        d = self.daemon(kod=-1)
        host, port = d.host_port()
        answered = sum(len(burst_from("127.0.0.4", host, port, 1)) for _ in range(12))
        c = d.counters()
        self.assertEqual(answered, 4 + c["leaked"])


if __name__ == "__main__":
    unittest.main()
