# SPDX-License-Identifier: Apache-2.0
"""NTP inside tenant networks: cloudtimed follows namespaces named like Neutron's (ovnmeta-*)
and serves 169.254.169.254 and fe80::a9fe:a9fe:123 inside them. Each test builds an OVN-like
topology of its own (a metadata namespace and a "vm" namespace on one veth link, link-local
addresses only) and removes it afterwards, also when it fails."""

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import unittest

import harness


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class OvnLikeTopology:
    """ovnmeta-<tag>-<id> holding the metadata addresses on one end of a veth pair, and a vm
    namespace holding 169.254.10.10 and fe80::10 on the other."""

    def __init__(self, tag):
        suffix = secrets.token_hex(3)
        self.meta = f"ovnmeta-{tag}-{suffix}"
        self.vm = f"ct-vm-{suffix}"
        self.meta_if = f"ctm{suffix}"
        self.vm_if = f"ctv{suffix}"
        ip("netns", "add", self.meta)
        try:
            ip("netns", "add", self.vm)
            for ns in (self.meta, self.vm):
                ip("-n", ns, "link", "set", "lo", "up")
            ip("link", "add", "name", self.meta_if, "netns", self.meta, "type", "veth",
               "peer", "name", self.vm_if, "netns", self.vm)
            ip("-n", self.meta, "addr", "add", "169.254.169.254/16", "dev", self.meta_if)
            ip("-n", self.meta, "addr", "add", "fe80::a9fe:a9fe/64", "dev", self.meta_if, "nodad")
            ip("-n", self.vm, "addr", "add", "169.254.10.10/16", "dev", self.vm_if)
            ip("-n", self.vm, "addr", "add", "fe80::10/64", "dev", self.vm_if, "nodad")
            ip("-n", self.meta, "link", "set", self.meta_if, "up")
            ip("-n", self.vm, "link", "set", self.vm_if, "up")
        except Exception:
            self.remove()
            raise

    def remove(self):
        for ns in (self.vm, self.meta):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), 9)
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def toml_list(items):
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def tenant_config(tag, user="", managed=(), addresses=("169.254.169.254", "fe80::a9fe:a9fe"),
                  patterns=None):
    # user = "": everything in one root process; a user: the privileged helper does the
    # namespace work.
    server = f'[server]\nuser = "{user}"\n'
    patterns = [f"ovnmeta-{tag}-*"] if patterns is None else patterns
    return (server + harness.LOCAL_CONFIG +
            f'[tenant_networks]\nenabled = true\npatterns = {toml_list(patterns)}\n'
            f'addresses = {toml_list(addresses)}\n'
            f'managed_addresses = {toml_list(managed)}\n')


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:"):
                inodes.add(target)
    return inodes


def addresses_in(ns):
    return subprocess.run(["ip", "-n", ns, "addr"], capture_output=True, text=True).stdout


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def assert_released_within_a_second(test, daemon, namespace, baseline_fds):
    """After `namespace` is deleted, the daemon's fds return to the baseline within 1 s and
    the log says the namespace was released."""
    removed = time.monotonic()
    while fd_count(daemon.proc.pid) != baseline_fds:
        test.assertLess(time.monotonic() - removed, 1.0,
                        "sockets not closed within 1 s:\n" + daemon.read_log())
        time.sleep(0.02)
    test.assertIn(f"tenant network {namespace}: released", daemon.read_log())


def assert_chronyd_selects_metadata_ip(test, vm, timeout=40):
    """A chronyd in namespace `vm` (no clock control) selects 169.254.169.254 as its source."""
    chronyd = harness.Chronyd(["server 169.254.169.254 iburst minpoll -2 maxpoll -2"], netns=vm)
    test.addCleanup(chronyd.cleanup)
    deadline = time.monotonic() + timeout
    sources = ""
    while time.monotonic() < deadline:
        sources = subprocess.run(["chronyc", "-h", chronyd.socket, "-n", "sources"],
                                 capture_output=True, text=True).stdout
        if re.search(r"^\^\*\s+169\.254\.169\.254", sources, re.M):
            return
        time.sleep(0.5)
    test.fail("chronyd did not select 169.254.169.254:\n" + sources + chronyd.read_log())


