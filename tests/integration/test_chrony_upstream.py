# SPDX-License-Identifier: Apache-2.0
"""cloudtimed serving what the host's chronyd says (clock.source = "chrony"): stratum + 1, its
refid and root values; LI=3 within 2 s of losing it, recovery when it is back; a chrony client
rejects the unsynchronized replies; a holdover keeps serving with growing dispersion."""

import os
import pwd
import re
import subprocess
import threading
import time
import unittest

import harness


def config(chronyd, extra="", server=""):
    return (f'[server]\n{server}[clock]\nsource = "chrony"\n{chronyd.clock_config()}{extra}'
            '[rate_limit]\nenabled = false\n')


def reply(host, port):
    """One exchange; the decoded reply (root values and reference time in seconds) or None."""
    try:
        r = harness.decode_reply(harness.exchange(host, port, harness.ntp_request()))
    except (TimeoutError, OSError):
        return None
    r["root_delay"] /= 65536.0
    r["root_dispersion"] /= 65536.0
    r["reference_s"] = r["reference"] / 2**32 - 2208988800
    return r


def reply_if(host, port, unsynchronized):
    """One reply, when its leap indicator says (un)synchronized as asked; else None."""
    r = reply(host, port)
    return r if r and (r["leap"] == 3) == unsynchronized else None


