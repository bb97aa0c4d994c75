# SPDX-License-Identifier: Apache-2.0
"""cloudtime-vm, the in-VM checker: one static executable that runs with nothing else around
it. Inside an empty root directory (no shared library, no loader, no /etc) it measures a
cloudtimed on loopback and runs a whole check."""

import json
import re
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

VM_BINARY = os.path.join(harness.BIN, "cloudtime-vm")


def program_headers(path):
    """The ELF program header types of `path` (PT_INTERP = 3 names a dynamic loader)."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise AssertionError(f"{path} is not a 64-bit ELF file")
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        types = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            types.append(struct.unpack("<I", f.read(4))[0])
        return types


class VmBinary(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VM_BINARY):
            print("SKIP: cloudtime-vm is built by the release preset only (not with sanitizers)")
            raise SystemExit(harness.SKIP)
        harness.require_root()
        super().setUpClass()

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="cloudtime-vm-root-")
        self.addCleanup(shutil.rmtree, self.root, True)
        shutil.copy(VM_BINARY, os.path.join(self.root, "cloudtime-vm"))

    def in_empty_root(self, *args):
        return subprocess.run(["chroot", self.root, "/cloudtime-vm", *args], capture_output=True,
                              text=True, timeout=60)

    def test_static_and_stripped(self):
        self.assertNotIn(3, program_headers(VM_BINARY), "it names a dynamic loader (PT_INTERP)")
        self.assertLess(os.path.getsize(VM_BINARY), 6 * 1024 * 1024)
        p = subprocess.run(["file", VM_BINARY], capture_output=True, text=True)
        if p.returncode == 0:  # `file` is not needed, only more telling
            self.assertIn("statically linked", p.stdout)
            self.assertIn("stripped", p.stdout)
            self.assertNotIn("not stripped", p.stdout)

    def test_query_and_check_run_in_an_empty_root(self):
        self.assertEqual(os.listdir(self.root), ["cloudtime-vm"])
        daemon = harness.Daemon()
        self.addCleanup(daemon.cleanup)
        p = self.in_empty_root("query", "--json", "-n", "2", daemon.address)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["stratum"], 10)
        # A whole check: nothing delivered here (no metadata, drive, lease or client), and it
        # says so in its report rather than failing to run.
        p = self.in_empty_root("check", "--json", "--no-metadata", "--link-local", daemon.address)
        doc = json.loads(p.stdout)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertTrue(doc["checker"].startswith("cloudtime-vm "))
        verdicts = {c["id"]: c["verdict"] for c in doc["checks"]}
        self.assertEqual(verdicts["time-source-delivered"], "fail")
        self.assertEqual(verdicts["client-synchronized"], "fail")
        self.assertEqual(self.in_empty_root("--version").stdout.strip(),
                         "cloudtime-vm " + doc["checker"].split()[1])

    def test_only_the_vm_side_is_in_it(self):
        p = subprocess.run([VM_BINARY, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        listed = p.stdout.split("Subcommands:", 1)[1]
        names = re.findall(r"^  (\S+)\s", listed, flags=re.M)
        self.assertEqual(names, ["check", "query"])
        p = subprocess.run([VM_BINARY, "host-check"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 64)


if __name__ == "__main__":
    unittest.main()
