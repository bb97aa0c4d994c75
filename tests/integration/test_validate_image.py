# SPDX-License-Identifier: Apache-2.0
"""`cloudtime validate-image` over a catalogue of cloud images the test builds itself with
debootstrap (tests/images/build_image.sh): Debian 11, 12 and 13 (cloud-init 20.4, 22.4, 25.1),
each with chrony, with only systemd-timesyncd and with no NTP client, and one brought up by
systemd-networkd instead of ifupdown; cached in CLOUDTIME_IMAGE_CACHE (default
/var/cache/cloudtime-test-images) between runs. One catalogue run boots every entry, two
guests at a time, each the way the cloud would offer it (vendordata or not, DHCP option 42,
the instance's metadata, the tenant's own user-data), and every entry must come out as the
catalogue expects. Guests run under TCG here (this machine's /dev/kvm cannot run them: the
validator detects that), on a tap device inside a namespace the validator creates and
removes; they reach nothing but cloudtimed there. The image files are never modified. The
HTML report is opened in headless Chromium: screenshot and DOM."""

import concurrent.futures
import functools
import hashlib
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_IMAGE = os.path.join(HERE, "..", "images", "build_image.sh")
CACHE = os.environ.get("CLOUDTIME_IMAGE_CACHE", "/var/cache/cloudtime-test-images")
CONFIG = '[clock]\nsource = "local"\n[rate_limit]\nenabled = false\n[status]\nsocket = ""\n'
RELEASES = {"11": "bullseye", "12": "bookworm", "13": "trixie"}


@functools.cache
def builder_version():
    """The first 8 hex digits of build_image.sh's SHA-256: in every cached image's name, so
    that a changed builder builds its images anew."""
    with open(BUILD_IMAGE, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:8]


def image(variant, release="12", network="ifupdown"):
    """The image's path, built when it is not in the cache (with its dpkg status beside it):
    each release's chrony image by debootstrap, every other variant derived from it."""
    name = f"debian{release}-{variant}" + ("" if network == "ifupdown" else f"-{network}")
    path = os.path.join(CACHE, f"{name}-{builder_version()}.qcow2")
    if not (os.path.exists(path) and os.path.exists(path + ".dpkg-status")):
        derived = (variant, network) != ("chrony", "ifupdown")
        base = ["--from", image("chrony", release)] if derived else []
        p = subprocess.run([BUILD_IMAGE, "--release", RELEASES[release], "--network", network,
                            *base, variant, path, os.path.join(CACHE, "debs")],
                           capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            raise AssertionError(f"building {name} failed:\n{p.stdout}{p.stderr}")
    return path


def build_images():
    """Every image the catalogue boots, by its (variant, release, network): each release's
    chrony image by debootstrap, two at once (mostly waiting for dpkg and the disk), then the
    variants derived from them (seconds each). scripts/test.sh runs this ahead of the tests
    (prepare_images.py) while the lint keeps the cores busy."""
    # Images of an older builder go (each is about 1 GB).
    current = f"-{builder_version()}.qcow2"
    if os.path.isdir(CACHE):
        for f in os.listdir(CACHE):
            if re.fullmatch(r"debian\d+-.*\.qcow2(\.dpkg-status)?", f) and current not in f:
                os.remove(os.path.join(CACHE, f))
    specs = sorted({args for args, _ in RUN.values()})
    releases = sorted({("chrony", *a[1:2]) for a in specs})
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda a: image(*a), releases))
    return {args: image(*args) for args in specs}


