// SPDX-License-Identifier: Apache-2.0
#include "vendordata/vendordata_counts.hpp"

#include <cstdlib>
#include <limits>

namespace cloudtime::daemon {

namespace {
// The counts alone: unsigned integers and objects of them, `depth` levels at most.
nlohmann::json counts_only(const nlohmann::json& from, int depth) {
    nlohmann::json out = nlohmann::json::object();
    if (!from.is_object()) {
        return out;
    }
    for (const auto& [key, value] : from.items()) {
        if (value.is_number_unsigned()) {
            out[key] = value;
        } else if (value.is_object() && depth > 1) {
            out[key] = counts_only(value, depth - 1);
        }
    }
    return out;
}

// The process's reason, whatever shape the message has.
std::string error_in(const nlohmann::json& message) {
    const auto it = message.find("error");
    if (it == message.end()) {
        return "no reason given";
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::uint64_t sum_of(const nlohmann::json& responses, int from, int to) {
    std::uint64_t n = 0;
    for (const auto& [code, count] : responses.items()) {
        const int c = std::atoi(code.c_str());
        if (c >= from && c < to && count.is_number_unsigned()) {
            n += count.get<std::uint64_t>();
        }
    }
    return n;
}

}  // namespace

const nlohmann::json& object_in(const nlohmann::json& j, const char* key) {
    static const nlohmann::json empty = nlohmann::json::object();
    if (!j.is_object()) {
        return empty;
    }
    const auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

std::uint64_t count_in(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

ProcessMessage read_process_message(std::string_view text) {
    ProcessMessage message;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) {
        return message;
    }
    if (const auto counters = j.find("counters"); counters != j.end() && counters->is_object()) {
        message.kind = ProcessMessage::Kind::counters;
        message.counters = counts_only(*counters, kMaxCountDepth);
    } else if (j.contains("ready")) {
        message.kind = ProcessMessage::Kind::ready;
    } else if (j.contains("error")) {
        message.kind = ProcessMessage::Kind::error;
        message.error = error_in(j);
    }
    return message;
}

void add_counts(nlohmann::json& into, const nlohmann::json& from) {
    if (!into.is_object() || !from.is_object()) {
        return;
    }
    for (const auto& [key, value] : from.items()) {
        if (value.is_object()) {
            if (!into[key].is_object()) {
                into[key] = nlohmann::json::object();
            }
            add_counts(into[key], value);
        } else if (value.is_number_unsigned() && key != "open") {
            auto& slot = into[key];
            const std::uint64_t had = slot.is_number_unsigned() ? slot.get<std::uint64_t>() : 0;
            const std::uint64_t more = value.get<std::uint64_t>();
            // Saturated, not wrapped: a total that went back to 0 would read as a reset.
            slot = more > std::numeric_limits<std::uint64_t>::max() - had
                       ? std::numeric_limits<std::uint64_t>::max()
                       : had + more;
        }
    }
}

nlohmann::json vendordata_status(const nlohmann::json& totals, const nlohmann::json& counters,
                                 const ProcessIdentity& identity) {
    nlohmann::json out = totals.is_object() ? totals : nlohmann::json::object();
    add_counts(out, counters);
    const nlohmann::json responses = object_in(out, "responses");
    out["url"] = identity.url;
    out["pid"] = identity.pid;
    out["restarts"] = identity.restarts;
    out["open"] = count_in(counters, "open");
    out["answered"] = sum_of(responses, 200, 300);
    out["refused"] = sum_of(responses, 400, 600);
    return out;
}

}  // namespace cloudtime::daemon
