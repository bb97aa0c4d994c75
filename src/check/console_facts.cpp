// SPDX-License-Identifier: Apache-2.0
#include "check/console_facts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <sstream>
#include <vector>

#include "check/channel_texts.hpp"
#include "check/chronyc_csv.hpp"
#include "check/lease_files.hpp"
#include "check/vm_discovery.hpp"
#include "net/socket_address.hpp"
#include "proto/client_sample.hpp"
#include "proto/packet.hpp"
#include "util/base64.hpp"

namespace cloudtime::check {

std::string_view guest_facts_script_body();  // generated from guest_facts.py

namespace {
using nlohmann::json;

constexpr std::string_view kBegin = "CLOUDTIME-FACTS-BEGIN ";
constexpr std::string_view kChunk = "CLOUDTIME-FACTS ";
constexpr std::string_view kEnd = "CLOUDTIME-FACTS-END ";
const std::string kMetadataBase = "http://169.254.169.254";
const std::string kMetadataPath = "/openstack/latest/";
// A guest's clock reads to about a microsecond (2^-20 s) when the gatherer does not say.
constexpr std::int8_t kDefaultPrecision = -20;

// The object (or array) at hand, or an empty one: what the gatherer could not gather is
// absent, and reads as nothing.
const json& object_or_empty(const json& j) {
    static const json empty = json::object();
    return j.is_object() ? j : empty;
}
const json& array_or_empty(const json& j) {
    static const json empty = json::array();
    return j.is_array() ? j : empty;
}

std::uint32_t crc32(std::string_view data) {
    std::uint32_t crc = 0xFFFFFFFFU;
    for (const char c : data) {
        crc ^= static_cast<std::uint8_t>(c);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
        }
    }
    return ~crc;
}

std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto start = text.find_first_not_of(" \t\r\n");
        if (start == std::string_view::npos) {
            break;
        }
        text.remove_prefix(start);
        const auto end = text.find_first_of(" \t\r\n");
        out.push_back(text.substr(0, end));
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end);
    }
    return out;
}

std::optional<std::size_t> count_of(std::string_view word) {
    std::size_t value = 0;
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (word.empty() || ec != std::errc{} || ptr != word.data() + word.size()) {
        return std::nullopt;
    }
    return value;
}

std::string text_at(const json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string();
}

double number_at(const json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

// A command's outcome as the gatherer recorded it: its output, or why there is none.
Expected<std::string> command_output(const json& j, const std::string& what) {
    if (!j.is_object()) {
        return Error{what + ": not run"};
    }
    if (j.contains("error")) {
        return Error{what + ": " + text_at(j, "error")};
    }
    if (!j.contains("exit") || !j["exit"].is_number_integer() || j["exit"].get<int>() != 0) {
        std::string err = text_at(j, "err");
        while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) {
            err.pop_back();
        }
        return Error{what + " failed" + (err.empty() ? std::string() : ": " + err)};
    }
    return text_at(j, "out");
}

void metadata_channels(const json& metadata, VmFacts& f) {
    for (const char* file : {"vendor_data2.json", "vendor_data.json"}) {
        const std::string url = kMetadataBase + kMetadataPath + file;
        const json& m = metadata.is_object() && metadata.contains(file) ? metadata[file] : json();
        Channel c{"metadata", url, Error{""}};
        if (!m.is_object() || m.contains("error")) {
            // One entry says it: the other file is behind the same silent service.
            c.source = kMetadataBase;
            c.servers = Error{"the metadata service at " + kMetadataBase +
                              " does not answer: " + text_at(m, "error")};
            f.channels.push_back(c);
            return;
        }
        const int status =
            m.contains("status") && m["status"].is_number_integer() ? m["status"].get<int>() : 0;
        c.servers =
            status == 200
                ? servers_in_vendordata_text(text_at(m, "body"), url, f)
                : Expected<std::vector<std::string>>(Error{"HTTP " + std::to_string(status)});
        f.channels.push_back(c);
    }
    const json& meta = metadata.contains("meta_data.json") ? metadata["meta_data.json"] : json();
    if (meta.is_object() && meta.value("status", 0) == 200 &&
        meta_data_opts_out(text_at(meta, "body"))) {
        f.opted_out = kMetadataBase + kMetadataPath + "meta_data.json";
    }
}

