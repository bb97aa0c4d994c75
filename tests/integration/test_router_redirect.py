# SPDX-License-Identifier: Apache-2.0
"""NTP for routed ML2/OVS networks: in a qrouter-* namespace cloudtimed adds an nftables table
that redirects UDP 123 for 169.254.169.254, arriving from the tenant side (qr-*), to a socket of
its own; nothing else reaches that socket; the table is replaced whole at start and removed on
release. Each test builds a router namespace of its own (a tenant link to a "vm" namespace, an
external link to an "outside" namespace, link-local addresses only) and removes it afterwards,
also when it fails."""

import contextlib
import os
import secrets
import signal
import subprocess
import time
import unittest

import harness
from test_tenant_networks import (assert_chronyd_selects_metadata_ip,
                                  assert_released_within_a_second, fd_count, ip)

REDIRECT_PORT = 10123


def nft(ns, *args, check=True):
    p = subprocess.run(["ip", "netns", "exec", ns, "nft", *args], capture_output=True, text=True,
                       timeout=10)
    if check and p.returncode != 0:
        raise AssertionError(f"nft {' '.join(args)} in {ns}: {p.stderr}")
    return p.stdout


class RouterTopology:
    """qrouter-<tag>-<id> with a tenant interface qr-<id> (169.254.100.1/24, the subnet's
    gateway) and an external one qg-<id> (169.254.200.1/24); a vm namespace behind qr- and an
    outside namespace behind qg-, each routing 169.254.169.254 through the router."""

    def __init__(self, tag):
        suffix = secrets.token_hex(3)
        self.router = f"qrouter-{tag}-{suffix}"
        self.vm = f"ct-vm-{suffix}"
        self.outside = f"ct-out-{suffix}"
        self.namespaces = [self.router, self.vm, self.outside]
        self.created = []
        try:
            for ns in self.namespaces:
                ip("netns", "add", ns)
                self.created.append(ns)
                ip("-n", ns, "link", "set", "lo", "up")
            for side, peer_ns, gateway, host in (("qr", self.vm, "169.254.100.1",
                                                  "169.254.100.10"),
                                                 ("qg", self.outside, "169.254.200.1",
                                                  "169.254.200.10")):
                inner, outer = f"{side}-{suffix}", f"ct{side}{suffix}"
                ip("link", "add", "name", inner, "netns", self.router, "type", "veth", "peer",
                   "name", outer, "netns", peer_ns)
                ip("-n", self.router, "addr", "add", gateway + "/24", "dev", inner)
                ip("-n", peer_ns, "addr", "add", host + "/24", "dev", outer)
                ip("-n", self.router, "link", "set", inner, "up")
                ip("-n", peer_ns, "link", "set", outer, "up")
                ip("-n", peer_ns, "route", "add", "169.254.169.254/32", "via", gateway)
        except Exception:
            self.remove()
            raise

    def remove(self):
        for ns in reversed(self.created):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), 9)
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        self.created = []


def router_config(tag, user=None, port=REDIRECT_PORT):
    server = f'[server]\nuser = "{user}"\n' if user else ""
    return (server + harness.LOCAL_CONFIG +
            f'[tenant_networks]\nenabled = true\npatterns = []\n'
            f'router_patterns = ["qrouter-{tag}-*"]\nrouter_port = {port}\n')


def answered(target, ns):
    rc, _, _ = harness.run_query(target, "-n", "1", "-t", "0.3", netns=ns)
    return rc == 0


