"""The Debian packages, built from this checkout with the standard tools (dpkg-buildpackage,
debhelper compat 13) and checked with lintian: what they hold, what they depend on (the
runtime libraries only), stripped binaries with the symbols in -dbgsym, the conffile, what
their maintainer scripts do (sysusers before tmpfiles, the unit enabled and started), and the
unit's systemd-analyze security exposure."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*cmd, cwd=None, timeout=120):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


class Packages(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        for program in ("dpkg-buildpackage", "lintian", "go-md2man", "systemd-analyze"):
            harness.require_program(program)
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="cloudtime-package-")
        # The tracked files of this checkout (and their working-tree state): no build trees.
        source = os.path.join(cls.work, "cloudtime")
        files = run("git", "ls-files", "-z", cwd=REPO).stdout.split("\0")
        files = [f for f in files if f and os.path.exists(os.path.join(REPO, f))]
        if not files:  # not a git checkout: everything but build trees
            files = [f for f in os.listdir(REPO) if not f.startswith(("build", "."))]
        for f in files:
            target = os.path.join(source, f)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = os.path.join(REPO, f)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, target)
        build = run("dpkg-buildpackage", "-b", "-uc", "-us", cwd=source, timeout=1500)
        cls.build_log = build.stdout + build.stderr
        cls.built = build.returncode == 0
        cls.debs = {re.sub(r"_.*", "", f): os.path.join(cls.work, f)
                    for f in os.listdir(cls.work) if f.endswith(".deb")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        self.assertTrue(self.built, self.build_log[-4000:])

    def field(self, package, name):
        return run("dpkg-deb", "-f", self.debs[package], name).stdout.strip()

    def contents(self, package):
        listing = run("dpkg-deb", "-c", self.debs[package]).stdout
        return [line.split()[-1].lstrip(".") for line in listing.splitlines()]

    def extract(self, package):
        directory = tempfile.mkdtemp(prefix=f"{package}-", dir=self.work)
        run("dpkg-deb", "-x", self.debs[package], directory)
        control = os.path.join(directory, "DEBIAN")
        run("dpkg-deb", "-e", self.debs[package], control)
        return directory

    def test_the_packages_and_lintian_without_errors(self):
        self.assertEqual(sorted(self.debs), ["cloudtime-vm", "cloudtimed", "cloudtimed-dbgsym"])
        changes = [f for f in os.listdir(self.work) if f.endswith(".changes")]
        lint = run("lintian", os.path.join(self.work, changes[0]), timeout=600)
        errors = [line for line in lint.stdout.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], lint.stdout)

    def test_what_cloudtimed_holds_and_needs(self):
        files = self.contents("cloudtimed")
        for path in ("/usr/sbin/cloudtimed", "/usr/bin/cloudtime",
                     "/lib/systemd/system/cloudtimed.service",
                     "/usr/lib/sysusers.d/cloudtimed.conf", "/usr/lib/tmpfiles.d/cloudtimed.conf",
                     "/etc/cloudtime/cloudtimed.toml",
                     "/usr/share/cloudtime/systemd/tenant-networks.conf",
                     "/usr/share/man/man8/cloudtimed.8.gz", "/usr/share/man/man1/cloudtime.1.gz"):
            self.assertIn(path, files)
        depends = self.field("cloudtimed", "Depends")
        for library in ("libsystemd0", "libseccomp2", "libssl3", "libnftables1"):
            self.assertIn(library, depends)
        for tool in ("g++", "gcc", "cmake", "qemu", "debootstrap", "-dev"):
            self.assertNotIn(tool, depends)
        self.assertEqual(self.field("cloudtimed", "Recommends"), "chrony")
        root = self.extract("cloudtimed")
        with open(os.path.join(root, "DEBIAN", "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/cloudtime/cloudtimed.toml"])
        # The conffile is the commented embedded default.
        with open(os.path.join(root, "etc/cloudtime/cloudtimed.toml")) as f:
            default = run(harness.CLOUDTIMED, "--print-default-config").stdout
            self.assertEqual(f.read(), default)
        # Stripped; the symbols are in the -dbgsym package.
        for binary in ("usr/sbin/cloudtimed", "usr/bin/cloudtime"):
            sections = run("readelf", "-S", os.path.join(root, binary)).stdout
            self.assertNotIn(".debug_info", sections, binary)
        self.assertTrue(any(p.endswith(".debug") for p in self.contents("cloudtimed-dbgsym")))
        # The man pages are roff.
        man = run("sh", "-c", f"zcat {root}/usr/share/man/man8/cloudtimed.8.gz").stdout
        self.assertTrue(man.startswith(".nh\n.TH CLOUDTIMED 8"), man[:200])
        self.assertIn(".SH OPTIONS", man)

    def test_maintainer_scripts_make_the_user_before_its_directory_and_start_the_unit(self):
        root = self.extract("cloudtimed")
        with open(os.path.join(root, "DEBIAN", "postinst")) as f:
            postinst = f.read()
        sysusers = postinst.index("systemd-sysusers")
        tmpfiles = postinst.index("systemd-tmpfiles")
        self.assertLess(sysusers, tmpfiles)
        self.assertIn("deb-systemd-helper enable 'cloudtimed.service'", postinst)
        self.assertIn("_dh_action=restart", postinst)  # an upgrade restarts it

    def test_the_units_exposure(self):
        root = self.extract("cloudtimed")
        unit = os.path.join(root, "lib/systemd/system/cloudtimed.service")
        exposures = {}
        for name, dropin in (("default", None), ("tenant networks", "tenant-networks.conf")):
            if dropin:
                d = os.path.join(root, "etc/systemd/system/cloudtimed.service.d")
                os.makedirs(d, exist_ok=True)
                shutil.copy(os.path.join(root, "usr/share/cloudtime/systemd", dropin), d)
            out = run("systemd-analyze", "security", "--offline=yes", f"--root={root}",
                      "--no-pager", "cloudtimed.service")
            m = re.search(r"Overall exposure level for cloudtimed.service: ([0-9.]+)", out.stdout)
            self.assertIsNotNone(m, out.stdout + out.stderr)
            exposures[name] = float(m.group(1))
        # chrony's own unit, on this machine, for comparison: 0-10, lower is better.
        self.assertLessEqual(exposures["default"], 3.0, exposures)
        self.assertLessEqual(exposures["tenant networks"], 3.5, exposures)
        self.assertTrue(os.path.exists(unit))

    def test_cloudtime_vm_is_one_static_executable(self):
        self.assertEqual(self.contents("cloudtime-vm").count("/usr/bin/cloudtime-vm"), 1)
        root = self.extract("cloudtime-vm")
        self.assertIn("statically linked", run("file", os.path.join(root, "usr/bin/cloudtime-vm")).stdout)
        self.assertEqual(self.field("cloudtime-vm", "Depends"), "")


if __name__ == "__main__":
    unittest.main()
