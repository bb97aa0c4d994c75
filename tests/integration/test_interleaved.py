# SPDX-License-Identifier: Apache-2.0
"""Interleaved mode (RFC 9769) with the real client that asks for it: chronyd 4.x with `xleave`
reports `Interleaved : Yes` for cloudtimed, on a loopback address (IPv4 and IPv6) and on
169.254.169.254 inside a tenant network, and cloudtimed's counters show the kernel transmit
timestamps it served. A client without `xleave` stays in basic mode."""

import json
import re
import subprocess
import time
import unittest

import harness
from test_tenant_networks import OvnLikeTopology, tenant_config

POLL = "minpoll -4 maxpoll -4"  # 16 requests a second: many exchanges in a few seconds


def ntpdata(chronyd, address):
    """`chronyc ntpdata ADDRESS` as {field: value}, or {} while chronyd has no data."""
    try:
        text = chronyd.chronyc("ntpdata", address)
    except Exception:  # not answering yet, or no such source yet
        return {}
    return {k.strip(): v.strip() for k, v in re.findall(r"^([^:\n]+?)\s*:\s*(.*)$", text, re.M)}


def wait_interleaved(chronyd, address, good=16, timeout=20):
    """Waits until chronyd has `good` good replies from `address` and says whether they were
    interleaved; returns its ntpdata."""
    deadline = time.monotonic() + timeout
    data = {}
    while time.monotonic() < deadline:
        data = ntpdata(chronyd, address)
        if int(data.get("Total good RX", "0")) >= good:
            return data
        time.sleep(0.25)
    raise AssertionError(f"chronyd got fewer than {good} good replies from {address}: {data}\n"
                         + chronyd.read_log())


def offset_of(data):
    return float(data["Offset"].split()[0])


