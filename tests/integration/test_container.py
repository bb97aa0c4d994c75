# SPDX-License-Identifier: Apache-2.0
"""cloudtimed in a container as Kolla runs neutron_ovn_metadata_agent: podman (Debian 12's),
the host's network, /run/netns shared with the host, CAP_SYS_ADMIN and CAP_NET_ADMIN added,
the config mounted read-only and /run/cloudtime from the host. It serves the host's address,
the ovnmeta-* namespaces that exist when it starts, and those made after it started (they
reach it only through the shared mount); its privileged helper and unprivileged server split
as on a host; `podman stop` stops it cleanly.

The container's root is this host's, as an overlay (`--rootfs /:O`): it runs the binaries
under test, not a built image. On this machine podman needs runc (crun 1.8 refuses hybrid
cgroups), cgroupfs, and rlimits within the sandbox's hard limits (CAP_SYS_RESOURCE is not
held); where podman cannot start any container at all, the test says so and is skipped."""

import os
import resource
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from test_tenant_networks import OvnLikeTopology, tenant_config


class Podman(harness.TestCase):
    """Debian 12's podman set up as this machine needs it; skipped where it cannot run any
    container at all. No tests of its own."""

    @classmethod
    def setUpClass(cls):
        harness.require_root()
        harness.require_program("podman")
        harness.require_program("runc")
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-container-")
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        # (at the sandbox's hard NPROC limit runc's init still fails: a lower one does)
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
        conf = os.path.join(cls.dir, "containers.conf")
        with open(conf, "w") as f:
            f.write(f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", '
                    f'"nproc={nproc}:{nproc}"]\n')
        cls.env = dict(os.environ, CONTAINERS_CONF=conf)
        cls.podman = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
        probe = subprocess.run(cls.podman + ["run", "--rm", "--network", "host", "--rootfs",
                                             "/:O", "true"],
                               capture_output=True, text=True, timeout=120, env=cls.env)
        if probe.returncode != 0:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise unittest.SkipTest("podman cannot run a container here: " + probe.stderr.strip())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def serve_as_kolla_runs_it(self, image):
        """Runs cloudtimed as the operator guide's container section says, with `image` (what
        follows the options of `podman run`): the host's address, a namespace made before and
        one made after the start are served; the serving process is _cloudtime; podman stop
        stops it cleanly."""
        before = OvnLikeTopology("ctr")
        self.addCleanup(before.remove)
        port = harness.free_udp_port()
        work = tempfile.mkdtemp(dir=self.dir)
        etc = os.path.join(work, "etc")
        run = os.path.join(work, "run")
        os.makedirs(etc)
        os.makedirs(run)
        with open(os.path.join(etc, "cloudtimed.toml"), "w") as f:
            # As the package's unit runs it: started as root, serving as _cloudtime.
            f.write(tenant_config("ctr", user="_cloudtime").replace(
                "[server]\n", f'[server]\nlisten = ["127.0.0.1:{port}"]\n'))
        name = f"cloudtimed-test-{os.getpid()}-{os.path.basename(work)}"
        log_path = os.path.join(work, "container.log")
        log = open(log_path, "w")
        container = subprocess.Popen(
            self.podman + ["run", "--rm", "--name", name, "--network", "host",
                           "--cap-add", "SYS_ADMIN,NET_ADMIN",
                           "-v", "/run/netns:/run/netns:shared",
                           "-v", f"{etc}:/etc/cloudtime:ro", "-v", f"{run}:/run/cloudtime",
                           *image],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()

        def stop():
            subprocess.run(self.podman + ["stop", "-t", "10", name], capture_output=True,
                           env=self.env, timeout=60)
            return container.wait(timeout=60)

        self.addCleanup(lambda: container.poll() is not None or stop())

        def logged():
            with open(log_path, errors="replace") as f:
                return f.read()

        def served(namespace, timeout=30):
            deadline = time.monotonic() + timeout
            while True:
                status = harness.read_status(os.path.join(run, "status.sock")) or {}
                if namespace in [t["namespace"] for t in status.get("tenant_networks", [])]:
                    return status
                self.assertIsNone(container.poll(), logged())
                self.assertLess(time.monotonic(), deadline, f"{namespace} not served\n" + logged())
                time.sleep(0.1)

        served(before.meta)
        rc, reply, err = harness.run_query("169.254.169.254", "-t", "2", netns=before.vm)
        self.assertEqual(rc, 0, err + logged())
        self.assertEqual(reply["stratum"], 10)
        rc, _, err = harness.run_query(f"127.0.0.1:{port}", "-t", "2")
        self.assertEqual(rc, 0, err)
        # Made after the container started: it reaches the container through the shared mount.
        after = OvnLikeTopology("ctr")
        self.addCleanup(after.remove)
        served(after.meta)
        rc, _, err = harness.run_query("169.254.169.254", "-t", "2", netns=after.vm)
        self.assertEqual(rc, 0, err + logged())
        # Inside: the serving process is _cloudtime with no capabilities, its helper root.
        pids = subprocess.run(self.podman + ["top", name, "user", "comm"], capture_output=True,
                              text=True, env=self.env).stdout
        self.assertRegex(pids, r"_cloudtime\s+cloudtimed", pids)
        # podman stop: SIGTERM, a clean stop with the counters, the status socket removed.
        self.assertEqual(stop(), 0, logged())
        self.assertIn("counters:", logged())
        self.assertFalse(os.path.exists(os.path.join(run, "status.sock")))
        return logged()


class KollaStyleContainer(Podman):
    def test_serves_the_host_and_namespaces_made_before_and_after_it_started(self):
        bindir = os.path.dirname(harness.CLOUDTIMED)
        self.serve_as_kolla_runs_it(["-v", f"{bindir}:{bindir}:ro", "--rootfs", "/:O",
                                     harness.CLOUDTIMED, "--config",
                                     "/etc/cloudtime/cloudtimed.toml"])


if __name__ == "__main__":
    unittest.main()
