# SPDX-License-Identifier: Apache-2.0
"""The vendordata endpoint under attack, as issue 14 found it: trickling and idle connections,
huge headers and bodies, ambiguous framing, Range, pipelining, refused clients, its process
killed. Nova's POSTs must keep being answered within a second, the daemon's memory must stay
small, and NTP must answer every query meanwhile. Everything on 127.0.0.0/8."""

import http.client
import json
import os
import re
import select
import signal
import socket
import threading
import time
import unittest

import harness

NOVA_BODY = json.dumps({
    "project-id": "039d104b7a5c4631b4ba6524d0b9e981",
    "instance-id": "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5",
    "image-id": "d1e3b5ab-6b7a-4f33-9d5c-2f0e7c3f8a10",
    "user-data": None, "hostname": "vm-1", "metadata": {}, "boot-roles": "member"}).encode()
MIB = 1 << 20
RSS_BOUND_KIB = 64 * 1024  # the whole daemon, both processes, under any of these attacks


def rss_kib(pid):
    return int(harness.proc_status(pid)["VmRSS"].split()[0])


def raw_request(body=NOVA_BODY, headers=None, path="/", method="POST", version="HTTP/1.1"):
    fields = {"Host": "127.0.0.1", "Content-Type": "application/json",
              "Content-Length": str(len(body))}
    fields.update(headers or {})
    head = f"{method} {path} {version}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return head.encode() + b"\r\n" + body


def read_responses(sock, count, timeout=5.0):
    """Up to `count` responses from a raw socket: [(status, headers dict, body)]."""
    sock.settimeout(timeout)
    data = b""
    out = []
    while len(out) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            lines = data[:head_end].decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:])}
            length = int(headers.get("content-length", "0"))
            if len(data) >= head_end + 4 + length:
                body = data[head_end + 4:head_end + 4 + length]
                out.append((int(lines[0].split()[1]), headers, body))
                data = data[head_end + 4 + length:]
                continue
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return out


def connect_from(source, port):
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