# The tenant's own user-data beside the validator's: each of its parts must still run.
TENANT_USER_DATA = """#cloud-config
bootcmd:
  - [sh, -c, "echo tenant-bootcmd-ran > /run/tenant-bootcmd"]
write_files:
  - path: /etc/tenant-file
    content: "tenant-write-files-ran\\n"
runcmd:
  - [sh, -c, "cat /run/tenant-bootcmd /etc/tenant-file > /dev/ttyS0; echo tenant-runcmd-ran > /dev/ttyS0"]
"""
# The tenant's own NTP server (TEST-NET-1: nothing answers there, and the guest has no route
# to it): its choice stands, and the check says whom the client uses.
TENANT_NTP = """#cloud-config
ntp:
  enabled: true
  servers: [192.0.2.123]
"""

# name -> (image arguments, catalogue keys); the image key is added from the first.
ENTRIES = {
    "debian12-chrony": (("chrony",), {"expect_checks": {
        "client-synchronized": "pass", "time-source-delivered": "pass",
        # ptp_kvm is on by default, and a TCG guest has no KVM PTP clock: said, not failed.
        "ptp-clock": "warn"}}),
    "debian12-timesyncd": (("timesyncd",), {"expect_checks": {"client-synchronized": "pass"}}),
    "debian12-chrony-no-vendordata": (("chrony",), {
        "vendordata": False, "expect": "fail",
        "expect_checks": {"time-source-delivered": "fail"}}),
    "debian12-chrony-dhcp-only": (("chrony",), {
        "vendordata": False, "dhcp": True,
        "expect_checks": {"time-source-delivered": "pass", "client-synchronized": "pass"}}),
    "debian12-timesyncd-dhcp-only": (("timesyncd",), {
        "vendordata": False, "dhcp": True,
        "expect_checks": {"time-source-delivered": "pass", "client-synchronized": "pass"}}),
    "debian12-chrony-cloud-init-ntp": (("chrony",), {
        "config": "cloud-init-ntp.toml", "expect_checks": {"client-synchronized": "pass"}}),
    "debian12-chrony-tenant-user-data": (("chrony",), {
        "user_data": "tenant-user-data.yaml", "expect_checks": {"client-synchronized": "pass"}}),
    "debian12-chrony-tenant-ntp": (("chrony",), {
        "user_data": "tenant-ntp.yaml", "expect": "fail",
        "expect_checks": {"time-source-delivered": "pass", "client-uses-cloud-servers": "fail",
                          "client-synchronized": "fail"}}),
    "debian12-chrony-opted-out": (("chrony",), {
        "metadata": {"cloudtime_ntp": "off"}, "expect": "opted-out",
        "expect_checks": {"time-source-delivered": "skip"}}),
    "debian12-none": (("none",), {
        "expect": "fail", "expect_checks": {"time-source-delivered": "pass",
                                            "client-synchronized": "fail"}}),
    "debian12-chrony-networkd": (("chrony", "12", "networkd"), {
        "dhcp": True, "expect_checks": {"client-synchronized": "pass"}}),
    "debian11-chrony": (("chrony", "11"), {"expect_checks": {"client-synchronized": "pass"}}),
    "debian11-timesyncd": (("timesyncd", "11"), {
        "expect_checks": {"client-synchronized": "pass"}}),
    "debian11-none": (("none", "11"), {
        "expect": "fail", "expect_checks": {"client-synchronized": "fail"}}),
    "debian13-chrony": (("chrony", "13"), {"expect_checks": {"client-synchronized": "pass"}}),
    "debian13-timesyncd": (("timesyncd", "13"), {
        "expect_checks": {"client-synchronized": "pass"}}),
    "debian13-none": (("none", "13"), {
        "expect": "fail", "expect_checks": {"client-synchronized": "fail"}}),
    # A config drive written by Nova's own code (nova_config_drive.py), whose DynamicJSON
    # provider asked cloudtimed's vendordata endpoint as a compute node does.
    "debian12-chrony-nova-config-drive": (("chrony",), {
        "config_drive": "nova-config-2.iso",
        "expect_checks": {"time-source-delivered": "pass", "client-synchronized": "pass"}}),
    # cloud-init 20.4 reads no vendor_data2.json from a config drive (22.2 does): DynamicJSON
    # alone does not reach Debian 11, and the check says why; Nova's StaticJSON beside it does.
    "debian11-chrony-nova-config-drive": (("chrony", "11"), {
        "config_drive": "nova-config-2.iso", "expect": "fail",
        "expect_checks": {"time-source-delivered": "fail"}}),
    "debian11-chrony-nova-static-json": (("chrony", "11"), {
        "config_drive": "nova-static-config-2.iso",
        "expect_checks": {"time-source-delivered": "pass", "client-synchronized": "pass"}}),
}
# The default tier boots one guest per delivery path (docs/testing.md); --full boots them all:
# every release with every client, cloud-init's ntp module, the tenant's user-data.
DEFAULT_TIER = ("debian12-chrony", "debian12-timesyncd", "debian12-chrony-no-vendordata",
                "debian12-chrony-dhcp-only", "debian12-chrony-opted-out",
                "debian12-chrony-nova-config-drive")
