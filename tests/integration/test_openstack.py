#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cloudtime in a real OpenStack: the all-in-one Zed cloud of tests/openstack/allinone.py
(Debian 12's packages; neutron ML2/OVS on Open vSwitch's userspace datapath), cloudtime
installed from its .deb and configured by its Ansible role, and VMs booted with the
`openstack` CLI. Each guest runs the facts gatherer (`cloudtime check --gatherer`, as
user-data: no route out is needed), and its verdicts come from `cloudtime check --console`
over `openstack console log show`, as they would in any cloud. In the --full tier only (it
boots the cloud and seven guests under TCG: docs/testing.md)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import debian_build
import harness
import test_validate_image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openstack"))
import allinone  # noqa: E402
import cloudtime_deploy  # noqa: E402
import services  # noqa: E402

STATE = "/var/tmp/cloudtime-openstack-test"
BOOT_TIMEOUT_S = 900  # a TCG guest: boot, cloud-init, the client's convergence, the gatherer
GATHERER_WAIT_S = 420
IMAGES = {"debian12-chrony": ("chrony", "12", "ifupdown"),
          "debian12-timesyncd": ("timesyncd", "12", "ifupdown")}
ROUTED_CIDR = "198.18.20.0/24"
ISOLATED_CIDR = "198.18.10.0/24"
DHCP_CIDR = "198.18.30.0/24"
RESULTS = {}  # case name -> what it measured, printed at the end for the record


def setUpModule():
    harness.require_root()
    harness.require_full_tier("the real OpenStack (tests/openstack)")
    missing = [p for p in allinone.PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", p], capture_output=True,
        text=True).stdout != "installed"]
    if missing:
        raise unittest.SkipTest("OpenStack's packages are missing (scripts/bootstrap.sh "
                                "--cloud): " + " ".join(missing))
    debian_build.setUpModule()


class MemorySampler(threading.Thread):
    """The cloud's memory while the test runs: the proportional set size (PSS) of every process
    of it, summed, every 2 s; the peak is what the machine must have."""

    def __init__(self, state):
        super().__init__(daemon=True)
        self.state, self.peak_mib, self.stop = state, 0.0, threading.Event()

    def run(self):
        while not self.stop.wait(2.0):
            total_kib = 0
            groups = services.recorded_groups(self.state)
            for pid in services.cloud_processes(self.state, groups):
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        total_kib += sum(int(line.split()[1]) for line in f
                                         if line.startswith("Pss:"))
                except (OSError, ValueError, IndexError):
                    pass
            self.peak_mib = max(self.peak_mib, total_kib / 1024)


