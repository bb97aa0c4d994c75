# SPDX-License-Identifier: Apache-2.0
"""The configuration files of the all-in-one cloud's services, all under its state directory.
Every service listens on 127.0.0.1 only; tenant and provider networks use 198.18.0.0/15.
Neutron is ML2/OVS (the Open vSwitch agent on the userspace datapath, the DHCP, L3 and metadata
agents): Zed's ML2/OVN cannot bind a port on a userspace datapath without DPDK (see
docs/testing.md)."""

import os

PASSWORD = "cloudtime-aio"
METADATA_SECRET = "cloudtime-aio-metadata"
REGION = "RegionOne"
HOST = "cloudtime-aio"

PORTS = {
    "keystone": 5000,
    "glance": 9292,
    "placement": 8778,
    "nova": 8774,
    "metadata": 8775,
    "neutron": 9696,
    "rabbit": 5672,
    "rabbit_dist": 25672,
    "memcached": 11211,
    "ovsdb": 6640,
    "openflow": 6633,
    "vendordata": 8790,
    "chrony_command": 11323,
}
# The bridges (the userspace datapath makes each a tap device of the host): names of the test's
# own, so that teardown removes only what it made.
INTEGRATION_BRIDGE = "ct-br-int"
TUNNEL_BRIDGE = "ct-br-tun"
PROVIDER_BRIDGE = "ct-br-ex"
KEYSTONE_URL = f"http://127.0.0.1:{PORTS['keystone']}/v3"


def ini(sections):
    """{section: {key: value}} as an INI file's text."""
    out = []
    for section, keys in sections.items():
        out.append(f"[{section}]")
        out += [f"{k} = {v}" for k, v in keys.items()]
        out.append("")
    return "\n".join(out)


class Paths:
    def __init__(self, state):
        self.state = state
        self.etc = os.path.join(state, "etc")
        self.mysql_socket = os.path.join(state, "mysql", "mysqld.sock")

    def db(self, name):
        return (f"mysql+pymysql://openstack:{PASSWORD}@localhost/{name}"
                f"?unix_socket={self.mysql_socket}&charset=utf8")

    @property
    def transport_url(self):
        return f"rabbit://openstack:{PASSWORD}@127.0.0.1:{PORTS['rabbit']}/"

    def conf(self, service, name=None):
        return os.path.join(self.etc, service, name or f"{service}.conf")

    def dir(self, *parts):
        path = os.path.join(self.state, *parts)
        os.makedirs(path, exist_ok=True)
        return path


def authtoken(service):
    return {
        "www_authenticate_uri": KEYSTONE_URL,
        "auth_url": KEYSTONE_URL,
        "memcached_servers": f"127.0.0.1:{PORTS['memcached']}",
        "auth_type": "password",
        "project_domain_name": "Default",
        "user_domain_name": "Default",
        "project_name": "service",
        "username": service,
        "password": PASSWORD,
        "region_name": REGION,
    }


def keystone(p):
    return ini({
        "DEFAULT": {"log_dir": p.dir("log"), "use_stderr": "false"},
        "database": {"connection": p.db("keystone")},
        "token": {"provider": "fernet"},
        "fernet_tokens": {"key_repository": p.dir("keystone", "fernet-keys")},
        "fernet_receipts": {"key_repository": p.dir("keystone", "fernet-keys")},
        "credential": {"key_repository": p.dir("keystone", "credential-keys")},
        "cache": {"enabled": "true", "backend": "dogpile.cache.memcached",
                  "memcache_servers": f"127.0.0.1:{PORTS['memcached']}"},
    })


def placement(p):
    return ini({
        "DEFAULT": {"log_dir": p.dir("log")},
        "placement_database": {"connection": p.db("placement")},
        "api": {"auth_strategy": "keystone"},
        "keystone_authtoken": authtoken("placement"),
    })


def glance(p):
    return ini({
        "DEFAULT": {"bind_host": "127.0.0.1", "bind_port": PORTS["glance"],
                    "log_file": os.path.join(p.dir("log"), "glance-api.log"), "workers": 1,
                    "enabled_backends": "file:file"},
        "database": {"connection": p.db("glance")},
        "keystone_authtoken": authtoken("glance"),
        "paste_deploy": {"flavor": "keystone",
                         "config_file": "/etc/glance/glance-api-paste.ini"},
        "glance_store": {"default_backend": "file"},
        "file": {"filesystem_store_datadir": p.dir("glance", "images")},
        "os_glance_staging_store": {"filesystem_store_datadir": p.dir("glance", "staging")},
        "os_glance_tasks_store": {"filesystem_store_datadir": p.dir("glance", "tasks")},
        "oslo_concurrency": {"lock_path": p.dir("lock")},
        "image_format": {"disk_formats": "qcow2,raw"},
    })


def neutron(p):
    return ini({
        "DEFAULT": {
            "host": HOST, "bind_host": "127.0.0.1", "bind_port": PORTS["neutron"],
            "core_plugin": "ml2", "service_plugins": "router",
            "auth_strategy": "keystone", "transport_url": p.transport_url,
            "state_path": p.dir("neutron"), "log_dir": p.dir("log"),
            "api_workers": 1, "rpc_workers": 1, "rpc_state_report_workers": 1,
            "notify_nova_on_port_status_changes": "true",
            "notify_nova_on_port_data_changes": "true",
            "interface_driver": "openvswitch",
        },
        "database": {"connection": p.db("neutron")},
        "keystone_authtoken": authtoken("neutron"),
        "nova": {**authtoken("nova"), "endpoint_type": "public"},
        "oslo_concurrency": {"lock_path": p.dir("lock")},
        "agent": {"root_helper": "sudo neutron-rootwrap /etc/neutron/rootwrap.conf",
                  "root_helper_daemon": "sudo neutron-rootwrap-daemon /etc/neutron/rootwrap.conf"},
        "ovs": {"ovsdb_connection": f"tcp:127.0.0.1:{PORTS['ovsdb']}",
                "integration_bridge": INTEGRATION_BRIDGE},
    })


