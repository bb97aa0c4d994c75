// SPDX-License-Identifier: Apache-2.0
// What cloudtime sends to etcd's v3 JSON gateway and reads back, without I/O: the requests'
// bodies, and the answers read as values (what a broken or hostile endpoint answers is an
// error, never an exception). etcd writes 64-bit numbers as strings, leaves out fields that
// hold their default (a false "succeeded", a zero revision) and base64-encodes keys and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/expected.hpp"

namespace cloudtime::sys {

struct EtcdValue {
    std::string value;
    std::int64_t mod_revision = 0;
    friend bool operator==(const EtcdValue&, const EtcdValue&) = default;
};

struct EtcdRead {
    std::optional<EtcdValue> value;  // none: the key does not exist
    std::int64_t revision = 0;       // the store's revision when it was read
    friend bool operator==(const EtcdRead&, const EtcdRead&) = default;
};

std::string base64(std::string_view in);

// POST /v3/kv/range: one key.
std::string range_request(std::string_view key);
// POST /v3/kv/txn: write `value` only if the key's mod_revision is still `mod_revision` (0:
// the key must not exist).
std::string txn_request(std::string_view key, std::string_view value, std::int64_t mod_revision);
// POST /v3/watch: changes of `key` after revision `after`.
std::string watch_request(std::string_view key, std::int64_t after);

Expected<EtcdRead> read_range_answer(std::string_view body);
// Whether the transaction's compare held (the value was written).
Expected<bool> read_txn_answer(std::string_view body);
// Whether a watch's stream so far holds an event (one JSON object per line: the first says
// "created", events follow).
bool watch_saw_event(std::string_view so_far);

}  // namespace cloudtime::sys
