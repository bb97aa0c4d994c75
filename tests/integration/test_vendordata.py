# SPDX-License-Identifier: Apache-2.0
"""Vendordata for unmodified images, proven with the real consumers: cloudtimed's endpoint
answers Nova's DynamicJSON request; cloud-init's own OpenStack code (Debian's cloud-init,
imported here: ctest runs this file with Debian's /usr/bin/python3) reads what we rendered from
a metadata service and from a config drive (tree and ISO image) and gets exactly that
vendordata; `cloud-init schema` accepts every cloud-config we render; bad requests get their
status and the endpoint keeps serving. Everything on 127.0.0.1."""

import contextlib
import functools
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness

try:
    from cloudinit import helpers as ci_helpers
    from cloudinit import sources as ci_sources
    from cloudinit import user_data as ci_user_data
    from cloudinit.sources.helpers import openstack as ci_openstack
except ImportError:
    ci_openstack = None

# As nova/api/metadata/vendordata_dynamic.py sends it.
NOVA_BODY = {
    "project-id": "039d104b7a5c4631b4ba6524d0b9e981",
    "instance-id": "7a1fd5b8-1a11-4b0c-a7e5-b7f0dc5df6d5",
    "image-id": "d1e3b5ab-6b7a-4f33-9d5c-2f0e7c3f8a10",
    "user-data": None,
    "hostname": "vm-1",
    "metadata": {},
    "boot-roles": "member,reader",
}
NOVA_HEADERS = {"Content-Type": "application/json", "User-Agent": "openstack-nova-vendordata"}

# A user-data with list keys of its own: cloud-init lets them replace the vendordata's.
USER_DATA = ("#cloud-config\nruncmd:\n  - [echo, tenant]\nwrite_files:\n"
             "  - path: /etc/tenant.conf\n    content: mine\n")

POLICIES = {
    # name: ([vendordata] lines, instance metadata)
    "drop-in": ("", {}),
    "drop-in-no-ptp": ("ptp_kvm = false\n", {}),
    "drop-in-install": ("install_client = true\n", {}),
    "cloud-init-ntp": ('strategy = "cloud-init-ntp"\nptp_kvm = false\n', {}),
    "cloud-init-ntp-ptp": ('strategy = "cloud-init-ntp"\n', {}),
    "names": ('servers = ["169.254.169.254", "ntp.example.net", "fe80::a9fe:a9fe"]\n', {}),
    "ptp-off-by-metadata": ("", {"cloudtime_ptp": "off"}),
}


