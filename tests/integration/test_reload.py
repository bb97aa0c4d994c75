# SPDX-License-Identifier: Apache-2.0
"""SIGHUP (systemctl reload) reads the whole config again and applies it while serving: listen
addresses, access list, rate limits, leap settings, log level, the vendordata policy. Sockets
that stay stay open (a client polling at 100/s loses nothing across 20 reloads); a broken
config keeps the running one and says FILE:LINE: what; keys only a restart applies are named.
`cloudtime reload` does the same and waits, and its exit status says which of these happened."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from test_vendordata import NOVA_BODY, post


def config_text(listen, extra=""):
    addresses = ", ".join(f'"{a}"' for a in listen)
    return f'[server]\nlisten = [{addresses}]\n' + harness.LOCAL_CONFIG + extra


def answered(address, timeout=0.3):
    host, _, port = address.rpartition(":")
    try:
        data = harness.exchange(host.strip("[]"), int(port), harness.ntp_request(),
                                timeout=timeout)
        return data is not None and harness.decode_reply(data)["mode"] == 4
    except (TimeoutError, OSError):
        return False


class Reload(harness.TestCase):
    def start(self, text):
        # listen=(): server.listen comes from the file, so that a reload can change it.
        daemon = harness.Daemon(config=text, listen=())
        self.addCleanup(daemon.cleanup)
        self.wait_listening(daemon, 1)
        return daemon

    def wait_listening(self, daemon, count):
        deadline = time.monotonic() + 5
        while len(daemon.status()["listen"]) < count:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.02)

    def reload(self, daemon, text, expect="reload: applied"):
        """Writes `text` as the config, sends SIGHUP, waits for the log line `expect` (new)."""
        before = daemon.read_log().count(expect)
        with open(daemon.config_path, "w") as f:
            f.write(text)
        daemon.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while daemon.read_log().count(expect) <= before:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.02)
        return daemon.read_log()

    def test_a_client_at_100_per_second_loses_nothing_across_20_reloads(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = self.start(text)
        results = []
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                results.append(answered(f"127.0.0.1:{port}", timeout=0.5))
                time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            time.sleep(0.3)
            for i in range(20):
                # Each reload changes something a reload applies (the rate limit table stays
                # off, the access list grows): every one is a real reload.
                self.reload(daemon, text + f'[access]\nignore = ["10.{i}.0.0/16"]\n')
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            stop.set()
            poller.join()
        print(f"\n20 reloads: {results.count(False)} of {len(results)} polls unanswered",
              file=sys.stderr)
        self.assertGreater(len(results), 150)
        self.assertEqual(results.count(False), 0, f"{results.count(False)} of {len(results)} "
                         "polls unanswered\n" + daemon.read_log())
        self.assertEqual(daemon.read_log().count("reload: applied"), 20)
        self.assertEqual(daemon.stop(), 0)

    def test_listen_addresses_access_list_and_log_level_are_applied(self):
        first, second = harness.free_udp_port(), harness.free_udp_port()
        daemon = self.start(config_text([f"127.0.0.1:{first}"]))
        self.assertTrue(answered(f"127.0.0.1:{first}"))
        # A second address added: both serve.
        self.reload(daemon, config_text([f"127.0.0.1:{first}", f"127.0.0.1:{second}"]))
        self.assertEqual(daemon.status()["listen"],
                         [f"127.0.0.1:{first}", f"127.0.0.1:{second}"])
        self.assertTrue(answered(f"127.0.0.1:{first}"))
        self.assertTrue(answered(f"127.0.0.1:{second}"))
        # The first removed: closed (nothing listens there any more), the second serves.
        self.reload(daemon, config_text([f"127.0.0.1:{second}"]))
        self.assertEqual(daemon.status()["listen"], [f"127.0.0.1:{second}"])
        self.assertFalse(answered(f"127.0.0.1:{first}"))
        self.assertTrue(answered(f"127.0.0.1:{second}"))
        # An access list that ignores this client: no answer, counted as dropped by access.
        log = self.reload(daemon, config_text([f"127.0.0.1:{second}"],
                                              '[access]\nignore = ["127.0.0.0/8"]\n'
                                              '[log]\nlevel = "debug"\n'))
        self.assertIn("access list 1 rules, default allow", log)
        self.assertIn("log level debug", log)
        self.assertFalse(answered(f"127.0.0.1:{second}"))
        self.assertGreaterEqual(daemon.counters()["dropped.ignored"], 1)
        # And back.
        self.reload(daemon, config_text([f"127.0.0.1:{second}"]))
        self.assertTrue(answered(f"127.0.0.1:{second}"))

    def test_rate_limits_are_applied(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = self.start(text)
        burst = [answered(f"127.0.0.1:{port}", timeout=0.2) for _ in range(10)]
        self.assertEqual(burst.count(False), 0)
        limited = text.replace("[rate_limit]\nenabled = false\n",
                               "[rate_limit]\nenabled = true\nburst = 2\ninterval = 60\n"
                               "leak = 7\nkod = -1\n")
        self.assertNotEqual(limited, text)
        self.reload(daemon, limited)
        burst = [answered(f"127.0.0.1:{port}", timeout=0.2) for _ in range(10)]
        self.assertLessEqual(burst.count(True), 3, burst)

    def test_a_broken_config_keeps_the_running_one_and_says_where(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = self.start(text)
        lines = text.count("\n")
        # Garbage appended (it used to be ignored silently).
        log = self.reload(daemon, text + "this is not toml\n",
                          expect="the running configuration stays")
        self.assertRegex(log, rf"reload: {daemon.config_path}:{lines + 1}:")
        self.assertTrue(answered(f"127.0.0.1:{port}"))
        # A value out of range, an unknown key.
        for bad, where in (("[rate_limit]\nburst = -1\n", "rate_limit.burst"),
                           ("[log]\nlevel_typo = 1\n", "level_typo")):
            log = self.reload(daemon, text.replace("[rate_limit]\nenabled = false\n", "") + bad,
                              expect="the running configuration stays")
            self.assertIn(where, log)
            self.assertTrue(answered(f"127.0.0.1:{port}"))
        # An address that cannot be bound: nothing of that config is applied.
        log = self.reload(daemon, config_text([f"127.0.0.1:{port}", "192.0.2.1:123"],
                                              '[access]\nignore = ["127.0.0.0/8"]\n'),
                          expect="the running configuration stays")
        self.assertIn("cannot listen on 192.0.2.1:123", log)
        self.assertTrue(answered(f"127.0.0.1:{port}"))
        self.assertEqual(daemon.status()["listen"], [f"127.0.0.1:{port}"])

    def test_keys_only_a_restart_applies_are_named(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = self.start(text)
        changed = text.replace("[server]\n", "[server]\nthreads = 1\nseccomp = false\n")
        log = self.reload(daemon, changed, expect="only a restart applies")
        self.assertIn("reload: server.threads, server.seccomp changed: only a restart applies "
                      "them (systemctl restart cloudtimed)", log)
        self.assertTrue(answered(f"127.0.0.1:{port}"))

    def test_the_vendordata_policy_is_applied(self):
        port = harness.free_udp_port()
        http = harness.free_tcp_port()
        vendordata = (f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{http}"\n'
                      'servers = ["169.254.169.254"]\n')
        text = config_text([f"127.0.0.1:{port}"], vendordata)
        daemon = self.start(text)
        daemon.vendordata_status(until=lambda v: v.get("pid"))
        status, answer, _ = post(http, NOVA_BODY)
        self.assertEqual(status, 200)
        self.assertNotIn("169.254.169.123", answer)
        self.reload(daemon, text.replace('servers = ["169.254.169.254"]',
                                         'servers = ["169.254.169.123"]'))
        status, answer, _ = post(http, NOVA_BODY)
        self.assertEqual(status, 200, daemon.read_log())
        self.assertIn("169.254.169.123", answer)
        self.assertTrue(answered(f"127.0.0.1:{port}"))
        # A reload that leaves [vendordata] and the log level alone leaves its process alone.
        pid = daemon.vendordata_status()["pid"]
        self.assertGreater(pid, 1)
        log = self.reload(daemon, text.replace('servers = ["169.254.169.254"]',
                                               'servers = ["169.254.169.123"]') +
                          '[access]\nignore = ["192.0.2.0/24"]\n')
        self.assertEqual(daemon.vendordata_status()["pid"], pid, log)
        self.assertEqual(log.count("(its process replaced)"), 1, log)


class ReloadCommand(harness.TestCase):
    """`cloudtime reload`: what a deployment tool runs instead of a bare SIGHUP."""

    def reload(self, daemon, text, *flags):
        with open(daemon.config_path, "w") as f:
            f.write(text)
        return subprocess.run([harness.CLOUDTIME, "reload", "--socket", daemon.status_socket,
                               *flags], capture_output=True, text=True, timeout=30)

    def test_json_says_each_outcome_with_its_exit_status(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = harness.Daemon(config=text, listen=())
        self.addCleanup(daemon.cleanup)
        outcomes = ((text, 0, "applied", []),
                    (text + "this is not toml\n", 1, "rejected", []),
                    (text.replace("[server]\n", "[server]\nthreads = 1\n"), 3, "restart_needed",
                     ["server.threads"]))
        for config, code, result, keys in outcomes:
            p = self.reload(daemon, config, "--json")
            self.assertEqual(p.returncode, code, p.stderr)
            doc = json.loads(p.stdout)
            self.assertEqual((doc["result"], doc["exit_code"], doc["restart_needed"], doc["pid"]),
                             (result, code, keys, daemon.proc.pid), doc)
            self.assertEqual("error" in doc, result == "rejected", doc)
        p = subprocess.run([harness.CLOUDTIME, "reload", "--json", "--socket",
                            "/nonexistent/status.sock"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        doc = json.loads(p.stdout)
        self.assertEqual((doc["result"], doc["exit_code"]), ("no_answer", 2))
        self.assertIn("is cloudtimed running", doc["error"])

    def test_applied_rejected_and_restart_needed_by_exit_status(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = harness.Daemon(config=text, listen=())
        self.addCleanup(daemon.cleanup)
        self.assertEqual(daemon.status()["reload"],
                         {"count": 0, "applied": True, "error": "", "restart_needed": []})
        # Applied: exit 0, and it has happened by the time the command returns.
        p = self.reload(daemon, text + '[access]\nignore = ["127.0.0.0/8"]\n')
        self.assertEqual((p.returncode, p.stdout),
                         (0, "reloaded: the configuration is applied\n"), p.stderr)
        self.assertFalse(answered(f"127.0.0.1:{port}"))
        # Rejected: exit 1 with the reason; the running config stays.
        p = self.reload(daemon, text + "this is not toml\n")
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("rejected, the running configuration stays: " + daemon.config_path, p.stderr)
        self.assertFalse(answered(f"127.0.0.1:{port}"))
        status = daemon.status()["reload"]
        self.assertEqual((status["count"], status["applied"]), (2, False))
        # Applied, but a key only a restart applies: exit 3 naming it; `status` says so too.
        p = self.reload(daemon, text.replace("[server]\n", "[server]\nthreads = 1\n"))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("applied only by a restart: server.threads", p.stdout)
        self.assertTrue(answered(f"127.0.0.1:{port}"))
        shown = subprocess.run([harness.CLOUDTIME, "status", "--socket", daemon.status_socket],
                               capture_output=True, text=True, timeout=10).stdout
        self.assertIn("changed since the start, applied only by a restart: server.threads", shown)
        # Set back as started: nothing left that needs a restart.
        p = self.reload(daemon, text)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(daemon.status()["reload"]["restart_needed"], [])

    def test_an_unusable_nts_certificate_rejects_the_whole_reload(self):
        """All or nothing: the certificate and key are read and checked (as the daemon's user)
        before anything is applied; a private key given as the certificate beside an access
        list that ignores everyone changes nothing, and the command says why."""
        directory = tempfile.mkdtemp(prefix="cloudtime-reload-nts-")
        self.addCleanup(shutil.rmtree, directory, True)
        os.chmod(directory, 0o755)
        port = harness.free_udp_port()
        cert, key = harness.self_signed_certificate(directory)
        for path in (cert, key):
            shutil.chown(path, "_cloudtime")  # readable by the daemon's user on a reload
        nts = (f'[nts]\nenabled = true\ncertificate = "{cert}"\nprivate_key = "{key}"\n'
               f'ke_port = {harness.free_tcp_port()}\nkey_file = "{directory}/keys/nts-keys"\n')
        text = config_text([f"127.0.0.1:{port}"], nts)
        daemon = harness.Daemon(config=text, listen=(), workdir=directory)
        self.addCleanup(daemon.cleanup)
        self.assertTrue(answered(f"127.0.0.1:{port}"))
        p = self.reload(daemon, config_text([f"127.0.0.1:{port}"],
                                            nts.replace(f'certificate = "{cert}"',
                                                        f'certificate = "{key}"')) +
                        '[access]\ndefault = "ignore"\n')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("the certificate is not a usable PEM certificate chain", p.stderr)
        status = daemon.status()["reload"]
        self.assertFalse(status["applied"], status)
        self.assertIn(f"nts: cannot use the certificate {key}", status["error"])
        self.assertTrue(answered(f"127.0.0.1:{port}"))  # the ignore rule was not applied
        # The same with a usable pair: applied.
        p = self.reload(daemon, text + '[access]\ndefault = "ignore"\n')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(answered(f"127.0.0.1:{port}"))

    def test_a_new_privileged_port_is_left_to_a_restart_and_the_rest_applied(self):
        port = harness.free_udp_port()
        text = config_text([f"127.0.0.1:{port}"])
        daemon = harness.Daemon(config=text, listen=())  # drops to _cloudtime: cannot bind < 1024
        self.addCleanup(daemon.cleanup)
        privileged = next(p for p in range(1000, 900, -1) if self.free(p))
        p = self.reload(daemon, config_text([f"127.0.0.1:{port}", f"127.0.0.1:{privileged}"],
                                            '[access]\nignore = ["127.0.0.0/8"]\n'))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("applied only by a restart: server.listen", p.stdout)
        self.assertEqual(daemon.status()["listen"], [f"127.0.0.1:{port}"])
        self.assertFalse(answered(f"127.0.0.1:{port}"))  # the access list was applied
        # Again (the running config now names the port): the same, not a rejection.
        p = self.reload(daemon, config_text([f"127.0.0.1:{port}", f"127.0.0.1:{privileged}"]))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertTrue(answered(f"127.0.0.1:{port}"))

    @staticmethod
    def free(port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return True
            except OSError:
                return False

    def test_no_daemon_is_exit_2(self):
        p = subprocess.run([harness.CLOUDTIME, "reload", "--socket", "/nonexistent/status.sock"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is cloudtimed running", p.stderr)


if __name__ == "__main__":
    unittest.main()