def wait_for(predicate, timeout, step=0.05):
    """Polls until predicate() returns a true value; returns it and the time it took."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None, time.monotonic() - start
        time.sleep(step)


CHRONY_LINES = ["port 0", "local stratum 8"]


class ChronyUpstream(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        harness.require_program("chronyc")
        super().setUpClass()

    def setUp(self):
        self.chronyd = harness.Chronyd(CHRONY_LINES)
        self.addCleanup(lambda: self.chronyd.cleanup())  # the chronyd running at the end

    def start_daemon(self, extra="", server=""):
        daemon = harness.Daemon(config=config(self.chronyd, extra, server))
        self.addCleanup(daemon.cleanup)
        return daemon

    def synchronized_reply(self, daemon):
        host, port = daemon.host_port()
        r, _ = wait_for(lambda: reply_if(host, port, unsynchronized=False),
                        timeout=20)
        self.assertIsNotNone(r, "cloudtimed never served chrony's state:\n" + daemon.read_log()
                             + self.chronyd.read_log())
        return r

    def test_serves_chronys_state_one_stratum_below(self):
        daemon = self.start_daemon()
        r = self.synchronized_reply(daemon)
        tracking = self.chronyd.tracking()
        self.assertIsNotNone(tracking)
        self.assertEqual(int(tracking["stratum"]), 8)
        self.assertEqual(r["stratum"], 9)
        self.assertEqual(r["leap"], 0)
        self.assertEqual(r["refid"], 0x7F7F0101)  # chrony's local reference, 127.127.1.1
        self.assertEqual(int(tracking["refid"], 16), 0x7F7F0101)
        # Root delay as chrony's (NTP short format: 15 us steps); dispersion at least chrony's,
        # grown by at most 15 ppm of the reference's age plus the correction left to slew.
        self.assertAlmostEqual(r["root_delay"], float(tracking["root_delay"]), delta=2e-5)
        chrony_dispersion = float(tracking["root_dispersion"])
        age = time.time() - float(tracking["ref_time"])
        self.assertGreaterEqual(r["root_dispersion"], chrony_dispersion - 2e-5)
        self.assertLessEqual(r["root_dispersion"],
                             chrony_dispersion + 15e-6 * (age + 2) + abs(float(tracking["system_time"])) + 2e-5)
        # The reference timestamp is chrony's reference time.
        self.assertAlmostEqual(r["reference_s"], float(tracking["ref_time"]), delta=2.0)
        self.assertIn("chrony (tracking through", daemon.read_log())

    def test_loss_and_recovery(self):
        # Without a restart grace: LI=3 within 2 s of chronyd stopping.
        daemon = self.start_daemon("restart_grace = 0\n")
        self.synchronized_reply(daemon)
        host, port = daemon.host_port()
        self.chronyd.stop()
        unsynced, took = wait_for(
            lambda: reply_if(host, port, unsynchronized=True), timeout=5)
        self.assertIsNotNone(unsynced, "still synchronized 5 s after chronyd stopped:\n"
                             + daemon.read_log())
        self.assertLessEqual(took, 2.0)
        self.assertEqual(unsynced["stratum"], 0)
        # A chrony client does not use a server that says it is unsynchronized.
        with self.assertRaises(AssertionError):
            harness.chrony_measure(host, port, samples=2, timeout=30)
        self.chronyd = harness.Chronyd(CHRONY_LINES, workdir=self.chronyd.dir)
        recovered = self.synchronized_reply(daemon)
        self.assertEqual(recovered["stratum"], 9)
        log = daemon.read_log()
        self.assertIn("answering with LI=3", log)
        self.assertIn("chronyd: synchronized", log)

    def test_a_chronyd_restart_never_reaches_clients_as_unsynchronized(self):
        daemon = self.start_daemon()
        self.synchronized_reply(daemon)
        host, port = daemon.host_port()
        answers = []
        stop = threading.Event()

        def ask():
            while not stop.is_set():
                answers.append(reply(host, port))
                time.sleep(0.05)

        asking = threading.Thread(target=ask)
        asking.start()
        try:
            time.sleep(0.5)
            self.chronyd.stop()
            time.sleep(1.5)  # down across at least one refresh, as a slow restart is
            self.chronyd = harness.Chronyd(CHRONY_LINES, workdir=self.chronyd.dir)
            # Until chronyd is synchronized again, and a while after.
            synced, _ = wait_for(lambda: (lambda t: t and t["leap"] == "Normal")(
                self.chronyd.tracking()), timeout=20, step=0.2)
            self.assertIsNotNone(synced, self.chronyd.read_log())
            time.sleep(2)
        finally:
            stop.set()
            asking.join()
        self.assertGreater(len(answers), 40)
        self.assertNotIn(None, answers)
        self.assertEqual([a for a in answers if a["leap"] != 0], [], daemon.read_log())
        log = daemon.read_log()
        self.assertIn("source of truth interrupted (restarting?): holding over", log)
        self.assertIn("holdover ended: the source of truth is back", log)

    def test_a_chronyd_gone_for_longer_than_the_grace_is_unsynchronized(self):
        daemon = self.start_daemon("restart_grace = 3\n")
        self.synchronized_reply(daemon)
        host, port = daemon.host_port()
        self.chronyd.stop()
        unsynced, took = wait_for(
            lambda: reply_if(host, port, unsynchronized=True), timeout=8)
        self.assertIsNotNone(unsynced, daemon.read_log())
        self.assertGreaterEqual(took, 2.0)
        self.assertLessEqual(took, 5.0)
        self.assertIn("holdover of 3 s exhausted", daemon.read_log())

    def test_holdover_keeps_serving_with_growing_dispersion(self):
        daemon = self.start_daemon("holdover = 3\nrestart_grace = 0\n")
        before = self.synchronized_reply(daemon)
        host, port = daemon.host_port()
        self.chronyd.stop()
        time.sleep(1.5)
        held = reply(host, port)
        self.assertIsNotNone(held)
        self.assertEqual(held["leap"], 0, daemon.read_log())
        self.assertEqual(held["stratum"], 9)
        self.assertGreater(held["root_dispersion"], before["root_dispersion"])
        unsynced, _ = wait_for(
            lambda: reply_if(host, port, unsynchronized=True), timeout=6)
        self.assertIsNotNone(unsynced, "holdover never ended:\n" + daemon.read_log())
        self.assertIn("holding over", daemon.read_log())

    def test_missing_socket_is_unsynchronized_and_logged(self):
        daemon = harness.Daemon(config=f'[clock]\nsource = "chrony"\nchrony_socket = '
                                f'"{self.chronyd.dir}/absent.sock"\n'
                                'chrony_command_address = ""\n')
        self.addCleanup(daemon.cleanup)
        host, port = daemon.host_port()
        r = reply(host, port)
        self.assertIsNotNone(r)
        self.assertEqual(r["leap"], 3)
        self.assertIn("absent.sock", daemon.read_log())

    def test_auto_source_picks_chrony_when_its_socket_exists(self):
        _, _ = wait_for(lambda: os.path.exists(self.chronyd.socket), timeout=10)
        daemon = harness.Daemon(config=f'[clock]\n{self.chronyd.clock_config()}'
                                '[rate_limit]\nenabled = false\n')
        self.addCleanup(daemon.cleanup)
        self.assertIn("so the source is chrony", daemon.read_log())
        self.assertEqual(self.synchronized_reply(daemon)["stratum"], 9)
        absent = harness.Daemon(config=f'[clock]\nchrony_socket = "{self.chronyd.dir}/absent"\n')
        self.addCleanup(absent.cleanup)
        self.assertIn("so the source is kernel", absent.read_log())



class PrivilegeSeparation(harness.TestCase):
    """Dropped to its user (no capabilities), cloudtimed cannot write to chronyd's socket
    (chrony makes it 0755 _chrony): it asks chronyd's command port, and recovers from a chronyd
    restart as fast as root does."""

    @classmethod
    def setUpClass(cls):
        harness.require_root()
        harness.require_program("chronyd")
        super().setUpClass()

    def setUp(self):
        self.chronyd = harness.Chronyd(CHRONY_LINES)
        self.addCleanup(lambda: self.chronyd.cleanup())

    def chronyd_synchronized(self):
        synced, _ = wait_for(lambda: (lambda t: t and t["leap"] == "Normal")(
            self.chronyd.tracking()), timeout=20, step=0.05)
        self.assertIsNotNone(synced, self.chronyd.read_log())

    def test_recovers_within_2_s_of_a_restarted_chronyd(self):
        daemon = harness.Daemon(config=config(self.chronyd, "restart_grace = 0\n",
                                              'user = "_cloudtime"\n'))
        self.addCleanup(daemon.cleanup)
        host, port = daemon.host_port()
        r, _ = wait_for(lambda: reply_if(host, port, unsynchronized=False), timeout=20)
        self.assertIsNotNone(r, daemon.read_log())
        status = harness.proc_status(daemon.proc.pid)
        self.assertEqual(int(status["CapEff"], 16), 0)
        self.assertEqual(int(status["Uid"].split()[0]), pwd.getpwnam("_cloudtime").pw_uid)
        self.assertIn(f"asking chronyd on its command port {self.chronyd.command_address}",
                      daemon.read_log())
        for _ in range(2):
            self.chronyd.stop()
            unsynced, _ = wait_for(lambda: reply_if(host, port, unsynchronized=True), timeout=5)
            self.assertIsNotNone(unsynced, daemon.read_log())
            self.chronyd = harness.Chronyd(CHRONY_LINES, workdir=self.chronyd.dir)
            self.chronyd_synchronized()
            back, took = wait_for(lambda: reply_if(host, port, unsynchronized=False), timeout=10)
            self.assertIsNotNone(back, "never recovered:\n" + daemon.read_log())
            self.assertLessEqual(took, 2.0, daemon.read_log())
        self.assertNotIn("Permission denied", daemon.read_log())
        # Stopped, as its user, it leaves no socket behind (status, chrony client).
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual([f for f in os.listdir(daemon.dir) if f.endswith(".sock")], [])

    def test_as_root_it_asks_the_socket(self):
        daemon = harness.Daemon(config=config(self.chronyd, server='user = ""\n'))
        self.addCleanup(daemon.cleanup)
        host, port = daemon.host_port()
        r, _ = wait_for(lambda: reply_if(host, port, unsynchronized=False), timeout=20)
        self.assertIsNotNone(r, daemon.read_log())
        self.assertIn(f"chrony (tracking through {self.chronyd.socket})", daemon.read_log())
        # Its own socket file (where chronyd answers) is in its runtime directory, not chrony's.
        self.assertEqual([f for f in os.listdir(self.chronyd.dir) if f.startswith("cloudtime")],
                         [])
        self.assertTrue([f for f in os.listdir(daemon.dir) if f.startswith("cloudtime.")])
        daemon.stop()
        self.assertEqual([f for f in os.listdir(daemon.dir) if f.endswith(".sock")], [])

    def test_check_config_warns_when_the_user_cannot_reach_chronyd(self):
        path = os.path.join(self.chronyd.dir, "cloudtimed.toml")
        with open(path, "w") as f:
            f.write(f'[server]\nuser = "_cloudtime"\n[clock]\nsource = "chrony"\n'
                    f'chrony_socket = "{self.chronyd.socket}"\nchrony_command_address = ""\n')
        _, _ = wait_for(lambda: os.path.exists(self.chronyd.socket), timeout=10)
        p = subprocess.run([harness.CLOUDTIMED, "--check-config", "--config", path],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Stopped at chrony's directory (0750 _chrony) or its socket (0755 _chrony).
        self.assertRegex(p.stderr, r"warning: server.user: user '_cloudtime' may not (enter "
                         + re.escape(self.chronyd.dir) + r" \(0750 _chrony:_chrony\)|write to "
                         + re.escape(self.chronyd.socket) + r" \(0755 _chrony:_chrony\))")
        self.assertIn("clock.chrony_command_address", p.stderr)
        # With the command port, nothing to warn about.
        with open(path, "w") as f:
            f.write(f'[server]\nuser = "_cloudtime"\n[clock]\nsource = "chrony"\n'
                    f'{self.chronyd.clock_config()}')
        p = subprocess.run([harness.CLOUDTIMED, "--check-config", "--config", path],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual((p.returncode, p.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main()
