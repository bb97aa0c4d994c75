#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An all-in-one OpenStack Zed cloud on this machine, from Debian 12's own packages only:
keystone, glance, placement, nova (API, metadata API, conductor, scheduler, compute with
libvirt and virt_type qemu), neutron (server, ML2/OVS: the Open vSwitch, DHCP, L3 and metadata
agents), Open vSwitch on its userspace datapath, mariadb, rabbitmq, memcached. (Zed's ML2/OVN
cannot bind a VM's port on a userspace datapath without DPDK: docs/testing.md.)

    tests/openstack/allinone.py up   [--state DIR]   bring it up (tears down what it made if a
                                                     step fails)
    tests/openstack/allinone.py down [--state DIR]   remove every process, namespace, bridge
                                                     and file it made
    tests/openstack/allinone.py env  [--state DIR]   the OS_CLOUD/OS_CLIENT_CONFIG_FILE lines
    tests/openstack/allinone.py cloudtime --debs cloudtimed_*.deb cloudtime-vm_*.deb
                                                     deploy cloudtime as an operator does
                                                     (the .deb from an APT source, the
                                                     Ansible role) on a cloud that is up
    tests/openstack/allinone.py packages             the Debian packages it needs

Everything lives under the state directory (default /var/tmp/cloudtime-openstack); services
listen on 127.0.0.1; tenant and provider networks use 198.18.0.0/15 inside the bridges and
namespaces it makes. PID 1 here is not systemd: the services are started by this script."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cloudtime_deploy  # noqa: E402
import configs  # noqa: E402
from configs import (INTEGRATION_BRIDGE, PASSWORD, PORTS, PROVIDER_BRIDGE, REGION,  # noqa: E402
                     TUNNEL_BRIDGE)
from services import Services, stop_all  # noqa: E402

DEFAULT_STATE = "/var/tmp/cloudtime-openstack"
PACKAGES = [
    "keystone", "glance", "placement-api", "nova-api", "nova-conductor", "nova-scheduler",
    "nova-compute", "nova-compute-qemu", "neutron-server", "neutron-openvswitch-agent",
    "neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent", "openvswitch-switch", "libvirt-daemon",
    "libvirt-daemon-driver-qemu", "libvirt-clients", "rabbitmq-server", "memcached",
    "mariadb-server", "python3-openstackclient", "python3-pymysql", "haproxy", "sudo",
    "genisoimage", "ethtool", "iptables", "conntrack",
]
# The provider ("external") network: a bridge of OVS and a namespace beyond it that plays the
# upstream router. Tenant subnets: 198.18.10.0/24 and up.
PROVIDER_CIDR = "198.18.0.0/24"
PROVIDER_GATEWAY = "198.18.0.1"
EXTERNAL_NETNS = "ct-os-ext"
NAMESPACE_PREFIXES = ("qdhcp-", "qrouter-", EXTERNAL_NETNS)
LINK_PREFIXES = ("ct-", "tap", "qr-", "qg-", "qvo", "qvb", "qbr")


def http_ok(url):
    """The service answers HTTP (a 300 or 401 is an answer; a 5xx is not)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500


class AllInOne:
    def __init__(self, state=DEFAULT_STATE):
        self.state = os.path.abspath(state)
        self.paths = configs.Paths(self.state)
        self.svc = None
        self.timings = []

    # -- the whole cloud -----------------------------------------------------------------------
    def up(self):
        missing = [p for p in PACKAGES if subprocess.run(
            ["dpkg-query", "-W", "-f=${db:Status-Status}", p], capture_output=True,
            text=True).stdout != "installed"]
        if missing:
            raise RuntimeError("missing Debian packages: " + " ".join(missing) +
                               " (scripts/bootstrap.sh --cloud installs them)")
        if os.path.exists(self.state):
            raise RuntimeError(f"{self.state} exists: a cloud is up or was left; "
                               f"tests/openstack/allinone.py down --state {self.state}")
        os.makedirs(self.state)
        self.svc = Services(self.state)
        self.record("namespaces-before", namespaces())
        self.record("links-before", links())
        try:
            for step in (self.mariadb, self.memcached, self.rabbitmq, self.keystone,
                         self.catalogue, self.placement, self.glance, self.openvswitch,
                         self.neutron, self.libvirt, self.nova):
                began = time.monotonic()
                step()
                self.timings.append((step.__name__, time.monotonic() - began))
                print(f"allinone: {step.__name__} up in {self.timings[-1][1]:.1f} s",
                      flush=True)
        except BaseException:
            print(f"allinone: bring-up failed; logs in {self.svc.log_dir}", file=sys.stderr)
            raise

    def down(self):
        """Removes every process, namespace, bridge and file the cloud made; safe to call on a
        cloud that is half up, or gone."""
        cloudtime_deploy.remove(self)
        left = stop_all(self.state)
        for proc in self.svc.procs if self.svc else []:
            proc.poll()  # reaped: no zombie of ours is left behind
        before = self.recorded("namespaces-before")
        for ns in namespaces():
            if ns not in before and ns.startswith(NAMESPACE_PREFIXES):
                subprocess.run(["ip", "netns", "delete", ns], check=False)
        # The bridges' own devices, the veth to the provider namespace, and the ports that
        # Neutron's agents made as OVS internal ports (taps of the userspace datapath: a
        # namespace that goes hands them back to the host) or libvirt left.
        before = self.recorded("links-before")
        for dev in links():
            if dev not in before and dev.startswith(LINK_PREFIXES):
                subprocess.run(["ip", "link", "delete", dev], check=False, capture_output=True)
        self.unmount_under_state()
        shutil.rmtree(self.state, ignore_errors=True)
        if left:
            raise RuntimeError(f"processes left after SIGKILL: {left}")

    def record(self, name, words):
        """What the host had before the cloud (namespaces, devices), so that teardown removes
        only what the cloud made."""
        with open(os.path.join(self.state, name), "w") as f:
            f.write("\n".join(words) + "\n")

    def recorded(self, name):
        try:
            with open(os.path.join(self.state, name)) as f:
                return set(f.read().split())
        except OSError:
            return set()

    def unmount_under_state(self):
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f]
        for m in sorted((m for m in mounts if m.startswith(self.state + "/")), reverse=True):
            subprocess.run(["umount", "-l", m], check=False)

    def write(self, path, text, mode=0o640):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    # -- the shared services -------------------------------------------------------------------
    def mariadb(self):
        datadir = self.paths.dir("mysql", "data")
        self.svc.run("mariadb-install", [
            "mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db"])
        self.svc.start("mariadb", [
            "mariadbd", "--no-defaults", f"--datadir={datadir}", "--user=root",
            f"--socket={self.paths.mysql_socket}",
            f"--pid-file={self.paths.dir('mysql')}/mysqld.pid", "--skip-networking",
            "--innodb-buffer-pool-size=128M", "--max-connections=500",
            f"--log-error={self.svc.log_dir}/mariadb-server.log"])
        self.svc.wait_for("mariadb's socket", lambda: os.path.exists(self.paths.mysql_socket),
                          60, "mariadb")
        sql = [f"CREATE USER 'openstack'@'localhost' IDENTIFIED BY '{PASSWORD}';"]
        for db in ("keystone", "glance", "placement", "nova_api", "nova", "nova_cell0",
                   "neutron"):
            sql.append(f"CREATE DATABASE {db};")
            sql.append(f"GRANT ALL PRIVILEGES ON {db}.* TO 'openstack'@'localhost';")
        self.svc.run("mariadb-setup", ["mariadb", "--no-defaults",
                                       f"--socket={self.paths.mysql_socket}", "-uroot"],
                     input="\n".join(sql).encode())

    def memcached(self):
        self.svc.start("memcached", ["memcached", "-u", "root", "-l", "127.0.0.1", "-U", "0",
                                     "-p", str(PORTS["memcached"]), "-m", "64"])

    def rabbit_env(self):
        base = self.paths.dir("rabbitmq")
        return {
            "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"),
            "RABBITMQ_LOG_BASE": self.svc.log_dir,
            "RABBITMQ_NODENAME": "rabbit@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(PORTS["rabbit"]),
            "RABBITMQ_DIST_PORT": str(PORTS["rabbit_dist"]),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
            "RABBITMQ_PID_FILE": os.path.join(base, "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": os.path.join(base, "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(base, "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(base, "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "HOME": base,
        }

    def rabbitmq(self):
        base = self.paths.dir("rabbitmq")
        self.write(os.path.join(base, "enabled_plugins"), "[].\n")
        self.write(os.path.join(base, "rabbitmq.conf"),
                   "loopback_users = none\nlisteners.tcp.default = 127.0.0.1:"
                   f"{PORTS['rabbit']}\n")
        self.write(os.path.join(base, "rabbitmq-env.conf"), "")
        env = self.rabbit_env()
        self.svc.start("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env)
        ctl = ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", "rabbit@localhost"]
        # The node registers with epmd a few seconds after it starts; await_startup fails
        # at once before that.
        self.svc.wait_for("rabbitmq's node", lambda: self.svc.run(
            "rabbitmq-setup", ctl + ["ping"], env, check=False) == 0, 120, "rabbitmq",
            interval=2)
        self.svc.run("rabbitmq-setup", ctl + ["await_startup", "--timeout", "120"], env,
                     timeout=180)
        self.svc.run("rabbitmq-setup", ctl + ["add_user", "openstack", PASSWORD], env)
        self.svc.run("rabbitmq-setup", ctl + ["set_permissions", "openstack", ".*", ".*",
                                              ".*"], env)

    def uwsgi(self, name, wsgi_file, port, env):
        self.svc.start(name, [
            "uwsgi", "--plugins", "python3", "--http-socket", f"127.0.0.1:{port}",
            "--wsgi-file", wsgi_file, "--master", "--processes", "1", "--threads", "4",
            "--lazy-apps", "--enable-threads", "--die-on-term", "--no-orphans",
            "--buffer-size", "65535", "--add-header", "Connection: close"],
            env)

    # -- identity and the catalogue ------------------------------------------------------------
    def keystone(self):
        conf = self.paths.conf("keystone")
        self.write(conf, configs.keystone(self.paths))
        manage = ["keystone-manage", "--config-file", conf]
        self.svc.run("keystone-manage", manage + ["db_sync"])
        self.svc.run("keystone-manage", manage + ["fernet_setup", "--keystone-user", "root",
                                                  "--keystone-group", "root"])
        self.svc.run("keystone-manage", manage + ["credential_setup", "--keystone-user", "root",
                                                  "--keystone-group", "root"])
        url = configs.KEYSTONE_URL + "/"
        self.svc.run("keystone-manage", manage + [
            "bootstrap", "--bootstrap-password", PASSWORD, "--bootstrap-admin-url", url,
            "--bootstrap-internal-url", url, "--bootstrap-public-url", url,
            "--bootstrap-region-id", REGION])
        self.uwsgi("keystone", "/usr/bin/keystone-wsgi-public", PORTS["keystone"],
                   {"OS_KEYSTONE_CONFIG_FILES": conf})
        self.svc.wait_for("keystone answering", lambda: http_ok(configs.KEYSTONE_URL), 120,
                          "keystone")
        self.write(self.clouds_yaml, clouds_yaml(), 0o600)

    @property
    def clouds_yaml(self):
        return os.path.join(self.state, "clouds.yaml")

    def connection(self, cloud="aio-admin"):
        import openstack  # the ecosystem's own client library (python3-openstacksdk)
        os.environ["OS_CLIENT_CONFIG_FILE"] = self.clouds_yaml
        return openstack.connect(cloud=cloud)

    def catalogue(self):
        conn = self.connection()
        service_project = conn.identity.create_project(name="service", domain_id="default")
        admin_role = conn.identity.find_role("admin")
        for name, kind, port, path in (
                ("glance", "image", PORTS["glance"], ""),
                ("placement", "placement", PORTS["placement"], ""),
                ("nova", "compute", PORTS["nova"], "/v2.1"),
                ("neutron", "network", PORTS["neutron"], "")):
            user = conn.identity.create_user(name=name, password=PASSWORD,
                                             domain_id="default")
            conn.identity.assign_project_role_to_user(service_project, user, admin_role)
            service = conn.identity.create_service(name=name, type=kind)
            for interface in ("public", "internal", "admin"):
                conn.identity.create_endpoint(service_id=service.id, interface=interface,
                                              url=f"http://127.0.0.1:{port}{path}",
                                              region_id=REGION)
        member = conn.identity.find_role("member")
        for project in ("demo", "dhcp-only"):
            p = conn.identity.create_project(name=project, domain_id="default")
            user = conn.identity.create_user(name=project, password=PASSWORD,
                                             domain_id="default", default_project_id=p.id)
            conn.identity.assign_project_role_to_user(p, user, member)

    # -- the services of the cloud -------------------------------------------------------------
    def placement(self):
        conf = self.paths.conf("placement")
        self.write(conf, configs.placement(self.paths))
        env = {"OS_PLACEMENT_CONFIG_DIR": os.path.dirname(conf)}
        self.svc.run("placement-manage", ["placement-manage", "--config-file", conf, "db",
                                          "sync"])
        self.uwsgi("placement", "/usr/bin/placement-api", PORTS["placement"], env)
        self.svc.wait_for("placement answering",
                          lambda: http_ok(f"http://127.0.0.1:{PORTS['placement']}/"), 120,
                          "placement")

    def glance(self):
        conf = self.paths.conf("glance", "glance-api.conf")
        self.write(conf, configs.glance(self.paths))
        self.svc.run("glance-manage", ["glance-manage", "--config-file", conf, "db_sync"])
        self.svc.start("glance-api", ["glance-api", "--config-file", conf])
        self.svc.wait_for("glance answering",
                          lambda: http_ok(f"http://127.0.0.1:{PORTS['glance']}/"), 120,
                          "glance-api")

    def ovs_vsctl(self, *args):
        return self.svc.output(["ovs-vsctl", "--timeout=20", *args])

    def openvswitch(self):
        d = self.paths.dir("ovs")
        db = os.path.join(d, "conf.db")
        self.svc.run("ovs-setup", ["ovsdb-tool", "create", db,
                                   "/usr/share/openvswitch/vswitch.ovsschema"])
        self.svc.start("ovsdb-server", [
            "ovsdb-server", db, f"--remote=punix:{d}/db.sock",
            f"--remote=ptcp:{PORTS['ovsdb']}:127.0.0.1",
            "--remote=db:Open_vSwitch,Open_vSwitch,manager_options",
            f"--pidfile={d}/ovsdb-server.pid", "--no-chdir",
            f"--log-file={self.svc.log_dir}/ovsdb-server.log"])
        self.svc.wait_for("ovsdb-server's socket",
                          lambda: os.path.exists(f"{d}/db.sock"), 30, "ovsdb-server")
        self.ovs_vsctl("--no-wait", "init")
        # The userspace datapath reads a VM's tap without its virtio-net header unless this is
        # on: a guest's checksum offload then leaves its UDP and TCP with partial checksums,
        # which every receiver drops (UdpInCsumErrors in the qdhcp- namespace). With it, OVS
        # keeps the header's "checksum needed" and the kernel completes it. Read at start.
        self.ovs_vsctl("--no-wait", "set", "Open_vSwitch", ".",
                       "other_config:userspace-tso-enable=true")
        self.svc.start("ovs-vswitchd", [
            "ovs-vswitchd", f"unix:{d}/db.sock", f"--pidfile={d}/ovs-vswitchd.pid",
            "--no-chdir", f"--log-file={self.svc.log_dir}/ovs-vswitchd.log"])
        # The kernel has no openvswitch module: the userspace datapath (netdev). The agent makes
        # the integration and tunnel bridges; the provider bridge is the operator's.
        self.ovs_vsctl("--may-exist", "add-br", PROVIDER_BRIDGE, "--", "set", "bridge", PROVIDER_BRIDGE,
                       "datapath_type=netdev")
        # Beyond br-ex, a namespace plays the provider network's router.
        subprocess.run(["ip", "netns", "add", EXTERNAL_NETNS], check=True)
        subprocess.run(["ip", "link", "add", "ct-os-ext0", "type", "veth", "peer", "name",
                        "ct-os-ext1", "netns", EXTERNAL_NETNS], check=True)
        in_ext = ["ip", "netns", "exec", EXTERNAL_NETNS]
        for cmd in (["ethtool", "-K", "ct-os-ext0", "tx", "off"],
                    ["ip", "link", "set", "ct-os-ext0", "up"],
                    in_ext + ["ethtool", "-K", "ct-os-ext1", "tx", "off"],
                    in_ext + ["ip", "addr", "add", f"{PROVIDER_GATEWAY}/24", "dev",
                              "ct-os-ext1"],
                    in_ext + ["ip", "link", "set", "ct-os-ext1", "up"],
                    in_ext + ["ip", "link", "set", "lo", "up"]):
            subprocess.run(cmd, check=True, capture_output=True)
        self.ovs_vsctl("--may-exist", "add-port", PROVIDER_BRIDGE, "ct-os-ext0")

    def neutron(self):
        conf = self.paths.conf("neutron")
        ml2 = self.paths.conf("neutron", "ml2_conf.ini")
        self.write(conf, configs.neutron(self.paths))
        self.write(ml2, configs.ml2(self.paths))
        self.svc.run("neutron-db-manage", ["neutron-db-manage", "--config-file", conf,
                                           "--config-file", ml2, "upgrade", "heads"])
        self.svc.start("neutron-server", ["neutron-server", "--config-file", conf,
                                          "--config-file", ml2])
        self.svc.wait_for("neutron answering",
                          lambda: http_ok(f"http://127.0.0.1:{PORTS['neutron']}/"), 180,
                          "neutron-server")
        for name, text in (("openvswitch", configs.openvswitch_agent),
                           ("dhcp", configs.dhcp_agent), ("l3", configs.l3_agent),
                           ("metadata", configs.metadata_agent)):
            agent = self.paths.conf("neutron", f"{name}_agent.ini")
            self.write(agent, text(self.paths))
            self.svc.start(f"neutron-{name}-agent", [
                f"neutron-{name}-agent", "--config-file", conf, "--config-file", agent])
        conn = self.connection()
        self.svc.wait_for("neutron's four agents alive", lambda: sum(
            1 for a in conn.network.agents() if a.is_alive) == 4, 180, "neutron-server")

    def libvirt(self):
        d = self.paths.dir("libvirt")
        etc = self.paths.dir("libvirt", "etc")
        for name in os.listdir("/etc/libvirt"):
            src = os.path.join("/etc/libvirt", name)
            if os.path.isfile(src):
                shutil.copy(src, etc)
        self.write(os.path.join(etc, "libvirtd.conf"), configs.libvirtd(self.paths))
        self.write(os.path.join(etc, "qemu.conf"), configs.qemu())
        binds = {etc: "/etc/libvirt", self.paths.dir("libvirt", "lib"): "/var/lib/libvirt",
                 self.paths.dir("libvirt", "log"): "/var/log/libvirt",
                 self.paths.dir("libvirt", "cache"): "/var/cache/libvirt",
                 self.paths.dir("libvirt", "rundir"): "/run/libvirt"}
        script = "set -e\n" + "".join(
            f"mkdir -p {dst}\nmount --bind {src} {dst}\n" for src, dst in binds.items())
        script += f"exec libvirtd --config {etc}/libvirtd.conf\n"
        # libvirtd in a mount namespace of its own: its fixed paths (/etc/libvirt/qemu.conf,
        # /var/lib/libvirt, /run/libvirt) are the state directory's, and the host's are
        # untouched.
        self.svc.start("libvirtd", ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                    script])
        sock = os.path.join(d, "run", "libvirt-sock")
        self.svc.wait_for("libvirtd's socket", lambda: os.path.exists(sock), 60, "libvirtd")
        self.libvirt_socket = sock

    def nova(self):
        conf = self.paths.conf("nova")
        sock = os.path.join(self.paths.dir("libvirt"), "run", "libvirt-sock")
        self.write(conf, configs.nova(self.paths, sock, self.vendordata_api_section()))
        manage = ["nova-manage", "--config-file", conf]
        self.svc.run("nova-manage", manage + ["api_db", "sync"])
        self.svc.run("nova-manage", manage + ["cell_v2", "map_cell0"])
        self.svc.run("nova-manage", manage + ["cell_v2", "create_cell", "--name", "cell1"])
        self.svc.run("nova-manage", manage + ["db", "sync"])
        self.start_nova_wsgi()
        for name in ("nova-conductor", "nova-scheduler", "nova-compute"):
            self.svc.start(name, [name, "--config-file", conf])
        self.svc.wait_for("nova-api answering",
                          lambda: http_ok(f"http://127.0.0.1:{PORTS['nova']}/"), 180,
                          "nova-api")
        conn = self.connection()
        self.svc.wait_for("nova-compute registered", lambda: any(
            s.binary == "nova-compute" and s.state == "up"
            for s in conn.compute.services()), 180, "nova-compute")
        self.svc.run("nova-manage", manage + ["cell_v2", "discover_hosts", "--verbose"])
        self.svc.wait_for("the hypervisor in placement", lambda: any(
            True for _ in conn.placement.resource_providers()), 120, "nova-compute")

    def start_nova_wsgi(self):
        """The compute and metadata APIs as WSGI applications (uwsgi). The first file is the
        paste pipeline (Nova's wsgi_app reads it from there); the last runs the AMQP heartbeat
        in a native thread, as oslo.messaging says WSGI services must (else rabbitmq closes
        the connection of an idle API for missed heartbeats, and the next request hangs)."""
        etc = os.path.dirname(self.paths.conf("nova"))
        shutil.copy("/etc/nova/api-paste.ini", etc)
        self.write(os.path.join(etc, "nova-wsgi.conf"), configs.ini(
            {"oslo_messaging_rabbit": {"heartbeat_in_pthread": "true"}}))
        env = {"OS_NOVA_CONFIG_DIR": etc,
               "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf;nova-wsgi.conf"}
        self.uwsgi("nova-api", "/usr/bin/nova-api-wsgi", PORTS["nova"], env)
        self.uwsgi("nova-metadata", "/usr/bin/nova-metadata-wsgi", PORTS["metadata"], env)

    def vendordata_api_section(self):
        """nova.conf's [api] vendordata keys, as the operator guide says to set them."""
        return {
            "vendordata_providers": "StaticJSON,DynamicJSON",
            "vendordata_dynamic_targets":
                f"cloud-init@http://127.0.0.1:{PORTS['vendordata']}/",
        }


def namespaces():
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def links():
    p = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return [line.split(":")[1].strip().split("@")[0] for line in p.stdout.splitlines()]


def clouds_yaml():
    clouds = {}
    for name, user, project in (("aio-admin", "admin", "admin"), ("aio-demo", "demo", "demo"),
                                ("aio-dhcp-only", "dhcp-only", "dhcp-only")):
        clouds[name] = {
            "auth": {"auth_url": configs.KEYSTONE_URL, "username": user,
                     "password": PASSWORD, "project_name": project,
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": REGION, "identity_api_version": 3, "interface": "public",
        }
    return json.dumps({"clouds": clouds}, indent=2) + "\n"  # JSON is YAML


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down", "env", "cloudtime", "packages"])
    parser.add_argument("--debs", nargs="*", default=[],
                        help="cloudtime: the project's .deb files to deploy")
    parser.add_argument("--state", default=DEFAULT_STATE)
    parser.add_argument("--keep", action="store_true",
                        help="up: leave a cloud whose bring-up failed as it is (to debug it)")
    args = parser.parse_args()
    cloud = AllInOne(args.state)
    if args.action == "packages":  # for scripts/bootstrap.sh --cloud
        print(" ".join(PACKAGES))
        return 0
    if args.action == "env":
        print(f"export OS_CLIENT_CONFIG_FILE={cloud.clouds_yaml}\nexport OS_CLOUD=aio-admin")
    elif args.action == "down":
        cloud.down()
    elif args.action == "cloudtime":
        cloudtime_deploy.deploy(cloud, args.debs)
    else:
        began = time.monotonic()
        try:
            cloud.up()
        except BaseException as e:
            print(f"allinone: {e}", file=sys.stderr)
            if not args.keep:
                cloud.down()
            return 1
        print(f"allinone: up in {time.monotonic() - began:.0f} s; "
              f"OS_CLIENT_CONFIG_FILE={cloud.clouds_yaml} OS_CLOUD=aio-admin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
