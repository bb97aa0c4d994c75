# SPDX-License-Identifier: Apache-2.0
"""`cloudtime host-check` on this machine: a verdict for every check and the exit code that
follows from them, with chronyd and cloudtimed started by the test, and with broken inputs."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

CHECKS = ["kernel-clock-synchronized", "chrony-synchronized", "leap-status", "clocksource-tsc",
          "kvm-present", "leap-seconds-list", "cloudtimed-answers"]


def host_check(*args):
    p = subprocess.run([harness.CLOUDTIME, "host-check", *args], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def expected_exit(verdicts):
    if "fail" in verdicts:
        return 1
    return 2 if "abort" in verdicts else 0


class HostCheck(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        super().setUpClass()
        cls.chronyd = harness.Chronyd(["port 0", "local stratum 8"])
        deadline = time.monotonic() + 20
        while not (cls.chronyd.tracking() or {}).get("stratum") == "8":
            if time.monotonic() > deadline:
                raise AssertionError("chronyd never synchronized to its local reference:\n"
                                     + cls.chronyd.read_log())
            time.sleep(0.2)
        cls.daemon = harness.Daemon(
            config=f'[clock]\nsource = "chrony"\n{cls.chronyd.clock_config()}'
                   '[rate_limit]\nenabled = false\n')
        cls.tmp = tempfile.mkdtemp(prefix="cloudtime-hostcheck-")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        cls.chronyd.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def json_check(self, *args):
        rc, out, err = host_check("--json", *args)
        data = json.loads(out)
        verdicts = {c["id"]: c["verdict"] for c in data["checks"]}
        self.assertEqual(sorted(verdicts), sorted(CHECKS), out)
        for c in data["checks"]:
            self.assertIn(c["verdict"], ["pass", "warn", "fail", "skip", "abort"])
            self.assertTrue(c["reason"], c)
        self.assertEqual(rc, expected_exit(verdicts.values()), out + err)
        self.assertEqual(data["exit_code"], rc)
        return verdicts, data

    def test_this_machine_gets_a_verdict_for_every_check(self):
        verdicts, data = self.json_check("--chrony-socket", os.path.join(self.tmp, "none.sock"))
        self.assertEqual(verdicts["chrony-synchronized"], "skip")
        self.assertEqual(verdicts["cloudtimed-answers"], "skip")
        # What this machine really is, read independently.
        state = harness.kernel_time_state()[0]
        self.assertEqual(verdicts["kernel-clock-synchronized"],
                         "fail" if state & 0x40 else "pass")
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            source = f.read().strip()
        self.assertEqual(verdicts["clocksource-tsc"], "pass" if source == "tsc" else "fail")
        self.assertEqual(verdicts["kvm-present"], "pass" if os.path.exists("/dev/kvm") else "fail")
        self.assertIn(verdicts["leap-seconds-list"], ["pass", "warn"])

    def test_chrony_and_cloudtimed_pass(self):
        verdicts, data = self.json_check("--chrony-socket", self.chronyd.socket,
                                         "--cloudtimed", self.daemon.address)
        reasons = {c["id"]: c["reason"] for c in data["checks"]}
        self.assertEqual(verdicts["chrony-synchronized"], "pass", reasons)
        self.assertIn("stratum 8", reasons["chrony-synchronized"])
        self.assertEqual(verdicts["leap-status"], "pass", reasons)
        self.assertIn("chronyd: normal", reasons["leap-status"])
        self.assertEqual(verdicts["cloudtimed-answers"], "pass", reasons)
        self.assertIn("stratum 9", reasons["cloudtimed-answers"])

    def test_broken_inputs_fail(self):
        clocksource = os.path.join(self.tmp, "clocksource")
        with open(clocksource, "w") as f:
            f.write("hpet\n")
        leap = os.path.join(self.tmp, "leap-seconds.list")
        with open("/usr/share/zoneinfo/leap-seconds.list") as f:
            text = f.read()
        with open(leap, "w") as f:
            # Tampered: one more day of validity, so the stated hash no longer matches.
            f.write(re.sub(r"^#@(\s+)(\d+)", lambda m: f"#@{m.group(1)}{int(m.group(2)) + 86400}",
                           text, flags=re.M))
        port = harness.free_udp_port()
        verdicts, data = self.json_check(
            "--chrony-socket", self.chronyd.socket, "--clocksource-file", clocksource,
            "--kvm-device", os.path.join(self.tmp, "kvm"), "--leap-seconds-file", leap,
            "--cloudtimed", f"127.0.0.1:{port}")
        self.assertEqual(verdicts["clocksource-tsc"], "fail")
        self.assertEqual(verdicts["kvm-present"], "fail")
        self.assertEqual(verdicts["leap-seconds-list"], "fail")
        self.assertIn("hash does not match",
                      next(c["reason"] for c in data["checks"] if c["id"] == "leap-seconds-list"))
        self.assertEqual(verdicts["cloudtimed-answers"], "fail")  # nothing listens there

    def test_scs_lines_and_human_output(self):
        rc, out, _ = host_check("--scs", "--chrony-socket", self.chronyd.socket)
        lines = out.strip().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^scs-0129-[a-z-]+: (PASS|FAIL|ABORT)$")
        self.assertNotIn("cloudtimed-answers", out)  # skipped checks are not reported
        rc_human, human, _ = host_check("--chrony-socket", self.chronyd.socket)
        self.assertEqual(rc_human, rc)
        self.assertIn("host", human.splitlines()[-1])
        self.assertEqual(len(human.strip().splitlines()), len(CHECKS) + 1)
        # Each line names its check by the id --json and --scs use.
        ids = [line.split()[1] for line in human.strip().splitlines()[:-1]]
        self.assertEqual(sorted(ids), sorted(CHECKS), human)

    def test_without_permission_to_see_chronyds_socket_is_abort(self):
        # chronyd's socket lives in a directory only root may enter (as /run/chrony is
        # _chrony's): an unprivileged host-check cannot tell whether chronyd runs, and says so.
        harness.require_root()
        unprivileged = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        harness.CLOUDTIME, "host-check", "--chrony-socket", self.chronyd.socket]
        p = subprocess.run(unprivileged + ["--json"], capture_output=True, text=True,
                           timeout=60)
        data = json.loads(p.stdout)
        checks = {c["id"]: c for c in data["checks"]}
        self.assertEqual(checks["chrony-synchronized"]["verdict"], "abort", checks)
        self.assertIn("Permission denied", checks["chrony-synchronized"]["reason"])
        self.assertIn("chrony's group", checks["chrony-synchronized"]["reason"])
        self.assertEqual(p.returncode, expected_exit([c["verdict"] for c in data["checks"]]))
        self.assertIn(p.returncode, (1, 2))
        p = subprocess.run(unprivileged + ["--scs"], capture_output=True, text=True, timeout=60)
        self.assertIn("scs-0129-chrony-synchronized: ABORT", p.stdout.splitlines())

    def test_usage_errors(self):
        rc, _, err = host_check("--json", "--scs")
        self.assertEqual(rc, 64, err)
        rc, _, err = host_check("--offset-warn", "x")
        self.assertEqual(rc, 64, err)


if __name__ == "__main__":
    unittest.main()
