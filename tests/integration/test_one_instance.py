# SPDX-License-Identifier: Apache-2.0
"""One cloudtimed per address: a second one with the same NTP address, vendordata address or
status socket exits 1 naming the running one's PID (with SO_REUSEPORT it used to join the
first one's sockets, and clients got answers from both in turn); the first serves on."""

import os
import shutil
import signal
import socket
import tempfile
import time
import unittest

import harness


class OneInstance(harness.TestCase):
    def start(self, config=harness.LOCAL_CONFIG, **kwargs):
        daemon = harness.Daemon(config=config, **kwargs)
        self.addCleanup(daemon.cleanup)
        return daemon

    def assert_refused(self, second, first, what):
        """`second` exits 1 within 10 s, its log naming `what` and the first one's PID."""
        try:
            second.proc.wait(10)
        except Exception:
            self.fail("the second cloudtimed did not stop:\n" + second.read_log())
        log = second.read_log()
        self.assertEqual(second.proc.returncode, 1, log)
        self.assertIn(what, log)
        self.assertIn(f"pid {first.proc.pid} (cloudtimed)", log)
        self.assertIn("stop that one first", log)
        # The first one is untouched.
        rc, data, err = harness.run_query(first.address, "-n", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(first.status()["listen"]), 1)

    def test_the_same_ntp_address(self):
        port = harness.free_udp_port()
        first = self.start(listen=(f"127.0.0.1:{port}",))
        second = self.start(listen=(f"127.0.0.1:{port}",), wait_ready=False)
        self.assert_refused(second, first, f"udp 127.0.0.1:{port} is already served by")
        # Nor on the wildcard address, which includes it.
        third = self.start(listen=(f"0.0.0.0:{port}",), wait_ready=False)
        self.assert_refused(third, first, f"udp 0.0.0.0:{port} is already served by")

    def test_an_address_held_by_another_program_names_it(self):
        held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(held.close)
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        daemon = self.start(listen=(f"127.0.0.1:{port}",), wait_ready=False)
        daemon.proc.wait(10)
        log = daemon.read_log()
        self.assertEqual(daemon.proc.returncode, 1, log)
        self.assertRegex(log, rf"udp 127.0.0.1:{port} is already in use by pid {os.getpid()} "
                              r"\([^)]+\), not a cloudtimed: stop it first, or serve on another "
                              r"address")
        self.assertNotIn("one cloudtimed per address", log)

    def test_the_same_vendordata_address(self):
        port = harness.free_tcp_port()
        config = harness.LOCAL_CONFIG + f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{port}"\n'
        first = self.start(config)
        first.vendordata_status(until=lambda v: v.get("pid"))
        second = self.start(config, wait_ready=False)
        self.assert_refused(second, first,
                            f"vendordata: tcp 127.0.0.1:{port} is already served by")

    def test_the_same_status_socket(self):
        first = self.start()
        path = first.status_socket
        second = self.start(config=harness.LOCAL_CONFIG + f'[status]\nsocket = "{path}"\n',
                            wait_ready=False)
        self.assert_refused(second, first, f"status socket {path} is served by")
        self.assertTrue(os.path.exists(path))


class AfterKill9(harness.TestCase):
    """What a cloudtimed killed with SIGKILL leaves (its status socket, its socket where
    chronyd answers) is removed by the next start, and nothing else is."""

    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        super().setUpClass()

    def test_socket_files_left_are_removed(self):
        chronyd = harness.Chronyd(["port 0", "local stratum 8"])
        self.addCleanup(chronyd.cleanup)
        workdir = tempfile.mkdtemp(prefix="cloudtime-test-")
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        # As root, it asks chronyd's socket: its own socket file is in the runtime directory.
        config = (f'[server]\nuser = ""\n[clock]\nsource = "chrony"\n{chronyd.clock_config()}')
        dead = harness.Daemon(config=config, workdir=workdir)
        deadline = time.monotonic() + 20
        while not [f for f in os.listdir(workdir) if f.startswith(f"cloudtime.{dead.proc.pid}.")]:
            self.assertLess(time.monotonic(), deadline, dead.read_log())
            time.sleep(0.05)
        left = [f for f in os.listdir(workdir) if f.startswith("cloudtime.")]
        dead.proc.kill()
        dead.proc.wait()
        dead.log.close()
        self.assertTrue(os.path.exists(os.path.join(workdir, "status.sock")))
        # Not ours to remove: another process's name, a live process's socket.
        for other in ("cloudtime.x.sock", f"cloudtime.{os.getpid()}.0.sock", "notes.sock"):
            open(os.path.join(workdir, other), "w").close()
        second = harness.Daemon(config=config, workdir=workdir)
        self.addCleanup(second.cleanup)
        log = second.read_log()
        for name in left:
            self.assertIn(f"removed {workdir}/{name}, left by a cloudtimed that was killed", log)
            self.assertFalse(os.path.exists(os.path.join(workdir, name)))
        for other in ("cloudtime.x.sock", f"cloudtime.{os.getpid()}.0.sock", "notes.sock"):
            self.assertTrue(os.path.exists(os.path.join(workdir, other)), other)
        # The stale status socket was replaced: the new one answers.
        self.assertEqual(len(second.status()["listen"]), 1)


    def test_the_vendordata_process_goes_with_it(self):
        # It drops to another user, which clears a parent-death signal set before: without
        # arming it again, a killed cloudtimed left its HTTP process holding the address, and
        # the next start was refused.
        port = harness.free_tcp_port()
        config = (harness.LOCAL_CONFIG +
                  f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
        for user in ("", "_cloudtime"):  # it becomes nobody, or the server's user
            with self.subTest(user=user):
                text = f'[server]\nuser = "{user}"\n' + config
                dead = harness.Daemon(config=text)
                self.addCleanup(dead.cleanup)
                http = dead.vendordata_status(until=lambda v: v.get("pid"))["pid"]
                self.assertGreater(http, 1)
                self.assertNotEqual(harness.proc_status(http)["Uid"].split()[0], "0")
                dead.proc.kill()
                dead.proc.wait()
                deadline = time.monotonic() + 2
                while os.path.exists(f"/proc/{http}"):
                    if time.monotonic() > deadline:
                        os.kill(http, signal.SIGKILL)
                        self.fail(f"its vendordata process (pid {http}) outlived it")
                    time.sleep(0.02)
                second = harness.Daemon(config=text)
                self.addCleanup(second.cleanup)
                second.vendordata_status(until=lambda v: v.get("pid"))
                self.assertEqual(second.stop(), 0)


if __name__ == "__main__":
    unittest.main()