RUN = {name: entry for name, entry in ENTRIES.items() if harness.FULL or name in DEFAULT_TIER}
NOVA_INSTANCE = {"uuid": "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5",
                 "project_id": "039d104b7a5c4631b4ba6524d0b9e981", "hostname": "vm-1",
                 "image_ref": "d1e3b5ab-6b7a-4f33-9d5c-2f0e7c3f8a10", "metadata": {},
                 "port": {"mac": "52:54:00:c1:0c:7e", "address": "169.254.100.10",
                          "cidr": "169.254.0.0/16"}}


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_identity(path):
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def validator_namespaces(pid):
    """The network namespaces that the validator with this process ID made and left. Only its
    own: another validator (a second suite on this host, a run killed with SIGKILL) may hold
    others, and judging this run by them would fail it for what it did not do."""
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line for line in p.stdout.splitlines()
            if line.startswith(f"cloudtime-validate-{pid}-")]


def validator_work_dirs():
    return {d for d in os.listdir("/var/tmp") if d.startswith("cloudtime-validate.")}


class Catalogue(harness.TestCase):
    """The whole catalogue in one run of validate-image."""

    @classmethod
    def setUpClass(cls):
        harness.require_root()
        for program in ("qemu-system-x86_64", "qemu-img", "debootstrap", "xorriso", "dnsmasq"):
            harness.require_program(program)
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-validate-test-")
        files = {"cloudtimed.toml": CONFIG,
                 "cloud-init-ntp.toml": CONFIG + '[vendordata]\nstrategy = "cloud-init-ntp"\n',
                 "tenant-user-data.yaml": TENANT_USER_DATA,
                 "tenant-ntp.yaml": TENANT_NTP}
        for name, text in files.items():
            with open(os.path.join(cls.dir, name), "w") as f:
                f.write(text)
        cls.nova_vendordata = cls.nova_config_drive(os.path.join(cls.dir, "nova-config-2.iso"))
        static = os.path.join(cls.dir, "vendor_data.json")
        with open(static, "w") as f:
            f.write(subprocess.run([harness.CLOUDTIME, "vendordata", "-c", os.path.join(
                cls.dir, "cloudtimed.toml"), "render", "--static"], capture_output=True,
                text=True, check=True).stdout)
        cls.nova_config_drive(os.path.join(cls.dir, "nova-static-config-2.iso"),
                              f"vendordata_jsonfile_path = {static}\n")
        paths = build_images()
        cls.images = {name: paths[args] for name, (args, _) in RUN.items()}
        # Never modified: every file's identity, and one's content (hashing them all would
        # read 10 GB twice).
        cls.stats = {path: file_identity(path) for path in set(paths.values())}
        cls.sum = sha256(cls.images["debian12-chrony"])
        lines = ['config = "cloudtimed.toml"', "timeout = 420", ""]
        for name, (args, keys) in RUN.items():
            lines += ["[[image]]", f'name = "{name}"', f'path = "{cls.images[name]}"']
            lines += [f"{k} = {toml_value(v)}" for k, v in keys.items()] + [""]
        cls.catalogue = os.path.join(cls.dir, "catalogue.toml")
        with open(cls.catalogue, "w") as f:
            f.write("\n".join(lines))
        cls.report = os.path.join(cls.dir, "report.html")
        cls.work = os.path.join(cls.dir, "work")
        start = time.monotonic()
        with subprocess.Popen([harness.CLOUDTIME, "validate-image", "--catalogue", cls.catalogue,
                               "--parallel", "2", "--json", "--report", cls.report,
                               "--work-dir", cls.work],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
            cls.pid = p.pid
            try:
                out, err = p.communicate(timeout=2400)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGINT)  # its teardown, then the test fails on its output
                out, err = p.communicate(timeout=60)
        cls.wall_s = time.monotonic() - start
        cls.code, cls.progress = p.returncode, err
        try:
            cls.doc = json.loads(out)
        except json.JSONDecodeError:
            cls.doc = None
        cls.output = out + err
        print(f"\ncatalogue of {len(RUN)} entries: {cls.wall_s:.0f} s, exit {cls.code}",
              flush=True)
        for e in (cls.doc or {}).get("images", []):  # the matrix's rows, for the log
            verdicts = " ".join(c["verdict"][:4].upper() for c in e["checks"])
            boot = e.get("validation", {}).get("boot_s", 0)
            print(f"  {e['name']:<36} {e['expect']:<9} {e['outcome']:<9} {boot:4.0f} s  "
                  f"{verdicts}  {'yes' if e['as_expected'] else 'NO'}", flush=True)

    @classmethod
    def nova_config_drive(cls, path, api=""):
        """Nova's config drive builder, with the validator's user-data, asking a cloudtimed's
        vendordata endpoint through Nova's DynamicJSON provider (nova.conf as a compute node
        has it); the endpoint's log says what Nova asked."""
        harness.require_system_python_module("nova.virt.configdrive", "python3-nova")
        port = harness.free_tcp_port()
        daemon = harness.Daemon(config=harness.LOCAL_CONFIG + "[vendordata]\nenabled = true\n"
                                f'listen = "127.0.0.1:{port}"\n', listen=("127.0.0.1:0",))
        try:
            daemon.vendordata_status(until=lambda v: v.get("pid"))
            conf = os.path.join(cls.dir, "nova.conf")
            with open(conf, "w") as f:
                f.write("[DEFAULT]\nmkisofs_cmd = xorrisofs\n[api]\n"
                        "vendordata_providers = StaticJSON,DynamicJSON\n"
                        f"vendordata_dynamic_targets = cloud-init@http://127.0.0.1:{port}/\n{api}")
            user_data = subprocess.run([harness.CLOUDTIME, "validate-image", "--print-user-data"],
                                       capture_output=True, text=True, check=True).stdout
            spec = os.path.join(cls.dir, "nova-instance.json")
            with open(spec, "w") as f:
                json.dump(dict(NOVA_INSTANCE, user_data=user_data), f)
            p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "nova_config_drive.py"),
                                conf, spec, path], capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stdout + p.stderr
            assert "Error from dynamic vendordata" not in p.stderr, p.stderr
            return daemon.vendordata_status(
                until=lambda v: v.get("endpoint", {}).get("deliveries", {}).get("time", 0) >= 1)
        finally:
            daemon.cleanup()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def needs(self, *names):
        """Skips a test of entries that only the --full tier boots."""
        if not all(name in RUN for name in names):
            harness.require_full_tier(", ".join(n for n in names if n not in RUN))

    def entry(self, name):
        self.needs(name)
        self.assertIsNotNone(self.doc, self.output)
        for e in self.doc["images"]:
            if e["name"] == name:
                return e
        self.fail(f"no {name} in the report")

    def checks(self, name):
        return {c["id"]: c for c in self.entry(name)["checks"]}

    def console(self, name):
        self.needs(name)
        with open(os.path.join(self.work, name, "console.log"), errors="replace") as f:
            return f.read()

    def test_every_image_comes_out_as_expected(self):
        self.assertIsNotNone(self.doc, self.output)
        unexpected = [f"{e['name']}: {e['mismatch']}" for e in self.doc["images"]
                      if not e["as_expected"]]
        self.assertEqual(unexpected, [], json.dumps(self.doc, indent=1)[-20000:])
        self.assertEqual(self.code, 0)
        self.assertEqual([e["name"] for e in self.doc["images"]], list(RUN))
        # Nothing is left behind, and no image file changed.
        self.assertEqual(validator_namespaces(self.pid), [])
        for path, identity in self.stats.items():
            self.assertEqual(file_identity(path), identity, f"{path} changed")
        self.assertEqual(sha256(self.images["debian12-chrony"]), self.sum)

    def test_chrony_image_through_the_config_drive(self):
        e = self.entry("debian12-chrony")
        checks = self.checks("debian12-chrony")
        self.assertIn("chronyd follows 169.254.169.254", checks["client-synchronized"]["reason"])
        self.assertIn("config-drive", checks["time-source-delivered"]["reason"])
        self.assertEqual(e["delivered_by"], ["config-drive"])
        self.assertEqual(e["client"], {"kind": "chrony", "follows": ["169.254.169.254"]})
        guest = e["validation"]["guest"]
        servers = {s["server"]: s for s in guest["servers"]}
        self.assertLess(abs(servers["169.254.169.254"]["offset_s"]), 0.050)
        self.assertGreaterEqual(len(servers["169.254.169.254"]["samples"]), 1)
        # The guest ran the static checker, the only program the validator copied in.
        self.assertTrue(guest["checker"].startswith("cloudtime-vm "), guest)
        self.assertIn("asks for the KVM PTP clock", checks["ptp-clock"]["reason"])
        self.assertIn("cloudtime: chrony (/etc/chrony/chrony.conf) uses: 169.254.169.254",
                      e["validation"]["vendordata_log"])

    def test_progress_while_the_guests_boot(self):
        # Each stage once it begins, in order, with the seconds since that guest's start
        # ("validate-image: [  12 s] debian12-chrony: ..."), the two guests' lines interleaved.
        stages = re.findall(r"^validate-image: \[\s*(\d+) s\] debian12-chrony: (.*)$",
                            self.progress, re.M)
        names = [name for _, name in stages]
        order = [next(i for i, n in enumerate(names) if n.startswith(prefix))
                 for prefix in ("booting under", "kernel booting", "cloud-init init stage",
                                "cloud-init final stage", "the check has finished")]
        self.assertEqual(order, sorted(order), self.progress)
        seconds = [int(s) for s, _ in stages]
        self.assertEqual(seconds, sorted(seconds), self.progress)
        other = re.findall(r"^validate-image: \[\s*\d+ s\] debian12-timesyncd: ", self.progress,
                           re.M)
        self.assertTrue(other, self.progress)

    def test_timesyncd_image_through_the_drop_in(self):
        e = self.entry("debian12-timesyncd")
        self.assertEqual(e["client"]["kind"], "systemd-timesyncd")
        self.assertIn("169.254.169.254", e["client"]["follows"])

    def test_without_vendordata_the_image_fails_with_the_reason(self):
        checks = self.checks("debian12-chrony-no-vendordata")
        self.assertEqual(checks["image-boots"]["verdict"], "pass")
        self.assertTrue(checks["time-source-delivered"]["reason"].startswith(
            "no cloud time source delivered"), checks["time-source-delivered"])

    def test_dhcp_option_42_as_the_only_channel(self):
        # (timesyncd's in the --full tier)
        for name, kind in (("debian12-chrony-dhcp-only", "chrony"),
                           ("debian12-timesyncd-dhcp-only", "systemd-timesyncd")):
            if name not in RUN:
                continue
            e = self.entry(name)
            self.assertEqual(e["delivered_by"], ["dhcp"], name)
            self.assertEqual(e["client"]["kind"], kind)
            self.assertEqual(e["validation"]["vendordata_log"], [], name)  # none delivered
            self.assertIn("169.254.169.254", e["client"]["follows"], name)

    def test_cloud_init_ntp_strategy(self):
        e = self.entry("debian12-chrony-cloud-init-ntp")
        # cloud-init's ntp module wrote chrony's servers from the vendordata; the script part
        # (there for ptp_kvm) added none of its own.
        log = e["validation"]["vendordata_log"]
        self.assertFalse([line for line in log if "cloudtime.sources" in line], log)
        self.assertIn("cloudtime: no /dev/ptp_kvm (not a KVM guest, or the host offers no PTP "
                      "clock): NTP only", log)
        self.assertEqual(e["client"]["follows"], ["169.254.169.254"])

    def test_the_tenants_user_data_runs_beside_ours(self):
        console = self.console("debian12-chrony-tenant-user-data")
        for mark in ("tenant-bootcmd-ran", "tenant-write-files-ran", "tenant-runcmd-ran"):
            self.assertIn(mark, console)
        self.assertEqual(self.entry("debian12-chrony-tenant-user-data")["client"]["follows"],
                         ["169.254.169.254"])

    def test_the_tenants_own_ntp_choice_is_respected(self):
        e = self.entry("debian12-chrony-tenant-ntp")
        self.assertIn("cloudtime: the tenant's user-data configures NTP (its ntp: section): "
                      "left to it, nothing changed", e["validation"]["vendordata_log"])
        # chronyd has the tenant's server only (cloud-init wrote it), and the check names it.
        sources = [s["address"] for s in e["validation"]["guest"]["client"]["sources"]]
        self.assertEqual(sources, ["192.0.2.123"])
        self.assertEqual(e["client"]["follows"], [])
        self.assertIn("192.0.2.123",
                      self.checks("debian12-chrony-tenant-ntp")["client-uses-cloud-servers"][
                          "reason"])

    def test_an_opted_out_instance_is_reported_as_such(self):
        e = self.entry("debian12-chrony-opted-out")
        self.assertEqual(e["outcome"], "opted-out")
        self.assertIn("meta_data.json", e["validation"]["guest"]["opted_out"])
        delivered = self.checks("debian12-chrony-opted-out")["time-source-delivered"]
        self.assertTrue(delivered["reason"].startswith("opted out (cloudtime_ntp=off in "),
                        delivered)

    def test_an_image_without_an_ntp_client_says_so(self):
        for name in ("debian11-none", "debian12-none", "debian13-none"):
            e = self.entry(name)
            self.assertEqual(e["client"]["kind"], "none", name)
            self.assertIn("cloudtime: no NTP client found", " ".join(
                e["validation"]["vendordata_log"]), name)

    def test_releases_and_networkd(self):
        for name, kind in (("debian11-chrony", "chrony"), ("debian13-chrony", "chrony"),
                           ("debian12-chrony-networkd", "chrony"),
                           ("debian11-timesyncd", "systemd-timesyncd"),
                           ("debian13-timesyncd", "systemd-timesyncd")):
            e = self.entry(name)
            self.assertEqual(e["client"]["kind"], kind, name)
            self.assertIn("169.254.169.254", e["client"]["follows"], name)
        self.assertIn("dhcp", self.entry("debian12-chrony-networkd")["delivered_by"])

    def test_a_config_drive_built_by_nova(self):
        # Nova asked the endpoint (once per metadata version that has vendor_data2.json) and
        # got time configuration; the guest found it in Nova's vendor_data2.json.
        deliveries = self.nova_vendordata.get("endpoint", {}).get("deliveries", {})
        self.assertGreaterEqual(deliveries.get("time", 0), 1, self.nova_vendordata)
        self.assertEqual(self.nova_vendordata["refused"], 0, self.nova_vendordata)
        e = self.entry("debian12-chrony-nova-config-drive")
        self.assertIn("openstack/latest/vendor_data2.json): 169.254.169.254",
                      self.checks("debian12-chrony-nova-config-drive")[
                          "time-source-delivered"]["reason"])
        self.assertEqual(e["client"], {"kind": "chrony", "follows": ["169.254.169.254"]})

    def test_debian_11_needs_novas_static_json(self):
        e = self.entry("debian11-chrony-nova-config-drive")
        self.assertEqual(e["validation"]["guest"]["cloud_init_version"], "20.4.1")
        self.assertIn("but this image's cloud-init 20.4.1 does not read vendor_data2.json there",
                      self.checks("debian11-chrony-nova-config-drive")[
                          "time-source-delivered"]["reason"])
        e = self.entry("debian11-chrony-nova-static-json")
        self.assertIn("openstack/latest/vendor_data.json): 169.254.169.254",
                      self.checks("debian11-chrony-nova-static-json")[
                          "time-source-delivered"]["reason"])
        self.assertEqual(e["client"]["follows"], ["169.254.169.254"])

    def test_the_html_report_in_chromium(self):
        chromium = shutil.which("chromium")
        if chromium is None:
            self.skipTest("chromium is not installed (bootstrap.sh installs it)")
        home = tempfile.mkdtemp(dir=self.dir)
        # No network for the browser at all: the page must need none.
        browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--proxy-server=127.0.0.1:9", "--user-data-dir=" + home]
        shot = os.path.join(self.dir, "report.png")
        p = subprocess.run(browser + [f"--screenshot={shot}", "--window-size=1400,2400",
                                      "file://" + self.report],
                           capture_output=True, text=True, timeout=120, env=dict(
                               os.environ, HOME=home))
        self.assertTrue(os.path.exists(shot), p.stderr[-3000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        self.assertEqual((width, height), (1400, 2400))
        self.assertGreater(len(png), 50_000)  # a page drawn, not a blank one
        p = subprocess.run(browser + ["--dump-dom", "file://" + self.report],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, HOME=home))
        dom = MatrixReader()
        dom.feed(p.stdout)
        self.assertEqual(dom.rows, list(RUN))
        columns = self.doc["check_columns"]
        self.assertEqual(dom.columns, columns)
        for name, cells in dom.cells.items():
            self.assertEqual([c for c, _ in cells], columns, name)
            expected = {c["id"]: c["verdict"] for c in self.entry(name)["checks"]}
            self.assertEqual({c: v for c, v in cells if v != "none"}, expected, name)
        self.assertEqual(dom.svg_plots, len([e for e in self.doc["images"] for s in
                                             e.get("validation", {}).get("guest", {}).get(
                                                 "servers", []) if s.get("samples")]))
        self.assertEqual(dom.external, [])


class MatrixReader(html.parser.HTMLParser):
    """Rows (tr[data-image]), header cells (th[data-check]) and each row's cells."""

    def __init__(self):
        super().__init__()
        self.rows, self.columns, self.cells = [], [], {}
        self.svg_plots = 0
        self.external = []
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key, "#").split(":")[0] in ("http", "https", "file", "//"):
                self.external.append(a[key])
        if tag == "th" and "data-check" in a:
            self.columns.append(a["data-check"])
        elif tag == "tr" and "data-image" in a:
            self._row = a["data-image"]
            self.rows.append(self._row)
            self.cells[self._row] = []
        elif tag == "td" and "data-check" in a and self._row is not None:
            self.cells[self._row].append((a["data-check"], a.get("class", "")))
        elif tag == "svg" and "offset-plot" in a.get("class", ""):
            self.svg_plots += 1

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None


