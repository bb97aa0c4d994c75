// SPDX-License-Identifier: Apache-2.0
#include "peers/etcd_messages.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "util/base64.hpp"

namespace cloudtime::sys {

namespace {

// A 64-bit number as etcd writes it (a string of digits, or a JSON integer); 0 when absent.
Expected<std::int64_t> etcd_number(const nlohmann::json& object, const char* name) {
    const auto it = object.find(name);
    if (it == object.end()) {
        return std::int64_t{0};
    }
    if (it->is_number_integer()) {
        return it->get<std::int64_t>();
    }
    if (it->is_string()) {
        const auto& text = it->get_ref<const std::string&>();
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc{} && end == text.data() + text.size()) {
            return n;
        }
    }
    return Error{std::string("\"") + name + "\" is not a 64-bit integer"};
}

}  // namespace

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string range_request(std::string_view key) {
    return nlohmann::json{{"key", base64(key)}}.dump();
}

std::string txn_request(std::string_view key, std::string_view value, std::int64_t mod_revision) {
    const std::string k = base64(key);
    return nlohmann::json{{"compare",
                           {{{"key", k},
                             {"target", "MOD"},
                             {"result", "EQUAL"},
                             {"mod_revision", std::to_string(mod_revision)}}}},
                          {"success", {{{"request_put", {{"key", k}, {"value", base64(value)}}}}}}}
        .dump();
}

std::string watch_request(std::string_view key, std::int64_t after) {
    return nlohmann::json{
        {"create_request", {{"key", base64(key)}, {"start_revision", std::to_string(after + 1)}}}}
        .dump();
}

Expected<EtcdRead> read_range_answer(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    const auto header = j.is_object() ? j.find("header") : j.end();
    if (!j.is_object() || header == j.end() || !header->is_object()) {
        return Error{"etcd answered what is not a range response"};
    }
    EtcdRead read;
    auto revision = etcd_number(*header, "revision");
    if (!revision) {
        return Error{"etcd answered a range response whose " + revision.error()};
    }
    read.revision = *revision;
    const auto kvs = j.find("kvs");
    if (kvs == j.end() || (kvs->is_array() && kvs->empty())) {
        return read;
    }
    if (!kvs->is_array() || !kvs->front().is_object()) {
        return Error{"etcd answered a range response whose \"kvs\" is not a list of objects"};
    }
    const auto& kv = kvs->front();
    const auto encoded = kv.find("value");
    std::optional<std::string> value = std::string();  // an empty value is left out
    if (encoded != kv.end()) {
        value = encoded->is_string() ? decode_base64(encoded->get_ref<const std::string&>())
                                     : std::nullopt;
    }
    if (!value) {
        return Error{"etcd answered a value that is not base64"};
    }
    auto mod_revision = etcd_number(kv, "mod_revision");
    if (!mod_revision) {
        return Error{"etcd answered a key whose " + mod_revision.error()};
    }
    read.value = EtcdValue{std::move(value).value(), *mod_revision};
    return read;
}

Expected<bool> read_txn_answer(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("header") || !j["header"].is_object()) {
        return Error{"etcd answered what is not a transaction response"};
    }
    const auto succeeded = j.find("succeeded");
    if (succeeded == j.end()) {
        return false;  // etcd leaves a false out
    }
    if (!succeeded->is_boolean()) {
        return Error{
            "etcd answered a transaction response whose \"succeeded\" is not true or "
            "false"};
    }
    return succeeded->get<bool>();
}

bool watch_saw_event(std::string_view so_far) {
    return so_far.find("\"events\"") != std::string_view::npos;
}

}  // namespace cloudtime::sys
