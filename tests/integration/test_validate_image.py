"""`cloudtime validate-image` on cloud images the test builds itself with debootstrap
(tests/images/build_image.sh: Debian 12 with cloud-init, one with chrony, one with only
systemd-timesyncd), cached in CLOUDTIME_IMAGE_CACHE (default /var/cache/cloudtime-test-images)
between runs. Guests run under TCG here (this machine's /dev/kvm cannot run them: the
validator detects that), on a tap device inside a namespace the validator creates and
removes; they reach nothing but cloudtimed there. The image files are never modified."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_IMAGE = os.path.join(HERE, "..", "images", "build_image.sh")
CACHE = os.environ.get("CLOUDTIME_IMAGE_CACHE", "/var/cache/cloudtime-test-images")
CONFIG = '[clock]\nsource = "local"\n[rate_limit]\nenabled = false\n[status]\nsocket = ""\n'


def image(variant):
    path = os.path.join(CACHE, f"debian12-{variant}.qcow2")
    if not (os.path.exists(path) and os.path.exists(path + ".dpkg-status")):
        p = subprocess.run([BUILD_IMAGE, variant, path, os.path.join(CACHE, "debs")],
                           capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            raise AssertionError(f"building the {variant} image failed:\n{p.stdout}{p.stderr}")
    return path


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checks_by_id(doc):
    return {c["id"]: c for c in doc["checks"]}


class ValidateImage(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        for program in ("qemu-system-x86_64", "qemu-img", "debootstrap", "xorriso", "dnsmasq"):
            harness.require_program(program)
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-validate-test-")
        cls.config = os.path.join(cls.dir, "cloudtimed.toml")
        with open(cls.config, "w") as f:
            f.write(CONFIG)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def validate(self, path, *args):
        before = sha256(path)
        p = subprocess.run([harness.CLOUDTIME, "validate-image", "--json", "-c", self.config,
                            "--timeout", "420", *args, path],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(sha256(path), before, "the image file changed")
        self.progress = p.stderr
        try:
            doc = json.loads(p.stdout)
        except json.JSONDecodeError:
            self.fail(f"no JSON (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
        # Nothing is left behind: no namespace, no qemu.
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        self.assertNotIn("cloudtime-validate-", namespaces.stdout)
        return p.returncode, doc

    def test_chrony_image_passes(self):
        code, doc = self.validate(image("chrony"))
        checks = checks_by_id(doc)
        self.assertEqual(code, 0, json.dumps(doc, indent=2))
        self.assertTrue(doc["accelerator"].startswith(("kvm", "tcg")), doc["accelerator"])
        self.assertIn("chronyd follows 169.254.169.254", checks["client-synchronized"]["reason"])
        self.assertIn("config-drive", checks["time-source-delivered"]["reason"])
        servers = {s["server"]: s for s in doc["guest"]["servers"]}
        self.assertLess(abs(servers["169.254.169.254"]["offset_s"]), 0.050)
        self.assertEqual(doc["guest"]["client"]["kind"], "chrony")
        # The guest ran the static checker, the only program the validator copied in.
        self.assertTrue(doc["guest"]["checker"].startswith("cloudtime-vm "), doc["guest"])
        # Progress on stderr while it boots: each stage once it begins, in order, with the
        # seconds since the start ("validate-image: [  12 s] debian12-chrony.qcow2: ...").
        stages = re.findall(r"^validate-image: \[\s*(\d+) s\] debian12-chrony\.qcow2: (.*)$",
                            self.progress, re.M)
        names = [name for _, name in stages]
        order = [next(i for i, n in enumerate(names) if n.startswith(prefix))
                 for prefix in ("booting under", "kernel booting", "cloud-init init stage",
                                "cloud-init final stage", "the check has finished")]
        self.assertEqual(order, sorted(order), self.progress)
        seconds = [int(s) for s, _ in stages]
        self.assertEqual(seconds, sorted(seconds), self.progress)

    def test_timesyncd_image_through_the_drop_in(self):
        code, doc = self.validate(image("timesyncd"))
        checks = checks_by_id(doc)
        self.assertEqual(code, 0, json.dumps(doc, indent=2))
        self.assertEqual(doc["guest"]["client"]["kind"], "systemd-timesyncd")
        self.assertIn("169.254.169.254", doc["guest"]["client"]["servers"])
        self.assertEqual(checks["client-synchronized"]["verdict"], "pass")

    def test_without_vendordata_the_chrony_image_fails_with_the_reason(self):
        code, doc = self.validate(image("chrony"), "--no-vendordata")
        checks = checks_by_id(doc)
        self.assertEqual(code, 1, json.dumps(doc, indent=2))
        self.assertEqual(checks["image-boots"]["verdict"], "pass")
        self.assertEqual(checks["time-source-delivered"]["verdict"], "fail")
        self.assertTrue(checks["time-source-delivered"]["reason"].startswith(
            "no cloud time source delivered"), checks["time-source-delivered"])

    def test_interrupted_validation_leaves_nothing_behind(self):
        path = image("chrony")
        proc = subprocess.Popen([harness.CLOUDTIME, "validate-image", "-c", self.config, path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait until the guest runs (its namespace exists and QEMU with it), then Ctrl-C.
        deadline = time.monotonic() + 120
        while not qemu_running():
            self.assertLess(time.monotonic(), deadline, "QEMU did not start")
            if proc.poll() is not None:
                self.fail("validate-image ended before QEMU was seen: " + str(proc.communicate()))
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, out + err)
        self.assertIn("interrupted by a signal", err)
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        self.assertNotIn("cloudtime-validate-", namespaces.stdout)
        self.assertFalse(qemu_running())
        self.assertEqual([d for d in os.listdir("/var/tmp") if d.startswith("cloudtime-validate.")],
                         [])


def qemu_running():
    p = subprocess.run(["pgrep", "-f", "qemu-system-x86_64.*cloudtime-validate"],
                       capture_output=True, text=True)
    return p.returncode == 0


if __name__ == "__main__":
    unittest.main()
