# SPDX-License-Identifier: Apache-2.0
"""Nova's own config drive builder (Debian 12's python3-nova: nova.virt.configdrive and
nova.api.metadata.base.InstanceMetadata), run as nova-compute runs it when it builds a
config drive, for one instance described in a JSON file:

    /usr/bin/python3 nova_config_drive.py NOVA.CONF INSTANCE.json OUT.iso

nova.conf is read as nova-compute reads it ([api] vendordata_providers and
vendordata_dynamic_targets: the DynamicJSON call happens here, from the "compute node").
INSTANCE.json: uuid, project_id, hostname, image_ref, user_data (text), metadata, and the
port: mac, address, cidr. What a database and Neutron would answer is made up here as Nova's
own objects (an Instance with its flavor, EC2 ids and no keypairs; one VIF in a NetworkInfo);
only the block device and security group lookups, which ask the database and Neutron, are
replaced by empty answers. Everything written to the drive is Nova's code's."""

import base64
import json
import sys
from unittest import mock

import nova.conf

CONF = nova.conf.CONF
CONF(["--config-file", sys.argv[1]], project="nova", default_config_files=[])

from nova import context, objects  # noqa: E402 (after the config, as nova-compute does)
from nova.api.metadata import base as metadata_base  # noqa: E402
from nova.network import model as network_model  # noqa: E402
from nova.virt import configdrive  # noqa: E402
from oslo_utils import timeutils  # noqa: E402

objects.register_all()
with open(sys.argv[2]) as f:
    spec = json.load(f)

port = spec["port"]
subnet = network_model.Subnet(
    cidr=port["cidr"], version=4, dns=[], routes=[],
    gateway=network_model.IP(address=None, type="gateway"),
    ips=[network_model.FixedIP(address=port["address"])])
network = network_model.Network(id="b8c8a0c6-1c4f-4a9e-8f7a-3c1d2e5f6a7b", bridge="br-int",
                                label="tenant", subnets=[subnet], meta={"mtu": 1500})
vif = network_model.VIF(id="4f3c2b1a-0e9d-4c8b-a7f6-5e4d3c2b1a09", address=port["mac"],
                        network=network, type="ovs", devname="tap0", active=True)
network_info = network_model.NetworkInfo([vif])

now = timeutils.utcnow()
instance = objects.Instance(
    context=context.get_admin_context(), id=1, uuid=spec["uuid"],
    project_id=spec["project_id"], user_id="tenant", hostname=spec["hostname"],
    display_name=spec["hostname"], image_ref=spec["image_ref"],
    user_data=base64.b64encode(spec["user_data"].encode()).decode(),
    metadata=spec["metadata"], system_metadata={}, launch_index=0, reservation_id="r-1",
    availability_zone="nova", key_name=None, key_data=None, host="compute1", node="compute1",
    root_device_name="/dev/vda", default_ephemeral_device=None, default_swap_device=None,
    created_at=now, launched_at=now, config_drive="True", kernel_id="", ramdisk_id="",
    instance_type_id=1, vm_state="building", task_state=None, power_state=0, deleted=False,
    locked=False, auto_disk_config=False,
    info_cache=objects.InstanceInfoCache(network_info=network_info))
instance.ec2_ids = objects.EC2Ids(instance_id="i-00000001", ami_id="ami-00000001",
                                  kernel_id=None, ramdisk_id=None)
instance.keypairs = objects.KeyPairList(objects=[])
instance.device_metadata = None
instance.numa_topology = None
instance.tags = objects.TagList(objects=[])
instance.flavor = objects.Flavor(id=1, name="m1.small", flavorid="2", memory_mb=1024, vcpus=1,
                                 root_gb=10, ephemeral_gb=0, swap=0, extra_specs={})
instance.old_flavor = None
instance.new_flavor = None

with mock.patch.object(objects.Instance, "get_bdms",
                       lambda self: objects.BlockDeviceMappingList(objects=[])), \
        mock.patch("nova.network.security_group_api.get_instance_security_groups",
                   return_value=[]):
    metadata = metadata_base.InstanceMetadata(instance, network_info=network_info)
    with configdrive.ConfigDriveBuilder(instance_md=metadata) as builder:
        builder.make_drive(sys.argv[3])
