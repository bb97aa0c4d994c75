# SPDX-License-Identifier: Apache-2.0
"""`cloudtime check` inside a "vm" namespace beside an ovnmeta- namespace where cloudtimed serves
169.254.169.254:123 (and fe80::a9fe:a9fe) and a fixture serves the metadata paths with
vendordata rendered by cloudtime itself; a chronyd in the vm namespace (no clock control) syncs
to it. Then the failures: cloudtimed stopped, fixtures for config drives and each DHCP client's
lease files, a PTP clock that is listed but not readable. Link-local addresses in the test's
own namespaces only; everything is removed afterwards."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from test_tenant_networks import OvnLikeTopology, tenant_config

METADATA_SERVER = r"""
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
handler = functools.partial(Quiet, directory=sys.argv[1])
http.server.ThreadingHTTPServer(("169.254.169.254", 80), handler).serve_forever()
"""

DHCLIENT_LEASE = """lease {
  interface "eth0";
  fixed-address 169.254.10.10;
  option ntp-servers 10.9.9.9;
}
lease {
  interface "eth0";
  fixed-address 169.254.10.10;
  option ntp-servers 169.254.169.254,169.254.169.123;
}
"""
NETWORKD_LEASE = "# This is private data. Do not parse.\nADDRESS=169.254.10.10\nNTP=169.254.169.1\n"
NM_DEVICE = "[device]\nmanaged=true\n[dhcp4]\noption_42_ntp_servers=169.254.169.2\n"


def run_check(netns, *args, own_pids=False):
    """`cloudtime check` in `netns`; with own_pids, in a PID namespace of its own too, so that
    no chronyd of another test running on this machine looks like this VM's client."""
    isolate = ["unshare", "--pid", "--fork", "--mount-proc"] if own_pids else []
    cmd = ["ip", "netns", "exec", netns, *isolate, harness.CLOUDTIME, "check", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p


def checks_by_id(doc):
    return {c["id"]: c for c in doc["checks"]}


class VmCheck(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        harness.require_program("chronyd")
        super().setUpClass()

    def setUp(self):
        self.tag = "k" + os.urandom(2).hex()
        self.dir = tempfile.mkdtemp(prefix="cloudtime-check-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def topology(self):
        t = OvnLikeTopology(self.tag)
        self.addCleanup(t.remove)
        return t

    def serve_metadata(self, topology):
        """The metadata paths in the ovnmeta namespace, with cloudtime's own vendordata."""
        rendered = subprocess.run([harness.CLOUDTIME, "vendordata", "render", "--static"],
                                  capture_output=True, text=True, check=True, timeout=30)
        latest = os.path.join(self.dir, "metadata", "openstack", "latest")
        os.makedirs(latest)
        with open(os.path.join(latest, "vendor_data2.json"), "w") as f:
            f.write(rendered.stdout)
        with open(os.path.join(latest, "meta_data.json"), "w") as f:
            f.write('{"uuid": "vm"}\n')
        server = subprocess.Popen(["ip", "netns", "exec", topology.meta, "python3", "-c",
                                   METADATA_SERVER, os.path.join(self.dir, "metadata")])
        self.addCleanup(server.wait)
        self.addCleanup(server.kill)
        return server

    def isolated_args(self):
        """Nothing of this machine's own DHCP, config drive or PTP state leaks into a check."""
        return ["--config-drive", os.path.join(self.dir, "no-drive"),
                "--lease-file", os.path.join(self.dir, "no-leases", "*"),
                "--ptp-sysfs", os.path.join(self.dir, "no-ptp")]

    def synced_vm(self, config=None, managed=()):
        """The ovnmeta + vm topology, cloudtimed serving it, the metadata fixture, and a
        chronyd in the vm that follows 169.254.169.254."""
        topology = self.topology()
        daemon = harness.Daemon(config=config or tenant_config(self.tag, managed=managed))
        self.addCleanup(daemon.cleanup)
        self.serve_metadata(topology)
        chronyd = harness.Chronyd(["server 169.254.169.254 iburst minpoll -2 maxpoll -2"],
                                  netns=topology.vm)
        self.addCleanup(chronyd.cleanup)
        deadline = time.monotonic() + 40
        while True:
            tracking = chronyd.tracking()
            source = (chronyd.sources() or {}).get("169.254.169.254", {})
            if (tracking and tracking["reference"] == "169.254.169.254"
                    and source.get("state") == "*"):
                break
            self.assertLess(time.monotonic(), deadline, "chronyd did not sync:\n" +
                            chronyd.read_log() + daemon.read_log())
            time.sleep(0.5)
        return topology, daemon, chronyd

    def wait_for_source_state(self, chronyd, name, accept, what):
        deadline = time.monotonic() + 20
        while True:
            sources = chronyd.sources()
            if sources is not None and accept(sources.get(name)):
                break
            self.assertLess(time.monotonic(), deadline, f"chronyd never showed {name} {what}:\n"
                            + chronyd.chronyc("-n", "sources"))
            time.sleep(0.25)

    def test_vm_with_cloud_time_passes_and_fails_when_the_server_goes(self):
        topology, daemon, chronyd = self.synced_vm()

        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        doc = json.loads(p.stdout)
        self.assertEqual(p.returncode, 0, json.dumps(doc, indent=2) + p.stderr)
        checks = checks_by_id(doc)
        # One cloudtimed on two addresses is one server: the decision record's minimum, which
        # warns (saying what to add) and does not fail. The vendordata asks for the KVM PTP
        # clock (ptp_kvm, the default) and there is none here: a warning too.
        self.assertTrue(all(c["verdict"] in ("pass", "skip") for c in doc["checks"]
                            if c["id"] not in ("source-redundancy", "ptp-clock")), doc)
        self.assertEqual(checks["ptp-clock"]["verdict"], "warn")
        self.assertTrue(checks["ptp-clock"]["reason"].startswith(
            "the vendordata (http://169.254.169.254/openstack/latest/vendor_data2.json) asks for "
            "the KVM PTP clock, but this VM has none"), checks["ptp-clock"])
        self.assertEqual(checks["source-redundancy"]["verdict"], "warn")
        self.assertTrue(checks["source-redundancy"]["reason"].startswith(
            "0 PTP clocks, 1 answering cloud NTP server (on 169.254.169.254, "
            f"fe80::a9fe:a9fe%{topology.vm_if})"), checks["source-redundancy"])
        # The metadata vendordata names 169.254.169.254; the link-local probes find it and
        # fe80::a9fe:a9fe on the vm's interface.
        metadata = [c for c in doc["channels"] if c["kind"] == "metadata"]
        self.assertEqual(metadata[0]["servers"], ["169.254.169.254"], metadata)
        servers = {s["server"]: s for s in doc["servers"]}
        self.assertEqual(sorted(servers["169.254.169.254"]["found_by"]),
                         ["link-local", "metadata"])
        self.assertTrue(servers[f"fe80::a9fe:a9fe%{topology.vm_if}"]["answered"])
        self.assertLess(abs(servers["169.254.169.254"]["offset_s"]), 0.010)
        self.assertIn("chronyd follows 169.254.169.254 (selected ('*'), reachability ",
                      checks["client-synchronized"]["reason"])
        # chronyd follows it: offset and jitter are chronyd's measurements of it.
        self.assertTrue(checks["offset"]["reason"].startswith(
            "chronyd, following 169.254.169.254"), checks["offset"])
        self.assertTrue(checks["jitter"]["reason"].startswith("chronyd's RMS offset"),
                        checks["jitter"])
        # chronyd's own sources list (cmdmon sources), read as chronyc reads it.
        self.assertEqual(checks["client-uses-cloud-servers"]["reason"], "uses 169.254.169.254")
        # Plain NTP, and the vendordata does not ask for NTS: nothing to judge.
        self.assertEqual(checks["client-authenticated"]["verdict"], "skip")
        self.assertEqual(checks["client-authenticated"]["reason"],
                         "chronyd does not authenticate 169.254.169.254 (plain NTP); the "
                         "vendordata does not ask for NTS")
        self.assertEqual(doc["client"]["authdata"]["mode"], "none", doc["client"])
        source = doc["client"]["sources"][0]
        self.assertEqual(source["address"], "169.254.169.254")
        self.assertEqual((source["state"], source["symbol"], source["mode"]),
                         ("selected", "*", "server"))
        self.assertRegex(source["reachability"], r"^[0-7]{1,3}$")  # octal, as chronyc shows
        self.assertEqual(int(source["reachability"], 8) & 1, 1)
        self.assertEqual(doc["client"]["kind"], "chrony")

        # The SCS harness's lines: every case, PASS.
        p = run_check(topology.vm, "--scs", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        self.assertEqual(p.returncode, 0, p.stdout)
        lines = p.stdout.splitlines()
        self.assertIn("scs-0129-client-synchronized: PASS", lines)
        self.assertTrue(all(re.fullmatch(r"scs-0129-[a-z-]+: PASS", line) for line in lines),
                        lines)

        # Without root: discovery and measurement work; chronyd's socket is root's, and that is
        # reported as not checkable (exit 2), not as the cloud's failure.
        p = subprocess.run(["ip", "netns", "exec", topology.vm, "setpriv", "--reuid=nobody",
                            "--regid=nogroup", "--clear-groups", harness.CLOUDTIME, "check",
                            "--json", "--chrony-socket", chronyd.socket, *self.isolated_args()],
                           capture_output=True, text=True, timeout=120)
        doc = json.loads(p.stdout)
        checks = checks_by_id(doc)
        self.assertEqual(p.returncode, 2, json.dumps(doc, indent=2))
        self.assertEqual(checks["client-synchronized"]["verdict"], "abort")
        self.assertIn("Permission denied", checks["client-synchronized"]["reason"])
        for passing in ("time-source-delivered", "ntp-servers-reachable", "offset", "jitter"):
            self.assertEqual(checks[passing]["verdict"], "pass", checks[passing])

        # cloudtimed stops: the server the metadata names is unreachable, and check says so.
        self.assertEqual(daemon.stop(), 0)
        # Once chronyd shows it '^?' (tracking still names it), chronyd follows nothing.
        self.wait_for_source_state(chronyd, "169.254.169.254",
                                   lambda s: s is not None and s["state"] == "?", "as '^?'")
        self.assertEqual(chronyd.tracking()["reference"], "169.254.169.254")
        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        checks = checks_by_id(json.loads(p.stdout))
        self.assertEqual(checks["ntp-servers-reachable"]["verdict"], "fail")
        # Refused (cloudtimed's port is closed) or silent: either way it is named.
        self.assertRegex(checks["ntp-servers-reachable"]["reason"],
                         r"unreachable: 169\.254\.169\.254 \(from metadata, link-local\): "
                         r"(receive: Connection refused|no answer to \d+ requests)")
        p = run_check(topology.vm, "--scs", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        self.assertIn("scs-0129-ntp-servers-reachable: FAIL", p.stdout.splitlines())
        self.assertIn("scs-0129-client-synchronized: FAIL", p.stdout.splitlines())
        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        client = checks_by_id(json.loads(p.stdout))["client-synchronized"]
        self.assertEqual(client["verdict"], "fail", client)
        self.assertIn("chronyd does not follow 169.254.169.254 now: nonselectable ('?')",
                      client["reason"])

    def test_the_gatherers_record_is_judged_as_the_check_inside_judges(self):
        # One VM, two ways: `cloudtime check` inside it, and the gatherer (the user-data a
        # cloud's VM runs when nothing can be copied in) printing its record, which
        # `cloudtime check --console` judges on the host. The same verdicts, the same exit.
        topology, daemon, chronyd = self.synced_vm(managed=["169.254.169.123"])
        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        inside = json.loads(p.stdout)
        script = os.path.join(self.dir, "gather.sh")
        with open(script, "w") as f:
            f.write(subprocess.run([harness.CLOUDTIME, "check", "--gatherer",
                                    "--gatherer-wait", "30"], capture_output=True, text=True,
                                   check=True, timeout=30).stdout)
        console = os.path.join(self.dir, "console.log")
        root = os.path.join(self.dir, "vm-root")  # none of this machine's leases or clocks
        os.makedirs(root)
        env = dict(os.environ, CLOUDTIME_FACTS_ROOT=root, CLOUDTIME_FACTS_CONSOLE=console,
                   CLOUDTIME_FACTS_CHRONYC=f"chronyc -h {chronyd.socket}")
        gathered = subprocess.run(["ip", "netns", "exec", topology.vm, "sh", script], env=env,
                                  capture_output=True, text=True, timeout=120)
        self.assertEqual(gathered.returncode, 0, gathered.stderr)
        q = subprocess.run([harness.CLOUDTIME, "check", "--console", console, "--json"],
                           capture_output=True, text=True, timeout=60)
        judged = json.loads(q.stdout)
        self.assertEqual({c["id"]: c["verdict"] for c in judged["checks"]},
                         {c["id"]: c["verdict"] for c in inside["checks"]},
                         json.dumps(judged["checks"], indent=1) +
                         json.dumps(inside["checks"], indent=1))
        self.assertEqual(q.returncode, p.returncode)
        self.assertEqual(q.returncode, 0, q.stdout)
        answered = lambda doc: sorted(s["server"].split("%")[0]  # noqa: E731
                                      for s in doc["servers"] if s["answered"])
        self.assertEqual(answered(judged), answered(inside))
        self.assertIsNotNone(judged["gatherer"]["synchronized_at"])

    def test_a_console_without_a_whole_record_is_no_verdict(self):
        p = subprocess.run([harness.CLOUDTIME, "check", "--console", "-", "--scs"],
                           input="Debian GNU/Linux 12 login:\nCLOUDTIME-FACTS-BEGIN 1 2\n",
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stdout), (2, "scs-0129-console-record: ABORT\n"))
        missing = os.path.join(self.dir, "missing.log")
        p = subprocess.run([harness.CLOUDTIME, "check", "--console", missing],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 64)
        self.assertIn(f"{missing}: No such file or directory", p.stderr)
        p = subprocess.run([harness.CLOUDTIME, "check", "--console", missing, "--gatherer"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_a_deleted_source_is_not_followed(self):
        topology, daemon, chronyd = self.synced_vm()
        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        self.assertEqual(checks_by_id(json.loads(p.stdout))["client-synchronized"]["verdict"],
                         "pass", p.stdout)
        chronyd.chronyc("delete", "169.254.169.254")
        self.wait_for_source_state(chronyd, "169.254.169.254", lambda s: s is None, "deleted")
        p = run_check(topology.vm, "--json", "--chrony-socket", chronyd.socket,
                      *self.isolated_args())
        self.assertEqual(p.returncode, 1, p.stdout)
        client = checks_by_id(json.loads(p.stdout))["client-synchronized"]
        self.assertEqual(client["verdict"], "fail", client)

    def test_one_server_on_three_addresses_counts_once(self):
        topology, daemon, chronyd = self.synced_vm(managed=["169.254.169.123"])
        base = ["--json", "--chrony-socket", chronyd.socket, *self.isolated_args()]
        doc = json.loads(run_check(topology.vm, *base).stdout)
        answered = sorted(s["server"] for s in doc["servers"] if s["answered"])
        self.assertEqual(answered, ["169.254.169.123", "169.254.169.254",
                                    f"fe80::a9fe:a9fe%{topology.vm_if}"], doc["servers"])
        redundancy = checks_by_id(doc)["source-redundancy"]
        self.assertEqual(redundancy["verdict"], "warn", redundancy)
        self.assertIn("1 answering cloud NTP server", redundancy["reason"])
        self.assertIn("KVM PTP clock", redundancy["reason"])  # what the cloud can add
        p = run_check(topology.vm, "--redundancy", "required", *base)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertEqual(checks_by_id(json.loads(p.stdout))["source-redundancy"]["verdict"],
                         "fail")

    def test_a_rate_limited_check_is_not_unreachable(self):
        # The cloud's default rate limit, and a VM whose chronyd polls 4 times a second: the
        # check's own requests come from the same address and meet a spent bucket.
        limited = (f'[clock]\nsource = "local"\nlocal_stratum = 10\n'
                   f'[tenant_networks]\nenabled = true\npatterns = ["ovnmeta-{self.tag}-*"]\n'
                   'addresses = ["169.254.169.254", "fe80::a9fe:a9fe"]\n')
        topology, daemon, chronyd = self.synced_vm(config=limited)
        time.sleep(10)  # long enough to spend the burst of 16
        base = ["--json", "--chrony-socket", chronyd.socket, *self.isolated_args()]
        followed = 0
        for _ in range(3):
            p = run_check(topology.vm, *base)
            doc = json.loads(p.stdout)
            checks = checks_by_id(doc)
            # Never "unreachable": answered, or (when neither chronyd's latest poll nor the
            # check's three tries got through the limiter) said to be undecided.
            reachable = checks["ntp-servers-reachable"]
            self.assertIn(reachable["verdict"], ("pass", "warn"), json.dumps(doc, indent=2))
            self.assertNotIn("unreachable", reachable["reason"])
            self.assertNotIn("kiss", reachable["reason"])
            for judged in ("offset", "jitter"):
                self.assertEqual(checks[judged]["verdict"], "pass", checks[judged])
            # chronyd's view when it follows the cloud server; its reachability can fall to 0
            # for a moment (its own polls meet the limiter's random leaks too), and then the
            # check measures for itself, from the answers it got.
            source = next((s for s in doc["client"]["sources"]
                           if s["address"] == "169.254.169.254"), {})
            if source.get("state") == "selected" and int(source.get("reachability", "0"), 8):
                followed += 1
                self.assertTrue(checks["offset"]["reason"].startswith("chronyd, following"),
                                json.dumps(doc, indent=2))
            else:
                self.assertRegex(checks["offset"]["reason"], r" against (169\.254\.169\.254|fe80::)",
                                 json.dumps(doc, indent=2))
            self.assertEqual(p.returncode, 0, json.dumps(doc, indent=2))
        self.assertGreater(followed, 0, "chronyd never followed the cloud server: the check's "
                           "use of its view was not shown")
        self.assertGreater(daemon.counters().get("kod_sent", 0) +
                           daemon.counters().get("dropped.rate_limited", 0), 0,
                           "the rate limit never acted: the test shows nothing")

    def test_config_drive_and_lease_files_are_discovered(self):
        drive = os.path.join(self.dir, "config-2")
        config = os.path.join(self.dir, "cloudtimed.toml")
        with open(config, "w") as f:
            f.write('[vendordata]\nservers = ["169.254.169.254", "ntp.example.net"]\n')
        subprocess.run([harness.CLOUDTIME, "vendordata", "-c", config, "config-drive", drive],
                       check=True, capture_output=True, timeout=30)
        leases = os.path.join(self.dir, "leases")
        os.makedirs(leases)
        for name, text in (("dhclient.eth0.leases", DHCLIENT_LEASE), ("2", NETWORKD_LEASE),
                           ("nm-device-3", NM_DEVICE)):
            with open(os.path.join(leases, name), "w") as f:
                f.write(text)
        with harness.network_namespace("ct-check") as ns:  # no network: nothing answers
            p = run_check(ns, "--json", "--no-metadata", "--config-drive", drive,
                          "--lease-file", os.path.join(leases, "*"), "--ptp-sysfs",
                          os.path.join(self.dir, "no-ptp"), "--chrony-socket",
                          os.path.join(self.dir, "no-chrony.sock"), own_pids=True)
        doc = json.loads(p.stdout)
        self.assertEqual(p.returncode, 1, p.stdout)
        found = {(c["kind"], os.path.basename(c["source"])): c.get("servers")
                 for c in doc["channels"]}
        self.assertEqual(found[("config-drive", "vendor_data2.json")],
                         ["169.254.169.254", "ntp.example.net"])
        self.assertEqual(found[("config-drive", "vendor_data.json")],
                         ["169.254.169.254", "ntp.example.net"])
        self.assertEqual(found[("dhcp", "dhclient.eth0.leases")],
                         ["169.254.169.254", "169.254.169.123"])  # the last lease
        self.assertEqual(found[("dhcp", "2")], ["169.254.169.1"])
        self.assertEqual(found[("dhcp", "nm-device-3")], ["169.254.169.2"])
        checks = checks_by_id(doc)
        self.assertEqual(checks["time-source-delivered"]["verdict"], "pass")
        self.assertEqual(checks["ntp-servers-reachable"]["verdict"], "fail")
        self.assertIn("no NTP client runs", checks["client-synchronized"]["reason"])

    def test_a_metadata_service_that_misbehaves_is_named_once(self):
        # On loopback inside a namespace of the test: a service that refuses, one that accepts
        # and never answers, one that answers 404, one whose answer is far too large.
        server = r"""
import socket, sys, threading, time
mode = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8775)); s.listen(8)
def serve(c):
    c.recv(4096)
    if mode == "404":
        c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    elif mode == "huge":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n")
        try:
            c.sendall(b"x" * 4194304)
        except OSError:
            pass
    else:
        time.sleep(30)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""
        with harness.network_namespace("ct-check") as ns:
            base = ["--json", "--metadata-url", "http://127.0.0.1:8775/openstack/latest/",
                    "--link-local", "127.0.0.2", *self.isolated_args(), "--chrony-socket",
                    os.path.join(self.dir, "no-chrony.sock")]
            expected = {
                None: "the metadata service at http://127.0.0.1:8775 does not answer: cannot "
                      "connect: Connection refused",
                "silent": "the metadata service at http://127.0.0.1:8775 does not answer: no "
                          "complete answer: no answer within 2 s",
                "404": "HTTP 404",
                "huge": "the metadata service at http://127.0.0.1:8775 does not answer: no "
                        "complete answer: body limit exceeded",
            }
            for mode, reason in expected.items():
                fixture = None
                if mode:
                    fixture = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c",
                                                server, mode])
                    self.addCleanup(fixture.wait)
                    self.addCleanup(fixture.kill)
                    time.sleep(0.5)
                started = time.monotonic()
                p = run_check(ns, *base, own_pids=True)
                took = time.monotonic() - started
                doc = json.loads(p.stdout)
                metadata = [c for c in doc["channels"] if c["kind"] == "metadata"]
                errors = [c.get("error") for c in metadata]
                self.assertIn(reason, errors, (mode, doc["channels"]))
                if mode != "404":
                    # One line for the service, not one per file; the check did not hang.
                    self.assertEqual(len(metadata), 1, metadata)
                    self.assertLess(took, 20, mode)
                delivered = checks_by_id(doc)["time-source-delivered"]["reason"]
                self.assertEqual(delivered.count("metadata: "), 1, delivered)
                if fixture:
                    fixture.kill()
                    fixture.wait()

    def test_nothing_delivered_and_a_ptp_clock_the_user_cannot_read(self):
        with harness.network_namespace("ct-check") as ns:
            base = ["--no-metadata", *self.isolated_args(), "--chrony-socket",
                    os.path.join(self.dir, "no-chrony.sock")]
            p = run_check(ns, "--json", *base, own_pids=True)
            checks = checks_by_id(json.loads(p.stdout))
            self.assertEqual(p.returncode, 1)
            self.assertTrue(checks["time-source-delivered"]["reason"].startswith(
                "no cloud time source delivered"), checks)
            self.assertEqual(checks["ptp-clock"]["verdict"], "skip")
            self.assertEqual(checks["source-redundancy"]["verdict"], "warn")  # the default
            p = run_check(ns, "--json", "--redundancy", "required", *base)
            self.assertEqual(checks_by_id(json.loads(p.stdout))["source-redundancy"]["verdict"],
                             "fail")
            # A KVM PTP clock is listed, but its device cannot be read here.
            sysfs = os.path.join(self.dir, "ptp")
            os.makedirs(os.path.join(sysfs, "ptp0"))
            with open(os.path.join(sysfs, "ptp0", "clock_name"), "w") as f:
                f.write("KVM virtual PTP\n")
            p = run_check(ns, "--json", "--no-metadata", "--ptp-sysfs", sysfs,
                          "--config-drive", os.path.join(self.dir, "no-drive"),
                          "--lease-file", os.path.join(self.dir, "none"))
            doc = json.loads(p.stdout)
            checks = checks_by_id(doc)
            self.assertEqual(doc["ptp_clocks"][0]["clock_name"], "KVM virtual PTP")
            self.assertEqual(checks["ptp-clock"]["verdict"], "warn")
            self.assertIn("not readable here", checks["ptp-clock"]["reason"])
            self.assertEqual(checks["source-redundancy"]["verdict"], "pass")
            self.assertEqual(checks["time-source-delivered"]["verdict"], "pass")


if __name__ == "__main__":
    unittest.main()
