# SPDX-License-Identifier: Apache-2.0
"""The real Nova against cloudtimed's vendordata endpoint: Nova's own DynamicJSON provider
(Debian 12's python3-nova, nova/api/metadata/vendordata_dynamic.py), configured from a
nova.conf as an operator writes it, asks the endpoint for instances the way the metadata API
and nova-compute's config drive builder do. Whatever Nova sends (its headers, body, timeouts,
TLS verification) is what the endpoint answers here: the answer Nova stores under
`cloud-init` is what `cloudtime vendordata render` renders for the same instance, an opted-out
instance gets null, HTTPS works with `vendordata_dynamic_ssl_certfile` and fails closed
without it, and a refused client leaves Nova with `{}` under the target (what Nova stores on
any error; cloud-init takes no vendordata from a dict), never an error page."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

# Runs Nova's provider for one instance in its own process (Nova's config is global).
NOVA = """
import json, sys, types
import nova.conf
CONF = nova.conf.CONF
CONF(["--config-file", sys.argv[1]], project="nova", default_config_files=[])
from nova.api.metadata import vendordata_dynamic
facts = json.loads(sys.argv[2])
instance = types.SimpleNamespace(system_metadata={}, user_data=None, **facts)
print(json.dumps(vendordata_dynamic.DynamicVendorData(instance).get()))
"""

INSTANCE = {"project_id": "039d104b7a5c4631b4ba6524d0b9e981",
            "uuid": "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5",
            "image_ref": "d1e3b5ab-6b7a-4f33-9d5c-2f0e7c3f8a10",
            "hostname": "vm-1", "metadata": {}}


class NovaDynamicJson(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_system_python_module("nova.api.metadata.vendordata_dynamic",
                                             "python3-nova")
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-nova-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def daemon(self, extra=""):
        port = harness.free_tcp_port()
        config = (harness.LOCAL_CONFIG + '[vendordata]\nenabled = true\n'
                  f'listen = "127.0.0.1:{port}"\n{extra}'
                  '[[vendordata.rules]]\nimage_ids = ["d1e3b5ab-6b7a-4f33-9d5c-2f0e7c3f8a10"]\n'
                  'ptp_kvm = false\n')
        daemon = harness.Daemon(config=config, listen=("127.0.0.1:0",))
        self.addCleanup(daemon.cleanup)
        daemon.vendordata_status(until=lambda v: v.get("pid"))
        return daemon, port

    def nova(self, url, instance=INSTANCE, api=""):
        """What Nova's DynamicJSON provider returns for `instance` (and its log)."""
        conf = os.path.join(self.dir, "nova.conf")
        with open(conf, "w") as f:
            f.write("[api]\nvendordata_providers = StaticJSON,DynamicJSON\n"
                    f"vendordata_dynamic_targets = cloud-init@{url}\n{api}")
        p = subprocess.run(["/usr/bin/python3", "-c", NOVA, conf, json.dumps(instance)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout), p.stderr

    def render(self, daemon, instance=INSTANCE):
        args = ["--project-id", instance["project_id"], "--image-id", instance["image_ref"]]
        for key, value in instance["metadata"].items():
            args += ["--metadata", f"{key}={value}"]
        p = subprocess.run([harness.CLOUDTIME, "vendordata", "-c", daemon.config_path, "render",
                            *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_nova_stores_what_cloudtime_renders_for_the_instance(self):
        daemon, port = self.daemon()
        got, _ = self.nova(f"http://127.0.0.1:{port}/")
        self.assertEqual(list(got), ["cloud-init"])
        self.assertEqual(got["cloud-init"], self.render(daemon))
        # The image rule matched what Nova sent as the image: no PTP clock for it.
        self.assertIn("CLOUDTIME_PTP_KVM=no", json.dumps(got))
        # The endpoint logged the request as Nova made it.
        log = daemon.read_log()
        self.assertIn(f"instance {INSTANCE['uuid']}, project {INSTANCE['project_id']}, "
                      f"image {INSTANCE['image_ref']}", log)
        # Another image: the policy's default.
        other = dict(INSTANCE, image_ref="another-image")
        got, _ = self.nova(f"http://127.0.0.1:{port}/", other)
        self.assertEqual(got["cloud-init"], self.render(daemon, other))
        self.assertIn("CLOUDTIME_PTP_KVM=yes", json.dumps(got))

    def test_an_opted_out_instance_gets_null(self):
        daemon, port = self.daemon()
        opted_out = dict(INSTANCE, metadata={"cloudtime_ntp": "off"})
        got, _ = self.nova(f"http://127.0.0.1:{port}/", opted_out)
        self.assertEqual(got, {"cloud-init": None})

    def test_https_with_the_ca_nova_is_given_and_not_without(self):
        cert, key = harness.self_signed_certificate(self.dir)
        daemon, port = self.daemon(f'tls_certificate = "{cert}"\ntls_key = "{key}"\n')
        url = f"https://127.0.0.1:{port}/"
        got, _ = self.nova(url, api=f"vendordata_dynamic_ssl_certfile = {cert}\n")
        self.assertEqual(got["cloud-init"], self.render(daemon))
        # Without the CA, Nova does not trust the endpoint: it stores {} (no vendordata).
        got, log = self.nova(url)
        self.assertEqual(got, {"cloud-init": {}})
        self.assertIn("Error from dynamic vendordata service", log)

    def test_a_refused_metadata_host_gets_nothing(self):
        _, port = self.daemon('allowed_clients = ["192.0.2.0/24"]\n')
        got, log = self.nova(f"http://127.0.0.1:{port}/")
        self.assertEqual(got, {"cloud-init": {}})
        self.assertIn("403", log)


if __name__ == "__main__":
    unittest.main()
