#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages that cloudtime's build and tests need: only what is
# missing, so a second run changes nothing. Services that packages bring (chronyd) are not
# started: the tests start their own peers, and nothing here may touch this host's clock.
#   scripts/bootstrap.sh          everything: the build and the tests' peers
#   scripts/bootstrap.sh --build  what the build needs (scripts/test.sh installs the rest
#                                 while it builds: --test)
#   scripts/bootstrap.sh --test   the tests' peers and tools only
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
part=${1:-all}
case "$part" in
all | --build | --test) ;;
*) echo "usage: scripts/bootstrap.sh [--build|--test]" >&2; exit 64 ;;
esac

build_packages=(
  g++ cmake ninja-build pkg-config
  libssl-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libnftables-dev libboost-dev libseccomp-dev libsystemd-dev
  # the man pages
  go-md2man
)
test_packages=(
  # the Debian packages
  debhelper lintian
  # lint
  clang-format clang-tidy
  # fuzzing (libFuzzer)
  clang libclang-rt-14-dev
  # integration tests: the real peers, namespaces, the test driver
  chrony ntpsec-ntpdig iproute2 nftables python3 util-linux file
  # metrics: promtool, and a real Prometheus that scrapes cloudtimed
  prometheus
  # the consumers of vendordata, config drives and DHCP option 42; Nova's own vendordata code
  cloud-init xorriso dnsmasq-base isc-dhcp-client python3-nova
  # NTS cookie keys shared by a fleet: a real etcd cluster on loopback
  etcd-server etcd-client
  # the Ansible role, deployed over SSH to booted test hosts
  ansible openssh-client
  # cloudtimed in a host-network container, as Kolla runs per-host services (runc: Debian's
  # crun 1.8 refuses hybrid cgroups)
  podman runc
  # validate-image: QEMU, and what builds the test images; its HTML report opened headless
  qemu-system-x86 qemu-utils debootstrap curl xz-utils chromium
)
case "$part" in
all) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
--build) packages=("${build_packages[@]}") ;;
--test) packages=("${test_packages[@]}") ;;
esac

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

# The user cloudtimed drops to (server.user), as the package makes it: the daemon and the
# tests run as it. (No group of chrony's: it asks chronyd on its UDP command port.)
make_user() {
  if [ "$(id -u)" -eq 0 ]; then
    systemd-sysusers "$repo/deploy/systemd/cloudtimed.sysusers"
  elif ! getent passwd _cloudtime >/dev/null; then
    echo "bootstrap: no user _cloudtime: run this script as root to make it" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  make_user
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
  echo "bootstrap: run this script as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "bootstrap: installing ${missing[*]}"
# Keep package scripts from starting services (chronyd would discipline this host's clock).
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' > "$guard"
  chmod 755 "$guard"
fi
cleanup() { if [ -n "$guard" ]; then rm -f "$guard"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
had_cloud_init=$(dpkg-query -W -f='${db:Status-Status}' cloud-init 2>/dev/null || true)
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# cloud-init is here for its parsers and schema; it must never configure this machine at boot.
if [ "$had_cloud_init" != "installed" ] && [ -d /etc/cloud ]; then
  touch /etc/cloud/cloud-init.disabled
fi
make_user
echo "bootstrap: done"
