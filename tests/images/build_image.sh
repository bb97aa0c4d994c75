#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a small Debian cloud image the way vendors build theirs, for the tests of
# `cloudtime validate-image`: debootstrap (systemd, cloud-init with its ConfigDrive datasource,
# a kernel, and chrony, only systemd-timesyncd, or no NTP client at all), one ext4 partition
# labelled "root" on an MBR disk with GRUB in the MBR (it boots through the firmware like a
# vendor image), serial console, converted to qcow2. Nothing of cloudtime is in it.
#
#   tests/images/build_image.sh [--release bullseye|bookworm|trixie] [--network ifupdown|networkd]
#                               [--from BASE.qcow2] chrony|timesyncd|none OUT.qcow2 [CACHE_DIR]
#
# --from derives the image from a chrony image of the same release built here (seconds, not
# minutes: no debootstrap): chrony purged for none; chrony purged and the release's
# systemd-timesyncd installed from the mirror for timesyncd; ifupdown purged and
# systemd-networkd enabled for --network networkd.
#
# Releases: Debian 11 (cloud-init 20.4), 12 (22.4, the default), 13 (25.1). The network is
# brought up by ifupdown with ISC dhclient (the default) or by systemd-networkd (cloud-init
# renders it when ifupdown is absent).
# Beside the image, OUT.qcow2.dpkg-status: the image's dpkg status file, from which tests that
# install packages into it work out what it lacks (apt-get -s against it).
# Needs root (debootstrap, loop devices) and Debian's package mirror; about 100 s with a warm
# package cache. The mirror is the first one in this machine's apt sources.
set -euo pipefail

usage="usage: build_image.sh [--release bullseye|bookworm|trixie] [--network ifupdown|networkd] [--from BASE.qcow2] chrony|timesyncd|none OUT.qcow2 [CACHE_DIR]"
release=bookworm
network=ifupdown
base=""
while [ $# -gt 0 ]; do
  case "$1" in
  --release) release=${2:?$usage}; shift 2 ;;
  --network) network=${2:?$usage}; shift 2 ;;
  --from) base=${2:?$usage}; shift 2 ;;
  --*) echo "build_image: unknown option '$1'; $usage" >&2; exit 64 ;;
  *) break ;;
  esac
done
variant=${1:?$usage}
out=${2:?$usage}
cache=${3:-/var/cache/cloudtime-test-images/debs}
cache=$cache/$release  # one per release: builds of two releases may run at once
case "$variant" in
chrony) client=,chrony ;;
timesyncd) client=,systemd-timesyncd ;;
none) client="" ;;
*) echo "build_image: variant must be chrony, timesyncd or none, not '$variant'" >&2; exit 64 ;;
esac
case "$release" in
bullseye | bookworm | trixie) ;;
*) echo "build_image: release must be bullseye, bookworm or trixie, not '$release'" >&2; exit 64 ;;
esac
case "$network" in
ifupdown) network_packages=ifupdown,isc-dhcp-client ;;
networkd) network_packages="" ;;  # systemd's own, enabled below (cloud-init pulls dhclient in)
*) echo "build_image: network must be ifupdown or networkd, not '$network'" >&2; exit 64 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "build_image: needs root" >&2; exit 77; }
for tool in debootstrap qemu-img sfdisk partx losetup mkfs.ext4; do
  command -v "$tool" >/dev/null || { echo "build_image: $tool is missing (bootstrap.sh)" >&2; exit 77; }
done