void config_drive_channels(const json& drive, VmFacts& f) {
    if (!drive.is_object() || drive.contains("error") || !drive.contains("files")) {
        f.channels.push_back({"config-drive", text_at(drive, "device"),
                              Error{"no config drive (" + text_at(drive, "error") + ")"}});
        return;
    }
    const std::string label = text_at(drive, "device");
    const json& files = drive["files"];
    for (const char* file : {"vendor_data2.json", "vendor_data.json"}) {
        Channel c{"config-drive", label + kMetadataPath + file, Error{""}};
        const bool present = files.contains(file) && files[file].is_string();
        c.servers = present
                        ? servers_in_vendordata_text(files[file].get<std::string>(), c.source, f)
                        : Expected<std::vector<std::string>>(Error{"no such file"});
        f.channels.push_back(c);
    }
    if (files.contains("meta_data.json") && files["meta_data.json"].is_string() &&
        meta_data_opts_out(files["meta_data.json"].get<std::string>()) && f.opted_out.empty()) {
        f.opted_out = label + kMetadataPath + "meta_data.json";
    }
}

void dhcp_channels(const json& leases, VmFacts& f) {
    bool any = false;
    for (const auto& [path, text] : object_or_empty(leases).items()) {
        if (text.is_string()) {
            any = true;
            f.channels.push_back({"dhcp", path, ntp_servers_in_lease(text.get<std::string>())});
        }
    }
    if (!any) {
        f.channels.push_back({"dhcp", "the guest's lease files", Error{"no lease file"}});
    }
}

void ptp_clocks(const json& ptp, VmFacts& f) {
    std::vector<PtpClock> out;
    for (const auto& [name, clock_name] : object_or_empty(ptp).items()) {
        std::string label = clock_name.is_string() ? clock_name.get<std::string>() : "";
        while (!label.empty() && (label.back() == '\n' || label.back() == ' ')) {
            label.pop_back();
        }
        out.push_back({{name, label, "/dev/" + name},
                       Error{"not read: the gatherer records which PTP clocks there are, not "
                             "their offsets"}});
    }
    f.ptp = std::move(out);
}

void ntp_client(const json& record, VmFacts& f) {
    ClientFacts& c = f.client;
    const json& chrony = record.contains("chrony") ? record["chrony"] : json();
    const bool chrony_running = chrony.is_object() && chrony.value("running", false);
    if (chrony_running || (chrony.is_object() && chrony.value("socket", false))) {
        c.kind = ClientKind::chrony;
        c.chrony_socket = "/run/chrony/chronyd.sock";
        c.chrony_socket_left = !chrony_running;
        if (c.chrony_socket_left) {
            c.chrony = Error{"chronyd is not running"};
            c.chrony_sources = Error{"chronyd is not running"};
            return;
        }
        auto tracking = command_output(chrony["tracking"], "chronyc tracking");
        c.chrony = tracking ? parse_chronyc_tracking(*tracking)
                            : Expected<proto::ChronyTracking>(tracking.failure());
        auto sources = command_output(chrony["sources"], "chronyc sources");
        c.chrony_sources = sources ? parse_chronyc_sources(*sources)
                                   : Expected<std::vector<proto::ChronySource>>(sources.failure());
        if (const auto followed = chrony_followed_server(c)) {
            auto authdata = command_output(chrony["authdata"], "chronyc authdata");
            auto all = authdata
                           ? parse_chronyc_authdata(*authdata)
                           : Expected<std::vector<std::pair<std::string, proto::ChronyAuthData>>>(
                                 authdata.failure());
            if (!all) {
                c.chrony_auth = all.failure();
            } else {
                const auto it = std::find_if(all->begin(), all->end(), [&](const auto& entry) {
                    return entry.first == followed->address;
                });
                c.chrony_auth = it != all->end()
                                    ? Expected<proto::ChronyAuthData>(it->second)
                                    : Error{"chronyc authdata does not list " + followed->address};
            }
        }
        return;
    }
    const json& timesyncd = record.contains("timesyncd") ? record["timesyncd"] : json();
    if (timesyncd.is_object() && timesyncd.value("running", false)) {
        c.kind = ClientKind::timesyncd;
        c.timesyncd_synchronized = timesyncd.value("synchronized", false);
        std::vector<std::string> texts;
        const json& configs = timesyncd.contains("configs") ? timesyncd["configs"] : json();
        for (const auto& [path, text] : object_or_empty(configs).items()) {
            texts.push_back(text.is_string() ? text.get<std::string>() : std::string());
        }
        c.timesyncd_servers = timesyncd_servers_in(texts);
    }
}

