# SPDX-License-Identifier: Apache-2.0
"""The Debian packages built once per test process from this checkout (dpkg-buildpackage -b),
for every test module that needs them (test_package, test_ansible_role), and what tests that
install them into booted test images share: the .debs an image lacks, fetched from the
mirror, and the guest's end of a shell over virtio serial."""

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE_CACHE = os.environ.get("CLOUDTIME_IMAGE_CACHE", "/var/cache/cloudtime-test-images")


def run(*cmd, cwd=None, timeout=120, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


BUILD = {}  # made once by setUpModule: work, log, built, debs


def setUpModule():
    """Every module that imports it runs it; the packages are built once."""
    if BUILD:
        return
    for program in ("dpkg-buildpackage", "lintian", "go-md2man", "systemd-analyze"):
        if shutil.which(program) is None:
            raise unittest.SkipTest(f"{program} is not installed (scripts/bootstrap.sh)")
    work = tempfile.mkdtemp(prefix="cloudtime-package-")
    # The files of this checkout (tracked or new, as they are now), without build trees.
    source = os.path.join(work, "cloudtime")
    files = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                cwd=REPO).stdout.split("\0")
    files = [f for f in files if f and os.path.exists(os.path.join(REPO, f))]
    if not files:  # not a git checkout: everything but build trees
        files = [f for f in os.listdir(REPO) if not f.startswith(("build", "."))]
    for f in files:
        target = os.path.join(source, f)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        src = os.path.join(REPO, f)
        (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, target)
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    # The suite's release tree, where scripts/test.sh configured it as a package build, is
    # packaged as it is (debian/rules: CLOUDTIME_BUILD_TREE); the --full tier, and a tree
    # configured otherwise, build the package from scratch.
    env = dict(os.environ)
    env.pop("CLOUDTIME_BUILD_TREE", None)
    tree = os.path.dirname(os.path.abspath(harness.BIN))
    if not harness.FULL and package_tree(tree):
        env["CLOUDTIME_BUILD_TREE"] = tree
    build = run("dpkg-buildpackage", "-b", "-uc", "-us", cwd=source, env=env, timeout=1500)
    how = f"packaged {tree}" if "CLOUDTIME_BUILD_TREE" in env else "built from scratch"
    print(f"\npackages: dpkg-buildpackage {how}: {'ok' if build.returncode == 0 else 'failed'}",
          flush=True)
    BUILD.update(work=work, log=build.stdout + build.stderr, built=build.returncode == 0,
                 debs={re.sub(r"_.*", "", f): os.path.join(work, f)
                       for f in os.listdir(work) if f.endswith(".deb")})


def package_tree(tree):
    """Whether the build tree `tree` is configured as a package build (scripts/test.sh)."""
    try:
        with open(os.path.join(tree, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return False
    return ("CMAKE_INSTALL_PREFIX:PATH=/usr\n" in cache and
            re.search(r"^CMAKE_CXX_FLAGS:STRING=.*-fstack-protector-strong", cache, re.M)
            is not None)


class GuestShell:
    """The test's side of the guest's shell (QEMU's unix socket for the virtio port)."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise AssertionError(f"QEMU made no {path}")
            time.sleep(0.1)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""
        self.read_until(b"@@CT-AGENT-READY@@\n", timeout)

    def read_until(self, marker, timeout):
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the guest did not answer within {timeout} s: "
                                     f"{self.buffer[-2000:]!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the guest's shell closed")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def run(self, command, timeout=120):
        """(exit status, output) of one shell command line in the guest."""
        self.sock.sendall(command.encode() + b"\n")
        out = self.read_until(b"@@CT-RC ", timeout)
        rc = self.read_until(b"@@\n", 10)
        return int(rc), out.decode(errors="replace").rstrip("\n")

    def ok(self, test, command, timeout=120):
        rc, out = self.run(command, timeout)
        if rc != 0:
            journal = self.run("journalctl -u cloudtimed --no-pager -o cat | tail -40")[1]
            test.fail(f"{command}: exit {rc}\n{out}\njournal:\n{journal}")
        return out


def require_built_packages_and_qemu(*programs):
    """What a test that boots the test image and installs the packages needs (skipped without
    root or a program; failed when the packages did not build)."""
    harness.require_root()
    for program in ("qemu-system-x86_64", "qemu-img", "xorriso", *programs):
        harness.require_program(program)
    if not BUILD.get("built"):
        raise AssertionError("the packages did not build:\n" + BUILD.get("log", "")[-4000:])


def guest_command(netns, directory, second_cd, tap, mac):
    """QEMU (TCG, 1 GiB) in `netns` booting DIRECTORY/overlay.qcow2 with the config drive
    DIRECTORY/config-2.iso and `second_cd`, its console in DIRECTORY/console.log, one
    virtio NIC on `tap`."""
    return ["ip", "netns", "exec", netns, "qemu-system-x86_64", "-accel", "tcg",
            "-m", "1024", "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", f"file:{directory}/console.log",
            "-drive", f"file={directory}/overlay.qcow2,if=virtio",
            "-drive", f"file={directory}/config-2.iso,media=cdrom,readonly=on,if=ide,index=1",
            "-drive", f"file={second_cd},media=cdrom,readonly=on,if=ide,index=2",
            "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=n0,mac={mac}"]


def missing_debs(names, status, cache=os.path.join(IMAGE_CACHE, "runtime-debs")):
    """The .debs that installing `names` (package names or .deb files) into a Debian root
    takes beyond what it has, at the versions apt picks: apt-get resolves them against the
    root's dpkg `status` file (a test image's is written beside it by build_image.sh), so the
    set is exactly what apt-get install would unpack there. Downloaded from the mirror into
    `cache` (kept between runs); .deb files given in `names` are not in the result."""
    sim = run("apt-get", "-s", "-o", f"Dir::State::status={status}",
              "-o", "APT::Install-Recommends=false", "install", *names, timeout=300)
    if sim.returncode != 0:
        raise AssertionError(f"apt-get -s install {' '.join(names)} against {status}:\n"
                             + sim.stdout[-3000:] + sim.stderr)
    wanted = [f"{name}={version}" for name, version in
              re.findall(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) ", sim.stdout, re.M)]
    local = {run("dpkg-deb", "-f", n, "Package").stdout.strip() for n in names if n.endswith(".deb")}
    wanted = [w for w in wanted if w.split("=")[0] not in local]
    if not wanted:
        return []
    uris = run("apt-get", "download", "--print-uris", *wanted, timeout=300)
    if uris.returncode != 0:
        raise AssertionError("apt-get download --print-uris:\n" + uris.stderr)
    files = re.findall(r"^'\S+' (\S+) ", uris.stdout, re.M)
    os.makedirs(cache, exist_ok=True)
    by_name = {w.split("=")[0]: w for w in wanted}
    fetch = [by_name[f.split("_")[0]] for f in files if not os.path.exists(os.path.join(cache, f))]
    if fetch:
        p = run("apt-get", "download", *fetch, cwd=cache, timeout=600)
        if p.returncode != 0:
            raise AssertionError("apt-get download " + " ".join(fetch) + ":\n" + p.stderr)
    return [os.path.join(cache, f) for f in files]


def runtime_debs(image_path):
    """The .debs cloudtimed needs that the test image lacks."""
    return missing_debs([BUILD["debs"]["cloudtimed"]], image_path + ".dpkg-status")