mirror=$(grep -rhoE '^deb(\s+\[[^]]*\])?\s+https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  awk '{print $NF}' | head -n 1 || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -rhoE '^URIs:\s+https?://[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | head -n 1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/cloudtime-image.XXXXXX)
root="$work/root"
mnt="$work/mnt"
loop=""
cleanup() {
  for m in dev/pts dev proc sys; do umount "$mnt/$m" 2>/dev/null || true; done
  umount "$mnt" 2>/dev/null || true
  if [ -n "$loop" ]; then
    partx -d "$loop" 2>/dev/null || true
    losetup -d "$loop" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$cache" "$mnt"

# attach RAW: the loop device with its partition node.
attach() {
  loop=$(losetup -f --show "$1")
  # losetup --partscan does not make the partition node here; partx does (or finds it made).
  partx -a "$loop" 2>/dev/null || partx -u "$loop" 2>/dev/null || true
  for try in 1 2 3 4 5 6 7 8 9 10; do
    [ -b "${loop}p1" ] && break
    [ "$try" -lt 10 ] || { echo "build_image: no partition node ${loop}p1" >&2; exit 1; }
    udevadm settle 2>/dev/null || true
    sleep 1
  done
}

# detach: unmounted first; udev may still hold the partition (probing it after the unmount),
# so ask again for a while.
detach() {
  for try in 1 2 3 4 5 6 7 8 9 10; do
    partx -d "$loop" 2>/dev/null && break
    [ "$try" -lt 10 ] || { echo "build_image: partx cannot remove ${loop}p1" >&2; exit 1; }
    udevadm settle 2>/dev/null || true
    sleep 1
  done
  losetup -d "$loop"
  loop=""
}

# finish RAW: OUT.qcow2 and its dpkg status, replacing any old ones only when both are made.
finish() {
  mkdir -p "$(dirname "$out")"
  qemu-img convert -O qcow2 "$1" "$out.new"
  mv "$work/dpkg-status" "$out.dpkg-status"
  mv "$out.new" "$out"
  echo "build_image: $out ($(du -h "$out" | cut -f1))"
}

# deb PACKAGE: the release's .deb of PACKAGE from the mirror, checked against its index, in the
# cache; prints its path.
deb() {
  local index="$cache/Packages.xz" fields file sum
  if [ ! -s "$index" ] || [ -n "$(find "$index" -mmin +720)" ]; then
    curl -fsS --max-time 300 -o "$index.new" "$mirror/dists/$release/main/binary-amd64/Packages.xz"
    mv "$index.new" "$index"
  fi
  fields=$(xz -dc "$index" | awk -v p="$1" '$0 == "Package: " p {f=1} f && /^Filename:/ {n=$2}
    f && /^SHA256:/ {s=$2} f && /^$/ {print n, s; exit}')
  file=${fields% *}
  sum=${fields#* }
  [ -n "$file" ] || { echo "build_image: $1 is not in $release" >&2; exit 1; }
  if [ ! -s "$cache/$(basename "$file")" ]; then
    curl -fsS --max-time 300 -o "$cache/$(basename "$file").new" "$mirror/$file"
    mv "$cache/$(basename "$file").new" "$cache/$(basename "$file")"
  fi
  echo "$sum  $cache/$(basename "$file")" | sha256sum -c --quiet >&2 ||
    { echo "build_image: $file does not match the index" >&2; exit 1; }
  echo "$cache/$(basename "$file")"
}

if [ -n "$base" ]; then
  [ -f "$base" ] || { echo "build_image: --from $base: not a file" >&2; exit 66; }
  echo "build_image: $out from $base ($variant, $network)"
  qemu-img convert -O raw "$base" "$work/disk.raw"
  attach "$work/disk.raw"
  mount "${loop}p1" "$mnt"
  for m in dev dev/pts proc sys; do mount --bind "/$m" "$mnt/$m"; done
  # Nothing is started or stopped in the image while its packages change.
  printf '#!/bin/sh\nexit 101\n' >"$mnt/usr/sbin/policy-rc.d"
  chmod 755 "$mnt/usr/sbin/policy-rc.d"
  has() { chroot "$mnt" dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -q '^installed$'; }
  if [ "$variant" != chrony ] && has chrony; then
    chroot "$mnt" dpkg --purge chrony >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; exit 1; }
  fi
  if [ "$variant" = timesyncd ] && ! has systemd-timesyncd; then
    cp "$(deb systemd-timesyncd)" "$mnt/tmp/systemd-timesyncd.deb"
    chroot "$mnt" dpkg -i /tmp/systemd-timesyncd.deb >"$work/dpkg.log" 2>&1 ||
      { cat "$work/dpkg.log" >&2; exit 1; }
    rm "$mnt/tmp/systemd-timesyncd.deb"
  fi
  if [ "$variant" = chrony ] && ! has chrony; then
    echo "build_image: --from needs a chrony image to make a chrony one" >&2; exit 64
  fi
  if [ "$network" = networkd ] && has ifupdown; then
    # ISC dhclient stays: cloud-init depends on it (for its own probes), ifupdown ran it.
    chroot "$mnt" dpkg --purge ifupdown >"$work/dpkg.log" 2>&1 ||
      { cat "$work/dpkg.log" >&2; exit 1; }
    chroot "$mnt" systemctl enable systemd-networkd.service >/dev/null 2>&1
  fi
  rm "$mnt/usr/sbin/policy-rc.d"
  echo "cloudtime-image-$variant" >"$mnt/etc/hostname"
  cp "$mnt/var/lib/dpkg/status" "$work/dpkg-status"
  for m in dev/pts dev proc sys; do umount "$mnt/$m"; done
  umount "$mnt"
  detach
  finish "$work/disk.raw"
  exit 0
fi
packages=systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,grub-pc-bin,grub2-common
packages=$packages,cloud-init,python3-cffi-backend,python3-jsonschema,locales
packages=$packages,iproute2,procps${network_packages:+,$network_packages}$client
echo "build_image: debootstrap $release ($variant, $network) from $mirror"
debootstrap --variant=minbase --include="$packages" --cache-dir="$cache" "$release" "$root" \
  "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
if [ "$network" = networkd ]; then
  # As images that use systemd-networkd ship it: enabled; cloud-init writes its .network files.
  chroot "$root" systemctl enable systemd-networkd.service >/dev/null 2>&1
fi

echo "cloudtime-image-$variant" >"$root/etc/hostname"
echo "LANG=C.UTF-8" >"$root/etc/default/locale"
echo "LABEL=root / ext4 defaults,errors=remount-ro 0 1" >"$root/etc/fstab"
: >"$root/etc/machine-id"  # a new one at first boot, like a vendor image
mkdir -p "$root/etc/cloud/cloud.cfg.d"
cat >"$root/etc/cloud/cloud.cfg.d/90-cloudtime-test.cfg" <<'CFG'
# As a vendor's cloud image: a config drive when the cloud gives one (validate-image always
# does, so no datasource probes the network there), else Nova's metadata service over HTTP
# (the all-in-one cloud's servers, tests/openstack).
datasource_list: [ ConfigDrive, OpenStack, None ]
CFG
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<'GRUB'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
search --no-floppy --label root --set=root
linux /vmlinuz root=LABEL=root ro console=ttyS0,115200 net.ifnames=0
initrd /initrd.img
boot
GRUB

raw="$work/disk.raw"
truncate -s 2G "$raw"
echo 'start=2048, type=83, bootable' | sfdisk -q "$raw"
attach "$raw"
mkfs.ext4 -q -L root "${loop}p1"
mount "${loop}p1" "$mnt"
cp -a "$root/." "$mnt/"
for m in dev dev/pts proc sys; do mount --bind "/$m" "$mnt/$m"; done
chroot "$mnt" grub-install --target=i386-pc --modules="part_msdos ext2 search_label serial" \
  "$loop" >"$work/grub.log" 2>&1 || { cat "$work/grub.log" >&2; exit 1; }
for m in dev/pts dev proc sys; do umount "$mnt/$m"; done
umount "$mnt"
detach
cp "$root/var/lib/dpkg/status" "$work/dpkg-status"
finish "$raw"
