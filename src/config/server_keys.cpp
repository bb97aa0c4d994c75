// SPDX-License-Identifier: Apache-2.0
// The keys of [server], [clock] and [leap]: what is served, from which clock, and how a leap
// second is passed on.
#include <algorithm>
#include <array>

#include "config/config_keys.hpp"
#include "proto/refid.hpp"

namespace cloudtime::config {

namespace {

constexpr std::int64_t kMaxSmear = 7 * 86'400LL;  // a week: longer smears serve no one

Status read_listen(const KeyReading& v, std::vector<sys::SocketAddress>& out) {
    const toml::array* list = v.node.as_array();
    if (list == nullptr) {
        return v.fail("server.listen must be an array of \"ADDR:PORT\"");
    }
    std::vector<sys::SocketAddress> addresses;
    for (const toml::node& item : *list) {
        const auto text = item.value<std::string>();
        if (!item.is_string() || !text) {
            return v.reader.fail(item.source(), "server.listen entries must be strings");
        }
        auto address = sys::parse_socket_address(*text);
        if (!address) {
            return v.reader.fail(item.source(), "server.listen: " + address.error());
        }
        // Bound twice (SO_REUSEPORT allows it), an address would only split its own traffic.
        if (address->port() != 0 && std::ranges::find(addresses, *address) != addresses.end()) {
            return v.reader.fail(item.source(),
                                 "server.listen: " + address->to_string() + " is listed twice");
        }
        addresses.push_back(*address);
    }
    if (addresses.empty()) {
        return v.fail("server.listen must name at least one address");
    }
    out = std::move(addresses);
    return Done{};
}

Status read_source(const KeyReading& v, ClockSourceKind& out) {
    return v.choose(std::array{ClockSourceKind::automatic, ClockSourceKind::chrony,
                               ClockSourceKind::kernel, ClockSourceKind::local},
                    out);
}

Status read_command_address(const KeyReading& v, std::optional<sys::SocketAddress>& out) {
    std::string text;
    if (auto s = v.text(text); !s) {
        return s;
    }
    if (text.empty()) {
        out.reset();
        return Done{};
    }
    auto address = sys::parse_socket_address(text);
    if (!address || address->port() == 0) {
        return v.fail("clock.chrony_command_address must be \"ADDR:PORT\" or \"\", not \"" + text +
                      "\"");
    }
    out = *address;
    return Done{};
}

Status read_refid(const KeyReading& v, std::uint32_t& refid) {
    std::string text;
    if (auto s = v.text(text); !s) {
        return s;
    }
    const auto parsed = proto::parse_refid(text);
    if (!parsed) {
        return v.fail(v.name() + " '" + text +
                      "' is neither an IPv4 address nor 1-4 ASCII characters");
    }
    refid = *parsed;
    return Done{};
}

Status read_leap_mode(const KeyReading& v, proto::LeapMode& out) {
    return v.choose(std::array{proto::LeapMode::pass, proto::LeapMode::smear}, out);
}

Status read_smear_shape(const KeyReading& v, proto::SmearShape& out) {
    return v.choose(std::array{proto::SmearShape::linear, proto::SmearShape::cosine}, out);
}

// The leap must fall inside the smear window.
Status check_leap(const TomlReader& reader, const toml::table& table, const Config& c) {
    if (c.smear.start_before_s <= c.smear.duration_s) {
        return Done{};
    }
    const toml::node* start = table.get("smear_start_before");
    return reader.fail(start != nullptr ? start->source() : table.source(),
                       "leap.smear_start_before must not exceed leap.smear_duration (the leap "
                       "must fall inside the smear window)");
}

const ConfigKey kServerKeys[] = {
    {.name = "listen",
     .value = "[\"127.0.0.1:11123\"]",
     .type = KeyType::other,
     .kind = "array of \"ADDR:PORT\" (IPv6 as \"[ADDR]:PORT\")",
     .summary = "ADDR:PORT, IPv6 as [ADDR]:PORT; several allowed",
     .doc = "addresses to serve NTP on: `ADDR:PORT`, IPv6 as `[ADDR]:PORT` (link-local with "
            "`%IFACE`). Wildcards (`0.0.0.0`, `[::]`) answer from the address each request was "
            "sent to. `--listen` replaces the list. Port 0 picks a free port (logged).",
     .read = [](const KeyReading& v, Config& c) { return read_listen(v, c.listen); }},
    {.name = "threads",
     .value = "0",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 0,
     .hi = 1024,
     .summary = "worker threads; 0 = one per core",
     .doc = "worker threads; 0 = one per core. Each worker has its own socket on every address "
            "(SO_REUSEPORT).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.threads); },
     .same = [](const Config& a, const Config& b) { return a.threads == b.threads; }},
    {.name = "batch_size",
     .value = "32",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = 1024,
     .summary = "datagrams per recvmmsg/sendmmsg call",
     .doc =
         "datagrams a worker reads with one `recvmmsg` and answers with one `sendmmsg` (1-1024).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.batch_size); },
     .same = [](const Config& a, const Config& b) { return a.batch_size == b.batch_size; }},
    {.name = "receive_buffer",
     .value = "4194304",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 0,
     .hi = 1U << 30U,
     .summary = "SO_RCVBUF bytes per socket (absorbs bursts); 0 = kernel default",
     .doc = "receive buffer of each socket in bytes (0 = the kernel's default, 0-1073741824). It "
            "absorbs bursts, such as many VMs polling on the same second: with the kernel's "
            "default of 208 KiB a socket holds only a few hundred queued requests. cloudtimed "
            "forces the size when it has CAP_NET_ADMIN; without it the kernel caps it at "
            "`net.core.rmem_max`. The kernel's count is logged at start: twice the size set, the "
            "second half paying for its bookkeeping. A queued request keeps its kernel receive "
            "timestamp, so waiting in the buffer does not skew the time served.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.receive_buffer); },
     .same = [](const Config& a, const Config& b) { return a.receive_buffer == b.receive_buffer; }},
    {.name = "user",
     .value = "\"_cloudtime\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a user name, or \"\" to stay root",
     .summary = "started as root: drop to this user after binding (\"\": stay root)",
     .doc = "started as root, after binding its sockets the daemon switches to this user (its "
            "group and the groups `/etc/group` gives it), with no capabilities and `no_new_privs`; "
            "it refuses `root` and unknown users (exit 1). `\"\"`: it keeps running as root. Not "
            "started as root: ignored. With `[tenant_networks]` on, a privileged helper does the "
            "namespace work (below).",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.user); },
     .same = [](const Config& a, const Config& b) { return a.user == b.user; }},
    {.name = "runtime_directory",
     .value = "\"/run/cloudtime\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: an absolute path",
     .summary = "the chrony client socket; made and owned by `user`",
     .doc = "made at start if missing (0755, root's until the drop) and given to `user` when it "
            "drops root: cloudtimed's socket where chronyd answers lives here, so that the "
            "unprivileged process can make it again after a chronyd restart and remove it at stop. "
            "Put `status.socket` here too (the default does): a status socket in a directory "
            "`user` cannot write to stays behind after a stop (warned at start).",
     .read = [](const KeyReading& v, Config& c) { return v.absolute_path(c.runtime_directory); },
     .same = [](const Config& a,
                const Config& b) { return a.runtime_directory == b.runtime_directory; }},
    {.name = "seccomp",
     .value = "true",
     .type = KeyType::boolean,
     .reload = KeyReload::restart,
     .summary = "once started, any system call cloudtimed does not make kills it",
     .doc = "once everything is started, a seccomp filter (libseccomp) allows the daemon, every "
            "thread of it, only the system calls it makes; any other call ends the process at once "
            "(killed by SIGSYS, logged by the kernel's audit as `type=1326`), so that a bug an "
            "attacker reaches cannot become a shell, a `ptrace` or a `mount`. The vendordata "
            "process gets a narrower filter of its own. Logged at start: `seccomp: N system calls "
            "allowed`. `false`: no filter (to rule it out when something is killed by SIGSYS; "
            "please report the call).",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.seccomp); },
     .same = [](const Config& a, const Config& b) { return a.seccomp == b.seccomp; }},
    {.name = "interleaved",
     .value = "true",
     .type = KeyType::boolean,
     .summary = "interleaved mode (RFC 9769) for clients that ask (chrony xleave)",
     .doc = "interleaved mode (RFC 9769) for the clients that ask for it (chrony's `xleave`; "
            "ntpd-rs, timesyncd and ntpdate never do): a reply carries the exact transmit time of "
            "the reply before it, taken by the kernel when the driver sent it (a software "
            "timestamp, `SO_TIMESTAMPING`), instead of a time read before the send. Their clients "
            "measure the offset with less error: see BENCHMARKS.md. Everyone else is answered in "
            "basic mode as before. A client is recognised by the receive timestamp of its previous "
            "exchange (which only it and the path have seen) and its address, so a spoofed source "
            "can neither read nor change another client's record. While a leap second is smeared, "
            "no records are made (those clients get basic mode). Hardware timestamps are not used. "
            "Logged at start: `interleaved mode on: N records (K KiB)`.",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.interleaved); }},
    {.name = "interleaved_records",
     .value = "65536",
     .type = KeyType::integer,
     .lo = 4,
     .hi = 1 << 24,
     .summary = "replies remembered for it (24 octets each), all workers",
     .doc = "replies remembered for interleaved mode, 24 octets each, shared by the workers "
            "(4-16777216, rounded up to a power of two). A client's record must survive until its "
            "next request: size it above the requests all clients send in one poll interval. A "
            "flood of other sources only pushes records out, which sends those clients back to "
            "basic mode for one exchange; the memory stays fixed.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.interleaved_records); }},
};