def openstack(cloud, *args, timeout=180):
    """The openstack CLI as a tenant runs it; its stdout (raises with stderr on failure)."""
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=os.path.join(STATE, "clouds.yaml"),
               OS_CLOUD=cloud)
    p = subprocess.run(["openstack", *args], capture_output=True, text=True, timeout=timeout,
                       env=env)
    if p.returncode != 0:
        raise AssertionError(f"openstack {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


class OpenStack(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not debian_build.BUILD.get("built"):
            raise AssertionError("the packages did not build:\n" + debian_build.BUILD["log"])
        cls.cloud = allinone.AllInOne(STATE)
        if os.path.exists(STATE):  # a killed run's cloud
            cls.cloud.down()
        cls.memory = MemorySampler(STATE)
        began = time.monotonic()
        try:
            cls.cloud.up()
            RESULTS["bring_up_s"] = round(time.monotonic() - began, 1)
            RESULTS["bring_up_steps_s"] = {n: round(t, 1) for n, t in cls.cloud.timings}
            cls.memory.start()
            cls.admin = cls.cloud.connection("aio-admin")
            dhcp_only = cls.admin.identity.find_project("dhcp-only")
            # The operator's rule: project dhcp-only gets no time vendordata (its VMs learn the
            # server from DHCP option 42 alone).
            cloudtime_deploy.deploy(cls.cloud,
                                    [debian_build.BUILD["debs"]["cloudtimed"],
                                     debian_build.BUILD["debs"]["cloudtime-vm"]],
                                    rules=[{"project_ids": [dhcp_only.id], "enabled": False}])
            cls.images()
            cls.networks()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.memory.is_alive():
            cls.memory.stop.set()
            cls.memory.join()
            RESULTS["peak_pss_mib"] = round(cls.memory.peak_mib)
        if RESULTS:
            print("\nopenstack: " + json.dumps(RESULTS, indent=1, sort_keys=True), flush=True)
        cls.cloud.down()
        super().tearDownClass()

    @classmethod
    def images(cls):
        for name, spec in IMAGES.items():
            path = test_validate_image.image(*spec)
            openstack("aio-admin", "image", "create", "--disk-format", "qcow2",
                      "--container-format", "bare", "--public", "--file", path, name,
                      timeout=600)
        openstack("aio-admin", "flavor", "create", "--vcpus", "1", "--ram", "1024", "--disk",
                  "4", "ct.small")

    @classmethod
    def networks(cls):
        # The provider network, and a router from the routed tenant network to it.
        openstack("aio-admin", "network", "create", "--external", "--share",
                  "--provider-network-type", "flat", "--provider-physical-network",
                  "physnet1", "provider")
        openstack("aio-admin", "subnet", "create", "--network", "provider", "--subnet-range",
                  allinone.PROVIDER_CIDR, "--gateway", allinone.PROVIDER_GATEWAY,
                  "--no-dhcp", "provider-v4")
        for cloud, name, cidr in (("aio-demo", "isolated", ISOLATED_CIDR),
                                  ("aio-demo", "routed", ROUTED_CIDR),
                                  ("aio-dhcp-only", "dhcp", DHCP_CIDR)):
            openstack(cloud, "network", "create", name)
            openstack(cloud, "subnet", "create", "--network", name, "--subnet-range", cidr,
                      f"{name}-v4")
        openstack("aio-demo", "router", "create", "--external-gateway", "provider", "router")
        openstack("aio-demo", "router", "add", "subnet", "router", "routed-v4")

    def boot(self, name, image, network, cloud="aio-demo", extra=(), wait_s=GATHERER_WAIT_S):
        """openstack server create with the gatherer as user-data; the verdicts of
        `cloudtime check --console` over its console log, and the seconds from create to the
        guest's client synchronized (by the guest's clock, synchronized by then)."""
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write(subprocess.run([harness.CLOUDTIME, "check", "--gatherer", "--gatherer-wait",
                                    str(wait_s)], capture_output=True, text=True,
                                   check=True).stdout)
        self.addCleanup(os.remove, f.name)
        created = time.time()
        args = ["server", "create", "--image", image, "--flavor", "ct.small",
                "--user-data", f.name, *extra]
        if network:
            args += ["--network", network]
        openstack(cloud, *args, name, "-f", "value", "-c", "id")
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        console = ""
        while time.monotonic() < deadline:
            status = json.loads(openstack(cloud, "server", "show", name, "-f", "json",
                                          "-c", "status", "-c", "fault"))
            if status["status"] == "ERROR":
                self.fail(f"{name}: {status.get('fault')}")
            console = openstack(cloud, "console", "log", "show", name) \
                if status["status"] == "ACTIVE" else ""
            if "CLOUDTIME-FACTS-END" in console:
                break
            time.sleep(10)
        else:
            self.fail(f"{name}: no facts record on its console within {BOOT_TIMEOUT_S} s:\n"
                      + console[-3000:])
        p = subprocess.run([harness.CLOUDTIME, "check", "--console", "-", "--json"],
                           input=console, capture_output=True, text=True, timeout=60)
        report = json.loads(p.stdout)
        verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
        human = subprocess.run([harness.CLOUDTIME, "check", "--console", "-"],
                               input=console, capture_output=True, text=True, timeout=60).stdout
        scs = subprocess.run([harness.CLOUDTIME, "check", "--console", "-", "--scs"],
                             input=console, capture_output=True, text=True, timeout=60).stdout
        gatherer = report.get("gatherer", {})
        synced, settled = gatherer.get("synchronized_at"), gatherer.get("settled_at")
        RESULTS[name] = {"verdicts": scs.strip().splitlines(),
                         "create_to_synchronized_s":
                             round(synced - created, 1) if synced else None,
                         "create_to_settled_s": round(settled - created, 1) if settled else None}
        openstack(cloud, "server", "delete", "--wait", name, timeout=300)
        return verdicts, report, human

    def assert_cloud_time(self, verdicts, human, followed_by):
        for check in ("time-source-delivered", "ntp-servers-reachable", "client-synchronized",
                      "client-uses-cloud-servers", "offset", "leap-status"):
            self.assertEqual(verdicts.get(check), "pass", human)
        self.assertNotIn("fail", verdicts.values(), human)
        self.assertIn(followed_by, human)

    def test_isolated_and_routed_networks_get_time_over_the_metadata_service(self):
        cases = [(f"{image}-{network}", image, network)
                 for image in IMAGES for network in ("isolated", "routed")]
        with ThreadPoolExecutor(max_workers=2) as pool:  # two TCG guests at a time
            outcomes = list(pool.map(lambda c: (c, self.boot(*c)), cases))
        for (name, image, network), (verdicts, report, human) in outcomes:
            with self.subTest(name):
                self.assert_cloud_time(verdicts, human, "metadata")
                # No config drive: the metadata service over HTTP told it.
                self.assertNotIn("config-drive (", human)

    def test_a_config_drive_carries_the_same(self):
        verdicts, report, human = self.boot("chrony-config-drive", "debian12-chrony",
                                            "isolated", extra=["--config-drive", "true"])
        self.assert_cloud_time(verdicts, human, "config-drive")

    def test_dhcp_option_42_alone(self):
        # The project's vendordata is off (the role's rule); option 42 through Neutron only.
        port = "dhcp-port"
        openstack("aio-dhcp-only", "port", "create", "--network", "dhcp",
                  "--extra-dhcp-option", "name=ntp-server,value=169.254.169.254", port)
        verdicts, report, human = self.boot("chrony-dhcp", "debian12-chrony", None,
                                            cloud="aio-dhcp-only", extra=["--port", port])
        self.assert_cloud_time(verdicts, human, "dhcp")
        self.assertNotIn("metadata (http", human.split("time-source-delivered")[1].split("\n")[0])

    def test_cloudtime_ntp_off_leaves_the_guest_alone(self):
        # Its chronyd keeps the image's own (unreachable) pool: nothing to wait for.
        verdicts, report, human = self.boot("chrony-opted-out", "debian12-chrony", "isolated",
                                            extra=["--property", "cloudtime_ntp=off"],
                                            wait_s=60)
        self.assertIn("opted out", json.dumps(report), human)
        self.assertNotEqual(verdicts.get("client-uses-cloud-servers"), "pass", human)

    def test_the_same_images_booted_by_validate_image(self):
        # The anchor for what a tenant waits: each image booted by validate-image in the same
        # run (a config drive; its guest's check with --wait ends once the client converged).
        # Served from a local clock there, as the suite's own validations are (this machine's
        # kernel clock is not synchronized; the cloud's cloudtimed follows a `local` chronyd).
        config = os.path.join(tempfile.mkdtemp(prefix="cloudtime-anchor-"), "cloudtimed.toml")
        self.addCleanup(shutil.rmtree, os.path.dirname(config), True)
        with open(config, "w") as f:
            f.write(test_validate_image.CONFIG)
        for name, spec in IMAGES.items():
            p = subprocess.run([harness.CLOUDTIME, "validate-image", "-c", config, "--json",
                                test_validate_image.image(*spec)], capture_output=True,
                               text=True, timeout=1200)
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-3000:])
            boots = [v for v in find_key(json.loads(p.stdout), "boot_s")]
            self.assertEqual(len(boots), 1, p.stdout[-3000:])
            RESULTS[f"validate-image {name}"] = {"start_to_check_s": round(boots[0], 1)}

    def test_tenant_networks_served_within_a_second_of_neutron(self):
        status = lambda: json.loads(subprocess.run(  # noqa: E731
            ["cloudtime", "status", "--json"], capture_output=True, text=True,
            check=True).stdout)
        served = lambda ns: any(t["namespace"] == ns  # noqa: E731
                                and "169.254.169.254:123" in t["addresses"]
                                for t in status()["tenant_networks"])
        for i in range(3):
            name = f"churn{i}"
            network = json.loads(openstack("aio-demo", "network", "create", name, "-f", "json"))
            openstack("aio-demo", "subnet", "create", "--network", name, "--subnet-range",
                      f"198.18.{40 + i}.0/24", f"{name}-v4")
            namespace = f"qdhcp-{network['id']}"
            made, addressed = self.wait_for_namespace_address(namespace)
            while not served(namespace):
                self.assertLess(time.monotonic() - addressed, 5.0, f"{namespace} not served")
                time.sleep(0.02)
            now = time.monotonic()
            RESULTS.setdefault("served_after_address_s", []).append(round(now - addressed, 3))
            RESULTS.setdefault("served_after_namespace_s", []).append(round(now - made, 3))
            # From the moment Neutron's agent puts 169.254.169.254 there (it makes the namespace
            # first, then plugs its port: cloudtimed cannot serve an address not yet there).
            self.assertLess(now - addressed, 1.0, namespace)
            if i == 0:  # a router added to an isolated network keeps it served
                openstack("aio-demo", "router", "add", "subnet", "router", f"{name}-v4")
                time.sleep(5)
                self.assertTrue(served(namespace))
                openstack("aio-demo", "router", "remove", "subnet", "router", f"{name}-v4")
            openstack("aio-demo", "network", "delete", name)
            deadline = time.monotonic() + 60
            while served(namespace):
                self.assertLess(time.monotonic(), deadline, f"{namespace} still served")
                time.sleep(0.5)

    def wait_for_namespace_address(self, namespace, timeout=120):
        """When Neutron made the namespace, and when its DHCP agent put the metadata address
        there (monotonic seconds)."""
        deadline = time.monotonic() + timeout
        made = None
        while time.monotonic() < deadline:
            if made is None and os.path.exists(f"/run/netns/{namespace}"):
                made = time.monotonic()
            if made is not None:
                p = subprocess.run(["ip", "netns", "exec", namespace, "ip", "-o", "addr"],
                                   capture_output=True, text=True)
                if "169.254.169.254" in p.stdout:
                    return made, time.monotonic()
            time.sleep(0.02)
        self.fail(f"Neutron made no {namespace} with 169.254.169.254 within {timeout} s")


def find_key(value, key):
    """Every value of `key` anywhere in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from find_key(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from find_key(v, key)


if __name__ == "__main__":
    unittest.main()
