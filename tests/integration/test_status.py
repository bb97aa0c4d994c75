# SPDX-License-Identifier: Apache-2.0
"""`cloudtime status` against a running cloudtimed: clock, counters and tenant networks over the
status socket; no daemon, a stale socket file, and a socket another daemon holds."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from test_tenant_networks import OvnLikeTopology, tenant_config


def status(socket, *args):
    p = subprocess.run([harness.CLOUDTIME, "status", "--socket", socket, *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class Status(harness.TestCase):
    def test_reports_clock_counters_and_tenant_networks(self):
        harness.require_root()
        tag = "s" + os.urandom(2).hex()
        topology = OvnLikeTopology(tag)
        self.addCleanup(topology.remove)
        daemon = harness.Daemon(config=tenant_config(tag))
        self.addCleanup(daemon.cleanup)
        daemon.wait_tenant_served(topology.meta, 2)
        rc, _, err = harness.run_query("169.254.169.254", "-n", "3", "-i", "0.05",
                                       netns=topology.vm)
        self.assertEqual(rc, 0, err)
        rc, out, err = status(daemon.status_socket, "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["clock"]["source"], "local")
        self.assertTrue(doc["clock"]["synchronized"])
        self.assertEqual(doc["clock"]["stratum"], 10)
        self.assertEqual(doc["listen"], [daemon.address])
        self.assertGreaterEqual(doc["counters"]["answered"], 3)
        networks = {n["namespace"]: n for n in doc["tenant_networks"]}
        self.assertIn(topology.meta, networks)
        self.assertIn("169.254.169.254:123", networks[topology.meta]["addresses"])
        self.assertEqual(networks[topology.meta]["answered"], 3)
        rc, out, err = status(daemon.status_socket)
        self.assertEqual(rc, 0, err)
        self.assertIn("clock local (synchronized), stratum 10", out)
        self.assertIn(topology.meta, out)
        self.assertRegex(out.splitlines()[0],
                         rf"^cloudtimed \S+ \(pid {daemon.proc.pid}\), up \d+ (s|min \d+ s)$")
        self.assertRegex(out, r"\nreference time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+ s ago\)")
        # The document: a schema version, uptime, the served reference time, no dotted key.
        self.assertEqual(doc["schema"], 1)
        self.assertGreaterEqual(doc["uptime_s"], 0)
        self.assertLess(abs(doc["started_s"] + doc["uptime_s"] - time.time()), 60)
        self.assertLess(abs(doc["clock"]["reference_time_s"] - time.time()), 60)

        def keys(node, path=""):
            if isinstance(node, dict):
                for key, value in node.items():
                    yield path + "/" + key
                    yield from keys(value, path + "/" + key)
            elif isinstance(node, list):
                for item in node:
                    yield from keys(item, path)
        dotted = [k for k in keys(doc) if "." in k.rsplit("/", 1)[-1]]
        self.assertEqual(dotted, [])

    def test_no_daemon_and_stale_socket(self):
        workdir = tempfile.mkdtemp(prefix="cloudtime-status-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", workdir]))
        # A directory its user may write to (as /run/cloudtime is), to remove the socket at stop.
        shutil.chown(workdir, "_cloudtime")
        socket_path = os.path.join(workdir, "status.sock")
        rc, _, err = status(socket_path)
        self.assertEqual(rc, 2)
        self.assertIn("is cloudtimed running", err)
        # A socket file left by a daemon that died is replaced.
        import socket as s
        stale = s.socket(s.AF_UNIX, s.SOCK_STREAM)
        stale.bind(socket_path)
        stale.close()
        config = harness.LOCAL_CONFIG + f'[status]\nsocket = "{socket_path}"\n'
        first = harness.Daemon(config=config)
        self.addCleanup(first.cleanup)
        rc, out, err = status(socket_path, "--json")
        self.assertEqual(rc, 0, err + first.read_log())
        # A second daemon never takes a socket that a live one serves: it refuses to start.
        second = harness.Daemon(config=config, wait_ready=False)
        self.addCleanup(second.cleanup)
        self.assertEqual(second.proc.wait(10), 1, second.read_log())
        self.assertIn(f"is served by pid {first.proc.pid} (cloudtimed)", second.read_log())
        rc, out, _ = status(socket_path, "--json")
        self.assertEqual(json.loads(out)["listen"], [first.address])
        # Stopping removes the socket file.
        self.assertEqual(first.stop(), 0)
        self.assertFalse(os.path.exists(socket_path))


if __name__ == "__main__":
    unittest.main()
