# SPDX-License-Identifier: Apache-2.0
"""Files cloudtimed reads by path are opened without blocking and checked for type and size
first: a FIFO or a device where a namespace, the leap-seconds list or the config should be is
an error with a reason, never a hang or an endless read. And `--check-config` refuses what
start-up would refuse."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness


def run_daemon(*args, timeout=20, stdin=None):
    return subprocess.run([harness.CLOUDTIMED, *args], capture_output=True, text=True,
                          timeout=timeout, stdin=stdin)


class HostileFiles(harness.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudtime-files-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.dir])

    def path(self, name):
        return os.path.join(self.dir, name)

    def fifo(self, name):
        os.mkfifo(self.path(name))
        return self.path(name)

    def test_a_fifo_among_the_namespaces_is_skipped_and_stopping_still_works(self):
        harness.require_root()
        netns_dir = self.path("netns")
        os.mkdir(netns_dir)
        os.mkfifo(os.path.join(netns_dir, "ovnmeta-fifo"))
        with open(os.path.join(netns_dir, "ovnmeta-file"), "w") as f:
            f.write("not a namespace")
        daemon = harness.Daemon(config=harness.LOCAL_CONFIG + "[tenant_networks]\nenabled = true\n"
                                f'netns_dir = "{netns_dir}"\npatterns = ["ovnmeta-*"]\n')
        self.addCleanup(daemon.cleanup)
        deadline = time.monotonic() + 5
        while "ovnmeta-file: not a network namespace" not in daemon.read_log():
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.05)
        self.assertIn("ovnmeta-fifo: not a network namespace", daemon.read_log())
        rc, _, err = harness.run_query(daemon.address, "-n", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(daemon.stop(timeout=5), 0)  # SIGTERM is enough: nothing hangs

    def test_leap_seconds_list_that_is_no_regular_file_or_too_large(self):
        huge = self.path("huge.list")
        with open(huge, "wb") as f:
            f.write(b"#" * (2 << 20))
        cases = {self.fifo("leap.fifo"): "not a regular file (a FIFO)",
                 "/dev/zero": "not a regular file (a character device)",
                 huge: "larger than 1048576 bytes"}
        for path, why in cases.items():
            with self.subTest(path):
                started = time.monotonic()
                daemon = harness.Daemon(config=harness.LOCAL_CONFIG +
                                        f'[leap]\nleap_seconds_file = "{path}"\n')
                try:
                    self.assertLess(time.monotonic() - started, 5)
                    self.assertIn(f"cannot read {path}: {why}", daemon.read_log())
                    rc, _, err = harness.run_query(daemon.address, "-n", "1")
                    self.assertEqual(rc, 0, err)
                    # The leap list is read again on SIGHUP: that must not hang either.
                    daemon.proc.send_signal(signal.SIGHUP)
                    self.assertEqual(daemon.stop(timeout=5), 0)
                finally:
                    daemon.cleanup()

    def test_config_that_is_a_fifo_a_device_or_too_large(self):
        huge = self.path("huge.toml")
        with open(huge, "w") as f:
            f.write("# " + "x" * (17 << 20) + "\n")
        cases = {self.fifo("config.fifo"): "nothing to read from the pipe",
                 "/dev/zero": "not a regular file (a character device)",
                 huge: "larger than 16777216 bytes"}
        for path, why in cases.items():
            with self.subTest(path):
                p = run_daemon("--config", path, "--check-config")
                self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
                self.assertIn(f"{path}: cannot read config file: {why}", p.stderr)
        # A pipe that someone writes to is a config (cloudtimed --config /dev/stdin).
        p = subprocess.run([harness.CLOUDTIMED, "--config", "/dev/stdin", "--check-config"],
                           input=harness.LOCAL_CONFIG, capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)

    def assert_refused_by_check_and_start(self, cases, key=""):
        """Each config text of `cases` ({name: (text, why)}) is refused by --check-config (78)
        and by start-up (1, before it serves anything), both saying `why` and naming `key`."""
        for name, (text, why) in cases.items():
            with self.subTest(name):
                config = self.path("c.toml")
                with open(config, "w") as f:
                    f.write(harness.LOCAL_CONFIG + text)
                p = run_daemon("--config", config, "--check-config")
                self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
                self.assertIn(why, p.stderr)
                self.assertIn(key, p.stderr)
                p = run_daemon("--config", config, "--status-socket", "")
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn(why, p.stderr)
                self.assertIn(key, p.stderr)

    def test_check_config_refuses_what_start_up_refuses(self):
        harness.require_program("openssl")
        cert, key, other_key = self.path("cert.pem"), self.path("key.pem"), self.path("other.pem")
        for k in (key, other_key):
            subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-out", k], check=True, capture_output=True)
        subprocess.run(["openssl", "req", "-x509", "-key", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        vendordata = '[vendordata]\nenabled = true\nlisten = "127.0.0.1:1"\n'
        cases = {
            "root": ('[server]\nuser = "root"\n', "server.user: user 'root' is root"),
            "unknown user": ('[server]\nuser = "no-such-user-here"\n',
                             "server.user: no such user 'no-such-user-here'"),
            "missing key": (vendordata + f'tls_certificate = "{cert}"\n'
                            f'tls_key = "{self.path("missing.pem")}"\n',
                            "missing.pem: No such file or directory"),
            "key of another certificate": (vendordata + f'tls_certificate = "{cert}"\n'
                                           f'tls_key = "{other_key}"\n',
                                           "the key is not a usable PEM private key"),
            "not PEM": (vendordata + f'tls_certificate = "{key}"\ntls_key = "{key}"\n',
                        "the certificate is not a usable PEM certificate chain"),
        }
        self.assert_refused_by_check_and_start(cases)
        with open(self.path("c.toml"), "w") as f:
            f.write(harness.LOCAL_CONFIG + vendordata +
                    f'tls_certificate = "{cert}"\ntls_key = "{key}"\n')
        p = run_daemon("--config", self.path("c.toml"), "--check-config")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_check_config_refuses_nts_files_that_start_up_refuses(self):
        """Every file NTS names, checked by --check-config as start-up checks it: the Ansible
        role validates with --check-config, and nts.enabled needs a restart."""
        harness.require_program("openssl")
        os.chmod(self.dir, 0o755)  # the daemon's user may enter
        cert, key = harness.self_signed_certificate(self.dir)
        other = self.path("other.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", other], check=True, capture_output=True)
        keys = harness.daemon_user_directory(self.dir)  # as the package makes /var/lib/cloudtime
        key_set = ("cloudtime-nts-keys 1\nrotation 86400\ngeneration 1\n"
                   f"key 1 {int(time.time())} {'ab' * 32}\n")

        def nts(certificate=cert, private_key=key, key_file=os.path.join(keys, "nts-keys")):
            return (f'[server]\nlisten = ["127.0.0.1:0"]\n[nts]\nenabled = true\n'
                    f'certificate = "{certificate}"\nprivate_key = "{private_key}"\n'
                    f'key_file = "{key_file}"\n')

        def key_file(name, content, mode=0o600, owner="_cloudtime"):
            path = os.path.join(keys, name)
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, mode)
            shutil.chown(path, owner, owner)
            return path

        root_keys = self.path("root-keys")  # a directory the user may not write
        os.mkdir(root_keys, 0o755)
        zero = os.path.join(keys, "zero")
        os.symlink("/dev/zero", zero)
        fifo = os.path.join(keys, "fifo")
        os.mkfifo(fifo)
        cases = {
            "missing certificate": (nts(certificate=self.path("missing.pem")),
                                    f"nts: cannot use the certificate {self.path('missing.pem')}"
                                    f" with the key {key}: {self.path('missing.pem')}: "
                                    "No such file or directory"),
            "a key as the certificate": (nts(certificate=key),
                                         "the certificate is not a usable PEM certificate chain"),
            "a key of another certificate": (nts(private_key=other),
                                             "the key is not a usable PEM private key"),
            "key file garbage": (nts(key_file=key_file("garbage", "garbage\n")),
                                 "not a cloudtime NTS key set"),
            "key file empty": (nts(key_file=key_file("empty", "")), "empty"),
            "key file a FIFO": (nts(key_file=fifo), "not a regular file (a FIFO)"),
            "key file a link to /dev/zero": (nts(key_file=zero), "not a regular file"),
            "key file of 10 MB": (nts(key_file=key_file("large", "x" * 10_000_000)),
                                  "larger than 4096 bytes"),
            "key file readable by others": (nts(key_file=key_file("open", key_set, 0o644)),
                                            "readable by others"),
            "key file unreadable by the user": (
                nts(key_file=key_file("root-only", key_set, owner="root")),
                "user '_cloudtime' may not read"),
            "key file in a directory the user may not write": (
                nts(key_file=os.path.join(root_keys, "nts-keys")),
                f"user '_cloudtime' may not write to {root_keys}"),
        }
        self.assert_refused_by_check_and_start(cases, key="nts")
        # A key set the user owns, and none yet (made at the first start): both fine.
        for path in (key_file("good", key_set), os.path.join(keys, "nts-keys")):
            with open(self.path("c.toml"), "w") as f:
                f.write(harness.LOCAL_CONFIG + nts(key_file=path))
            p = run_daemon("--config", self.path("c.toml"), "--check-config")
            self.assertEqual((p.returncode, p.stdout), (0, "configuration OK\n"), p.stderr)

if __name__ == "__main__":
    unittest.main()