class Mistakes(harness.TestCase):
    """Bad catalogues and arguments: named, with exit 64 or 78, before any guest boots."""

    def validate(self, *args):
        p = subprocess.run([harness.CLOUDTIME, "validate-image", "-q", *args],
                           capture_output=True, text=True, timeout=30)
        self.assertNotIn("booting", p.stderr)
        return p.returncode, p.stderr.strip()

    def file(self, directory, name, text):
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_each_is_named(self):
        d = tempfile.mkdtemp(prefix="cloudtime-catalogue-")
        self.addCleanup(shutil.rmtree, d, True)
        self.assertEqual(self.validate(), (64, "cloudtime validate-image: give images or "
                                               "--catalogue FILE (one of them)"))
        bad = self.file(d, "bad.toml", '[[image]]\nname = "a"\npath = "x"\nexpect = "soon"\n')
        self.assertEqual(self.validate("--catalogue", bad), (
            78, f"cloudtime validate-image: {bad}:4: image.expect must be one of pass, warn, "
                "fail, opted-out"))
        missing = self.file(d, "missing.toml", '[[image]]\nname = "a"\npath = "x"\n'
                                               'user_data = "none.yaml"\n')
        self.assertEqual(self.validate("--catalogue", missing), (
            78, f"cloudtime validate-image: a: {d}/none.yaml: No such file or directory"))
        text = self.file(d, "text.txt", "hello\n")
        code, err = self.validate("--user-data", text, "x.qcow2")
        self.assertEqual(code, 78)
        self.assertIn("the tenant's user-data must begin with #cloud-config", err)
        # A malformed option is a usage error (64); a file's content, a config error (78).
        self.assertEqual(self.validate("--metadata", "novalue", "x.qcow2"), (
            64, "cloudtime validate-image: --metadata novalue: must be KEY=VALUE"))
        drive = self.file(d, "drive.toml", '[[image]]\nname = "a"\npath = "x"\n'
                                           'config_drive = "d.iso"\nmetadata = { k = "v" }\n')
        code, err = self.validate("--catalogue", drive)
        self.assertEqual(code, 78)
        self.assertIn("a config_drive carries its own metadata and user-data", err)


