# SPDX-License-Identifier: Apache-2.0
"""cloudtimed's container image (deploy/container/Containerfile) built offline from the
package, as an OSISM or Kolla operator would take it: a Debian 12 root made with debootstrap
(from the test images' package cache) imported into podman, the cloudtimed .deb and the
runtime .debs that root lacks installed by the Containerfile, then run exactly as the operator
guide's container section says (test_container.Podman.serve_as_kolla_runs_it).

Imported by test_package.py, so that the packages are built once."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from debian_build import BUILD, IMAGE_CACHE, REPO, missing_debs, setUpModule  # noqa: F401
from test_container import Podman

ROOT_CACHE = os.path.join(IMAGE_CACHE, "container-root")
ROOT_TAR = os.path.join(ROOT_CACHE, "bookworm-minbase.tar")


def mirror():
    """The first Debian mirror of this machine's apt sources, as build_image.sh picks it."""
    for path in ["/etc/apt/sources.list"] + [os.path.join("/etc/apt/sources.list.d", f)
                                             for f in sorted(os.listdir("/etc/apt/sources.list.d"))]:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        m = (re.search(r"^deb(?:\s+\[[^]]*\])?\s+(https?://\S+)", text, re.M) if
             path.endswith(".list") else re.search(r"^URIs:\s+(https?://\S+)", text, re.M))
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def debian_root():
    """A Debian 12 minbase root as a tar file with its dpkg status beside it: made once with
    debootstrap (its .debs from the test images' cache) and kept with the test images."""
    if os.path.exists(ROOT_TAR) and os.path.exists(ROOT_TAR + ".dpkg-status"):
        return ROOT_TAR
    harness.require_program("debootstrap")
    os.makedirs(ROOT_CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cloudtime-container-root-", dir="/var/tmp")
    try:
        root = os.path.join(work, "root")
        debs = os.path.join(IMAGE_CACHE, "debs", "bookworm")
        os.makedirs(debs, exist_ok=True)
        p = subprocess.run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}",
                            "bookworm", root, mirror()], capture_output=True, text=True,
                           timeout=900)
        assert p.returncode == 0, "debootstrap:\n" + p.stdout[-3000:] + p.stderr[-2000:]
        shutil.copy(os.path.join(root, "var/lib/dpkg/status"), ROOT_TAR + ".dpkg-status.new")
        subprocess.run(["tar", "-C", root, "-cf", ROOT_TAR + ".new", "."], check=True)
        os.replace(ROOT_TAR + ".new", ROOT_TAR)
        os.replace(ROOT_TAR + ".dpkg-status.new", ROOT_TAR + ".dpkg-status")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ROOT_TAR


class ContainerImageFromThePackage(Podman):
    def test_the_image_built_from_the_package_serves_as_the_guide_runs_it(self):
        if not BUILD.get("built"):
            raise AssertionError("the packages did not build:\n" + BUILD.get("log", "")[-4000:])
        tag = f"{os.getpid()}"
        base, image = f"localhost/cloudtime-test-base:{tag}", f"localhost/cloudtime-test:{tag}"
        for name in (image, base):
            self.addCleanup(subprocess.run, self.podman + ["rmi", "-f", name],
                            capture_output=True, env=self.env, timeout=120)
        root = debian_root()
        with open(root, "rb") as tar:
            p = subprocess.run(self.podman + ["import", "-", base], stdin=tar,
                               capture_output=True, text=True, env=self.env, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        # The build context: the package and what it needs that the root lacks, nothing else.
        context = tempfile.mkdtemp(dir=self.dir)
        debs = os.path.join(context, "debs")
        os.makedirs(debs)
        package = BUILD["debs"]["cloudtimed"]
        wanted = ["systemd-standalone-sysusers", "systemd-standalone-tmpfiles", package]
        for deb in missing_debs(wanted, root + ".dpkg-status") + [package]:
            shutil.copy(deb, debs)
        # No cached layers, no intermediate container left, also when the build fails.
        p = subprocess.run(self.podman + ["build", "--layers=false", "--force-rm",
                                          "--network", "none", "--build-arg",
                                          f"BASE={base}", "-f",
                                          os.path.join(REPO, "deploy/container/Containerfile"),
                                          "-t", image, context],
                           capture_output=True, text=True, env=self.env, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout[-4000:] + p.stderr[-2000:])
        version = subprocess.run(self.podman + ["run", "--rm", "--network", "none", image,
                                                "--version"],
                                 capture_output=True, text=True, env=self.env, timeout=120)
        expected = subprocess.run([harness.CLOUDTIMED, "--version"], capture_output=True,
                                  text=True, timeout=30).stdout
        self.assertEqual(version.stdout, expected, version.stderr)
        # As the guide runs it: its CMD is the packaged config's path.
        self.serve_as_kolla_runs_it([image])


if __name__ == "__main__":
    unittest.main()
