# SPDX-License-Identifier: Apache-2.0
"""NTS cookie keys shared by a fleet through etcd: a 3-member etcd 3.4 cluster on loopback, two
cloudtimed instances (A and B, as on two hypervisors) with `key_store = "etcd"`. A chronyd in a
VM namespace does its key establishment with A on 169.254.169.254; the route to the metadata IP
then moves to B's tenant network (what a live migration looks like from the VM) and chronyd
stays authenticated with A's cookies, without a new key establishment (B's KE counter stays 0).
One member down: service goes on; all down: the keys held serve on, with a warning and the
store's state saying so. Rotation is written once per period for the whole fleet."""

import os
import secrets
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from test_metrics import fetch, metrics_config, parse, value
from test_nts import authdata, nts_chronyd, nts_section, wait_nts_cookies
from test_tenant_networks import ip, tenant_config


class EtcdCluster:
    """Three etcd members on 127.0.0.1, each with its own data directory."""

    def __init__(self, names=("e1", "e2", "e3")):
        self.dir = tempfile.mkdtemp(prefix="cloudtime-etcd-")
        self.names = names
        self.client = {n: harness.free_tcp_port() for n in names}
        self.peer = {n: harness.free_tcp_port() for n in names}
        self.procs = {}
        self.cluster = ",".join(f"{n}=http://127.0.0.1:{self.peer[n]}" for n in names)
        for n in names:
            self.start(n)
        self.wait_healthy()

    def start(self, name):
        with open(os.path.join(self.dir, f"{name}.log"), "a") as log:
            self.procs[name] = subprocess.Popen(
                ["etcd", "--name", name, "--data-dir", os.path.join(self.dir, name),
                 "--listen-client-urls", f"http://127.0.0.1:{self.client[name]}",
                 "--advertise-client-urls", f"http://127.0.0.1:{self.client[name]}",
                 "--listen-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
                 "--initial-cluster", self.cluster, "--initial-cluster-state", "new",
                 "--initial-cluster-token", os.path.basename(self.dir)],
                stdout=log, stderr=subprocess.STDOUT)

    def stop(self, name):
        proc = self.procs.pop(name, None)
        if proc:
            proc.terminate()
            proc.wait(timeout=10)

    def endpoints(self):
        return [f"http://127.0.0.1:{self.client[n]}" for n in self.names]

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            p = subprocess.run(["etcdctl", "--endpoints", ",".join(self.endpoints()),
                                "endpoint", "health"], capture_output=True, text=True,
                               env={**os.environ, "ETCDCTL_API": "3"})
            if p.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError("etcd cluster not healthy:\n" + p.stdout + p.stderr)
            time.sleep(0.3)

    def remove(self):
        for name in list(self.procs):
            self.stop(name)
        shutil.rmtree(self.dir, True)


