# SPDX-License-Identifier: Apache-2.0
"""The vendordata's shell part, run as cloud-init would run it (sh, as root) against the file
layouts of the distributions it must serve, each a directory tree of the test's own
(CLOUDTIME_ROOT): Debian/Ubuntu chrony (sources.d, conf.d), the RHEL family (one chrony.conf),
SUSE (include of /etc/chrony.d), systemd-timesyncd only, and no client. The files it writes
are then read by the real chronyd (`chronyd -p`, which parses and prints a configuration
without starting), so the server and refclock lines are known to parse."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

DEBIAN_CHRONY = """confdir /etc/chrony/conf.d
pool 2.debian.pool.ntp.org iburst
sourcedir /run/chrony-dhcp
sourcedir /etc/chrony/sources.d
keyfile /etc/chrony/chrony.keys
driftfile /var/lib/chrony/chrony.drift
makestep 1 3
"""
RHEL_CHRONY = """pool 2.rhel.pool.ntp.org iburst
sourcedir /run/chrony-dhcp
driftfile /var/lib/chrony/drift
makestep 1.0 3
rtcsync
"""
SUSE_CHRONY = """! pool pool.ntp.org iburst
include /etc/chrony.d/*.conf
driftfile /var/lib/chrony/drift
"""


def render(config_text, *metadata):
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(config_text)
        f.flush()
        args = [harness.CLOUDTIME, "vendordata", "-c", f.name, "render", "--part", "script"]
        for pair in metadata:
            args += ["--metadata", pair]
        p = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
        return p.stdout


class TimeSetup(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        super().setUpClass()

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cloudtime-image-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def file(self, path, text="", mode=0o644):
        full = self.root + path
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        os.chmod(full, mode)

    def read(self, path):
        with open(self.root + path) as f:
            return f.read()

    def run_script(self, script):
        p = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, CLOUDTIME_ROOT=self.root))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stderr

    def assert_chrony_parses(self, *drop_in_globs):
        """chronyd -p on a config that includes the drop-ins (server and refclock lines)."""
        conf = os.path.join(self.root, "check.conf")
        with open(conf, "w") as f:
            for pattern in drop_in_globs:
                f.write(f"include {self.root}{pattern}\n")
        p = subprocess.run(["chronyd", "-p", "-f", conf], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def test_debian_sources_and_conf_dirs(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        self.file("/dev/ptp_kvm")  # the udev link that appears once ptp_kvm is loaded
        log = self.run_script(render(
            '[vendordata]\nservers = ["169.254.169.254", "ntp.example.net"]\n'))
        self.assertEqual(self.read("/etc/chrony/chrony.conf"), DEBIAN_CHRONY)  # left alone
        self.assertEqual(self.read("/etc/chrony/sources.d/cloudtime.sources"),
                         "# NTP from the cloud (cloudtime vendordata)\n"
                         "server 169.254.169.254 iburst prefer xleave\n"
                         "server ntp.example.net iburst prefer xleave\n")
        self.assertIn("refclock PHC /dev/ptp_kvm poll 2\n",
                      self.read("/etc/chrony/conf.d/cloudtime-ptp.conf"))
        self.assertEqual(self.read("/etc/modules-load.d/cloudtime-ptp_kvm.conf"), "ptp_kvm\n")
        self.assertIn("not run (CLOUDTIME_ROOT is set): modprobe ptp_kvm", log)
        # New sources alone would be a reload; the refclock needs a restart of chronyd.
        self.assertIn("systemctl --no-block try-restart chrony.service", log)
        parsed = self.assert_chrony_parses("/etc/chrony/sources.d/*.sources",
                                           "/etc/chrony/conf.d/*.conf")
        self.assertIn("server 169.254.169.254 iburst prefer xleave", parsed)
        self.assertIn("refclock PHC /dev/ptp_kvm poll 2", parsed)

    def test_the_tenants_own_ntp_section_is_left_alone(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        self.file("/dev/ptp_kvm")
        self.file("/var/lib/cloud/instance/cloud-config.txt",
                  "#cloud-config\nruncmd: [ls]\nntp:\n  servers: [10.0.0.5]\n")
        log = self.run_script(render("[vendordata]\n"))
        self.assertIn("the tenant's user-data configures NTP (its ntp: section): left to it", log)
        self.assertEqual(os.listdir(self.root + "/etc/chrony"), ["chrony.conf"])
        self.assertFalse(os.path.exists(self.root + "/etc/modules-load.d"))
        # User-data without one: the cloud's servers as always.
        self.file("/var/lib/cloud/instance/cloud-config.txt",
                  "#cloud-config\nruncmd: [ntpdate]\nwrite_files:\n- path: /etc/ntp: x\n")
        self.run_script(render("[vendordata]\n"))
        self.assertIn("server 169.254.169.254",
                      self.read("/etc/chrony/sources.d/cloudtime.sources"))

    def test_debian_without_a_ptp_clock_reloads_sources_only(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        log = self.run_script(render("[vendordata]\n"))
        self.assertIn("no /dev/ptp_kvm", log)
        self.assertFalse(os.path.exists(self.root + "/etc/chrony/conf.d/cloudtime-ptp.conf"))
        self.assertIn("chronyc reload sources", log)
        self.assertNotIn("try-restart", log)
        # Running again (both vendordata files, a re-run) changes nothing.
        before = self.read("/etc/chrony/sources.d/cloudtime.sources")
        self.run_script(render("[vendordata]\n"))
        self.assertEqual(self.read("/etc/chrony/sources.d/cloudtime.sources"), before)

    def test_xleave_off_leaves_basic_server_lines(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        self.run_script(render("[vendordata]\nxleave = false\n"))
        self.assertEqual(self.read("/etc/chrony/sources.d/cloudtime.sources"),
                         "# NTP from the cloud (cloudtime vendordata)\n"
                         "server 169.254.169.254 iburst prefer\n")
        self.assertIn("server 169.254.169.254 iburst prefer",
                      self.assert_chrony_parses("/etc/chrony/sources.d/*.sources"))

    def test_rhel_family_gets_one_confdir_line(self):
        self.file("/etc/chrony.conf", RHEL_CHRONY)
        self.file("/dev/ptp_kvm")
        log = self.run_script(render("[vendordata]\n"))
        self.assertEqual(self.read("/etc/chrony.conf"),
                         RHEL_CHRONY + "\n# cloudtime: drop-ins\nconfdir /etc/chrony.d\n")
        self.assertIn("server 169.254.169.254 iburst prefer",
                      self.read("/etc/chrony.d/cloudtime-servers.conf"))
        self.assertIn("refclock PHC /dev/ptp_kvm", self.read("/etc/chrony.d/cloudtime-ptp.conf"))
        self.assertIn("try-restart chronyd.service", log)
        self.run_script(render("[vendordata]\n"))  # the line is added once
        self.assertEqual(self.read("/etc/chrony.conf").count("confdir /etc/chrony.d"), 1)
        self.assert_chrony_parses("/etc/chrony.d/*.conf")

    def test_suse_include_directory_is_used(self):
        self.file("/etc/chrony.conf", SUSE_CHRONY)
        self.run_script(render("[vendordata]\nptp_kvm = false\n"))
        self.assertEqual(self.read("/etc/chrony.conf"), SUSE_CHRONY)
        self.assertIn("server 169.254.169.254",
                      self.read("/etc/chrony.d/cloudtime-servers.conf"))
        self.assertFalse(os.path.exists(self.root + "/etc/modules-load.d"))
        self.assert_chrony_parses("/etc/chrony.d/*.conf")

    def test_nts_servers_trust_the_clouds_certificate(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        cert, _ = harness.self_signed_certificate(self.root, "169.254.169.254")
        with open(cert) as f:
            pem = f.read().strip()
        log = self.run_script(render(
            '[vendordata]\nservers = ["169.254.169.254"]\nptp_kvm = false\nnts = true\n'
            f'nts_trusted_ca = """\n{pem}\n"""\n'))
        self.assertEqual(self.read("/etc/chrony/sources.d/cloudtime.sources"),
                         "# NTP from the cloud (cloudtime vendordata)\n"
                         "server 169.254.169.254 iburst prefer xleave nts\n")
        self.assertEqual(self.read("/etc/chrony/conf.d/cloudtime-nts-ca.crt").strip(), pem)
        self.assertEqual(os.stat(self.root + "/etc/chrony/conf.d/cloudtime-nts-ca.crt").st_mode
                         & 0o777, 0o644)  # chronyd reads it as _chrony
        # Certificates are read when chronyd starts: a restart, not a reload.
        self.assertIn("systemctl --no-block try-restart chrony.service", log)
        self.assertIn("169.254.169.254 (NTS)", log)
        parsed = self.assert_chrony_parses("/etc/chrony/sources.d/*.sources",
                                           "/etc/chrony/conf.d/*.conf")
        self.assertIn("server 169.254.169.254 iburst prefer xleave nts", parsed)
        self.assertIn("ntstrustedcerts /etc/chrony/conf.d/cloudtime-nts-ca.crt", parsed)
        # A path instead of the certificate is refused with the reason.
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write('[vendordata]\nnts_trusted_ca = "/etc/cloudtime/ca.pem"\n')
            f.flush()
            p = subprocess.run([harness.CLOUDTIME, "vendordata", "-c", f.name, "render"],
                               capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a path", p.stderr)

    def test_timesyncd_only(self):
        self.file("/lib/systemd/systemd-timesyncd", "#!/bin/sh\n", 0o755)
        log = self.run_script(render('[vendordata]\nservers = ["169.254.169.254", "10.0.0.1"]\n'))
        self.assertEqual(self.read("/etc/systemd/timesyncd.conf.d/cloudtime.conf"),
                         "# NTP from the cloud (cloudtime vendordata)\n[Time]\n"
                         "NTP=169.254.169.254 10.0.0.1\n")
        self.assertIn("try-restart systemd-timesyncd.service", log)
        self.assertIn("systemd-timesyncd cannot read a PTP clock", log)
        log = self.run_script(render('[vendordata]\nservers = ["169.254.169.254"]\nnts = true\n'))
        self.assertIn("systemd-timesyncd has no NTS", log)

    def test_no_client_is_reported_not_failed(self):
        log = self.run_script(render("[vendordata]\n"))
        self.assertIn("no NTP client found", log)
        self.assertFalse(os.path.exists(self.root + "/etc/chrony"))

    def test_cloud_init_ntp_strategy_leaves_the_servers_to_cloud_init(self):
        # The ntp module has written its own chrony.conf (no directories) before this runs.
        self.file("/etc/chrony/chrony.conf", "server 169.254.169.254 iburst\n")
        self.file("/dev/ptp_kvm")
        self.run_script(render('[vendordata]\nstrategy = "cloud-init-ntp"\n'))
        self.assertFalse(os.path.exists(self.root + "/etc/chrony/conf.d/cloudtime-servers.conf"))
        self.assertIn("confdir /etc/chrony/conf.d", self.read("/etc/chrony/chrony.conf"))
        self.assert_chrony_parses("/etc/chrony/conf.d/*.conf")

    def test_instance_metadata_turns_the_ptp_clock_off(self):
        self.file("/etc/chrony/chrony.conf", DEBIAN_CHRONY)
        self.file("/dev/ptp_kvm")
        self.run_script(render("[vendordata]\n", "cloudtime_ptp=off"))
        self.assertFalse(os.path.exists(self.root + "/etc/chrony/conf.d/cloudtime-ptp.conf"))
        self.assertFalse(os.path.exists(self.root + "/etc/modules-load.d"))


if __name__ == "__main__":
    unittest.main()
