// `cloudtime check`: from inside a VM, where can it get time, is its clock synchronized, and
// how well. Facts are gathered from the VM (gather_vm_facts, vm_discovery.cpp) and judged by
// pure rules (evaluate_vm), so that the rules are tested without a cloud.
#pragma once

#include <optional>
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
};

struct PtpClock {
    sys::PtpClockInfo info;
    Expected<sys::PhcOffset> offset = Error{"not read"};
};

enum class ClientKind : std::uint8_t { none, chrony, timesyncd };

struct ClientFacts {
    ClientKind kind = ClientKind::none;
    std::string chrony_socket;
    Expected<proto::ChronyTracking> chrony = Error{"not asked"};
    Expected<std::vector<proto::ChronySource>> chrony_sources = Error{"not asked"};
    bool timesyncd_synchronized = false;         // /run/systemd/timesync/synchronized
    std::vector<std::string> timesyncd_servers;  // NTP= of its configuration
};

struct VmFacts {
    std::vector<Channel> channels;
    std::vector<ServerMeasurement> servers;  // every server discovered or probed
    Expected<std::vector<PtpClock>> ptp = Error{"not looked at"};
    ClientFacts client;
};

enum class RedundancyRule : std::uint8_t {
    required,  // fail without a PHC or two answering cloud servers
    advisory,  // warn
    off,
};

struct VmThresholds {
    double offset_warn_s = 0.010;
    double offset_fail_s = 0.050;  // Ceph's default allowed drift
    double jitter_fail_s = 0.005;
    RedundancyRule redundancy = RedundancyRule::required;
};

std::vector<CheckResult> evaluate_vm(const VmFacts& facts, const VmThresholds& thresholds);

// The measurement the offset and jitter verdicts use: the answering server with the smallest
// delay; null when none answered.
const ServerMeasurement* best_server(const VmFacts& facts);

}  // namespace cloudtime::check
