# SPDX-License-Identifier: Apache-2.0
"""`cloudtime query` exit codes and reasons: usage, silence, kiss-of-death, unsynchronized,
spoofed replies, and names."""

import socket
import struct
import subprocess
import threading
import unittest

import harness


class FakeServer:
    """A UDP responder on loopback that answers with whatever `respond(request)` returns."""

    def __init__(self, respond):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.respond = respond
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            for reply in self.respond(data):
                self.sock.sendto(reply, peer)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def reply(request, leap=0, stratum=2, refid=0x7F000001, origin=None, mode=4):
    transmit = request[40:48] if origin is None else struct.pack("!Q", origin)
    first = (leap << 6) | (4 << 3) | mode
    now = 0xE93C_6B80_0000_0000
    return (struct.pack("!BBbbIII", first, stratum, 6, -20, 0, 0, refid)
            + struct.pack("!Q", now) + transmit + struct.pack("!QQ", now, now))


class QueryCli(harness.TestCase):
    def serve(self, respond):
        server = FakeServer(respond)
        self.addCleanup(server.close)
        return f"127.0.0.1:{server.port}"

    def test_usage_errors_exit_64(self):
        for args in ([], ["--samples", "0", "127.0.0.1"], ["--bogus", "127.0.0.1"],
                     ["127.0.0.1:99999"]):
            p = subprocess.run([harness.CLOUDTIME, "query", *args], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(p.returncode, 64, args)
            self.assertTrue(p.stderr.strip(), args)

    def test_no_answer_exits_2(self):
        target = self.serve(lambda request: [])
        rc, data, err = harness.run_query(target, "-n", "2", "-i", "0", "-t", "0.2")
        self.assertEqual(rc, 2)
        self.assertIn("no answer", err)
        self.assertEqual(data["lost"], 2)

    def test_unresolvable_name_exits_2(self):
        rc, data, err = harness.run_query("no-such-host.invalid:123", "-n", "1", "-t", "0.2")
        self.assertEqual(rc, 2)
        self.assertIn("cannot resolve", err)
        self.assertIn("cannot resolve", data["error"])

    def test_json_is_printed_for_every_outcome(self):
        # A refused port, a bad target, silence: one JSON object on stdout with the error and
        # the exit code, besides the line on stderr.
        silent = self.serve(lambda request: [])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
            closed.bind(("127.0.0.1", 0))
            refused = f"127.0.0.1:{closed.getsockname()[1]}"
        for target, code, words in ((refused, 2, "Connection refused"),
                                    ("127.0.0.1:99999", 64, "port"),
                                    (silent, 2, "no answer")):
            rc, data, err = harness.run_query(target, "-n", "1", "-t", "0.3")
            self.assertEqual(rc, code, err)
            self.assertIsNotNone(data, f"no JSON for {target}: {err}")
            self.assertEqual(data["exit_code"], code, data)
            self.assertIn(words, data["error"])
            self.assertIn(words, err)

    def test_kiss_of_death_exits_1_with_code(self):
        target = self.serve(lambda r: [reply(r, leap=3, stratum=0, refid=0x52415445)])
        rc, data, err = harness.run_query(target, "-n", "3", "-i", "0")
        self.assertEqual(rc, 1)
        self.assertIn("kiss-of-death RATE", err)
        self.assertEqual(data["rejected"]["kiss_code"], "RATE")
        self.assertEqual(data["sent"], 1)  # a KoD stops the query

    def test_unsynchronized_exits_1(self):
        target = self.serve(lambda r: [reply(r, leap=3, stratum=0, refid=0)])
        rc, _, err = harness.run_query(target, "-n", "1")
        self.assertEqual(rc, 1)
        self.assertIn("not synchronized", err)

    def test_an_unusable_answer_is_said_once(self):
        # Human output: no "1 sent, 0 answered" on stdout beside the reason on stderr.
        for respond, reason in ((lambda r: [reply(r, leap=3, stratum=0, refid=0)],
                                 "answered, but the answer is unusable: "),
                                (lambda r: [], "no answer within 0.2 s to any of 1 request")):
            target = self.serve(respond)
            p = subprocess.run([harness.CLOUDTIME, "query", "-n", "1", "-t", "0.2", target],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.stdout, "", reason)
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertIn(reason, lines[0])
            self.assertIn(target, lines[0])

    def test_spoofed_replies_are_ignored(self):
        # A reply with a wrong origin and a symmetric-mode packet arrive first; the real
        # answer after them is the one measured.
        target = self.serve(lambda r: [reply(r, origin=1), reply(r, mode=2), reply(r)])
        rc, data, err = harness.run_query(target, "-n", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(data["stratum"], 2)

    def test_only_spoofed_replies_count_as_lost(self):
        target = self.serve(lambda r: [reply(r, origin=1)])
        rc, data, _ = harness.run_query(target, "-n", "1", "-t", "0.3")
        self.assertEqual(rc, 2)
        self.assertEqual(data["lost"], 1)

    def test_names_resolve(self):
        d = harness.Daemon()
        try:
            _, port = d.host_port()
            rc, data, err = harness.run_query(f"localhost:{port}", "-n", "1")
            self.assertEqual(rc, 0, err)
            self.assertEqual(data["stratum"], 10)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