class Interrupted(harness.TestCase):
    def test_interrupted_validation_leaves_nothing_behind(self):
        harness.require_root()
        for program in ("qemu-system-x86_64", "qemu-img", "xorriso"):
            harness.require_program(program)
        path = image("chrony")
        config = tempfile.NamedTemporaryFile("w", suffix=".toml")
        self.addCleanup(config.close)
        config.write(CONFIG)
        config.flush()
        before = validator_work_dirs()
        proc = subprocess.Popen([harness.CLOUDTIME, "validate-image", "-c", config.name, path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until the guest runs (its namespace exists and QEMU with it), then Ctrl-C.
        deadline = time.monotonic() + 120
        while not (guests := qemu_children(proc.pid)):
            self.assertLess(time.monotonic(), deadline, "QEMU did not start")
            if proc.poll() is not None:
                self.fail("validate-image ended before QEMU was seen: " + str(proc.communicate()))
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, out + err)
        self.assertIn("interrupted by a signal", err)
        self.assertEqual(validator_namespaces(proc.pid), [])
        self.assertEqual([pid for pid in guests if is_qemu(pid)], [])
        self.assertEqual(validator_work_dirs() - before, set())


def qemu_children(parent):
    """The QEMU processes that this validator started (it execs them through `ip netns exec`,
    which does not fork): its own guests only, not another run's."""
    p = subprocess.run(["pgrep", "-P", str(parent), "-f", "^qemu-system-x86_64 "],
                       capture_output=True, text=True)
    return [int(pid) for pid in p.stdout.split()]


def is_qemu(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().startswith(b"qemu-system-x86_64\0")
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
