// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what the vendordata process reports to cloudtimed
// (vendordata/vendordata_counts), a trust boundary: the process faces untrusted HTTP clients.
// The input is a run of up to 8 messages split at 0xFF; a message whose first octet is odd
// ends the incarnation after it (its counts go into the totals). Never an exception; the
// counters kept are objects of unsigned integers no deeper than kMaxCountDepth; the totals
// never go down; the status names the process; every line of the metrics is a HELP, a TYPE or
// a cloudtime_vendordata_ sample (a label value from the process cannot start a line of its
// own).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "metrics/vendordata_metrics.hpp"
#include "vendordata/vendordata_counts.hpp"

namespace d = cloudtime::daemon;

namespace {

bool counts_only(const nlohmann::json& j, int depth) {
    if (!j.is_object() || depth == 0) {
        return false;
    }
    for (const auto& [key, value] : j.items()) {
        if (!value.is_number_unsigned() && !counts_only(value, depth - 1)) {
            return false;
        }
    }
    return true;
}

std::uint64_t connections(const nlohmann::json& status) {
    const auto it = status.find("connections");
    return it != status.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

void check_metrics(const nlohmann::json& status) {
    cloudtime::metrics::Exposition e;
    d::vendordata_metrics(e, status);
    std::string_view text = e.text();
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (!line.starts_with("# HELP cloudtime_vendordata_") &&
            !line.starts_with("# TYPE cloudtime_vendordata_") &&
            !line.starts_with("cloudtime_vendordata_")) {
            std::abort();
        }
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    nlohmann::json totals = nlohmann::json::object();
    nlohmann::json counters = nlohmann::json::object();
    const d::ProcessIdentity identity{"http://169.254.169.254:80", 4242, 3};
    std::uint64_t seen = 0;
    // A few messages an input: each one's status and metrics are written whole, and an input
    // of hundreds made the target run 30 times a second.
    constexpr int kMaxMessages = 8;
    for (int n = 0; n < kMaxMessages && !input.empty(); ++n) {
        const auto end = input.find('\xff');
        const std::string_view message = input.substr(0, end);
        input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
        const d::ProcessMessage said = d::read_process_message(message);
        if (said.kind == d::ProcessMessage::Kind::counters) {
            if (!counts_only(said.counters, d::kMaxCountDepth)) {
                std::abort();
            }
            counters = said.counters;
        }
        if (!message.empty() && (static_cast<unsigned char>(message[0]) & 1U) != 0) {
            d::add_counts(totals, counters);
            counters = nlohmann::json::object();
        }
        const nlohmann::json status = d::vendordata_status(totals, counters, identity);
        const std::uint64_t now = connections(d::vendordata_status(totals, {}, identity));
        if (now < seen || status.value("pid", 0) != identity.pid ||
            status.value("url", std::string()) != identity.url) {
            std::abort();
        }
        seen = now;
        check_metrics(status);
    }
    return 0;
}