def cloudtime(*args, check=True):
    p = subprocess.run([harness.CLOUDTIME, *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"cloudtime {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def write_config(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def rendered(config_path, metadata=()):
    """What `cloudtime vendordata render` says the instance gets (the JSON value)."""
    args = ["vendordata", "-c", config_path, "render"]
    for key, value in dict(metadata).items():
        args += ["--metadata", f"{key}={value}"]
    return json.loads(cloudtime(*args).stdout)


def post(port, body, method="POST", path="/", headers=None, scheme="http", context=None):
    if scheme == "https":
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # Nova's read timeout
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or NOVA_HEADERS)
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        conn.close()


@contextlib.contextmanager
def metadata_service(files):
    """Nova's metadata API, as far as cloud-init reads it: files under openstack/latest/."""
    root = tempfile.mkdtemp(prefix="cloudtime-metadata-")
    for path, content in files.items():
        full = os.path.join(root, "openstack", "latest", path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content)
    handler = functools.partial(QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def cloud_init_parts(vendordata_raw):
    """The parts cloud-init's user-data processor makes of a vendordata: (type, text)."""
    paths = ci_helpers.Paths({"cloud_dir": tempfile.mkdtemp(prefix="cloudtime-ci-")})
    try:
        message = ci_user_data.UserDataProcessor(paths).process(vendordata_raw)
        return [(part.get_content_type(), part.get_payload(decode=True).decode())
                for part in message.walk() if not part.is_multipart()]
    finally:
        shutil.rmtree(paths.cloud_dir, ignore_errors=True)


class Vendordata(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        if ci_openstack is None:
            print("SKIP: Debian's cloud-init is not importable (run scripts/bootstrap.sh, and "
                  "this test with /usr/bin/python3)")
            raise SystemExit(harness.SKIP)
        harness.require_program("cloud-init")
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-vendordata-")
        cls.port = harness.free_tcp_port()
        cls.config = (harness.LOCAL_CONFIG + "[vendordata]\nenabled = true\n"
                      f'listen = "127.0.0.1:{cls.port}"\nmax_body = 4096\n'
                      "[[vendordata.rules]]\nproject_ids = [\"opted-out-project\"]\n"
                      "enabled = false\n")
        cls.config_path = write_config(cls.dir, "cloudtimed.toml", cls.config)
        cls.daemon = harness.Daemon(config=cls.config)
        deadline = time.monotonic() + 5
        while "vendordata for Nova" not in cls.daemon.read_log():
            if time.monotonic() > deadline:
                raise AssertionError("the endpoint did not start:\n" + cls.daemon.read_log())
            time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def test_nova_request_gets_the_vendordata_cloud_init_reads_from_the_metadata_service(self):
        status, text, headers = post(self.port, NOVA_BODY)
        self.assertEqual(status, 200, text)
        self.assertEqual(headers["Content-Type"], "application/json")
        answer = json.loads(text)
        self.assertIsInstance(answer, str)  # cloud-init takes a string or a list, never a dict
        self.assertEqual(answer, rendered(self.config_path))
        # Nova stores the answer under the target's name in vendor_data2.json.
        files = {"meta_data.json": json.dumps({"uuid": NOVA_BODY["instance-id"],
                                               "hostname": "vm-1"}),
                 "vendor_data2.json": json.dumps({"cloud-init": answer}),
                 "user_data": USER_DATA}
        with metadata_service(files) as url:
            result = ci_openstack.MetadataReader(url, retries=0).read_v2()
        vendordata = ci_sources.convert_vendordata(result["vendordata2"])
        self.assertEqual(vendordata, answer)
        # The shell part comes through cloud-init's processing whole, beside the tenant's own
        # runcmd and write_files (which would replace a vendor cloud-config's lists).
        self.assertIn(("text/x-shellscript", answer), cloud_init_parts(vendordata))

    def test_rules_and_instance_metadata(self):
        opted_out = dict(NOVA_BODY, **{"project-id": "opted-out-project"})
        status, text, _ = post(self.port, opted_out)
        self.assertEqual((status, json.loads(text)), (200, None))
        self.assertIsNone(ci_sources.convert_vendordata({"cloud-init": None}))
        for metadata, expected_ptp in (({"cloudtime_ptp": "off"}, "no"), ({}, "yes")):
            status, text, _ = post(self.port, dict(NOVA_BODY, metadata=metadata))
            self.assertEqual(status, 200)
            self.assertIn(f"\nCLOUDTIME_PTP_KVM={expected_ptp}\n", json.loads(text))
        status, text, _ = post(self.port, dict(NOVA_BODY, metadata={"cloudtime_ntp": "off"}))
        self.assertIsNone(json.loads(text))

    def test_bad_requests_get_their_status_and_the_endpoint_keeps_serving(self):
        cases = [
            ("malformed JSON", dict(body=b'{"project-id": '), 400, "not JSON"),
            ("not an object", dict(body=b"[1, 2]"), 400, "must be a JSON object"),
            ("wrong type", dict(body=json.dumps(dict(NOVA_BODY, metadata="x")).encode()), 400,
             "metadata must be an object"),
            ("too large", dict(body=json.dumps(dict(NOVA_BODY, hostname="x" * 5000)).encode()),
             413, "too large"),
            ("GET", dict(body=None, method="GET"), 405, "only POST"),
            ("PUT", dict(body=b"{}", method="PUT"), 405, "only POST"),
            ("DELETE", dict(body=None, method="DELETE"), 405, "only POST"),
            ("unknown path", dict(body=b"{}", path="/other"), 404, "no such path"),
        ]
        for name, request, expected, why in cases:
            with self.subTest(name):
                status, text, headers = post(self.port, **request)
                self.assertEqual(status, expected, text)
                self.assertIn(why, json.loads(text)["error"])
                if expected == 405:
                    self.assertEqual(headers["Allow"], "POST")
        # Garbage, a half request, a connection closed at once: nothing kills it.
        for raw in (b"\x00\xff garbage\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{",
                    b""):
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(raw)
        self.assertIsNone(self.daemon.proc.poll())
        status, text, _ = post(self.port, NOVA_BODY)
        self.assertEqual(status, 200)
        # Counted in the daemon's status (the endpoint's process reports within 100 ms).
        counts = self.daemon.vendordata_status(lambda c: c["refused"] >= 3)
        self.assertEqual(counts["url"], f"http://127.0.0.1:{self.port}/")
        self.assertGreaterEqual(counts["refused"], 3)  # the three 400s above
        self.assertGreaterEqual(counts["answered"], 1)

    def test_every_rendered_cloud_config_is_valid_and_survives_cloud_init(self):
        for name, (lines, metadata) in POLICIES.items():
            with self.subTest(name):
                path = write_config(self.dir, f"{name}.toml", "[vendordata]\n" + lines)
                value = rendered(path, metadata)
                parts = value if isinstance(value, list) else [value]
                types = [t for t, _ in cloud_init_parts(value)]
                self.assertEqual(len(types), len(parts))
                for part in parts:
                    if part.startswith("#cloud-config"):
                        self.assertIn("text/cloud-config", types)
                        part_file = write_config(self.dir, f"{name}.yaml", part)
                        p = subprocess.run(["cloud-init", "schema", "-c", part_file],
                                           capture_output=True, text=True, timeout=60)
                        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                        self.assertIn("Valid cloud-config", p.stdout)
                        # A vendor cloud-config holds no list the tenant's would replace.
                        for key in ("runcmd", "bootcmd", "write_files"):
                            self.assertNotIn(f"\n{key}:", part)
                    else:
                        self.assertTrue(part.startswith("#!/bin/sh\n"), part[:40])
                        self.assertIn("text/x-shellscript", types)
                        p = subprocess.run(["sh", "-n"], input=part, text=True,
                                           capture_output=True)
                        self.assertEqual(p.returncode, 0, p.stderr)

    def test_static_json_and_config_drive_read_by_cloud_init(self):
        static = json.loads(cloudtime("vendordata", "-c", self.config_path, "render",
                                      "--static").stdout)
        expected = rendered(self.config_path)
        self.assertEqual(static, {"cloud-init": expected})
        self.assertEqual(ci_sources.convert_vendordata(static), expected)
        drive = os.path.join(self.dir, "drive")
        iso = os.path.join(self.dir, "config-2.iso")
        user_data = write_config(self.dir, "user-data", USER_DATA)
        cloudtime("vendordata", "-c", self.config_path, "config-drive", drive, "--iso", iso,
                  "--instance-id", "3c6e1a1e-8d5e-4b1e-9a0e-6f3a2c1d0b9e", "--hostname",
                  "vm-2", "--user-data", user_data, "--address", "169.254.100.10/16", "--mac",
                  "52:54:00:12:34:56")
        extracted = os.path.join(self.dir, "extracted")
        harness.require_program("xorriso")
        p = subprocess.run(["xorriso", "-indev", iso, "-pvd_info"], capture_output=True,
                           text=True, timeout=60)
        self.assertRegex(p.stdout, r"Volume Id\s*:\s*config-2\n")
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", extracted],
                       check=True, capture_output=True, timeout=60)
        for tree in (drive, extracted):
            with self.subTest(tree):
                result = ci_openstack.ConfigDriveReader(tree).read_v2()
                self.assertEqual(result["metadata"]["instance-id"],
                                 "3c6e1a1e-8d5e-4b1e-9a0e-6f3a2c1d0b9e")
                self.assertEqual(result["metadata"]["local-hostname"], "vm-2")
                self.assertEqual(ci_sources.convert_vendordata(result["vendordata"]), expected)
                self.assertEqual(ci_sources.convert_vendordata(result["vendordata2"]), expected)
                self.assertEqual(result["userdata"], USER_DATA.encode())
                net = result["networkdata"]
                self.assertEqual(net["links"][0]["ethernet_mac_address"], "52:54:00:12:34:56")
                self.assertEqual(net["networks"][0]["ip_address"], "169.254.100.10")

    def test_config_drive_options_that_do_not_go_together_are_usage_errors(self):
        drive = tempfile.mkdtemp(prefix="cloudtime-drive-")
        self.addCleanup(shutil.rmtree, drive, True)
        for args, words in ((["--address", "169.254.100.10/16"], "--address needs --mac"),
                            (["--mac", "zz"], "--mac and --gateway need --address"),
                            (["--address", "169.254.100.10/16", "--mac", "zz"], "--mac: "),
                            (["--dhcp-backend-typo"], "")):
            p = subprocess.run([harness.CLOUDTIME, "vendordata", "-c", self.config_path,
                                "config-drive", drive, *args], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn(words, p.stderr)
        p = subprocess.run([harness.CLOUDTIME, "vendordata", "dhcp", "--backend", "dnsmasq"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--backend must be ovn (ML2/OVN) or ovs", p.stderr)

    def test_cli_takes_the_config_before_or_after_the_subcommand(self):
        before = cloudtime("vendordata", "-c", self.config_path, "render", "--static").stdout
        after = cloudtime("vendordata", "render", "--static", "-c", self.config_path).stdout
        self.assertEqual(before, after)
        self.assertEqual(cloudtime("vendordata", "dhcp", "--backend", "ovn", "--config",
                                   self.config_path).stdout,
                         cloudtime("vendordata", "--config", self.config_path, "dhcp",
                                   "--backend", "ovn").stdout)

    def test_static_render_for_an_opted_out_project_warns(self):
        p = cloudtime("vendordata", "render", "-c", self.config_path, "--static",
                      "--project-id", "opted-out-project")
        self.assertEqual(json.loads(p.stdout), {"cloud-init": None})
        self.assertIn("turns time vendordata off for every instance", p.stderr)
        p = cloudtime("vendordata", "render", "-c", self.config_path, "--static")
        self.assertNotIn("warning", p.stderr)


class VendordataEndpointOptions(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-vendordata-tls-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def daemon(self, lines):
        port = harness.free_tcp_port()
        d = harness.Daemon(config=harness.LOCAL_CONFIG + "[vendordata]\nenabled = true\n"
                           f'listen = "127.0.0.1:{port}"\n' + lines)
        self.addCleanup(d.cleanup)
        deadline = time.monotonic() + 5
        while "vendordata for Nova" not in d.read_log():
            self.assertLess(time.monotonic(), deadline, d.read_log())
            time.sleep(0.02)
        return d, port

    def test_clients_outside_the_allow_list_are_refused(self):
        daemon, port = self.daemon('allowed_clients = ["10.0.0.0/8", "fd00::/8"]\n')
        status, text, _ = post(port, NOVA_BODY)
        self.assertEqual(status, 403, text)
        self.assertIn("refused 127.0.0.1", daemon.read_log())
        daemon2, port2 = self.daemon('allowed_clients = ["127.0.0.0/8"]\n')
        self.assertEqual(post(port2, NOVA_BODY)[0], 200)

    def test_tls(self):
        cert, key = harness.self_signed_certificate(self.dir)
        daemon, port = self.daemon(f'tls_certificate = "{cert}"\ntls_key = "{key}"\n')
        self.assertIn(f"https://127.0.0.1:{port}/", daemon.read_log())
        context = ssl.create_default_context(cafile=cert)
        status, text, _ = post(port, NOVA_BODY, scheme="https", context=context)
        self.assertEqual(status, 200, text)
        self.assertIsInstance(json.loads(text), str)
        # Plain HTTP on the TLS port gets nothing usable.
        with self.assertRaises((http.client.HTTPException, OSError)):
            post(port, NOVA_BODY)
        # A key that is not there: cloudtimed says so and does not start.
        p = subprocess.run([harness.CLOUDTIMED, "--config", "/dev/stdin"],
                           input=harness.LOCAL_CONFIG + '[status]\nsocket = ""\n[vendordata]\n'
                           f'enabled = true\nlisten = "127.0.0.1:{harness.free_tcp_port()}"\n'
                           f'tls_certificate = "{cert}"\ntls_key = "{self.dir}/missing.pem"\n',
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("cannot use the certificate", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