const ConfigKey kClockKeys[] = {
    {.name = "source",
     .value = "\"auto\"",
     .type = KeyType::choice,
     .reload = KeyReload::restart,
     .choices = "auto chrony kernel local",
     .summary = "chrony | kernel | local | auto (chrony if its socket exists)",
     .doc = "`chrony`: the host's chronyd (below). `kernel`: the kernel's time state through "
            "read-only `adjtimex` (nothing is ever changed). If the kernel says unsynchronized "
            "(`STA_UNSYNC`), every reply says LI=3, stratum 0, and clients ignore it. The root "
            "dispersion is the kernel's `maxerror`, which the host's time daemon resets at each "
            "update and the kernel grows by 500 ppm between updates; it grows further at 15 ppm "
            "between cloudtimed's once-a-second readings. The leap indicator follows the kernel's "
            "`STA_INS`/`STA_DEL`. `local`: lab only, always synchronized (see below). `auto`: "
            "`chrony` if `chrony_socket` exists when cloudtimed starts, else `kernel` (the choice "
            "is logged).",
     .read = [](const KeyReading& v, Config& c) { return read_source(v, c.clock_source); },
     .same = [](const Config& a, const Config& b) { return a.clock_source == b.clock_source; }},
    {.name = "chrony_socket",
     .value = "\"/run/chrony/chronyd.sock\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "chronyd's command socket (tracking, read-only)",
     .doc = "chronyd's command socket. cloudtimed asks it for `tracking` once a second (never from "
            "the serving threads), through a socket file of its own in `server.runtime_directory` "
            "(mode 0666, so that chronyd, another user, can answer). chrony lets only root and its "
            "own user write to this socket (it is 0755 `_chrony`, in a 0700 or 0750 directory): "
            "over it, every chronyc command is allowed, clock changes included.",
     .read = [](const KeyReading& v, Config& c) { return v.nonempty_text(c.chrony_socket); },
     .same = [](const Config& a, const Config& b) { return a.chrony_socket == b.chrony_socket; }},
    {.name = "chrony_command_address",
     .value = "\"127.0.0.1:323\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "\"ADDR:PORT\", or \"\" for none",
     .summary =
         "chronyd's command port, asked when server.user cannot write to the socket (\"\": never)",
     .doc = "chronyd's UDP command port (chrony.conf `cmdport`, on by default on 127.0.0.1 and "
            "::1), which answers monitoring commands (`tracking`, `sources`) to anyone chrony's "
            "`cmdallow` allows (localhost by default) and never a command that changes anything. "
            "When `server.user` cannot write to `chrony_socket` (the normal case), cloudtimed asks "
            "here instead (logged at start). `\"\"`: never; then `--check-config` and the start "
            "warn that the user cannot reach chronyd.",
     .read = [](const KeyReading& v,
                Config& c) { return read_command_address(v, c.chrony_command_address); },
     .same = [](const Config& a,
                const Config& b) { return a.chrony_command_address == b.chrony_command_address; }},
    {.name = "holdover",
     .value = "0",
     .type = KeyType::seconds,
     .lo = 0,
     .hi = 86400,
     .summary = "seconds to keep serving the last state after losing it",
     .doc =
         "seconds (0-86400) to keep serving the last synchronized state after the source of truth "
         "is lost (chronyd gone or unsynchronized, the kernel unsynchronized). The root dispersion "
         "keeps growing at 15 ppm from the last update, so clients see the uncertainty rise. 0: "
         "LI=3 at once, that is within 2 s of the loss (but see `restart_grace`).",
     .read = [](const KeyReading& v, Config& c) { return v.seconds(c.holdover_s); }},
    {.name = "restart_grace",
     .value = "30",
     .type = KeyType::seconds,
     .lo = 0,
     .hi = 3600,
     .summary = "seconds a restarting source (chronyd) is held over at least",
     .doc = "seconds (0-3600): a source that is only interrupted is held over (as above) for at "
            "least this long, so that `systemctl restart chrony` never reaches VMs as LI=3. "
            "Interrupted means chronyd's socket does not answer, or chronyd answers but has not "
            "synchronized since it started (no reference time at all). A chronyd that answers "
            "\"not synchronized\" after having been synchronized is a real loss: `holdover` alone "
            "applies. The allowance is fixed when the loss begins. Logged: `source of truth "
            "interrupted (restarting?): holding over ... for up to 30 s`. 0: no grace.",
     .read = [](const KeyReading& v, Config& c) { return v.seconds(c.restart_grace_s); }},
    {.name = "kernel_stratum",
     .value = "3",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = 15,
     .summary = "source = \"kernel\" does not know it: the host's stratum",
     .doc = "the stratum to announce with `source = \"kernel\"`. The kernel does not know it: set "
            "it to the stratum of the host's time daemon.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.kernel_stratum); },
     .same = [](const Config& a, const Config& b) { return a.kernel_stratum == b.kernel_stratum; }},
    {.name = "kernel_refid",
     .value = "\"127.0.0.1\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: an IPv4 address or 1-4 ASCII characters",
     .summary = "nor its upstream: state it (IPv4 or up to 4 ASCII chars)",
     .doc = "the refid to announce with `source = \"kernel\"`: the IPv4 address of the host's "
            "upstream, or up to 4 ASCII characters.",
     .read = [](const KeyReading& v, Config& c) { return read_refid(v, c.kernel_refid); },
     .same = [](const Config& a, const Config& b) { return a.kernel_refid == b.kernel_refid; }},
    {.name = "local_stratum",
     .value = "10",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = 15,
     .summary = "only for source = \"local\" (labs)",
     .doc = "the stratum announced with `source = \"local\"`.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.local_stratum); },
     .same = [](const Config& a, const Config& b) { return a.local_stratum == b.local_stratum; }},
    {.name = "local_refid",
     .value = "\"127.127.1.1\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: an IPv4 address or 1-4 ASCII characters",
     .summary = "only for source = \"local\" (chrony's local refid)",
     .doc = "the refid announced with `source = \"local\"` (chrony's local reference id).",
     .read = [](const KeyReading& v, Config& c) { return read_refid(v, c.local_refid); },
     .same = [](const Config& a, const Config& b) { return a.local_refid == b.local_refid; }},
};

