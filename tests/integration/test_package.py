# SPDX-License-Identifier: Apache-2.0
"""The Debian packages, built from this checkout with the standard tools (dpkg-buildpackage,
debhelper compat 13) and checked with lintian: what they hold, what they depend on (the
runtime libraries only), stripped binaries with the symbols in -dbgsym, the conffile, what
their maintainer scripts do (sysusers before tmpfiles, the unit enabled and started), and the
unit's systemd-analyze security exposure."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from debian_build import (BUILD, REPO, GuestShell, guest_command,  # noqa: F401
                          require_built_packages_and_qemu, run, runtime_debs, setUpModule)
# The Ansible role's tests install these packages too: in this process, so that they are
# built once.
from test_ansible_role import AnsibleRole, RoleTemplate  # noqa: F401
from test_container_image import ContainerImageFromThePackage  # noqa: F401


class Packages(harness.TestCase):
    work = property(lambda self: BUILD["work"])
    debs = property(lambda self: BUILD["debs"])

    def setUp(self):
        self.assertTrue(BUILD["built"], BUILD["log"][-4000:])

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
                     "/usr/share/cloudtime/prometheus/cloudtime-alerts.yml",
                     "/usr/share/cloudtime/grafana/cloudtime-dashboard.json",
                     "/usr/share/man/man8/cloudtimed.8.gz", "/usr/share/man/man1/cloudtime.1.gz",
                     "/usr/share/man/man5/cloudtimed.toml.5.gz",
                     "/usr/share/doc/cloudtimed/operator-guide.md.gz",
                     "/usr/share/doc/cloudtimed/NEWS.md.gz",
                     "/usr/share/doc/cloudtimed/copyright",
                     # hosts without systemd: the init script and its log's rotation
                     "/etc/init.d/cloudtimed", "/etc/logrotate.d/cloudtimed"):
            self.assertIn(path, files)
        depends = self.field("cloudtimed", "Depends")
        for library in ("libsystemd0", "libseccomp2", "libssl3", "libnftables1"):
            self.assertIn(library, depends)
        names = {re.sub(r"\s*\(.*", "", alternative).strip()
                 for d in depends.split(",") for alternative in d.split("|")}
        for name in names:  # runtime libraries only: no toolchain, no QEMU, no debootstrap
            self.assertFalse(name.endswith("-dev") or name.startswith(("gcc", "g++", "cmake",
                                                                        "qemu", "debootstrap")),
                             name)
        self.assertEqual(self.field("cloudtimed", "Recommends"), "chrony")
        # debian/changelog is kept with the project's version.
        version = run(harness.CLOUDTIMED, "--version").stdout.split()[-1]
        self.assertEqual(self.field("cloudtimed", "Version"), version)
        root = self.extract("cloudtimed")
        with open(os.path.join(root, "DEBIAN", "conffiles")) as f:
            self.assertEqual(sorted(f.read().split()),
                             ["/etc/cloudtime/cloudtimed.toml", "/etc/init.d/cloudtimed",
                              "/etc/logrotate.d/cloudtimed"])
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
        for section in ("OPTIONS", "FILES", "SEE ALSO"):
            self.assertIn(f".SH {section}", man)
        self.assertEqual(man.count("PRIVILEGES"), 1, "one section on privileges")
        # The license, machine-readable.
        with open(os.path.join(root, "usr/share/doc/cloudtimed/copyright")) as f:
            copyright_file = f.read()
        self.assertTrue(copyright_file.startswith("Format: https://www.debian.org/doc/"
                                                  "packaging-manuals/copyright-format/1.0/"))
        self.assertIn("License: Apache-2.0", copyright_file)

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
        # 0-10, lower is better (Debian's chrony.service: 3.7).
        print(f"\nsystemd-analyze security exposure: {exposures}", file=sys.stderr)
        self.assertLessEqual(exposures["default"], 3.0, exposures)
        self.assertLessEqual(exposures["tenant networks"], 3.5, exposures)
        self.assertTrue(os.path.exists(unit))

    def test_only_a_tree_built_as_a_package_is_packaged_as_it_is(self):
        # debian/rules packages CLOUDTIME_BUILD_TREE only when it is configured as a package
        # build (scripts/test.sh's release tree): a plain one is refused before anything runs.
        tree = tempfile.mkdtemp(prefix="plain-tree-", dir=self.work)
        with open(os.path.join(tree, "CMakeCache.txt"), "w") as f:
            f.write("CMAKE_INSTALL_PREFIX:PATH=/usr/local\nCMAKE_CXX_FLAGS:STRING=\n")
        p = run("make", "-f", "debian/rules", "override_dh_auto_configure",
                f"CLOUDTIME_BUILD_TREE={tree}", cwd=REPO)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn(f"{tree} is not configured as a package build (prefix '/usr/local'",
                      p.stderr)

    def test_cloudtime_vm_is_one_static_executable(self):
        self.assertEqual(self.contents("cloudtime-vm").count("/usr/bin/cloudtime-vm"), 1)
        root = self.extract("cloudtime-vm")
        self.assertIn("statically linked", run("file", os.path.join(root, "usr/bin/cloudtime-vm")).stdout)
        self.assertEqual(self.field("cloudtime-vm", "Depends"), "")


GUEST = "169.254.100.10"
GUEST_MAC = "52:54:00:c7:00:01"
# The guest's end of a shell the test drives: a virtio serial port, one command per line,
# its output and exit status back.
AGENT = """#cloud-config
write_files:
  - path: /usr/local/sbin/ct-agent
    permissions: '0755'
    content: |
      #!/bin/bash
      port=/dev/virtio-ports/ct.shell
      while [ ! -e $port ]; do sleep 1; done
      exec 3<>$port
      echo "@@CT-AGENT-READY@@" >&3
      while IFS= read -r line <&3; do
        out=$(bash -c "$line" 2>&1 </dev/null); rc=$?
        printf '%s\\n@@CT-RC %d@@\\n' "$out" "$rc" >&3
      done