class Interleaved(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        harness.require_root()
        super().setUpClass()

    def start(self, config=harness.LOCAL_CONFIG, listen=("127.0.0.1:0", "[::1]:0")):
        daemon = harness.Daemon(config=config, listen=listen)
        self.addCleanup(daemon.cleanup)
        return daemon

    def chronyd(self, lines, netns=None):
        chronyd = harness.Chronyd(lines, netns=netns)
        self.addCleanup(chronyd.cleanup)
        return chronyd

    def test_chronyd_xleave_is_answered_interleaved_with_kernel_timestamps(self):
        daemon = self.start()
        (host4, port4), (host6, port6) = daemon.host_port(0), daemon.host_port(1)
        chronyd = self.chronyd([f"server {host4} port {port4} {POLL} xleave",
                                f"server {host6} port {port6} {POLL} xleave"])
        for host in (host4, host6):
            data = wait_interleaved(chronyd, host)
            self.assertEqual(data["Interleaved"], "Yes", data)
            # The same clock on both ends: what is left is the measurement's own error.
            self.assertLess(abs(offset_of(data)), 50e-6, data)
        c = daemon.counters()
        self.assertGreater(c["interleaved"], 20)
        # Every interleaved reply but a client's first carries the kernel's stamp of the
        # reply before it.
        # (harness.counters names them as the log does: the status nests them)
        self.assertGreater(c["interleaved_tx.kernel"], 20)
        self.assertLessEqual(c["interleaved_tx.daemon"], 4, c)
        self.assertGreaterEqual(c["kernel_tx_stamps"], c["interleaved_tx.kernel"])
        self.assertEqual(c["interleaved"], c["interleaved_tx.kernel"] + c["interleaved_tx.daemon"])

        # A client without xleave beside it is answered in basic mode: the interleaved
        # counters do not move while only it asks.
        chronyd.stop()
        before = daemon.counters()
        basic = self.chronyd([f"server {host4} port {port4} {POLL}"])
        data = wait_interleaved(basic, host4, good=16)
        self.assertEqual(data["Interleaved"], "No", data)
        after = daemon.counters()
        self.assertGreater(after["answered"], before["answered"] + 15)
        self.assertEqual(after["interleaved"], before["interleaved"])
        # The basic replies' kernel stamps measured the send's delay, which their transmit
        # time includes: microseconds on this path, never nothing and never a millisecond.
        delay = daemon.status()["send_delay_s"]
        self.assertGreater(delay, 0.0)
        self.assertLess(delay, 1e-3)

    def test_query_interleaved(self):
        # cloudtimed and, as the reference, chronyd 4.3 serving this host's clock: both
        # answer `cloudtime query --interleaved` in interleaved mode; the samples that name
        # an exchange carry the server's exact transmit time and ours from the kernel.
        daemon = self.start(listen=("127.0.0.1:0",))
        port = harness.free_udp_port()
        chronyd = self.chronyd([f"port {port}", "bindaddress 127.0.0.1", "allow 127.0.0.1",
                                "local stratum 8"])
        for address in (daemon.address, f"127.0.0.1:{port}"):
            code, r, err = harness.run_query(address, "--interleaved", "--samples", "5",
                                             "--interval", "0.1")
            self.assertEqual(code, 0, err)
            self.assertEqual(r["sent"], 6, r)  # one more: the first starts the chain
            self.assertEqual(r["answered"], 6, r)  # sent = answered + lost
            self.assertEqual(len(r["samples"]), 5, r)
            # The first request that names an exchange makes the server keep one (neither
            # server keeps a record for a basic request), so from the second on, all are.
            self.assertEqual(r["interleaved_samples"], 4, r)
            self.assertEqual(r["kernel_transmit_samples"], 4, r)
            self.assertTrue(all(s["interleaved"] for s in r["samples"][1:]), r)
            self.assertLess(abs(r["offset_s"]), 50e-6, r)
        # A server without interleaved mode: basic samples, and the query says so.
        basic = self.start(config=harness.LOCAL_CONFIG + "[server]\ninterleaved = false\n",
                           listen=("127.0.0.1:0",))
        out = subprocess.run([harness.CLOUDTIME, "query", "--interleaved", "--samples", "3",
                              "--interval", "0.1", basic.address], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("interleaved: the server answered in basic mode only", out.stdout)
        # It adds up: every request answered, one of the answers only started the chain.
        self.assertIn("4 sent, 4 answered, 0 lost; 3 samples", out.stdout)

    def test_requests_naming_unknown_exchanges_are_answered_basic(self):
        # `cloudtime bench --interleaved`: every request names an exchange that never was
        # (what a flood aimed at interleaved mode sends). Each is answered, in basic mode;
        # each reply gets a record and its kernel stamp.
        daemon = self.start(listen=("127.0.0.1:0",))
        p = subprocess.run([harness.CLOUDTIME, "bench", "--interleaved", "--json", "--rate",
                            "2000", "--duration", "1", "--sources", "500", daemon.address],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["answered"], r["sent"], r)
        c = daemon.counters()
        self.assertEqual(c["interleaved"], 0, c)
        self.assertGreater(c["kernel_tx_stamps"], r["sent"] * 9 // 10, c)

    def test_off_in_the_config_means_basic_mode(self):
        daemon = self.start(config=harness.LOCAL_CONFIG + "[server]\ninterleaved = false\n",
                            listen=("127.0.0.1:0",))
        host, port = daemon.host_port()
        chronyd = self.chronyd([f"server {host} port {port} {POLL} xleave"])
        data = wait_interleaved(chronyd, host)
        self.assertEqual(data["Interleaved"], "No", data)
        self.assertEqual(daemon.counters()["interleaved"], 0)

    def test_tenant_network_sockets_answer_interleaved(self):
        topology = OvnLikeTopology("xl")
        self.addCleanup(topology.remove)
        daemon = self.start(config=tenant_config("xl"), listen=("127.0.0.1:0",))
        daemon.wait_tenant_served(topology.meta, count=2)
        chronyd = self.chronyd([f"server 169.254.169.254 {POLL} xleave"], netns=topology.vm)
        data = wait_interleaved(chronyd, "169.254.169.254")
        self.assertEqual(data["Interleaved"], "Yes", data)
        self.assertLess(abs(offset_of(data)), 50e-6, data)
        c = daemon.counters()
        self.assertGreater(c["interleaved_tx.kernel"], 10)
        served = {n["namespace"]: n for n in daemon.status()["tenant_networks"]}
        self.assertGreater(served[topology.meta]["answered"], 16)


if __name__ == "__main__":
    unittest.main()