const ConfigKey kLeapKeys[] = {
    {.name = "mode",
     .value = "\"pass\"",
     .type = KeyType::choice,
     .choices = "pass smear",
     .summary = "pass: announce the upstream's leap | smear: smear it away",
     .doc = "`pass`: announce the upstream's leap second (LI 1 or 2 on the day of the leap) and "
            "step with the kernel. `smear`: smear it away (below); LI is never announced.",
     .read = [](const KeyReading& v, Config& c) { return read_leap_mode(v, c.leap_mode); }},
    {.name = "leap_seconds_file",
     .value = "\"/usr/share/zoneinfo/leap-seconds.list\"",
     .type = KeyType::other,
     .kind = "string: a path",
     .summary = "tzdata's; expiry is checked",
     .doc = "the IERS/NIST list (tzdata's). Read at start, on SIGHUP and daily; its SHA-1 (`#h` "
            "line) is checked. A missing, corrupt or expired list is a warning in the log (and in "
            "`cloudtime host-check`); cloudtimed then relies on the upstream's announcement alone.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.leap_seconds_file); }},
    {.name = "smear_shape",
     .value = "\"linear\"",
     .type = KeyType::choice,
     .choices = "linear cosine",
     .summary = "linear | cosine",
     .doc = "`linear` (constant rate: Google's and AWS's shape) or `cosine` (the rate changes "
            "smoothly at both ends).",
     .read = [](const KeyReading& v, Config& c) { return read_smear_shape(v, c.smear.shape); }},
    {.name = "smear_duration",
     .value = "86400",
     .type = KeyType::integer,
     .lo = 3600,
     .hi = kMaxSmear,
     .summary = "seconds (Google: 24 h)",
     .doc = "seconds the smear lasts (3600-604800).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.smear.duration_s); }},
    {.name = "smear_start_before",
     .value = "43200",
     .type = KeyType::integer,
     .lo = 0,
     .hi = kMaxSmear,
     .summary = "seconds before the leap the smear starts (Google: noon)",
     .doc = "seconds before the leap that the smear starts (at most `smear_duration`). The default "
            "pair is Google's: 24 h from noon to noon UTC, about 11.6 ppm.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.smear.start_before_s); }},
};

const ConfigSection kServerSections[] = {
    {.name = "server", .summary = "", .keys = kServerKeys, .check = nullptr},
    {.name = "clock", .summary = "", .keys = kClockKeys, .check = nullptr},
    {.name = "leap", .summary = "", .keys = kLeapKeys, .check = check_leap},
};

}  // namespace

std::span<const ConfigSection> server_sections() {
    return kServerSections;
}

}  // namespace cloudtime::config
