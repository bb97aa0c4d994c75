# SPDX-License-Identifier: Apache-2.0
"""The Ansible role (deploy/ansible/roles/cloudtime) rolled out by Debian's ansible-playbook
over SSH to booted test hosts (the network node in the default tier; with the hypervisor beside
it in the --full tier, docs/testing.md): the test image under QEMU, link-local addresses on a bridge
in a test namespace, the controller's key delivered on the config drive as Nova delivers a
keypair. The hosts are air-gapped: their only package source is the fleet's mirror (a flat
APT repository served in the namespace, holding cloudtimed and the libraries it needs), and
sshd with python3-apt is installed from a CD at first boot. Both serve NTP afterwards (one
as a hypervisor, one as a network node serving a qdhcp-* namespace and the vendordata
endpoint); a second run changes nothing; a changed variable reloads where a reload applies it
and restarts where only a restart does; Prometheus scrapes both."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import unittest

import harness
from debian_build import (BUILD, REPO, guest_command, missing_debs,  # noqa: F401
                          require_built_packages_and_qemu, run, runtime_debs, setUpModule)

CONTROLLER = "169.254.0.1"
# name: (address, MAC, node roles)
FLEET = {"compute1": ("169.254.100.11", "52:54:00:c7:01:01", ["hypervisor"]),
         "network1": ("169.254.100.12", "52:54:00:c7:01:02", ["network", "vendordata"])}
if not harness.FULL:  # one guest: the node with the most roles
    del FLEET["compute1"]
TENANT_NAMESPACE = "qdhcp-fleet"


def user_data(name):
    # sshd and python3-apt from the CD (the test image has neither), then no package source
    # but the fleet's mirror, which the role adds.
    lines = ["#cloud-config", "disable_root: false", "runcmd:",
             "  - [sh, -c, 'mkdir -p /mnt/debs && mount -o ro /dev/disk/by-label/CTDEBS /mnt/debs"
             " && DEBIAN_FRONTEND=noninteractive dpkg -i /mnt/debs/*.deb && umount /mnt/debs']",
             "  - [sh, -c, ': > /etc/apt/sources.list']"]
    if "network" in FLEET[name][2]:
        # What Neutron's DHCP agent makes: a namespace with the metadata address.
        ns = TENANT_NAMESPACE
        lines.append(f"  - [sh, -c, 'ip netns add {ns} && ip -n {ns} link set lo up && "
                     f"ip -n {ns} link add ns0 type dummy && "
                     f"ip -n {ns} addr add 169.254.169.254/16 dev ns0 && "
                     f"ip -n {ns} link set ns0 up']")
    return "\n".join(lines) + "\n"


class AnsibleRole(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        require_built_packages_and_qemu("ansible-playbook", "ssh", "ssh-keygen",
                                        "dpkg-scanpackages", "prometheus")
        super().setUpClass()
        from test_validate_image import image
        cls.dir = tempfile.mkdtemp(prefix="cloudtime-ansible-test-")
        cls.netns = f"ct-fleet-{os.getpid()}"
        cls.guests = []
        cls.helpers = []
        try:
            cls.boot_fleet(image("chrony"))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def boot_fleet(cls, base):
        d = cls.dir
        # The fleet's mirror: cloudtimed and what it needs beyond the image, as a flat repo.
        repo = os.path.join(d, "repo")
        os.makedirs(repo)
        for deb in runtime_debs(base) + [BUILD["debs"]["cloudtimed"]]:
            shutil.copy(deb, repo)
        p = run("sh", "-c", "dpkg-scanpackages --multiversion . > Packages", cwd=repo)
        assert p.returncode == 0, p.stderr
        # First-boot packages on a CD: sshd, and python3-apt for Ansible's apt modules.
        prep = os.path.join(d, "prep")
        os.makedirs(prep)
        for deb in missing_debs(["openssh-server", "python3-apt"], base + ".dpkg-status"):
            shutil.copy(deb, prep)
        p = run("xorriso", "-as", "mkisofs", "-V", "CTDEBS", "-J", "-R", "-o",
                os.path.join(d, "prep.iso"), prep)
        assert p.returncode == 0, p.stderr
        cls.key = os.path.join(d, "id_ed25519")
        p = run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cloudtime-test",
                "-f", cls.key)
        assert p.returncode == 0, p.stderr
        for cmd in (["ip", "netns", "add", cls.netns],
                    ["ip", "-n", cls.netns, "link", "set", "lo", "up"],
                    ["ip", "-n", cls.netns, "link", "add", "br0", "type", "bridge"],
                    ["ip", "-n", cls.netns, "addr", "add", f"{CONTROLLER}/16", "dev", "br0"],
                    ["ip", "-n", cls.netns, "link", "set", "br0", "up"]):
            subprocess.run(cmd, check=True)
        cls.repo_port = harness.free_tcp_port()
        cls.helpers.append(subprocess.Popen(
            ["ip", "netns", "exec", cls.netns, "/usr/bin/python3", "-m", "http.server",
             "--bind", CONTROLLER, "--directory", repo, str(cls.repo_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for index, (name, (address, mac, _)) in enumerate(FLEET.items()):
            host = os.path.join(d, name)
            os.makedirs(host)
            with open(os.path.join(host, "user-data"), "w") as f:
                f.write(user_data(name))
            p = run(harness.CLOUDTIME, "vendordata", "config-drive", os.path.join(host, "cd"),
                    "--iso", os.path.join(host, "config-2.iso"), "--hostname", name,
                    "--instance-id", f"00000000-0000-4000-8000-00000000010{index}",
                    "--user-data", os.path.join(host, "user-data"), "--ssh-key", cls.key + ".pub",
                    "--mac", mac, "--address", f"{address}/16")
            assert p.returncode == 0, p.stderr
            run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base,
                os.path.join(host, "overlay.qcow2"))
            tap = f"tap{index}"
            for cmd in (["ip", "-n", cls.netns, "tuntap", "add", "dev", tap, "mode", "tap"],
                        ["ip", "-n", cls.netns, "link", "set", tap, "master", "br0"],
                        ["ip", "-n", cls.netns, "link", "set", tap, "up"]):
                subprocess.run(cmd, check=True)
            log = open(os.path.join(host, "qemu.log"), "w")
            cls.guests.append(subprocess.Popen(
                guest_command(cls.netns, host, os.path.join(d, "prep.iso"), tap, mac),
                stdout=subprocess.DEVNULL, stderr=log))
            log.close()
        # Both boot at once (one core each); sshd comes up once cloud-init installed it.
        deadline = time.monotonic() + 900
        for name in FLEET:
            while cls.ssh(name, "systemctl is-active ssh").stdout.strip() != "active":
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name}: no ssh login within 900 s:\n" +
                                         cls.console(name))
                time.sleep(5)

    @classmethod
    def tearDownClass(cls):
        for proc in getattr(cls, "guests", []) + getattr(cls, "helpers", []):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "delete", cls.netns], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def console(cls, name):
        try:
            with open(os.path.join(cls.dir, name, "console.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError as e:
            return str(e)

    @classmethod
    def ssh(cls, name, command, timeout=60):
        return subprocess.run(
            ["ip", "netns", "exec", cls.netns, "ssh", "-i", cls.key, "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", f"root@{FLEET[name][0]}",
             command], capture_output=True, text=True, timeout=timeout)

    def inventory(self, **host_vars):
        """The inventory file: the fleet with its node roles; `host_vars` per host name."""
        hosts = {}
        for name, (address, _, roles) in FLEET.items():
            hosts[name] = {"ansible_host": address, "cloudtime_node_roles": roles,
                           **host_vars.get(name, {})}
        hosts["network1"].update(cloudtime_vendordata_listen=f"{FLEET['network1'][0]}:8790",
                                 cloudtime_vendordata_allowed_clients=[f"{CONTROLLER}/32"])
        inventory = {"all": {"hosts": hosts, "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": self.key,
            "ansible_python_interpreter": "/usr/bin/python3",
            "cloudtime_apt_repository":
                f"deb [trusted=yes] http://{CONTROLLER}:{self.repo_port}/ ./",
            # Test hosts have no upstream: a lab clock, served as synchronized.
            "cloudtime_clock_source": "local",
            "cloudtime_neutron_backend": "ovs",
            "cloudtime_listen": ["0.0.0.0:123"],
            "cloudtime_metrics_listen": "{{ ansible_host }}:9124",
            "cloudtime_metrics_allowed_clients": [f"{CONTROLLER}/32"]}}}
        path = os.path.join(self.dir, "inventory.json")
        with open(path, "w") as f:
            json.dump(inventory, f)
        return path

    def playbook(self, inventory):
        """Runs the role on the fleet; (recap per host, output)."""
        playbook = os.path.join(self.dir, "site.yml")
        with open(playbook, "w") as f:
            f.write("- hosts: all\n  gather_facts: false\n  roles:\n    - cloudtime\n")
        env = dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(REPO, "deploy/ansible/roles"),
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="True",
                   ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=/dev/null -o ControlMaster=auto "
                                    "-o ControlPersist=120s",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False",
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.dir, "ansible-tmp"))
        started = time.monotonic()
        p = subprocess.run(["ip", "netns", "exec", self.netns, "ansible-playbook", "-i",
                            inventory, playbook], capture_output=True, text=True, timeout=900,
                           env=env)
        print(f"\nansible-playbook: {time.monotonic() - started:.0f} s", file=sys.stderr)
        recap = {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
                 for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", p.stdout, re.M)}
        if p.returncode != 0:
            self.fail(p.stdout[-6000:] + p.stderr[-2000:] + "".join(
                f"\n{name}:\n" + self.ssh(name, "systemctl status cloudtimed --no-pager; "
                                           "journalctl -u cloudtimed --no-pager -o cat | "
                                           "tail -40").stdout for name in FLEET))
        self.assertEqual(set(recap), set(FLEET), p.stdout[-3000:])
        return recap, p.stdout

    def main_pid(self, name):
        return int(self.ssh(name, "systemctl show -p MainPID --value cloudtimed").stdout)

    def query(self, name):
        return subprocess.run(["ip", "netns", "exec", self.netns, harness.CLOUDTIME, "query",
                               "--json", "-t", "2", f"{FLEET[name][0]}:123"],
                              capture_output=True, text=True, timeout=60)

    def test_deploy_rerun_reload_restart_and_scrape(self):
        # The first run installs, configures and starts.
        recap, out = self.playbook(self.inventory())
        for name in FLEET:
            self.assertEqual(recap[name]["failed"], 0, out)
            self.assertGreater(recap[name]["changed"], 0, out)
            q = self.query(name)
            self.assertEqual(q.returncode, 0, q.stderr + self.console(name))
            self.assertIn('"stratum": 10', q.stdout)
            config = self.ssh(name, "cat /etc/cloudtime/cloudtimed.toml").stdout
            self.assertIn("Ansible managed", config)
            status = json.loads(self.ssh(name, "cloudtime status --json").stdout)
            self.assertEqual(status["reload"]["restart_needed"], [])
        # The network node serves its tenant namespace and the vendordata endpoint.
        status = json.loads(self.ssh("network1", "cloudtime status --json").stdout)
        self.assertEqual([t["namespace"] for t in status["tenant_networks"]],
                         [TENANT_NAMESPACE], status)
        self.assertIn("vendordata", status)
        self.assertEqual(self.ssh("network1", "systemctl show -p CapabilityBoundingSet --value "
                                  "cloudtimed").stdout.split().count("cap_sys_admin"), 1)
        served = self.ssh("network1", f"ip netns exec {TENANT_NAMESPACE} cloudtime query -t 2 "
                                      "169.254.169.254")
        self.assertEqual(served.returncode, 0, served.stdout + served.stderr)
        if "compute1" in FLEET:
            compute = json.loads(self.ssh("compute1", "cloudtime status --json").stdout)
            self.assertNotIn("vendordata", compute)
            self.assertEqual(compute["tenant_networks"], [])

        # A second run with the same variables changes nothing.
        recap, out = self.playbook(self.inventory())
        for name in FLEET:
            self.assertEqual(recap[name]["changed"], 0, out)

        # A changed variable: the log level is reloaded (same process); the worker threads
        # need a restart, and get one.
        pids = {name: self.main_pid(name) for name in FLEET}
        debug = {name: {"cloudtime_log_level": "debug"} for name in FLEET}
        recap, out = self.playbook(self.inventory(**debug))
        for name in FLEET:
            self.assertGreater(recap[name]["changed"], 0, out)
            self.assertEqual(self.main_pid(name), pids[name])
            journal = self.ssh(name, "journalctl -u cloudtimed --no-pager -o cat").stdout
            self.assertIn("reload: applied", journal)
            self.assertIn("log level debug", journal)
        recap, out = self.playbook(self.inventory(
            **{name: dict(debug[name], cloudtime_threads=1) for name in FLEET}))
        for name in FLEET:
            self.assertGreater(recap[name]["changed"], 0, out)
            self.assertNotEqual(self.main_pid(name), pids[name])
            status = json.loads(self.ssh(name, "cloudtime status --json").stdout)
            self.assertEqual(status["threads"], 1)
            self.assertEqual(self.query(name).returncode, 0)

        # Prometheus (in the namespace, beside the controller) scrapes both hosts.
        work = os.path.join(self.dir, "prometheus")
        os.makedirs(work)
        targets = ", ".join(f"'{address}:9124'" for address, _, _ in FLEET.values())
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                    "  - job_name: cloudtimed\n    static_configs:\n"
                    f"      - targets: [{targets}]\n")
        web = f"{CONTROLLER}:{harness.free_tcp_port()}"
        with open(os.path.join(work, "prometheus.log"), "w") as log:
            prometheus = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "prometheus",
                 f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/data",
                 f"--web.listen-address={web}"], stdout=log, stderr=subprocess.STDOUT)
        self.helpers.append(prometheus)
        expr = 'cloudtime_ntp_responses_sent_total{job="cloudtimed"} > 0 and on(instance) up == 1'
        deadline = time.monotonic() + 90
        result = []
        while len(result) < len(FLEET):
            self.assertLess(time.monotonic(), deadline, f"{expr}: {result}")
            time.sleep(1)
            fetched = subprocess.run(
                ["ip", "netns", "exec", self.netns, "/usr/bin/python3", "-c",
                 "import sys, urllib.parse, urllib.request; print(urllib.request.urlopen("
                 f"'http://{web}/api/v1/query?query=' + urllib.parse.quote(sys.argv[1]), "
                 "timeout=5).read().decode())", expr], capture_output=True, text=True)
            if fetched.returncode == 0:
                result = json.loads(fetched.stdout)["data"]["result"]
        self.assertEqual(sorted(r["metric"]["instance"] for r in result),
                         sorted(f"{address}:9124" for address, _, _ in FLEET.values()))


ROLE = os.path.join(REPO, "deploy", "ansible", "roles", "cloudtime")


class RoleTemplate(harness.TestCase):
    """The role's config template rendered by ansible-playbook on this host (no VM): what the
    variables make of cloudtimed.toml, read back with Python's TOML parser and validated by
    cloudtimed --check-config; and its variable check."""

    def render(self, extra):
        harness.require_program("ansible-playbook")
        work = tempfile.mkdtemp(prefix="cloudtime-role-template-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        out = os.path.join(work, "cloudtimed.toml")
        playbook = os.path.join(work, "render.yml")
        with open(playbook, "w") as f:
            f.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    f"    - include_vars: {ROLE}/defaults/main.yml\n"
                    f"    - include_vars: {ROLE}/vars/main.yml\n"
                    f"    - template: {{src: {ROLE}/templates/cloudtimed.toml.j2, dest: {out}}}\n")
        p = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", playbook,
                            "-e", json.dumps(extra)], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)
        check = subprocess.run([harness.CLOUDTIMED, "--check-config", "--config", out],
                               capture_output=True, text=True, timeout=30)
        with open(out) as f:
            text = f.read()
        self.assertEqual(check.returncode, 0, check.stderr + text)
        return tomllib.loads(text)

    def test_defaults_make_a_hypervisor_with_ovn_namespaces(self):
        config = self.render({})
        self.assertEqual(config["server"], {"listen": ["127.0.0.1:123"], "threads": 0})
        self.assertIs(config["tenant_networks"]["enabled"], True)
        self.assertEqual(config["tenant_networks"]["patterns"], ["ovnmeta-*"])
        self.assertIs(config["vendordata"]["enabled"], False)
        self.assertEqual(config["metrics"]["listen"], "127.0.0.1:9124")
        self.assertEqual(config["rate_limit"]["interval"], 2.0)

    def test_node_roles_backends_rules_and_overrides(self):
        config = self.render({
            "cloudtime_node_roles": ["network", "vendordata"],
            "cloudtime_neutron_backend": "ovs",
            "cloudtime_threads": "2",  # as -e key=value gives it: a string
            "cloudtime_vendordata_rules": [
                {"image_ids": ["img-1"], "ptp_kvm": False},
                {"metadata": {"time": "cloud-init", "a b": "c"}, "strategy": "cloud-init-ntp"}],
            "cloudtime_config_overrides": {"leap": {"mode": "smear", "smear_shape": "cosine"}}})
        self.assertEqual(config["server"]["threads"], 2)
        self.assertEqual(config["tenant_networks"]["patterns"], ["qdhcp-*"])
        self.assertEqual(config["tenant_networks"]["router_patterns"], ["qrouter-*"])
        self.assertIs(config["vendordata"]["enabled"], True)
        self.assertEqual(config["vendordata"]["rules"][1]["metadata"],
                         {"time": "cloud-init", "a b": "c"})
        self.assertEqual(config["leap"], {"mode": "smear", "smear_shape": "cosine"})
        # A hypervisor with ML2/OVS has no namespaces of its own.
        config = self.render({"cloudtime_neutron_backend": "ovs"})
        self.assertIs(config["tenant_networks"]["enabled"], False)

    def test_the_example_region_renders_a_valid_config_per_host(self):
        """deploy/ansible/examples: its inventory and group_vars give each kind of host the
        config it needs (valid by --check-config), and its site playbook is sound."""
        harness.require_program("ansible-inventory")
        examples = os.path.join(REPO, "deploy", "ansible", "examples")
        inventory = os.path.join(examples, "inventory.yml")

        def ansible(*command):
            p = subprocess.run(list(command), capture_output=True, text=True, timeout=300,
                               cwd=examples, env=dict(os.environ, ANSIBLE_NOCOLOR="1",
                                                      ANSIBLE_ROLES_PATH=os.path.dirname(ROLE)))
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)
            return p.stdout

        groups = json.loads(ansible("ansible-inventory", "-i", inventory, "--list"))
        self.assertEqual(set(groups["cloudtime"]["children"]),
                         {"controllers", "network_nodes", "computes"})
        configs = {}
        for host in ("control1", "network1", "compute1"):
            variables = json.loads(ansible("ansible-inventory", "-i", inventory, "--host", host))
            configs[host] = self.render(variables)
        control, network, compute = (configs[h] for h in ("control1", "network1", "compute1"))
        self.assertIs(control["vendordata"]["enabled"], True)
        self.assertEqual(control["vendordata"]["listen"], "10.0.0.11:8790")
        self.assertEqual(control["server"]["listen"], ["10.0.0.11:123", "127.0.0.1:123"])
        self.assertIs(control["tenant_networks"]["enabled"], False)
        self.assertIs(network["tenant_networks"]["enabled"], False)
        self.assertIs(network["vendordata"]["enabled"], False)
        self.assertIs(compute["tenant_networks"]["enabled"], True)
        self.assertEqual(compute["tenant_networks"]["patterns"], ["ovnmeta-*"])
        self.assertEqual(compute["metrics"]["listen"], "10.0.0.31:9124")
        self.assertIn("playbook: site.yml", ansible("ansible-playbook", "--syntax-check", "-i",
                                                    inventory, "site.yml"))

    def test_nts_on_the_server_and_asked_of_the_vms(self):
        work = tempfile.mkdtemp(prefix="cloudtime-role-nts-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        cert, key = harness.self_signed_certificate(work)
        with open(cert) as f:
            pem = f.read()
        # --check-config checks the key file's directory as the package makes it on a host
        # (/var/lib/cloudtime, the daemon user's): this host has no package, so the key file is
        # put in a directory made the same way.
        os.chmod(work, 0o755)
        keys = harness.daemon_user_directory(work)
        config = self.render({
            "cloudtime_config_overrides": {"nts": {"key_file": f"{keys}/nts-keys"}},
            "cloudtime_node_roles": ["hypervisor", "vendordata"],
            "cloudtime_nts_enabled": True, "cloudtime_nts_certificate": cert,
            "cloudtime_nts_private_key": key, "cloudtime_nts_ke_port": "4461",
            "cloudtime_nts_key_store": "etcd",
            "cloudtime_nts_etcd_endpoints": ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
            "cloudtime_nts_etcd_ca": cert, "cloudtime_nts_rotation": 3600,
            "cloudtime_vendordata_nts": True, "cloudtime_vendordata_nts_trusted_ca": pem})
        self.assertEqual(config["nts"]["enabled"], True)
        self.assertEqual((config["nts"]["certificate"], config["nts"]["private_key"]),
                         (cert, key))
        self.assertEqual(config["nts"]["ke_port"], 4461)
        self.assertEqual(config["nts"]["key_store"], "etcd")
        self.assertEqual(config["nts"]["etcd_endpoints"],
                         ["https://10.0.0.1:2379", "https://10.0.0.2:2379"])
        self.assertEqual(config["nts"]["rotation"], 3600)
        self.assertEqual(config["nts"]["key_file"], f"{keys}/nts-keys")
        self.assertIs(config["vendordata"]["nts"], True)
        self.assertEqual(config["vendordata"]["nts_trusted_ca"], pem)  # the PEM text, whole
        # Off by default, and valid so.
        config = self.render({})
        self.assertIs(config["nts"]["enabled"], False)
        self.assertIs(config["vendordata"]["nts"], False)

    def test_unknown_node_roles_are_refused_with_what_is_known(self):
        harness.require_program("ansible-playbook")
        work = tempfile.mkdtemp(prefix="cloudtime-role-check-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        playbook = os.path.join(work, "check.yml")
        with open(playbook, "w") as f:
            f.write("- hosts: localhost\n  gather_facts: false\n  roles: [cloudtime]\n")
        p = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", playbook,
                            "--tags", "cloudtime-config", "--check",
                            "-e", json.dumps({"cloudtime_node_roles": ["compute"]})],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, ANSIBLE_NOCOLOR="1",
                                    ANSIBLE_ROLES_PATH=os.path.dirname(ROLE)))
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("cloudtime_node_roles must be some of ['hypervisor', 'network', "
                      "'vendordata'] (is ['compute'])", p.stdout)


if __name__ == "__main__":
    unittest.main()