class NtpWatch:
    """Asks the daemon's NTP address 20 times a second in a thread; counts the answers."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sent = self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.sent += 1
            if harness.exchange(self.host, self.port, harness.ntp_request(), timeout=1.0):
                self.answered += 1
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.sent, self.answered


class VendordataAttacks(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = harness.free_tcp_port()
        # A total limit of 256 (default 4096), so that 1000 idle connections pass it.
        cls.daemon = harness.Daemon(config=harness.LOCAL_CONFIG + "[vendordata]\nenabled = true\n"
                                    f'listen = "127.0.0.1:{cls.port}"\nmax_connections = 256\n')
        cls.ntp = cls.daemon.host_port()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        super().tearDownClass()

    def nova_post(self):
        """One POST as Nova sends it (5 s timeout); (status, seconds it took)."""
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("POST", "/", body=NOVA_BODY,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            return response.status, time.monotonic() - started
        finally:
            conn.close()

    def endpoint_pid(self):
        pid = self.daemon.vendordata_status()["pid"]
        # Never -1 (kill(-1) would signal every process) or 0: the endpoint must be running.
        self.assertGreater(pid, 1, self.daemon.read_log())
        return pid

    def total_rss_kib(self):
        return rss_kib(self.daemon.proc.pid) + rss_kib(self.endpoint_pid())

    def start_trickling(self, count, stop, closed_after):
        """`count` connections that send one header byte a second, forever; each appends the
        seconds it lasted to `closed_after` when the server cuts it off."""
        def trickle():
            s = connect_from("127.0.0.2", self.port)
            started = time.monotonic()
            try:
                s.sendall(b"POST / HTTP/1.1\r\n")
                while not stop.is_set():
                    s.sendall(b"X")
                    if select.select([s], [], [], 1.0)[0] and not s.recv(4096):
                        raise ConnectionResetError("closed by the server")
            except OSError:
                closed_after.append(time.monotonic() - started)
            finally:
                s.close()

        for _ in range(count):
            threading.Thread(target=trickle, daemon=True).start()

    def assert_nova_answered_within_a_second(self, posts=10):
        timings = []
        for _ in range(posts):
            status, took = self.nova_post()
            self.assertEqual(status, 200)
            timings.append(took)
            time.sleep(0.2)
        self.assertLess(max(timings), 1.0, timings)

    def test_trickling_connections_are_cut_off_and_do_not_delay_nova(self):
        watch = NtpWatch(*self.ntp)
        stop = threading.Event()
        closed_after = []
        before = self.daemon.status()["vendordata"]["deadline_expired"]
        self.start_trickling(16, stop, closed_after)
        try:
            self.assert_nova_answered_within_a_second()
            # Trickled bytes do not extend the 5 s deadline: every trickler is cut off.
            deadline = time.monotonic() + 10
            while len(closed_after) < 16 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
        self.assertEqual(len(closed_after), 16, closed_after)
        self.assertLess(max(closed_after), 6.0, closed_after)
        self.assertGreater(min(closed_after), 4.5, closed_after)
        sent, answered = watch.stop()
        self.assertEqual(answered, sent, "NTP queries went unanswered during the attack")
        counts = self.daemon.vendordata_status(lambda c: c["deadline_expired"] - before >= 16)
        self.assertGreaterEqual(counts["deadline_expired"] - before, 16, counts)

    def test_idle_connections_beyond_the_limits_do_not_delay_nova(self):
        watch = NtpWatch(*self.ntp)
        stop = threading.Event()
        self.start_trickling(8, stop, [])
        # Many from one address, and from more addresses than the total limit allows.
        idle = [connect_from("127.0.0.3", self.port) for _ in range(300)]
        idle += [connect_from(f"127.1.{i // 200}.{i % 200 + 1}", self.port) for i in range(700)]
        try:
            self.assert_nova_answered_within_a_second()
        finally:
            stop.set()
            for s in idle:
                s.close()
        sent, answered = watch.stop()
        self.assertEqual(answered, sent, "NTP queries went unanswered during the attack")
        counts = self.daemon.vendordata_status(lambda c: c["evicted"] > 0 and c["over_client_limit"] > 0)
        self.assertGreater(counts["over_client_limit"], 0, counts)
        self.assertGreater(counts["evicted"], 0, counts)
        self.assertLessEqual(counts["open"], 256, counts)

    def test_huge_headers_and_bodies_are_refused_with_bounded_memory(self):
        watch = NtpWatch(*self.ntp)
        peak = 0

        def huge_header():
            s = connect_from("127.0.0.4", self.port)
            try:
                s.sendall(b"POST / HTTP/1.1\r\nX-Big: " + b"a" * (3 * MIB))
            except OSError:
                pass  # closed while sending: refused before reading it all
            answer = read_responses(s, 1)
            s.close()
            return answer

        for _ in range(8):
            answer = huge_header()
            if answer:
                self.assertEqual(answer[0][0], 431)
            peak = max(peak, self.total_rss_kib())
        # A chunked body of 200 MB: refused once it passes max_body.
        s = connect_from("127.0.0.4", self.port)
        s.sendall(raw_request(b"", {"Content-Length": None, "Transfer-Encoding": "chunked"}))
        chunk = b"100000\r\n" + b"x" * MIB + b"\r\n"
        sent = 0
        try:
            while sent < 200:
                s.sendall(chunk)
                sent += 1
        except OSError:
            pass
        peak = max(peak, self.total_rss_kib())
        answer = read_responses(s, 1)
        s.close()
        self.assertLess(sent, 200, "the whole 200 MB body was taken")
        if answer:
            self.assertEqual(answer[0][0], 413)
        # A Content-Length far beyond max_body: 413 before the body is read.
        with connect_from("127.0.0.4", self.port) as s:
            s.sendall(raw_request(b"", {"Content-Length": str(200 * MIB)}))
            self.assertEqual(read_responses(s, 1)[0][0], 413)
        peak = max(peak, self.total_rss_kib())
        if not harness.sanitized():  # AddressSanitizer's quarantine alone is 256 MiB
            self.assertLess(peak, RSS_BOUND_KIB, f"peak RSS {peak} KiB")
        self.assertEqual(self.nova_post()[0], 200)
        sent, answered = watch.stop()
        self.assertEqual(answered, sent)

    def test_ambiguous_framing_range_and_pipelining(self):
        with connect_from("127.0.0.1", self.port) as s:
            s.sendall(raw_request())
            normal = read_responses(s, 1)[0]
        self.assertEqual(normal[0], 200)
        cases = {
            "two Content-Length": (raw_request(headers={"Content-Length": None}).replace(
                b"\r\n\r\n", f"\r\nContent-Length: {len(NOVA_BODY)}\r\n"
                f"Content-Length: {len(NOVA_BODY)}\r\n\r\n".encode(), 1), 400),
            "Content-Length and chunked": (raw_request(headers={"Transfer-Encoding": "chunked"}),
                                           400),
            "Transfer-Encoding gzip": (raw_request(headers={"Content-Length": None,
                                                            "Transfer-Encoding": "gzip"}), 400),
            "HTTP/2.0": (raw_request(version="HTTP/2.0"), 505),
            "too many fields": (raw_request(headers={f"X-{i}": "1" for i in range(100)}), 431),
        }
        for name, (request, expected) in cases.items():
            with self.subTest(name), connect_from("127.0.0.1", self.port) as s:
                s.sendall(request)
                answers = read_responses(s, 2)
                self.assertEqual([a[0] for a in answers], [expected])
                self.assertIn("error", json.loads(answers[0][2]))
        with self.subTest("Range on POST"), connect_from("127.0.0.1", self.port) as s:
            s.sendall(raw_request(headers={"Range": "bytes=0-0,0-0,0-0,0-0"}))
            status, headers, body = read_responses(s, 1)[0]
            self.assertEqual((status, body), (200, normal[2]))
            self.assertNotIn("content-range", headers)
        with self.subTest("pipelined"), connect_from("127.0.0.1", self.port) as s:
            s.sendall(raw_request() * 3 + raw_request(path="/other"))
            answers = read_responses(s, 4)
            self.assertEqual([a[0] for a in answers], [200, 200, 200, 404])
            self.assertEqual({a[2] for a in answers[:3]}, {normal[2]})

    def test_a_flood_of_valid_posts_does_not_flood_the_log(self):
        """Thousands of deliveries in a few seconds: at most 20 access log lines a second, the
        next line says how many were left out, and the status (and metrics) count them."""
        before_log = self.daemon.read_log()
        before = self.daemon.vendordata_status().get("endpoint", {})
        stop = time.monotonic() + 3

        def flood():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            while time.monotonic() < stop:
                conn.request("POST", "/", body=NOVA_BODY,
                             headers={"Content-Type": "application/json"})
                conn.getresponse().read()
            conn.close()

        threads = [threading.Thread(target=flood) for _ in range(2)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.monotonic() - started
        time.sleep(1.1)
        self.assertEqual(self.nova_post()[0], 200)  # a line after the flood says what was left
        time.sleep(0.3)  # the endpoint's process reports its counters every 100 ms
        log = self.daemon.read_log()[len(before_log):]
        lines = [line for line in log.splitlines() if "vendordata: 200 for" in line]
        after = self.daemon.vendordata_status()["endpoint"]
        delivered = after["deliveries"]["time"] - before.get("deliveries", {}).get("time", 0)
        left_out = after["log_lines_left_out"] - before.get("log_lines_left_out", 0)
        print(f"\n{delivered} deliveries in {seconds:.1f} s: {len(lines)} lines, "
              f"{left_out} left out", flush=True)
        self.assertGreater(delivered, 2 * 20 * (seconds + 2), "not a flood")  # twice the budget
        self.assertGreater(left_out, 0)
        self.assertLessEqual(len(lines), 20 * (seconds + 2))
        self.assertEqual(len(lines) + left_out, delivered)
        told = sum(int(m) for m in re.findall(r"; (\d+) more delivered since the last such line",
                                              log))
        self.assertEqual(told, left_out)  # every one left out is told by a later line

    def test_a_killed_endpoint_process_is_logged_and_started_again(self):
        watch = NtpWatch(*self.ntp)
        pid = self.endpoint_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while True:
            status = self.daemon.status()["vendordata"]
            if status["pid"] not in (pid, -1):
                break
            self.assertLess(time.monotonic(), deadline, self.daemon.read_log())
            time.sleep(0.1)
        self.assertEqual(status["restarts"], 1)
        log = self.daemon.read_log()
        self.assertRegex(log, rf"error vendordata: its process \(pid {pid}\) ended \(killed by "
                              r"signal 9")
        deadline = time.monotonic() + 5
        while True:
            try:
                self.assertEqual(self.nova_post()[0], 200)
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
        self.assertIsNone(self.daemon.proc.poll())
        sent, answered = watch.stop()
        self.assertEqual(answered, sent)

    def test_the_endpoint_process_holds_no_privilege(self):
        pid = self.endpoint_pid()
        fields = harness.proc_status(pid)
        self.assertNotEqual(fields["Uid"].split()[1], "0")
        self.assertEqual(int(fields["CapEff"], 16), 0)
        self.assertEqual(fields["Name"].strip(), "cloudtimed-http")
        with open(f"/proc/{pid}/cmdline", "rb") as f:  # what ps shows
            self.assertEqual(f.read(), b"cloudtimed-http\0--vendordata-process\0")
        self.assertEqual(fields["Seccomp"].strip(), "2")  # filtered: only what it serves with
        # Its memory and descriptors are capped whatever clients do.
        with open(f"/proc/{pid}/limits") as f:
            limits = f.read()
        self.assertRegex(limits, r"Max open files\s+320\s+320")  # max_connections + 64
        if not harness.sanitized():  # no cap under AddressSanitizer's shadow memory
            self.assertNotRegex(limits, r"Max data size\s+unlimited")


class RefusedClients(harness.TestCase):
    def test_a_refused_client_gets_403_before_anything_is_read(self):
        port = harness.free_tcp_port()
        daemon = harness.Daemon(config=harness.LOCAL_CONFIG + "[vendordata]\nenabled = true\n"
                                f'listen = "127.0.0.1:{port}"\nallowed_clients = ["127.0.0.1/32"]\n')
        self.addCleanup(daemon.cleanup)
        pid = daemon.status()["vendordata"]["pid"]
        before = rss_kib(pid)
        for _ in range(8):
            s = connect_from("127.0.0.2", port)
            try:
                s.sendall(b"POST / HTTP/1.1\r\nX-Big: " + b"a" * (3 * MIB))
            except OSError:
                pass
            answers = read_responses(s, 1)
            s.close()
            self.assertEqual([a[0] for a in answers], [403])
        self.assertLess(rss_kib(pid) - before, 8 * 1024)
        self.assertIn("refused 127.0.0.2", daemon.read_log())


if __name__ == "__main__":
    unittest.main()
