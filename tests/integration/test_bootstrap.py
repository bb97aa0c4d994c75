# SPDX-License-Identifier: Apache-2.0
"""scripts/bootstrap.sh never leaves a host that had a working time daemon without one.

Installing chrony (a test peer) removes any other time daemon (Debian's time daemons conflict).
The script runs here against stand-ins for apt-get, dpkg-query, pgrep, invoke-rc.d, id and
systemd-sysusers (in a directory first on PATH) and a fake root for /etc and /usr/sbin
(CLOUDTIME_BOOTSTRAP_ROOT): nothing on this machine is installed, removed or started.
"""
import os
import pathlib
import subprocess
import tempfile
import textwrap
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]

# Each stand-in records its calls in $STATE/calls and keeps what runs in $STATE/running.
STUBS = {
    "id": 'echo 0\n',
    "systemd-sysusers": 'exit 0\n',
    "dpkg-query": textwrap.dedent('''\
        package="${@: -1}"
        if grep -qx "$package" "$STATE/missing"; then echo not-installed; else echo installed; fi
        '''),
    "pgrep": textwrap.dedent('''\
        [ -f "$STATE/running" ] && [ "$(cat "$STATE/running")" = "$2" ]
        '''),
    "apt-get": textwrap.dedent('''\
        echo "apt-get $*" >> "$STATE/calls"
        case " $* " in
        *" -s "*) cat "$STATE/removes" 2>/dev/null ;;
        *" install "*) if [ -s "$STATE/removes" ]; then rm -f "$STATE/running"; fi ;;
        esac
        exit 0
        '''),
    "invoke-rc.d": textwrap.dedent('''\
        echo "invoke-rc.d $*" >> "$STATE/calls"
        # As Debian's: a policy-rc.d that exits 101 forbids the start.
        if [ -x "$ROOT/usr/sbin/policy-rc.d" ]; then "$ROOT/usr/sbin/policy-rc.d"; [ $? -ne 101 ] || exit 101; fi
        if [ -f "$STATE/start_works" ]; then echo chronyd > "$STATE/running"; exit 0; fi
        exit 1
        '''),
}


class Bootstrap(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        base = pathlib.Path(self.dir.name)
        self.state, self.root, stubs = base / "state", base / "root", base / "bin"
        for d in (self.state, self.root / "usr/sbin", self.root / "etc/systemd", stubs):
            d.mkdir(parents=True)
        for name, body in STUBS.items():
            path = stubs / name
            path.write_text("#!/bin/bash\n" + body)
            path.chmod(0o755)
        (self.state / "missing").write_text("chrony\n")
        self.env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", STATE=str(self.state),
                        ROOT=str(self.root), CLOUDTIME_BOOTSTRAP_ROOT=str(self.root))

    def tearDown(self):
        self.dir.cleanup()

    def run_bootstrap(self):
        return subprocess.run([str(REPO / "scripts/bootstrap.sh"), "--test"], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)

    def calls(self):
        path = self.state / "calls"
        return path.read_text() if path.exists() else ""

    def running(self):
        path = self.state / "running"
        return path.read_text().strip() if path.exists() else None

    def test_a_replaced_time_daemon_is_named_first_and_chrony_keeps_the_time_after(self):
        (self.state / "running").write_text("systemd-timesyn")
        (self.state / "removes").write_text("Remv systemd-timesyncd [252.38-1~deb12u1]\n")
        (self.state / "start_works").touch()
        (self.root / "etc/systemd/timesyncd.conf").write_text(
            "[Time]\nNTP=old.example\nNTP=ntp1.example ntp2.example\n")
        done = self.run_bootstrap()
        self.assertEqual(done.returncode, 0, done.stderr)
        said = done.stdout
        warning = said.index("removes systemd-timesyncd")
        self.assertLess(warning, said.index("bootstrap: installing"), said)
        self.assertIn("systemd-timesyn keeps this host's time now", said)
        self.assertIn("the same servers: server ntp1.example, server ntp2.example", said)
        sources = self.root / "etc/chrony/sources.d/cloudtime-bootstrap.sources"
        self.assertEqual([line for line in sources.read_text().splitlines()
                          if not line.startswith("#")],
                         ["server ntp1.example iburst", "server ntp2.example iburst"])
        self.assertIn("invoke-rc.d chrony start", self.calls())
        self.assertEqual(self.running(), "chronyd")
        self.assertIn("chrony keeps this host's time now", said)
        self.assertFalse((self.root / "usr/sbin/policy-rc.d").exists(), "the guard stayed")

    def test_ntpsec_servers_are_carried_over(self):
        (self.state / "running").write_text("ntpd")
        (self.state / "removes").write_text("Remv ntpsec [1.2.2]\n")
        (self.state / "start_works").touch()
        (self.root / "etc/ntpsec").mkdir()
        (self.root / "etc/ntpsec/ntp.conf").write_text(
            "driftfile /var/lib/ntpsec/ntp.drift\npool 0.debian.pool.ntp.org iburst\n"
            "server 127.127.1.0\nserver time.example prefer\n")
        done = self.run_bootstrap()
        self.assertEqual(done.returncode, 0, done.stderr)
        sources = self.root / "etc/chrony/sources.d/cloudtime-bootstrap.sources"
        self.assertIn("pool 0.debian.pool.ntp.org iburst\nserver time.example iburst\n",
                      sources.read_text())
        self.assertEqual(self.running(), "chronyd")

    def test_a_host_without_a_time_daemon_gets_none_started(self):
        (self.state / "removes").write_text("Remv systemd-timesyncd [252.38-1~deb12u1]\n")
        (self.state / "start_works").touch()
        done = self.run_bootstrap()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("invoke-rc.d", self.calls())
        self.assertNotIn("keeps this host's time", done.stdout)
        self.assertIsNone(self.running())

    def test_a_running_chrony_is_left_alone(self):
        (self.state / "running").write_text("chronyd")
        (self.state / "missing").write_text("chromium\n")
        done = self.run_bootstrap()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn("invoke-rc.d", self.calls())
        self.assertEqual(self.running(), "chronyd")

    def test_a_start_that_fails_is_an_error_that_says_the_host_has_no_time_daemon(self):
        (self.state / "running").write_text("systemd-timesyn")
        (self.state / "removes").write_text("Remv systemd-timesyncd [252.38-1~deb12u1]\n")
        done = self.run_bootstrap()
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("it has no time daemon now", done.stderr)
        self.assertIn("invoke-rc.d chrony start", done.stderr)


if __name__ == "__main__":
    unittest.main()