class MigrationTopology:
    """A VM namespace linked to two metadata namespaces, one per cloudtimed (ovnmeta-<tagA>-x
    and ovnmeta-<tagB>-x), each holding 169.254.169.254; the VM's route to the metadata IP goes
    through A's link until move_to_b()."""

    def __init__(self, tag_a, tag_b):
        suffix = secrets.token_hex(3)
        self.meta_a = f"ovnmeta-{tag_a}-{suffix}"
        self.meta_b = f"ovnmeta-{tag_b}-{suffix}"
        self.vm = f"ct-vm-{suffix}"
        self.vm_a, self.vm_b = f"cva{suffix}", f"cvb{suffix}"
        self.namespaces = [self.meta_a, self.meta_b, self.vm]
        try:
            for ns in self.namespaces:
                ip("netns", "add", ns)
                ip("-n", ns, "link", "set", "lo", "up")
            for meta, vm_if, vm_addr in ((self.meta_a, self.vm_a, "169.254.10.10"),
                                         (self.meta_b, self.vm_b, "169.254.10.11")):
                meta_if = "m" + vm_if[1:]
                ip("link", "add", "name", meta_if, "netns", meta, "type", "veth", "peer", "name",
                   vm_if, "netns", self.vm)
                ip("-n", meta, "addr", "add", "169.254.169.254/16", "dev", meta_if)
                ip("-n", self.vm, "addr", "add", f"{vm_addr}/32", "dev", vm_if)
                ip("-n", meta, "link", "set", meta_if, "up")
                ip("-n", self.vm, "link", "set", vm_if, "up")
                ip("-n", meta, "route", "add", f"{vm_addr}/32", "dev", meta_if)
            ip("-n", self.vm, "route", "add", "169.254.169.254/32", "dev", self.vm_a, "src",
               "169.254.10.10")
        except Exception:
            self.remove()
            raise

    def move_to_b(self):
        ip("-n", self.vm, "route", "replace", "169.254.169.254/32", "dev", self.vm_b, "src",
           "169.254.10.11")

    def remove(self):
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def etcd_config(directory, tag, cert, key, ke_port, endpoints, rotation):
    os.makedirs(os.path.join(directory, "keys"), exist_ok=True)
    return (tenant_config(tag, addresses=("169.254.169.254",)) +
            nts_section(directory, cert, key, ke_port, rotation) +
            'key_store = "etcd"\netcd_endpoints = [' +
            ", ".join(f'"{e}"' for e in endpoints) + ']\netcd_timeout_ms = 500\n')