// The samples of the gatherer's exchanges with one address, made as `cloudtime query` makes
// them: each reply checked against its request, then RFC 5905's arithmetic.
Expected<client::QueryResult> query_result(const std::string& address, const json& exchanges,
                                           std::int8_t precision) {
    const bool v6 = address.find(':') != std::string::npos;
    auto server = sys::parse_socket_address(v6 ? "[" + address + "]:123" : address + ":123", 123);
    if (!server) {
        return server.failure();
    }
    client::QueryResult result;
    result.server = *server;
    for (const auto& e : array_or_empty(exchanges)) {
        if (e.contains("error")) {
            return Error{text_at(e, "error")};  // a local failure, as the query's own
        }
        ++result.sent;
        if (e.value("lost", false)) {
            ++result.lost;
            continue;
        }
        const auto reply = decode_base64(text_at(e, "reply"));
        std::uint64_t nonce = 0;
        const std::string hex = text_at(e, "nonce");
        const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), nonce, 16);
        if (!reply || ec != std::errc{} || ptr != hex.data() + hex.size()) {
            return Error{"the record's exchange with " + address + " is malformed"};
        }
        const std::vector<std::uint8_t> octets(reply->begin(), reply->end());
        const auto header = proto::decode_header(octets);
        if (!header) {
            return Error{"the record's reply from " + address + " is not NTP"};
        }
        const auto verdict = proto::check_reply(*header, proto::NtpTimestamp{nonce});
        if (verdict != proto::ReplyVerdict::ok) {
            result.rejection = client::Rejection{verdict, *header};
            break;  // querying stops there, as `cloudtime query` does
        }
        ++result.answered;
        result.samples.push_back(
            proto::make_sample(*header, proto::UnixTime::from_seconds(number_at(e, "t1")),
                               proto::UnixTime::from_seconds(number_at(e, "t4")), precision));
        result.interleaved.push_back(false);
    }
    result.summary = proto::summarize(result.samples);
    return result;
}

// Each measured address: one entry per scope (an IPv6 link-local address is tried on every
// interface), named "ADDRESS%SCOPE" then.
std::map<std::string, json> measured(const json& ntp) {
    std::map<std::string, json> out;
    for (const auto& [address, scopes] : object_or_empty(ntp).items()) {
        for (const json& scope : array_or_empty(scopes)) {
            const bool scoped = scope.contains("scope") && scope["scope"].is_number_integer();
            const std::string name =
                scoped ? address + "%" + std::to_string(scope["scope"].get<int>()) : address;
            out[name] = scope.contains("exchanges") ? scope["exchanges"] : json::array();
        }
    }
    return out;
}

void measure_servers(const json& record, std::int8_t precision, VmFacts& f) {
    add_channel_servers(f);
    const auto exchanges = measured(record.contains("ntp") ? record["ntp"] : json());
    // The link-local addresses the check probes (the gatherer's LINK_LOCAL are the same).
    const auto link_local = VmCheckOptions{}.link_local;
    for (const auto& [name, list] : exchanges) {
        const std::string address = name.substr(0, name.find('%'));
        if (std::find(link_local.begin(), link_local.end(), address) == link_local.end()) {
            continue;
        }
        auto result = query_result(address, list, precision);
        const bool replied =
            result && ((result->summary && !result->rejection) || client::rate_limited(*result));
        if (replied) {
            add_server(f, name, "link-local");
        }
    }
    for (auto& s : f.servers) {
        const auto it = exchanges.find(s.server);
        s.result = it != exchanges.end()
                       ? query_result(s.server.substr(0, s.server.find('%')), it->second, precision)
                       : Expected<client::QueryResult>(
                             Error{"not measured: the gatherer found no address for " + s.server});
    }
}

std::int8_t precision_of(double resolution_s) {
    if (resolution_s <= 0.0) {
        return kDefaultPrecision;
    }
    std::int8_t exponent = 0;
    while (exponent > -32 && resolution_s < 1.0) {
        resolution_s *= 2.0;
        --exponent;
    }
    return exponent;
}
}  // namespace

