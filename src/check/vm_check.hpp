// SPDX-License-Identifier: Apache-2.0
// `cloudtime check`: from inside a VM, where can it get time, is its clock synchronized, and
// how well. Facts are gathered from the VM (gather_vm_facts, vm_discovery.cpp) and judged by
// pure rules (evaluate_vm), so that the rules are tested without a cloud.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "check/check_result.hpp"
#include "client/query.hpp"
#include "proto/chrony_command.hpp"
#include "sys/phc.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// One place a VM may be told its NTP servers: the metadata service's vendor_data2.json or
// vendor_data.json, a config drive, a DHCP lease file.
struct Channel {
    std::string kind;    // "metadata", "config-drive", "dhcp"
    std::string source;  // the URL or file read
    // The servers found; an error says why there are none (not reachable, not found, no
    // NTP servers in it).
    Expected<std::vector<std::string>> servers = Error{"not looked at"};
};

struct ServerMeasurement {
    std::string server;                 // as discovered: "169.254.169.254", "ntp.example.net"
    std::vector<std::string> found_by;  // channel kinds, or "link-local"
    Expected<client::QueryResult> result = Error{"not measured"};
    // A usable answer: synchronized, no KoD, at least one sample.
    bool answered() const { return result && result->summary && !result->rejection; }
    // The server told this check to slow down (KoD RATE): it is there and answering, only not
    // to so many requests from this VM (whose NTP client asks it too).
    bool rate_limited() const { return result && client::rate_limited(*result); }
    bool reached() const { return answered() || rate_limited(); }
};

struct PtpClock {
    sys::PtpClockInfo info;
    Expected<sys::PhcOffset> offset = Error{"not read"};
};

enum class ClientKind : std::uint8_t { none, chrony, timesyncd };

struct ClientFacts {
    ClientKind kind = ClientKind::none;
    std::string chrony_socket;
    bool chrony_socket_left = false;  // its socket is there, but no chronyd process runs
    Expected<proto::ChronyTracking> chrony = Error{"not asked"};
    Expected<std::vector<proto::ChronySource>> chrony_sources = Error{"not asked"};
    // How chronyd authenticates the server it follows (`chronyc authdata`).
    Expected<proto::ChronyAuthData> chrony_auth = Error{"not asked"};
    bool timesyncd_synchronized = false;         // /run/systemd/timesync/synchronized
    std::vector<std::string> timesyncd_servers;  // NTP= of its configuration
};

struct VmFacts {
    std::vector<Channel> channels;
    std::vector<ServerMeasurement> servers;  // every server discovered or probed
    Expected<std::vector<PtpClock>> ptp = Error{"not looked at"};
    ClientFacts client;
    // Where the instance's metadata says cloudtime_ntp=off (meta_data.json's "meta", from the
    // metadata service or a config drive); "" when it does not: the tenant's own choice.
    std::string opted_out;
    // Where a vendordata asks for the KVM PTP clock (ptp_kvm); "" when none does.
    std::string ptp_requested_by;
    // Where a vendordata asks chrony for NTS (nts = true); "" when none does.
    std::string nts_requested_by;
    std::string cloud_init_version;  // "20.4.1" (`cloud-init --version`); "" when unknown
};

// Whether a cloud-init of `version` reads vendor_data2.json (Nova's DynamicJSON) from a channel
// of `kind`: from the metadata service since 21.1, from a config drive since 22.2; an unknown
// version is given the benefit of the doubt.
bool cloud_init_reads_vendor_data2(const std::string& version, const std::string& kind);

enum class RedundancyRule : std::uint8_t {
    required,  // fail without a PHC or two answering cloud servers
    advisory,  // warn, saying what to add (the decision record's minimum is one NTP server)
    off,
};

struct VmThresholds {
    double offset_warn_s = 0.010;
    double offset_fail_s = 0.050;  // Ceph's default allowed drift
    double jitter_fail_s = 0.005;
    RedundancyRule redundancy = RedundancyRule::advisory;
};

std::vector<CheckResult> evaluate_vm(const VmFacts& facts, const VmThresholds& thresholds);

// Whether looking again may turn a failing verdict (`check --wait`): not when nothing failed,
// when no time source was delivered (cloud-init ran before the check), or when no NTP client
// runs.
bool waiting_may_help(const VmFacts& facts, const std::vector<CheckResult>& results);

// chronyd lists its sources and none is the cloud's: once that lasts (a restart the vendordata
// script queued has taken effect), its configuration is the tenant's and waiting is no use. A
// chronyd still starting lists none, and does not count.
bool configured_elsewhere(const VmFacts& facts, const std::vector<CheckResult>& results);

// The measurement the offset and jitter verdicts use: the answering server with the smallest
// delay; null when none answered.
const ServerMeasurement* best_server(const VmFacts& facts);

// Every form a cloud server is known by: as discovered, and the addresses that replied (or,
// for the server chronyd follows, that reply to chronyd).
std::set<std::string> cloud_addresses(const VmFacts& facts);

// The server chronyd follows now: tracking names it as the reference, and chronyd's sources
// list it selected ('*') and reachable; nullopt otherwise. `address` is how chrony names it.
struct FollowedServer {
    std::string address;
    proto::ChronySource source;
};
std::optional<FollowedServer> chrony_followed_server(const ClientFacts& client);
// The same, when that server is one of the cloud's.
std::optional<FollowedServer> chrony_follows_cloud_server(const VmFacts& facts);

// Distinct servers among those that replied (an address each): answers that carry the same
// server's identity (same_server) count once. A server that only said "slow down" has no
// identity; it counts only when nothing else replied.
std::size_t distinct_servers(const VmFacts& facts);

}  // namespace cloudtime::check