class TenantNetworks(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        super().setUpClass()

    def setUp(self):
        self.tag = "t" + secrets.token_hex(2)

    def topology(self):
        t = OvnLikeTopology(self.tag)
        self.addCleanup(t.remove)
        return t

    def daemon(self, user="", managed=()):
        d = harness.Daemon(config=tenant_config(self.tag, user, managed))
        self.addCleanup(d.cleanup)
        return d

    def wait_served(self, daemon, topology, count=2, timeout=5.0):
        daemon.wait_tenant_served(topology.meta, count, timeout)

    def test_vm_gets_time_on_the_metadata_ip_v4_and_v6(self):
        topology = self.topology()
        daemon = self.daemon()
        self.wait_served(daemon, topology)
        rc, data, err = harness.run_query("169.254.169.254", "-n", "2", "-i", "0.1",
                                          netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        self.assertEqual(data["stratum"], 10)
        self.assertLess(abs(data["offset_s"]), 1e-3)
        rc, data, err = harness.run_query(f"[fe80::a9fe:a9fe%{topology.vm_if}]:123", "-n", "2",
                                          "-i", "0.1", netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        p = subprocess.run(["ip", "netns", "exec", topology.vm, "ntpdig", "-j", "-t", "2",
                            "169.254.169.254"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Per-namespace counters, from the status socket.
        daemon.counters()  # every datagram accounted for
        served = {n["namespace"]: n for n in daemon.status()["tenant_networks"]}
        self.assertGreaterEqual(served[topology.meta]["answered"], 5, served)

    def test_chronyd_in_the_vm_selects_the_metadata_ip(self):
        harness.require_program("chronyd")
        topology = self.topology()
        daemon = self.daemon()
        self.wait_served(daemon, topology)
        assert_chronyd_selects_metadata_ip(self, topology.vm)

    def test_namespaces_are_followed_live(self):
        daemon = self.daemon()
        time.sleep(0.3)
        baseline = fd_count(daemon.proc.pid)
        topology = self.topology()
        created = time.monotonic()
        while True:
            rc, _, _ = harness.run_query("169.254.169.254", "-n", "1", "-t", "0.05",
                                         netns=topology.vm)
            if rc == 0:
                break
            self.assertLess(time.monotonic() - created, 1.0,
                            "not served within 1 s:\n" + daemon.read_log())
        # One socket per address and the namespace's rtnetlink watch.
        self.wait_served(daemon, topology, timeout=1.0)
        self.assertEqual(fd_count(daemon.proc.pid), baseline + 3)
        topology.remove()
        assert_released_within_a_second(self, daemon, topology.meta, baseline)

    def test_serving_process_holds_no_capabilities(self):
        topology = self.topology()
        daemon = self.daemon(user="nobody")
        self.wait_served(daemon, topology)
        rc, data, err = harness.run_query("169.254.169.254", "-n", "2", "-i", "0.1",
                                          netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        # The process that parses packets: no capabilities at all, not root.
        serving = harness.proc_status(daemon.proc.pid)
        self.assertEqual(int(serving["CapEff"], 16), 0, serving)
        self.assertEqual(int(serving["CapPrm"], 16), 0, serving)
        self.assertNotEqual(serving["Uid"].split()[0], "0")
        self.assertEqual(serving["NoNewPrivs"], "1")
        # The helper that entered the namespace and bound port 123 is its child.
        with open(f"/proc/{daemon.proc.pid}/task/{daemon.proc.pid}/children") as f:
            children = f.read().split()
        self.assertEqual(len(children), 1)
        self.assertIn("privileged helper, pid " + children[0], daemon.read_log())
        # It keeps only what it needs: SYS_ADMIN (setns), NET_ADMIN (addresses, nftables),
        # NET_BIND_SERVICE (port 123), and cannot regain more.
        helper = harness.proc_status(int(children[0]))
        needed = (1 << 21) | (1 << 12) | (1 << 10)
        self.assertEqual(int(helper["CapEff"], 16), needed, helper)
        self.assertEqual(int(helper["CapPrm"], 16), needed, helper)
        self.assertEqual(int(helper["CapBnd"], 16), needed, helper)
        # The helper goes with the server.
        self.assertEqual(daemon.stop(), 0)
        self.assertFalse(os.path.exists(f"/proc/{children[0]}"))

    def test_started_as_the_unit_starts_it_without_cap_setpcap(self):
        # The package's unit with the tenant-network drop-in: a bounding set without
        # CAP_SETPCAP, so the helper cannot shrink it (found under systemd in a VM).
        harness.require_program("setpriv")
        topology = self.topology()
        daemon = harness.Daemon(
            config=tenant_config(self.tag, "nobody"),
            prefix=["setpriv", "--bounding-set",
                    "-all,+net_bind_service,+setuid,+setgid,+chown,+sys_admin,+net_admin"])
        self.addCleanup(daemon.cleanup)
        self.wait_served(daemon, topology)
        rc, _, err = harness.run_query("169.254.169.254", "-t", "2", netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        with open(f"/proc/{daemon.proc.pid}/task/{daemon.proc.pid}/children") as f:
            helper = harness.proc_status(int(f.read().split()[0]))
        needed = (1 << 21) | (1 << 12) | (1 << 10)
        self.assertEqual(int(helper["CapEff"], 16), needed, helper)
        self.assertEqual(int(helper["CapPrm"], 16), needed, helper)
        self.assertEqual(helper["NoNewPrivs"], "1", helper)

    def test_a_killed_helper_is_logged_and_stops_the_daemon(self):
        topology = self.topology()
        daemon = self.daemon(user="nobody")
        self.wait_served(daemon, topology)
        with open(f"/proc/{daemon.proc.pid}/task/{daemon.proc.pid}/children") as f:
            helper = int(f.read().split()[0])
        os.kill(helper, 9)
        # Half-working (old namespaces served, new ones never) would look healthy: the daemon
        # says why and exits non-zero at once, so that systemd starts it again.
        rc = daemon.proc.wait(timeout=5)
        self.assertEqual(rc, 1, daemon.read_log())
        log = daemon.read_log()
        self.assertRegex(log, rf"error tenant networks: the privileged helper \(pid {helper}\) "
                              r"ended \(killed by signal 9")
        self.assertIn("stopping (exit status 1) to be started again", log)
        self.assertFalse(os.path.exists(f"/proc/{helper}"))  # reaped, no zombie left

    def test_idle_http_connections_cannot_take_the_descriptors_tenant_networks_need(self):
        # Under systemd's default soft limit and a flood of idle vendordata connections (which
        # live in the vendordata process, with a limit of their own), a new tenant network is
        # still served at once.
        port = harness.free_tcp_port()
        daemon = harness.Daemon(
            config=tenant_config(self.tag) + "[vendordata]\nenabled = true\n"
            f'listen = "127.0.0.1:{port}"\nmax_connections_per_client = 2000\n'
            "max_connections = 2000\n",
            prefix=["prlimit", "--nofile=1024:1024", "--"])
        self.addCleanup(daemon.cleanup)
        idle = []
        self.addCleanup(lambda: [c.close() for c in idle])
        for _ in range(1100):
            c = socket.socket()
            c.connect(("127.0.0.1", port))
            idle.append(c)
        time.sleep(0.5)
        self.assertLess(fd_count(daemon.proc.pid), 100)  # none of them are the daemon's
        topology = self.topology()
        self.wait_served(daemon, topology, timeout=2.0)
        rc, _, err = harness.run_query("169.254.169.254", "-n", "1", netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())

    def test_managed_address_is_added_served_and_removed(self):
        topology = self.topology()
        self.assertNotIn("169.254.169.123", addresses_in(topology.meta))
        daemon = self.daemon(user="nobody", managed=("169.254.169.123",))
        self.wait_served(daemon, topology, count=3)
        self.assertIn("inet 169.254.169.123/32", addresses_in(topology.meta))
        rc, data, err = harness.run_query("169.254.169.123", "-n", "2", "-i", "0.1",
                                          netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        self.assertEqual(data["stratum"], 10)
        # Released when cloudtimed stops: the namespace is left as Neutron made it.
        self.assertEqual(daemon.stop(), 0)
        self.assertNotIn("169.254.169.123", addresses_in(topology.meta))
        self.assertIn("inet 169.254.169.254/16", addresses_in(topology.meta))
        self.assertIn(f"tenant network {topology.meta}: removed 169.254.169.123/32",
                      daemon.read_log())

    def test_after_kill_9_the_next_start_removes_what_it_left(self):
        topology = self.topology()
        # An address of the namespace's own that happens to be link-local: never ours.
        subprocess.run(["ip", "-n", topology.meta, "addr", "add", "169.254.169.200/32", "dev",
                        "lo"], check=True)
        for user in ("", "_cloudtime"):  # in one process, and with the privileged helper
            with self.subTest(user=user):
                dead = self.daemon(user=user, managed=("169.254.169.123", "169.254.169.124"))
                self.wait_served(dead, topology, count=4)
                # SIGKILL to every process, as `systemctl kill -s KILL` does: no clean-up.
                with open(f"/proc/{dead.proc.pid}/task/{dead.proc.pid}/children") as f:
                    children = [int(pid) for pid in f.read().split()]
                for pid in children:
                    self.assertGreater(pid, 1)
                    os.kill(pid, signal.SIGKILL)
                dead.proc.kill()
                dead.proc.wait()
                self.assertIn("inet 169.254.169.123/32", addresses_in(topology.meta))
                # The next one, configured with one of them: serves it as its own (and removes
                # it when it stops); removes the other; leaves the namespace's own alone.
                d = self.daemon(user=user, managed=("169.254.169.123",))
                self.wait_served(d, topology, count=3)
                log = d.read_log()
                self.assertIn(f"tenant network {topology.meta}: 169.254.169.123 was left by an "
                              "earlier cloudtimed: ours again", log)
                self.assertIn(f"tenant network {topology.meta}: removed 169.254.169.124/32, left "
                              "by an earlier cloudtimed", log)
                self.assertNotIn("169.254.169.124", addresses_in(topology.meta))
                rc, _, err = harness.run_query("169.254.169.123", "-n", "1", netns=topology.vm)
                self.assertEqual(rc, 0, err)
                self.assertEqual(d.stop(), 0)
                self.assertNotIn("169.254.169.123", addresses_in(topology.meta))
                self.assertIn("inet 169.254.169.200/32", addresses_in(topology.meta))

    def test_a_reload_applies_patterns_and_addresses_and_keeps_the_sockets_that_stay(self):
        topology = self.topology()
        meta = topology.meta

        def served(daemon):
            return {n["namespace"]: sorted(n["addresses"])
                    for n in daemon.status()["tenant_networks"]}.get(meta)

        def reload(daemon, text, until):
            with open(daemon.config_path, "w") as f:
                f.write(text)
            daemon.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while not until():
                self.assertLess(time.monotonic(), deadline, f"{served(daemon)}\n" +
                                daemon.read_log())
                time.sleep(0.02)

        def answers(address):
            return harness.run_query(address, "-n", "1", "-t", "0.3", netns=topology.vm)[0] == 0

        for user in ("", "_cloudtime"):  # in one process, and through the privileged helper
            with self.subTest(user=user):
                d = harness.Daemon(config=tenant_config(self.tag, user,
                                                        addresses=("169.254.169.254",)))
                self.addCleanup(d.cleanup)
                self.wait_served(d, topology, count=1)
                before = socket_inodes(d.proc.pid)
                # Added: an address and a managed one; the socket already open stays open.
                reload(d, tenant_config(self.tag, user, managed=("169.254.169.123",)),
                       until=lambda: len(served(d) or []) == 3)
                self.assertLessEqual(before, socket_inodes(d.proc.pid))
                self.assertIn("inet 169.254.169.123/32", addresses_in(meta))
                self.assertTrue(answers("169.254.169.123"), d.read_log())
                self.assertTrue(answers("169.254.169.254"), d.read_log())
                # Removed: the metadata address (its socket closes) and the managed one (it
                # leaves the namespace); the link-local IPv6 one stays served.
                reload(d, tenant_config(self.tag, user, addresses=("fe80::a9fe:a9fe",)),
                       until=lambda: len(served(d) or []) == 1)
                self.assertNotIn("169.254.169.123", addresses_in(meta))
                self.assertIn("inet 169.254.169.254/16", addresses_in(meta))  # Neutron's
                self.assertFalse(answers("169.254.169.254"))
                self.assertIn(f"tenant network {meta}: no longer serving 169.254.169.254:123",
                              d.read_log())
                # Patterns: no longer followed, released; followed again, served again.
                reload(d, tenant_config(self.tag, user, patterns=["qdhcp-none-*"]),
                       until=lambda: served(d) is None)
                self.assertIn(f"tenant network {meta}: released", d.read_log())
                reload(d, tenant_config(self.tag, user),
                       until=lambda: len(served(d) or []) == 2)
                self.assertTrue(answers("169.254.169.254"), d.read_log())
                log = d.read_log()
                self.assertNotIn("only a restart applies", log)
                self.assertIn("reload: tenant networks: namespaces", log)
                self.assertEqual(d.stop(), 0)

    def test_bad_user_is_refused(self):
        for user, message in (("no-such-user-here", "no such user"), ("root", "is root")):
            p = subprocess.run([harness.CLOUDTIMED, "--config", "/dev/stdin"],
                               input=f'[server]\nuser = "{user}"\n' + harness.LOCAL_CONFIG,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn(message, p.stdout + p.stderr)

    def test_other_namespaces_are_left_alone(self):
        with harness.network_namespace(f"qrouter-{self.tag}") as other:
            daemon = self.daemon()
            time.sleep(0.5)
            self.assertNotIn(other, daemon.read_log())


if __name__ == "__main__":
    unittest.main()
