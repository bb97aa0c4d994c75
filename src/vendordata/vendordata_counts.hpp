// SPDX-License-Identifier: Apache-2.0
// What the vendordata process reports over its channel, read by cloudtimed without I/O. The
// process faces untrusted HTTP clients: what it says is a trust boundary, read as values (a
// message of any shape is never an exception, and never blinds the status or the metrics,
// metrics/vendordata_metrics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cloudtime::daemon {

struct ProcessMessage {
    enum class Kind : std::uint8_t { counters, ready, error, unreadable };
    Kind kind = Kind::unreadable;
    // counters: the counts alone (objects of unsigned integers, at most kMaxCountDepth deep;
    // anything else left out). error: the process's reason.
    nlohmann::json counters = nlohmann::json::object();
    std::string error;
};
inline constexpr int kMaxCountDepth = 4;

ProcessMessage read_process_message(std::string_view text);

// Adds the counters of an ended incarnation into the totals ("open" is a level, not a count).
void add_counts(nlohmann::json& into, const nlohmann::json& from);

struct ProcessIdentity {
    std::string url;
    int pid = -1;
    std::uint64_t restarts = 0;
};
// {url, pid, restarts, answered, refused, open, responses{code: n}, connections...}: the totals
// of ended incarnations and the running one's counters.
nlohmann::json vendordata_status(const nlohmann::json& totals, const nlohmann::json& counters,
                                 const ProcessIdentity& identity);

// `j[key]` when it is an object, an empty object otherwise; `j[key]` when it is an unsigned
// integer, 0 otherwise: reading a document of any shape.
const nlohmann::json& object_in(const nlohmann::json& j, const char* key);
std::uint64_t count_in(const nlohmann::json& j, const char* key);

}  // namespace cloudtime::daemon