runcmd:
  - [systemd-run, --unit=ct-agent, /usr/local/sbin/ct-agent]
"""


class InstalledUnderSystemd(harness.TestCase):
    """The package installed with dpkg -i into the test image booted under QEMU (a real
    systemd; everything the maintainer scripts do runs there), driven through systemctl, and
    queried from the host's side of the test namespace."""

    @classmethod
    def setUpClass(cls):
        require_built_packages_and_qemu()
        super().setUpClass()
        from test_validate_image import image
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-systemd-test-")
        cls.netns = f"ct-pkg-{os.getpid()}"
        base = image("chrony")
        # The packages and the libraries the image lacks, on a CD the guest mounts.
        debs = os.path.join(cls.dir, "debs")
        os.makedirs(debs)
        for deb in runtime_debs(base) + [BUILD["debs"]["cloudtimed"]]:
            shutil.copy(deb, debs)
        # The upgrade: the same package as a later version.
        unpacked = os.path.join(cls.dir, "unpacked")
        run("dpkg-deb", "-R", BUILD["debs"]["cloudtimed"], unpacked)
        control = os.path.join(unpacked, "DEBIAN", "control")
        with open(control) as f:
            text = re.sub(r"^Version: (.*)$", r"Version: \1+upgrade1", f.read(), flags=re.M)
        with open(control, "w") as f:
            f.write(text)
        os.makedirs(os.path.join(cls.dir, "upgrade"))
        run("dpkg-deb", "-b", unpacked, os.path.join(cls.dir, "upgrade", "cloudtimed-upgrade.deb"))
        shutil.move(os.path.join(cls.dir, "upgrade"), os.path.join(debs, "upgrade"))
        p = run("xorriso", "-as", "mkisofs", "-V", "CTDEBS", "-J", "-R", "-o",
                os.path.join(cls.dir, "debs.iso"), debs)
        assert p.returncode == 0, p.stderr
        user_data = os.path.join(cls.dir, "user-data")
        with open(user_data, "w") as f:
            f.write(AGENT)
        p = run(harness.CLOUDTIME, "vendordata", "config-drive", os.path.join(cls.dir, "cd"),
                "--iso", os.path.join(cls.dir, "config-2.iso"), "--user-data", user_data,
                "--mac", GUEST_MAC, "--address", f"{GUEST}/16")
        assert p.returncode == 0, p.stderr
        run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base,
            os.path.join(cls.dir, "overlay.qcow2"))
        for cmd in (["ip", "netns", "add", cls.netns],
                    ["ip", "-n", cls.netns, "link", "set", "lo", "up"],
                    ["ip", "-n", cls.netns, "tuntap", "add", "dev", "tap0", "mode", "tap"],
                    ["ip", "-n", cls.netns, "addr", "add", "169.254.169.254/16", "dev", "tap0"],
                    ["ip", "-n", cls.netns, "link", "set", "tap0", "up"]):
            subprocess.run(cmd, check=True)
        shell = os.path.join(cls.dir, "shell.sock")
        cls.qemu_log = open(os.path.join(cls.dir, "qemu.log"), "w")
        cls.qemu = subprocess.Popen(
            guest_command(cls.netns, cls.dir, os.path.join(cls.dir, "debs.iso"), "tap0",
                          GUEST_MAC) +
            ["-chardev", f"socket,id=shell,path={shell},server=on,wait=off",
             "-device", "virtio-serial-pci",
             "-device", "virtserialport,chardev=shell,name=ct.shell"],
            stdout=subprocess.DEVNULL, stderr=cls.qemu_log)
        try:
            cls.shell = GuestShell(shell, timeout=600)
        except AssertionError:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "shell", None):
            cls.shell.sock.close()
        if getattr(cls, "qemu", None) and cls.qemu.poll() is None:
            cls.qemu.kill()
            cls.qemu.wait()
            cls.qemu_log.close()
        subprocess.run(["ip", "netns", "delete", cls.netns], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def console(self):
        with open(os.path.join(self.dir, "console.log"), errors="replace") as f:
            return f.read()[-3000:]

    def query(self, samples=1):
        return subprocess.run(["ip", "netns", "exec", self.netns, harness.CLOUDTIME, "query",
                               "--json", "-n", str(samples), "-t", "1", f"{GUEST}:123"],
                              capture_output=True, text=True, timeout=60)

    def main_pid(self):
        return int(self.shell.ok(self, "systemctl show -p MainPID --value cloudtimed"))

    def wait_active(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.shell.run("systemctl is-active cloudtimed")
            if out == "active":
                return
            if time.monotonic() > deadline:
                self.fail("cloudtimed not active: " + out + "\n" +
                          self.shell.run("journalctl -u cloudtimed --no-pager | tail -30")[1])
            time.sleep(1)

    def test_install_run_reload_restart_kill_upgrade_stop(self):
        sh = self.shell
        # dpkg -i: the postinst makes the user and /run/cloudtime, enables and starts the unit.
        sh.ok(self, "mkdir -p /mnt/debs && mount -o ro /dev/disk/by-label/CTDEBS /mnt/debs")
        out = sh.ok(self, "dpkg -i /mnt/debs/*.deb", timeout=600)
        self.assertIn("Setting up cloudtimed", out)
        self.assertIn("_cloudtime", sh.ok(self, "getent passwd _cloudtime"))
        self.assertEqual(sh.ok(self, "systemctl is-enabled cloudtimed"), "enabled")
        self.wait_active()
        status = sh.ok(self, "systemctl show -p StatusText --value cloudtimed")
        self.assertIn("serving NTP on 1 address", status)
        # The serving process: its user, no capabilities.
        pid = self.main_pid()
        proc = sh.ok(self, f"grep -E '^(Uid|CapEff):' /proc/{pid}/status")
        uid = sh.ok(self, "id -u _cloudtime")
        self.assertRegex(proc, rf"Uid:\s+{uid}\s")
        self.assertRegex(proc, r"CapEff:\s+0000000000000000")
        # Served to the host side of the namespace: port 123 on the guest's address.
        sh.ok(self, "sed -i 's/^listen = \\[\"127.0.0.1:11123\"\\]/listen = [\"0.0.0.0:123\"]/; "
                    "s/^source = \"auto\"/source = \"local\"/' /etc/cloudtime/cloudtimed.toml")
        sh.ok(self, "systemctl restart cloudtimed")
        self.wait_active()
        q = self.query(2)
        self.assertEqual(q.returncode, 0, q.stderr + self.console())
        self.assertIn('"stratum": 10', q.stdout)
        # Reload: the unit's ExecReload; the journal says what was applied.
        pid = self.main_pid()
        sh.ok(self, "sed -i 's/^level = \"info\"/level = \"debug\"/' /etc/cloudtime/cloudtimed.toml")
        sh.ok(self, "systemctl reload cloudtimed")
        time.sleep(2)
        journal = sh.ok(self, "journalctl -u cloudtimed --no-pager -o cat")
        self.assertIn("reload: applied", journal)
        self.assertIn("log level debug", journal)
        self.assertEqual(self.main_pid(), pid)
        self.assertEqual(self.query().returncode, 0)
        # Killed outright: systemd starts it again, and it serves.
        sh.ok(self, "systemctl kill -s KILL cloudtimed")
        time.sleep(4)  # RestartSec=2
        self.wait_active()
        self.assertNotEqual(self.main_pid(), pid)
        self.assertEqual(self.query().returncode, 0, self.console())
        # An upgrade keeps the edited config and loses at most one poll at 1/s.
        polls = []
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                polls.append(self.query().returncode == 0)
                time.sleep(1)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            out = sh.ok(self, "dpkg -i /mnt/debs/upgrade/cloudtimed-upgrade.deb", timeout=300)
            self.wait_active()
            time.sleep(3)
        finally:
            stop.set()
            poller.join()
        self.assertIn("+upgrade1", sh.ok(self, "dpkg-query -W -f '${Version}' cloudtimed"))
        self.assertIn('listen = ["0.0.0.0:123"]', sh.ok(self, "cat /etc/cloudtime/cloudtimed.toml"))
        print(f"\nupgrade: {polls.count(False)} of {len(polls)} polls at 1/s unanswered",
              file=sys.stderr)
        self.assertLessEqual(polls.count(False), 1, polls)
        self.journal_priorities_and_no_restart_loop()
        # Stopped: inactive, nothing left in /run/cloudtime.
        sh.ok(self, "systemctl stop cloudtimed")
        self.assertEqual(sh.run("systemctl is-active cloudtimed")[1], "inactive")
        self.assertEqual(sh.run("ls -A /run/cloudtime 2>/dev/null")[1], "")

    def journal_priorities_and_no_restart_loop(self):
        sh = self.shell
        config = "/etc/cloudtime/cloudtimed.toml"
        sh.ok(self, f"cp {config} /root/good.toml")
        # A reload that is refused is an error in the journal; `-p err` finds it, and only it.
        sh.ok(self, f"sed -i 's/^threads = 0/threads = \"many\"/' {config}")
        sh.run("systemctl reload cloudtimed")
        time.sleep(2)
        errors = sh.ok(self, "journalctl -u cloudtimed -p err --no-pager -o cat")
        self.assertRegex(errors, rf"reload: {config}:\d+: server.threads must be an integer")
        self.assertNotIn("reload: applied", errors)
        self.assertIn("reload: applied", sh.ok(self, "journalctl -u cloudtimed -p info "
                                                     "--no-pager -o cat"))
        self.assertIn('"PRIORITY":"3"', sh.ok(self, "journalctl -u cloudtimed -p err "
                                                    "-o json --no-pager | tail -1"))
        # A bad config at start: exit 78 and no restart (RestartPreventExitStatus=64 78).
        restarts = int(sh.ok(self, "systemctl show -p NRestarts --value cloudtimed"))
        sh.run("systemctl restart cloudtimed")
        time.sleep(5)  # over RestartSec=2: a restart would have happened by now
        self.assertEqual(sh.run("systemctl is-active cloudtimed")[1], "failed")
        self.assertEqual(sh.ok(self, "systemctl show -p ExecMainStatus --value cloudtimed"), "78")
        self.assertEqual(int(sh.ok(self, "systemctl show -p NRestarts --value cloudtimed")),
                         restarts)
        self.assertRegex(sh.ok(self, "journalctl -u cloudtimed -p err --no-pager -o cat | tail -3"),
                         rf"cloudtimed: {config}:\d+: server.threads must be an integer")
        # A --config that does not exist: 78 too, with the file's name.
        sh.ok(self, "mkdir -p /run/systemd/system/cloudtimed.service.d && printf "
                    "'[Service]\\nExecStart=\\nExecStart=/usr/sbin/cloudtimed --config "
                    "/etc/cloudtime/missing.toml\\n' "
                    "> /run/systemd/system/cloudtimed.service.d/missing.conf && "
                    "systemctl daemon-reload && systemctl reset-failed cloudtimed")
        restarts = int(sh.ok(self, "systemctl show -p NRestarts --value cloudtimed"))
        sh.run("systemctl start cloudtimed")
        time.sleep(5)
        self.assertEqual(sh.run("systemctl is-active cloudtimed")[1], "failed")
        self.assertEqual(sh.ok(self, "systemctl show -p ExecMainStatus --value cloudtimed"), "78")
        self.assertEqual(int(sh.ok(self, "systemctl show -p NRestarts --value cloudtimed")),
                         restarts)
        self.assertIn("/etc/cloudtime/missing.toml: cannot read config file",
                      sh.ok(self, "journalctl -u cloudtimed -p err --no-pager -o cat | tail -2"))
        # Put right, it starts again.
        sh.ok(self, "rm -r /run/systemd/system/cloudtimed.service.d && systemctl daemon-reload && "
                    f"cp /root/good.toml {config} && systemctl reset-failed cloudtimed && "
                    "systemctl start cloudtimed")
        self.wait_active()
        self.assertEqual(self.query().returncode, 0, self.console())


if __name__ == "__main__":
    unittest.main()
