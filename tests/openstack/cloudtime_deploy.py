# SPDX-License-Identifier: Apache-2.0
"""cloudtime deployed on the all-in-one cloud as an operator deploys it: the hypervisor's
chronyd, the project's .debs from an APT source, the project's Ansible role on this host; and
its removal at teardown (the package purged, and only what the deployment made)."""

import glob
import json
import os
import shutil
import subprocess

import configs
from configs import PORTS
from services import Services

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# What the package and the role make outside the state directory.
HOST_PATHS = ("/etc/apt/sources.list.d/cloudtime.list", "/var/log/cloudtime",
              "/var/lib/cloudtime", "/run/cloudtime")


def deploy(cloud, debs, rules=()):
    """The hypervisor's chronyd (it serves what chronyd says; here chronyd's own `local`
    clock: nothing is synchronized on this machine and nothing may touch its clock), then
    the project's .debs from an APT source, configured by the project's Ansible role on
    this host: hypervisor (the host's clock), network (ML2/OVS's qdhcp- and qrouter-
    namespaces) and vendordata (the endpoint nova.conf names)."""
    if cloud.svc is None:
        cloud.svc = Services(cloud.state)
    if subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "cloudtimed"],
                      capture_output=True, text=True).stdout == "installed" and \
            not os.path.exists(os.path.join(cloud.state, "cloudtimed-installed")):
        raise RuntimeError("cloudtimed is installed on this host already: the cloud "
                           "installs its own and removes it at teardown")
    chrony = cloud.paths.dir("chrony")
    os.chmod(chrony, 0o750)
    shutil.chown(chrony, "_chrony", "_chrony")
    cloud.write(os.path.join(chrony, "chrony.conf"), "\n".join([
        "local stratum 3", f"cmdport {PORTS['chrony_command']}",
        "bindcmdaddress 127.0.0.1", f"bindcmdaddress {chrony}/chronyd.sock",
        f"pidfile {chrony}/chronyd.pid", f"driftfile {chrony}/drift", "port 0", ""]),
        0o644)
    # -x: never the host's clock
    cloud.svc.start("chronyd", ["chronyd", "-x", "-d", "-u", "_chrony", "-f",
                               os.path.join(chrony, "chrony.conf")])
    repo = cloud.paths.dir("apt-repo")
    for deb in debs:
        shutil.copy(deb, repo)
    scan = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=repo,
                          capture_output=True, text=True, check=True)
    cloud.write(os.path.join(repo, "Packages"), scan.stdout, 0o644)
    os.chmod(cloud.state, 0o755)  # apt's sandbox user reads the repository
    cloud.record("cloudtime-paths-before", [p for p in HOST_PATHS if os.path.exists(p)])
    with open(os.path.join(cloud.state, "cloudtimed-installed"), "w"):
        pass
    inventory = {"cloudtime": {"hosts": {configs.HOST: {
        "ansible_connection": "local",
        "ansible_python_interpreter": "/usr/bin/python3",
        "cloudtime_apt_repository": f"deb [trusted=yes] file:{repo} ./",
        "cloudtime_node_roles": ["hypervisor", "network", "vendordata"],
        "cloudtime_neutron_backend": "ovs",
        "cloudtime_listen": ["127.0.0.1:123"],
        "cloudtime_vendordata_listen": f"127.0.0.1:{PORTS['vendordata']}",
        "cloudtime_vendordata_rules": list(rules),
        "cloudtime_config_overrides": {"clock": {
            "chrony_socket": f"{chrony}/chronyd.sock",
            "chrony_command_address": f"127.0.0.1:{PORTS['chrony_command']}"}},
    }}}}
    ansible = cloud.paths.dir("ansible")
    cloud.write(os.path.join(ansible, "inventory.yml"), json.dumps(inventory, indent=2))
    shutil.copy(os.path.join(REPO, "deploy", "ansible", "examples", "site.yml"), ansible)
    cloud.svc.run("ansible", ["ansible-playbook", "-i", "inventory.yml", "site.yml"],
                 {"ANSIBLE_ROLES_PATH": os.path.join(REPO, "deploy", "ansible", "roles"),
                  "ANSIBLE_LOCAL_TEMP": cloud.paths.dir("ansible", "tmp"),
                  "ANSIBLE_HOME": cloud.paths.dir("ansible", "home"),
                  "ANSIBLE_NOCOLOR": "1"}, timeout=900, cwd=ansible)

def remove(cloud):
    """What deploy_cloudtime put outside the state directory: the package (purged, its
    configuration and directories with it) and the APT source."""
    if not os.path.exists(os.path.join(cloud.state, "cloudtimed-installed")):
        return
    before = cloud.recorded("cloudtime-paths-before")
    subprocess.run(["/etc/init.d/cloudtimed", "stop"], capture_output=True, check=False)
    subprocess.run(["dpkg", "--purge", "cloudtimed", "cloudtime-vm"], capture_output=True,
                   check=False)
    made = [p for p in HOST_PATHS if p not in before]
    made += glob.glob("/var/lib/apt/lists/*" + cloud.state.strip("/").replace("/", "_") + "*")
    for path in made:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.remove(path)
