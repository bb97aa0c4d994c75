#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages that cloudtime needs: only what is missing, so a second run
# changes nothing. Services that packages bring are not started (the tests start their own
# peers, and nothing here may touch this host's clock), with one exception: a host whose time
# daemon an install removes gets chrony started in its place (see hand_over_time below).
#   scripts/bootstrap.sh --build    what building and running cloudtimed needs (the README's
#                                   first command)
#   scripts/bootstrap.sh --package  that, and what `dpkg-buildpackage` needs
#   scripts/bootstrap.sh --test     the tests' peers and tools (scripts/test.sh installs them
#                                   while it builds)
#   scripts/bootstrap.sh --cloud    OpenStack Zed from Debian 12, for the real cloud of
#                                   tests/openstack (scripts/test.sh --full installs it)
#   scripts/bootstrap.sh            all of them
# CLOUDTIME_BOOTSTRAP_ROOT (its test only) is where /etc and /usr/sbin are looked for.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
part=${1:-all}
case "$part" in
all | --build | --package | --test | --cloud) ;;
*) echo "usage: scripts/bootstrap.sh [--build|--package|--test|--cloud]" >&2; exit 64 ;;
esac

build_packages=(
  g++ cmake ninja-build pkg-config
  libssl-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libnftables-dev libboost-dev libseccomp-dev libsystemd-dev
  # the man pages
  go-md2man
)
package_packages=(debhelper)
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
# The all-in-one cloud's packages: tests/openstack/allinone.py keeps the list.
cloud_packages=()
if [ "$part" = --cloud ]; then
  read -r -a cloud_packages <<<"$(python3 "$repo/tests/openstack/allinone.py" packages)"
fi
case "$part" in
all) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
--cloud) packages=("${cloud_packages[@]}") ;;
--build) packages=("${build_packages[@]}") ;;
--package) packages=("${build_packages[@]}" "${package_packages[@]}") ;;
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

# A host that keeps its time with a daemon keeps one. Debian's time daemons (chrony,
# systemd-timesyncd, ntpsec, ntp, openntpd) conflict with each other: installing chrony, a test
# peer, removes whichever other one is there. Said before it happens; afterwards chrony is
# started in its place with the servers the removed one was configured with.
root=${CLOUDTIME_BOOTSTRAP_ROOT:-}
running_time_daemon() {  # the process name of the time daemon that runs, if one does
  local name
  for name in chronyd systemd-timesyn ntpd openntpd; do
    if pgrep -x "$name" >/dev/null 2>&1; then
      echo "$name"
      return 0
    fi
  done
  return 1
}
configured_servers() {  # "server HOST" / "pool HOST" lines of the installed time daemon's config
  local file words
  words=""
  for file in "$root/etc/systemd/timesyncd.conf" "$root"/etc/systemd/timesyncd.conf.d/*.conf; do
    [ -f "$file" ] || continue
    while IFS= read -r line; do
      case "$line" in
      NTP=*) words=${line#NTP=} ;;  # the last assignment wins; an empty one resets
      esac
    done <"$file"
  done
  for host in $words; do echo "server $host"; done
  for file in "$root/etc/ntpsec/ntp.conf" "$root/etc/ntp.conf"; do
    [ -f "$file" ] || continue
    awk '($1 == "server" || $1 == "pool") && $2 !~ /^127\./ && $2 != "::1" { print $1, $2 }' "$file"
  done
}

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
keeper=$(running_time_daemon || true)
removed=$(apt-get -s -qq install --no-install-recommends "${missing[@]}" |
  awk '$1 == "Remv" { printf "%s ", $2 }')
servers=""
if [ -n "$keeper" ] && [ "$keeper" != chronyd ] && [ -n "$removed" ]; then
  servers=$(configured_servers)
  with="Debian's pool (no servers of its own were configured)"
  if [ -n "$servers" ]; then
    with="the same servers: $(tr '\n' ',' <<<"$servers" | sed 's/,$//; s/,/, /g')"
  fi
  echo "bootstrap: this install removes ${removed% } (Debian's chrony package, a test peer," \
    "conflicts with every other time daemon), and $keeper keeps this host's time now:" \
    "chrony is started in its place, with $with"
fi

echo "bootstrap: installing ${missing[*]}"
# Keep package scripts from starting services (chronyd would discipline this host's clock).
guard=""
if [ ! -e "$root/usr/sbin/policy-rc.d" ]; then
  guard="$root/usr/sbin/policy-rc.d"
  printf '#!/bin/sh\nexit 101\n' >"$guard"
  chmod 755 "$guard"
fi
cleanup() { if [ -n "$guard" ]; then rm -f "$guard"; fi; }
trap cleanup EXIT

had_cloud_init=$(dpkg-query -W -f='${db:Status-Status}' cloud-init 2>/dev/null || true)
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# cloud-init is here for its parsers and schema; it must never configure this machine at boot.
if [ "$had_cloud_init" != "installed" ] && [ -d "$root/etc/cloud" ]; then
  touch "$root/etc/cloud/cloud-init.disabled"
fi
make_user

if [ -n "$keeper" ] && ! running_time_daemon >/dev/null; then
  if [ -n "$servers" ]; then
    sources="$root/etc/chrony/sources.d/cloudtime-bootstrap.sources"
    mkdir -p "$(dirname "$sources")"
    {
      echo "# The servers $keeper used before scripts/bootstrap.sh installed chrony in its place."
      sed 's/$/ iburst/' <<<"$servers"
    } >"$sources"
    echo "bootstrap: wrote $sources"
  fi
  cleanup
  guard=""
  if ! invoke-rc.d chrony start || ! running_time_daemon >/dev/null; then
    echo "bootstrap: this host's time daemon ($keeper) was removed and chrony did not start:" \
      "it has no time daemon now; start one (invoke-rc.d chrony start)" >&2
    exit 1
  fi
  echo "bootstrap: chrony keeps this host's time now, in place of $keeper"
fi
echo "bootstrap: done"
