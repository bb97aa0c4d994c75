# SPDX-License-Identifier: Apache-2.0
"""DHCP option 42 as `cloudtime vendordata dhcp --backend ovs` renders it, handed out by a
real dnsmasq (the ML2/OVS DHCP agent's server) in one test namespace to a real DHCP client
(ISC dhclient, as in Debian images) in another. Link-local addresses only; both namespaces are
removed afterwards, also when the test fails."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from test_tenant_networks import ip


class DhcpOption42(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_root()
        harness.require_program("dnsmasq")
        harness.require_program("dhclient")
        super().setUpClass()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudtime-dhcp-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, cmd, log_name):
        log = open(self.path(log_name), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        return proc

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def test_dnsmasq_hands_the_ntp_servers_to_a_dhcp_client(self):
        config = self.path("cloudtimed.toml")
        with open(config, "w") as f:
            f.write('[vendordata]\nservers = ["169.254.169.254", "169.254.169.123", '
                    '"ntp.example.net"]\n')
        p = subprocess.run([harness.CLOUDTIME, "vendordata", "-c", config, "dhcp", "--backend",
                            "ovs"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("dhcp-option=option:ntp-server,169.254.169.254,169.254.169.123\n",
                      p.stdout)
        self.assertIn("ntp.example.net left out", p.stderr)
        with open(self.path("dnsmasq-ntp.conf"), "w") as f:
            f.write(p.stdout)

        with harness.network_namespace("ct-dhcp-srv") as server, \
                harness.network_namespace("ct-dhcp-vm") as vm:
            suffix = server[-8:]
            server_if, vm_if = f"cts{suffix}", f"ctv{suffix}"
            ip("link", "add", "name", server_if, "netns", server, "type", "veth", "peer", "name",
               vm_if, "netns", vm)
            ip("-n", server, "addr", "add", "169.254.50.1/24", "dev", server_if)
            ip("-n", server, "link", "set", server_if, "up")
            ip("-n", vm, "link", "set", vm_if, "up")
            # The operator's rendered file, as dnsmasq_config_file adds it to the agent's.
            self.start(["ip", "netns", "exec", server, "dnsmasq", "--no-daemon", "--port=0",
                        f"--conf-file={self.path('dnsmasq-ntp.conf')}",
                        f"--interface={server_if}", "--bind-interfaces",
                        "--dhcp-range=169.254.50.100,169.254.50.150,255.255.255.0,1h",
                        f"--dhcp-leasefile={self.path('dnsmasq.leases')}",
                        f"--pid-file={self.path('dnsmasq.pid')}", "--user=nobody",
                        "--group=nogroup", "--log-dhcp"], "dnsmasq.log")
            # dhclient as images run it (Debian's dhclient.conf requests ntp-servers), with a
            # script that only records what it got: nothing of this machine is configured.
            with open(self.path("dhclient.conf"), "w") as f:
                f.write("request subnet-mask, routers, ntp-servers;\n")
            with open(self.path("record.sh"), "w") as f:
                f.write(f"#!/bin/sh\nenv | grep -E '^(reason|new_)' >> {self.path('events')}\n")
            os.chmod(self.path("record.sh"), 0o755)
            self.start(["ip", "netns", "exec", vm, "dhclient", "-d", "-1", "-v",
                        "-cf", self.path("dhclient.conf"), "-lf", self.path("dhclient.leases"),
                        "-pf", self.path("dhclient.pid"), "-sf", self.path("record.sh"), vm_if],
                       "dhclient.log")
            # dhclient runs the script, then writes the lease file: both are waited for.
            deadline = time.monotonic() + 30
            events = leases = ""
            while time.monotonic() < deadline:
                events = self.read("events") if os.path.exists(self.path("events")) else ""
                leases = (self.read("dhclient.leases")
                          if os.path.exists(self.path("dhclient.leases")) else "")
                if "reason=BOUND" in events and "}" in leases:
                    break
                time.sleep(0.1)
            logs = events + self.read("dnsmasq.log") + self.read("dhclient.log")
            self.assertIn("reason=BOUND", events, logs)
            self.assertIn("new_ntp_servers=169.254.169.254 169.254.169.123\n", events, logs)
            # The lease file, as `cloudtime check` will read it inside a VM.
            self.assertIn("option ntp-servers 169.254.169.254,169.254.169.123;", leases, logs)


if __name__ == "__main__":
    unittest.main()