class NtsKeysInEtcd(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("etcd")
        harness.require_program("etcdctl")
        harness.require_program("chronyd")
        harness.require_program("promtool")
        harness.require_root()
        super().setUpClass()

    def fleet(self, rotation=86400):
        """The cluster, and cloudtimed A and B on it, each following its own tenant networks."""
        cluster = EtcdCluster()
        self.addCleanup(cluster.remove)
        directory = tempfile.mkdtemp(prefix="cloudtime-nts-etcd-")
        self.addCleanup(shutil.rmtree, directory, True)
        cert, key = harness.self_signed_certificate(directory, "169.254.169.254")
        tags = ("a" + secrets.token_hex(2), "b" + secrets.token_hex(2))
        daemons = []
        for name, tag in zip("AB", tags):
            workdir = os.path.join(directory, name)
            os.makedirs(workdir)
            ke_port = harness.free_tcp_port()
            metrics_port = harness.free_tcp_port()
            config = (etcd_config(workdir, tag, cert, key, ke_port, cluster.endpoints(), rotation)
                      + metrics_config(metrics_port))
            daemon = harness.Daemon(config=config, workdir=workdir)
            self.addCleanup(daemon.cleanup)
            daemon.ke_port, daemon.config_text, daemon.workdir = ke_port, config, workdir
            daemon.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
            daemons.append(daemon)
        return cluster, daemons, tags, cert

    def keys(self, daemon):
        return daemon.status()["nts"]["keys"]

    def test_a_migrated_vm_stays_authenticated_without_a_new_key_establishment(self):
        cluster, (a, b), tags, cert = self.fleet()
        # One set for the fleet, written once.
        ka, kb = self.keys(a), self.keys(b)
        self.assertEqual(ka["ids"], kb["ids"])
        self.assertEqual(ka["generation"], 1, ka)
        self.assertEqual(ka["store"]["writes"] + kb["store"]["writes"], 1, (ka, kb))
        self.assertTrue(ka["store"]["reachable"] and kb["store"]["reachable"])
        topology = MigrationTopology(*tags)
        self.addCleanup(topology.remove)
        a.wait_tenant_served(topology.meta_a, 1)
        b.wait_tenant_served(topology.meta_b, 1)
        chronyd = nts_chronyd(self, cert, a.ke_port, netns=topology.vm)
        wait_nts_cookies(self, chronyd, a, "169.254.169.254")
        self.assertEqual(a.status()["nts"]["ke"]["established"], 1)
        # The VM moves: its requests now reach B, with cookies A made.
        topology.move_to_b()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and b.counters()["nts"] < 4:
            time.sleep(0.25)
        cb = b.counters()
        self.assertGreaterEqual(cb["nts"], 4, (cb, b.read_log()))
        self.assertEqual(cb["nts_nak"], 0, cb)
        self.assertEqual(b.status()["nts"]["ke"]["established"], 0)
        row = authdata(chronyd)["169.254.169.254"]
        self.assertEqual(row[7], "0", row)  # no NAK
        self.assertEqual(row[8], "8", row)  # cookies replenished by B
        self.assertRegex(chronyd.chronyc("-n", "ntpdata", "169.254.169.254"),
                         r"Authenticated\s*:\s*Yes")

        # One member down: the others answer.
        cluster.stop("e1")
        time.sleep(1.5)
        self.assertTrue(self.keys(a)["store"]["reachable"], self.keys(a))
        # All down: the keys held serve on, the state and the log say so.
        cluster.stop("e2")
        cluster.stop("e3")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.keys(b)["store"]["reachable"]:
            time.sleep(0.2)
        kb = self.keys(b)
        self.assertFalse(kb["store"]["reachable"], kb)
        self.assertIn("no etcd endpoint answered", kb["store"]["problem"])
        self.assertEqual(kb["ids"], ka["ids"])
        self.assertIn("keys held serve on", b.read_log())
        # Metrics say so too, in an exposition promtool accepts.
        _, _, text = fetch(b.metrics_url)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        samples = parse(text)
        self.assertEqual(value(samples, "cloudtime_nts_key_store_reachable", store="etcd"), 0)
        self.assertGreaterEqual(value(samples, "cloudtime_nts_key_store_failures_total"), 1)
        self.assertEqual(value(samples, "cloudtime_nts_ke_established_total"), 0)
        self.assertGreaterEqual(value(samples, "cloudtime_nts_responses_sent_total"), 4)
        self.assertEqual(value(samples, "cloudtime_nts_naks_sent_total"), 0)
        self.assertEqual(value(samples, "cloudtime_nts_cookie_keys"), 1)
        before = b.counters()["nts"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b.counters()["nts"] < before + 2:
            time.sleep(0.25)
        self.assertGreaterEqual(b.counters()["nts"], before + 2)
        self.assertEqual(b.counters()["nts_nak"], 0)
        # A restart while etcd is down starts with the keys cached in key_file (0600).
        cache = os.path.join(b.workdir, "keys", "nts-keys")
        self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o600)
        b.stop()
        again = harness.Daemon(config=b.config_text, workdir=b.workdir)
        self.addCleanup(again.cleanup)
        self.assertEqual(self.keys(again)["ids"], ka["ids"])
        self.assertIn("starting with the 1 keys cached in", again.read_log())

    def test_etcd_over_tls_with_client_certificates(self):
        directory = tempfile.mkdtemp(prefix="cloudtime-etcd-tls-")
        self.addCleanup(shutil.rmtree, directory, True)
        server_dir, client_dir = (os.path.join(directory, d) for d in ("server", "client"))
        os.makedirs(server_dir)
        os.makedirs(client_dir)
        server_cert, server_key = harness.self_signed_certificate(server_dir)
        client_cert, client_key = harness.self_signed_certificate(client_dir)
        # etcd's JSON gateway talks to its own gRPC server with the server's certificate as
        # its client certificate: the trusted CAs hold both.
        trusted_ca = os.path.join(directory, "trusted.pem")
        with open(trusted_ca, "w") as out:
            for path in (client_cert, server_cert):
                with open(path) as f:
                    out.write(f.read())
        port, peer = harness.free_tcp_port(), harness.free_tcp_port()
        with open(os.path.join(directory, "etcd.log"), "a") as log:
            etcd = subprocess.Popen(
                ["etcd", "--name", "tls", "--data-dir", os.path.join(directory, "data"),
                 "--listen-client-urls", f"https://127.0.0.1:{port}",
                 "--advertise-client-urls", f"https://127.0.0.1:{port}",
                 "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                 "--initial-cluster", f"tls=http://127.0.0.1:{peer}",
                 "--cert-file", server_cert, "--key-file", server_key, "--client-cert-auth",
                 "--trusted-ca-file", trusted_ca], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(etcd.wait, 10)
        self.addCleanup(etcd.terminate)
        time.sleep(2)  # a single member elects itself at once
        cert, key = harness.self_signed_certificate(directory)
        endpoint = f"https://127.0.0.1:{port}"

        # cloudtimed reads the TLS files as root and writes its key cache as _cloudtime.
        os.chmod(directory, 0o755)

        def config(workdir, client=True):
            os.makedirs(os.path.join(workdir, "keys"))
            shutil.chown(os.path.join(workdir, "keys"), "_cloudtime", "_cloudtime")
            text = (harness.LOCAL_CONFIG +
                    nts_section(workdir, cert, key, harness.free_tcp_port()) +
                    f'key_store = "etcd"\netcd_endpoints = ["{endpoint}"]\n'
                    f'etcd_ca = "{server_cert}"\netcd_timeout_ms = 1000\n')
            if client:
                text += (f'etcd_certificate = "{client_cert}"\n'
                         f'etcd_private_key = "{client_key}"\n')
            return text

        good_dir = os.path.join(directory, "good")
        deadline = time.monotonic() + 20
        while True:  # until etcd listens
            daemon = harness.Daemon(config=config(good_dir), workdir=good_dir, wait_ready=False)
            self.addCleanup(daemon.cleanup)
            try:
                daemon.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                break  # running: it read or made the keys
            log = daemon.read_log()
            shutil.rmtree(good_dir)
            self.assertLess(time.monotonic(), deadline, log)
            time.sleep(0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                store = daemon.status()["nts"]["keys"]["store"]
                break
            except Exception:  # not ready yet
                time.sleep(0.2)
        self.assertEqual(store["kind"], "etcd")
        self.assertTrue(store["reachable"], store)
        self.assertEqual(store["endpoint"], endpoint)
        self.assertEqual(store["writes"], 1, store)
        # Without a client certificate etcd refuses the connection; with no cached keys
        # either, the daemon does not start, and says why.
        bare_dir = os.path.join(directory, "bare")
        refused = harness.Daemon(config=config(bare_dir, client=False), workdir=bare_dir,
                                 wait_ready=False)
        self.addCleanup(refused.cleanup)
        self.assertEqual(refused.proc.wait(timeout=20), 1)
        self.assertIn("no cached keys", refused.read_log())
        self.assertIn(endpoint, refused.read_log())

    def test_rotation_is_written_once_per_period_for_the_fleet(self):
        _, (a, b), _, _ = self.fleet(rotation=2)
        start = self.keys(a)["generation"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.keys(a)["generation"] < start + 4:
            time.sleep(0.2)
        ka, kb = self.keys(a), self.keys(b)
        self.assertGreaterEqual(ka["generation"], start + 4, ka)
        # Both hold the same keys (B may be one watch behind: compare at the same generation).
        deadline = time.monotonic() + 3
        while (time.monotonic() < deadline and
               self.keys(b)["generation"] != self.keys(a)["generation"]):
            time.sleep(0.05)
        ka, kb = self.keys(a), self.keys(b)
        if ka["generation"] == kb["generation"]:
            self.assertEqual(ka["ids"], kb["ids"])
        # One write per generation, whoever made it; the losers counted as conflicts.
        writes = ka["store"]["writes"] + kb["store"]["writes"]
        self.assertEqual(writes, max(ka["generation"], kb["generation"]), (ka, kb))
        # Ids follow each other: no generation was made twice.
        self.assertEqual(ka["ids"], list(range(ka["ids"][0], ka["ids"][0] - len(ka["ids"]), -1)))


if __name__ == "__main__":
    unittest.main()
