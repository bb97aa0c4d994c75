# SPDX-License-Identifier: Apache-2.0
# The body of the vendordata shell part (cloudtime renders the settings above it). It runs
# once per instance in cloud-init's final stage (scripts-vendor), whatever the user-data says,
# and points the image's own NTP client at the cloud's time service without replacing the
# distribution's configuration: files the client already reads, then a reload.
#   CLOUDTIME_SERVERS  NTP servers, space-separated
#   CLOUDTIME_SOURCES  yes: configure the servers; no: cloud-init's ntp module did
#   CLOUDTIME_PTP_KVM  yes: load ptp_kvm (now and at every boot), use /dev/ptp_kvm in chrony
#   CLOUDTIME_XLEAVE   yes: chrony asks the servers for interleaved mode (xleave); timesyncd
#                      has no such mode
#   CLOUDTIME_NTS      yes: chrony authenticates the servers with NTS (nts); timesyncd cannot
#   CLOUDTIME_NTS_CA   PEM certificates chrony trusts for NTS (ntstrustedcerts); empty: the
#                      image's own trust store
#   CLOUDTIME_ROOT     apply to this directory tree instead of / (tests, image builders);
#                      then nothing is loaded, reloaded or restarted, only reported
set -u
root="${CLOUDTIME_ROOT:-}"
# The tenant's own user-data, as cloud-init merged its cloud-config parts.
user_config="/var/lib/cloud/instance/cloud-config.txt"

log() {
    echo "cloudtime: $*" >&2
    if [ -z "$root" ] && command -v logger >/dev/null 2>&1; then
        logger -t cloudtime -- "$*" || true
    fi
}

# run COMMAND...: its output is discarded (its status says enough); under CLOUDTIME_ROOT it
# is only reported.
run() {
    if [ -n "$root" ]; then
        log "not run (CLOUDTIME_ROOT is set): $*"
        return 0
    fi
    "$@" >/dev/null 2>&1
}

# restart UNIT...: each that exists and runs; queued, never waited for (cloud-init itself
# may be what the unit is ordered after).
restart() {
    for unit in "$@"; do
        run systemctl --no-block try-restart "$unit" || true
    done
}

# write FILE CONTENT: replaces FILE whole, so a half-written file is never read.
write() {
    mkdir -p "$root$(dirname "$1")" || return 1
    printf '%s\n' "$2" > "$root$1.cloudtime-new" && mv "$root$1.cloudtime-new" "$root$1" ||
        return 1
    log "wrote $1"
}

# directive NAME: the first argument of the first NAME line in chrony's config, skipping
# directories under /run (DHCP's sources live there and vanish at reboot).
directive() {
    sed -n "s/^[[:space:]]*$1[[:space:]][[:space:]]*\([^[:space:]#]*\).*/\1/p" \
        "$root$chrony_conf" | grep -v '^/run/' | head -n 1
}

# The tenant's choice wins: an `ntp:` section in its user-data (cloud-init's ntp module has
# configured the client from it) is left alone, as cloud-init lets user-data override
# vendordata.
if [ -f "$root$user_config" ] && grep -q '^ntp:' "$root$user_config"; then
    log "the tenant's user-data configures NTP (its ntp: section): left to it, nothing changed"
    exit 0
fi

ptp_device=""
if [ "$CLOUDTIME_PTP_KVM" = yes ]; then
    write /etc/modules-load.d/cloudtime-ptp_kvm.conf ptp_kvm
    if run modprobe ptp_kvm; then
        run udevadm settle --timeout=10 || true
    fi
    if [ -e "$root/dev/ptp_kvm" ]; then
        ptp_device=/dev/ptp_kvm
    else
        log "no /dev/ptp_kvm (not a KVM guest, or the host offers no PTP clock): NTP only"
    fi
fi

chrony_conf=""
for candidate in /etc/chrony/chrony.conf /etc/chrony.conf; do
    if [ -f "$root$candidate" ]; then
        chrony_conf=$candidate
        break
    fi