class RouterRedirect(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        harness.require_program("nft")
        super().setUpClass()

    def setUp(self):
        self.tag = "r" + secrets.token_hex(2)

    def topology(self):
        t = RouterTopology(self.tag)
        self.addCleanup(t.remove)
        return t

    def daemon(self, user=None):
        d = harness.Daemon(config=router_config(self.tag, user))
        self.addCleanup(d.cleanup)
        return d

    def wait_for_log(self, daemon, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while text not in daemon.read_log():
            if time.monotonic() > deadline:
                self.fail(f"no '{text}' in the log:\n" + daemon.read_log())
            time.sleep(0.02)

    def wait_served(self, daemon, topology, timeout=5.0):
        daemon.wait_tenant_served(topology.router, 1, timeout)

    def test_vm_behind_the_router_gets_time_and_nothing_else_reaches_the_port(self):
        harness.require_program("chronyd")
        topology = self.topology()
        daemon = self.daemon(user="nobody")  # the helper applies the table, as deployed
        self.wait_served(daemon, topology)
        rc, data, err = harness.run_query("169.254.169.254", "-n", "2", "-i", "0.1",
                                          netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        self.assertEqual(data["stratum"], 10)
        self.assertLess(abs(data["offset_s"]), 1e-3)
        p = subprocess.run(["ip", "netns", "exec", topology.vm, "ntpdig", "-j", "-t", "2",
                            "169.254.169.254"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # The redirect's port answers only redirected packets: not the vm asking it directly,
        # not the external side, not the metadata IP asked from the external side.
        self.assertFalse(answered(f"169.254.100.1:{REDIRECT_PORT}", topology.vm))
        self.assertFalse(answered(f"169.254.200.1:{REDIRECT_PORT}", topology.outside))
        self.assertFalse(answered("169.254.169.254", topology.outside))
        assert_chronyd_selects_metadata_ip(self, topology.vm)
        # Counted as the router namespace's.
        p = subprocess.run([harness.CLOUDTIME, "status", "--json", "--socket",
                            daemon.status_socket], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(topology.router, p.stdout)
        self.assertIn(f"redirected to port {REDIRECT_PORT}", p.stdout)

    def test_table_is_replaced_whole_and_removed_on_release(self):
        topology = self.topology()
        # A stale table from a cloudtimed that was killed, and a table that is not ours.
        subprocess.run(["ip", "netns", "exec", topology.router, "nft", "-f", "-"], check=True,
                       text=True, input="table ip cloudtime {\n chain stale { }\n}\n"
                       "table ip neutron_like {\n chain input {\n"
                       "  type filter hook input priority 0; policy accept;\n }\n}\n")
        daemon = self.daemon()
        self.wait_served(daemon, topology)
        table = nft(topology.router, "list", "table", "ip", "cloudtime")
        self.assertNotIn("stale", table)
        self.assertIn(f'iifname "qr-*" ip daddr 169.254.169.254 udp dport 123 redirect to '
                      f':{REDIRECT_PORT}', table)
        self.assertTrue(answered("169.254.169.254", topology.vm), daemon.read_log())
        # Reloading changes nothing: the namespace is served once, the table is the same.
        daemon.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertEqual(nft(topology.router, "list", "table", "ip", "cloudtime"), table)
        self.assertEqual(daemon.read_log().count(f"{topology.router}: serving NTP on"), 1)
        # Stopping releases the router: our table goes, the other stays.
        self.assertEqual(daemon.stop(), 0)
        tables = nft(topology.router, "list", "tables")
        self.assertNotIn("cloudtime", tables)
        self.assertIn("neutron_like", tables)
        self.assertIn(f"tenant network {topology.router}: removed the nftables table 'cloudtime'",
                      daemon.read_log())
        self.assertFalse(answered("169.254.169.254", topology.vm))

    def test_a_reload_moves_the_redirect_to_another_port(self):
        topology = self.topology()
        daemon = self.daemon(user="_cloudtime")  # the helper redoes the table
        self.wait_served(daemon, topology)
        moved = REDIRECT_PORT + 1
        with open(daemon.config_path, "w") as f:
            f.write(router_config(self.tag, "_cloudtime", port=moved))
        daemon.proc.send_signal(signal.SIGHUP)
        self.wait_for_log(daemon, f"{topology.router}: serving NTP on 169.254.169.254:123 (from "
                          f"qr-*, redirected to port {moved})")
        table = nft(topology.router, "list", "table", "ip", "cloudtime")
        self.assertIn(f"redirect to :{moved}", table)
        self.assertNotIn(f":{REDIRECT_PORT}", table)
        self.assertTrue(answered("169.254.169.254", topology.vm), daemon.read_log())
        self.assertNotIn("only a restart applies", daemon.read_log())

    def test_routers_are_followed_live(self):
        daemon = self.daemon()
        time.sleep(0.3)
        baseline = fd_count(daemon.proc.pid)
        topology = self.topology()
        created = time.monotonic()
        while not answered("169.254.169.254", topology.vm):
            self.assertLess(time.monotonic() - created, 1.0,
                            "not served within 1 s:\n" + daemon.read_log())
        self.assertEqual(fd_count(daemon.proc.pid), baseline + 1)  # the one socket
        topology.remove()
        assert_released_within_a_second(self, daemon, topology.router, baseline)

    def test_port_in_use_is_reported_and_retried_on_sighup(self):
        topology = self.topology()
        blocker = subprocess.Popen(
            ["ip", "netns", "exec", topology.router, "python3", "-c",
             "import socket, sys, time\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             f"s.bind(('0.0.0.0', {REDIRECT_PORT}))\n"
             "print('bound', flush=True)\ntime.sleep(120)\n"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(blocker.stdout.close)
        self.addCleanup(blocker.wait)
        self.addCleanup(blocker.kill)
        self.assertEqual(blocker.stdout.readline().strip(), "bound")
        daemon = self.daemon()
        self.wait_for_log(daemon, f"tenant network {topology.router}: cannot redirect NTP: "
                          f"0.0.0.0:{REDIRECT_PORT}: ")
        self.assertIn("Address already in use", daemon.read_log())
        self.assertNotIn("cloudtime", nft(topology.router, "list", "tables"))
        self.assertTrue(daemon.proc.poll() is None)
        blocker.kill()
        blocker.wait()
        daemon.proc.send_signal(signal.SIGHUP)
        self.wait_served(daemon, topology)
        self.assertTrue(answered("169.254.169.254", topology.vm), daemon.read_log())


if __name__ == "__main__":
    unittest.main()