def ml2(p):
    return ini({
        "ml2": {"mechanism_drivers": "openvswitch", "type_drivers": "flat,vxlan",
                "tenant_network_types": "vxlan", "extension_drivers": "port_security"},
        "ml2_type_vxlan": {"vni_ranges": "1:1000"},
        "ml2_type_flat": {"flat_networks": "physnet1"},
        "securitygroup": {"enable_security_group": "true"},
    })


def openvswitch_agent(p):
    return ini({
        # The kernel has no openvswitch module: the userspace datapath (netdev); neutron
        # reports it to Nova in the port's binding, so os-vif plugs the VM's tap there too.
        "ovs": {"datapath_type": "netdev", "integration_bridge": INTEGRATION_BRIDGE,
                "tunnel_bridge": TUNNEL_BRIDGE,
                "bridge_mappings": f"physnet1:{PROVIDER_BRIDGE}", "local_ip": "127.0.0.1",
                "ovsdb_connection": f"tcp:127.0.0.1:{PORTS['ovsdb']}",
                "of_listen_address": "127.0.0.1", "of_listen_port": PORTS["openflow"]},
        "agent": {"tunnel_types": "vxlan", "l2_population": "false"},
        "securitygroup": {"firewall_driver": "openvswitch", "enable_security_group": "true"},
    })


def dhcp_agent(p):
    return ini({
        "DEFAULT": {"interface_driver": "openvswitch", "enable_isolated_metadata": "true",
                    "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq"},
        "ovs": {"ovsdb_connection": f"tcp:127.0.0.1:{PORTS['ovsdb']}",
                "integration_bridge": INTEGRATION_BRIDGE},
    })


def l3_agent(p):
    return ini({
        "DEFAULT": {"interface_driver": "openvswitch", "agent_mode": "legacy"},
        "ovs": {"ovsdb_connection": f"tcp:127.0.0.1:{PORTS['ovsdb']}",
                "integration_bridge": INTEGRATION_BRIDGE},
    })


def metadata_agent(p):
    return ini({
        "DEFAULT": {
            "nova_metadata_host": "127.0.0.1", "nova_metadata_port": PORTS["metadata"],
            "metadata_proxy_shared_secret": METADATA_SECRET,
            "metadata_proxy_socket": os.path.join(p.dir("neutron"), "metadata_proxy"),
            "metadata_workers": 1,
        },
    })


def nova(p, libvirt_socket, api_section):
    return ini({
        "DEFAULT": {
            "host": HOST, "my_ip": "127.0.0.1", "transport_url": p.transport_url,
            "compute_driver": "libvirt.LibvirtDriver",
            "state_path": p.dir("nova"), "instances_path": p.dir("nova", "instances"),
            "log_dir": p.dir("log"), "use_stderr": "false",
            "osapi_compute_workers": 1, "metadata_workers": 1,
            "osapi_compute_listen": "127.0.0.1", "metadata_listen": "127.0.0.1",
            "metadata_listen_port": PORTS["metadata"],
            "force_config_drive": "false",
            # one small host: every boot request fits
            "cpu_allocation_ratio": "16.0", "ram_allocation_ratio": "1.5",
            "initial_cpu_allocation_ratio": "16.0", "initial_ram_allocation_ratio": "1.5",
            "mkisofs_cmd": "genisoimage",
        },
        "api": {"auth_strategy": "keystone", **api_section},
        "api_database": {"connection": p.db("nova_api")},
        "database": {"connection": p.db("nova")},
        "keystone_authtoken": authtoken("nova"),
        "service_user": {**authtoken("nova"), "send_service_user_token": "true"},
        "placement": {**authtoken("placement"), "auth_url": KEYSTONE_URL},
        "glance": {"api_servers": f"http://127.0.0.1:{PORTS['glance']}"},
        "neutron": {**authtoken("neutron"), "service_metadata_proxy": "true",
                    "ovs_bridge": INTEGRATION_BRIDGE,
                    "metadata_proxy_shared_secret": METADATA_SECRET},
        "libvirt": {"virt_type": "qemu", "connection_uri": f"qemu:///system?socket={libvirt_socket}",
                    "cpu_mode": "none"},
        "os_vif_ovs": {"ovsdb_connection": f"tcp:127.0.0.1:{PORTS['ovsdb']}"},
        "vnc": {"enabled": "false"},
        "serial_console": {"enabled": "false"},
        "scheduler": {"discover_hosts_in_cells_interval": "2"},
        "oslo_concurrency": {"lock_path": p.dir("lock")},
        "wsgi": {"api_paste_config": "/etc/nova/api-paste.ini"},
        "oslo_messaging_notifications": {"driver": "noop"},
        "cinder": {"os_region_name": REGION},
    })


def libvirtd(p):
    run = p.dir("libvirt", "run")
    return "\n".join([
        f'unix_sock_dir = "{run}"',
        'unix_sock_group = "root"',
        'unix_sock_rw_perms = "0770"',
        'auth_unix_rw = "none"',
        'auth_unix_ro = "none"',
        'log_outputs = "3:stderr"',
        "",
    ])


def qemu():
    return "\n".join([
        'user = "root"',
        'group = "root"',
        "cgroup_controllers = [ ]",
        'security_driver = "none"',
        # no virtlogd here: QEMU writes its logs itself
        'stdio_handler = "file"',
        "",
    ])