done
timesyncd=""
for candidate in /lib/systemd/systemd-timesyncd /usr/lib/systemd/systemd-timesyncd; do
    if [ -x "$root$candidate" ]; then
        timesyncd=$candidate
    fi
done

if [ -n "$chrony_conf" ]; then
    sources_dir=$(directive sourcedir)
    conf_dir=$(directive confdir)
    if [ -z "$conf_dir" ]; then
        include=$(directive include)
        case "$include" in
        */\*.conf) conf_dir=${include%/\*.conf} ;;
        esac
    fi
    if [ -z "$conf_dir" ]; then
        # No directory of drop-ins (the RHEL family): one line makes chrony read one.
        case "$chrony_conf" in
        /etc/chrony.conf) conf_dir=/etc/chrony.d ;;
        *) conf_dir=/etc/chrony/conf.d ;;
        esac
        if ! grep -q '^# cloudtime: drop-ins$' "$root$chrony_conf"; then
            printf '\n# cloudtime: drop-ins\nconfdir %s\n' "$conf_dir" >> "$root$chrony_conf"
            log "added 'confdir $conf_dir' to $chrony_conf"
        fi
    fi
    action=""
    if [ "$CLOUDTIME_SOURCES" = yes ]; then
        lines=""
        options="iburst prefer"
        [ "${CLOUDTIME_XLEAVE:-no}" = yes ] && options="$options xleave"
        [ "${CLOUDTIME_NTS:-no}" = yes ] && options="$options nts"
        if [ "${CLOUDTIME_NTS:-no}" = yes ] && [ -n "${CLOUDTIME_NTS_CA:-}" ]; then
            # Read at chronyd's start only: a restart, not a reload of the sources.
            write "$conf_dir/cloudtime-nts-ca.crt" "$CLOUDTIME_NTS_CA" &&
                write "$conf_dir/cloudtime-nts.conf" "# The cloud's NTS certificates (cloudtime vendordata)
ntstrustedcerts $conf_dir/cloudtime-nts-ca.crt" && nts_action=restart
        fi
        for server in $CLOUDTIME_SERVERS; do
            lines="${lines}server $server $options
"
        done
        lines="# NTP from the cloud (cloudtime vendordata)
${lines%?}"
        if [ -n "$sources_dir" ]; then
            write "$sources_dir/cloudtime.sources" "$lines" && action=reload
        else
            write "$conf_dir/cloudtime-servers.conf" "$lines" && action=restart
        fi
    fi
    [ -n "${nts_action:-}" ] && action=restart
    if [ -n "$ptp_device" ]; then
        write "$conf_dir/cloudtime-ptp.conf" "# The hypervisor's clock (cloudtime vendordata)
refclock PHC $ptp_device poll 2" && action=restart
    fi
    case "$action" in
    reload)
        run chronyc reload sources || restart chrony.service chronyd.service
        ;;
    restart)
        restart chrony.service chronyd.service
        ;;
    esac
    nts_note=""
    [ "${CLOUDTIME_NTS:-no}" = yes ] && nts_note=" (NTS)"
    log "chrony ($chrony_conf) uses: ${CLOUDTIME_SERVERS}${nts_note}${ptp_device:+ $ptp_device}"
elif [ -n "$timesyncd" ]; then
    if [ "$CLOUDTIME_SOURCES" = yes ]; then
        write /etc/systemd/timesyncd.conf.d/cloudtime.conf "# NTP from the cloud (cloudtime vendordata)
[Time]
NTP=$CLOUDTIME_SERVERS"
        restart systemd-timesyncd.service
    fi
    if [ "$CLOUDTIME_PTP_KVM" = yes ]; then
        log "systemd-timesyncd cannot read a PTP clock; install chrony to use it"
    fi
    if [ "${CLOUDTIME_NTS:-no}" = yes ]; then
        log "systemd-timesyncd has no NTS: its time from the cloud is not authenticated; install chrony for NTS"
    fi
    log "systemd-timesyncd uses: $CLOUDTIME_SERVERS"
else
    log "no NTP client found (neither chrony nor systemd-timesyncd): nothing configured"
fi
exit 0