Expected<nlohmann::json> read_console_record(std::string_view console) {
    std::optional<std::string> last;
    std::string problem = "no cloudtime facts record in the console log";
    std::vector<std::optional<std::string>> chunks;
    bool open = false;
    while (!console.empty()) {
        const auto end = console.find('\n');
        std::string_view line = console.substr(0, end);
        console.remove_prefix(end == std::string_view::npos ? console.size() : end + 1);
        const auto at = line.find("CLOUDTIME-FACTS");
        if (at == std::string_view::npos) {
            continue;
        }
        line.remove_prefix(at);
        const auto words = words_of(line);
        if (line.starts_with(kBegin) && words.size() == 3 && words[1] == "1") {
            const auto n = count_of(words[2]);
            open = n.has_value() && *n < 1'000'000;
            chunks.assign(open ? *n : 0, std::nullopt);
            if (!open) {
                problem = "a facts record says it has '" + std::string(words[2]) + "' lines";
            }
        } else if (line.starts_with(kChunk) && open && words.size() == 3) {
            const auto i = count_of(words[1]);
            if (i && *i < chunks.size()) {
                chunks[*i] = std::string(words[2]);
            }
        } else if (line.starts_with(kEnd) && open && words.size() == 3) {
            open = false;
            const auto missing =
                std::count(chunks.begin(), chunks.end(), std::optional<std::string>{});
            if (missing > 0) {
                problem = "the facts record on the console lacks " + std::to_string(missing) +
                          " of its " + std::to_string(chunks.size()) + " lines";
                continue;
            }
            std::string payload;
            for (const auto& c : chunks) {
                payload += *c;
            }
            const std::string crc = fmt::format("{:08x}", crc32(payload));
            if (words[2] != crc) {
                problem = "the facts record on the console is garbled (its CRC-32 is " +
                          std::string(crc) + ", the gatherer said " + std::string(words[2]) + ")";
                continue;
            }
            last = std::move(payload);
        }
    }
    if (!last) {
        return Error{problem};
    }
    const auto decoded = decode_base64(*last);
    if (!decoded) {
        return Error{"the facts record on the console is not base64"};
    }
    auto record = json::parse(*decoded, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
        return Error{"the facts record on the console is not a JSON object"};
    }
    return record;
}

Expected<GuestFacts> facts_from_record(const nlohmann::json& record) {
    if (!record.is_object() || record.value("version", 0) != 1) {
        return Error{"the facts record is not version 1 (a newer gatherer?)"};
    }
    GuestFacts out;
    VmFacts& f = out.facts;
    if (auto version = command_output(record.value("cloud_init", json()), "cloud-init")) {
        const auto words = words_of(*version);
        f.cloud_init_version = words.empty() ? "" : std::string(words.back());
    }
    metadata_channels(record.value("metadata", json()), f);
    config_drive_channels(record.value("config_drive", json()), f);
    dhcp_channels(record.value("leases", json()), f);
    ptp_clocks(record.value("ptp", json()), f);
    ntp_client(record, f);
    measure_servers(record, precision_of(number_at(record, "clock_resolution_s")), f);
    out.began = number_at(record, "began");
    if (record.contains("synchronized_at") && record["synchronized_at"].is_number()) {
        out.synchronized_at = record["synchronized_at"].get<double>();
    }
    if (record.contains("synchronized_uptime_s") && record["synchronized_uptime_s"].is_number()) {
        out.synchronized_uptime_s = record["synchronized_uptime_s"].get<double>();
    }
    if (record.contains("settled_at") && record["settled_at"].is_number()) {
        out.settled_at = record["settled_at"].get<double>();
    }
    return out;
}

std::string gatherer_user_data(int wait_s) {
    std::ostringstream out;
    out << "#!/bin/sh\n"
           "# cloudtime: gathers what `cloudtime check` judges and prints it on the console\n"
           "# (read back with `cloudtime check --console FILE`). It changes nothing.\n"
           "CLOUDTIME_WAIT_S="
        << wait_s
        << "\nexport CLOUDTIME_WAIT_S\n"
           "for py in python3 /usr/libexec/platform-python python; do\n"
           "  if command -v \"$py\" >/dev/null 2>&1 &&\n"
           "     \"$py\" -c 'import sys; sys.exit(sys.version_info[0] < 3)' 2>/dev/null; then\n"
           "    exec \"$py\" - <<'CLOUDTIME_GATHERER'\n"
        << guest_facts_script_body()
        << "CLOUDTIME_GATHERER\n"
           "  fi\n"
           "done\n"
           "echo 'cloudtime: no Python 3 here to gather the facts with' >/dev/console\n"
           "exit 1\n";
    return out.str();
}

}  // namespace cloudtime::check
