// SPDX-License-Identifier: Apache-2.0
#include "nts/nts_key_file.hpp"

#include <openssl/rand.h>

#include <cerrno>

#include "sys/text_file.hpp"

namespace cloudtime::server {

Expected<proto::SivKey> fresh_master_key() {
    proto::SivKey key{};
    if (RAND_priv_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        return Error{"no random octets for a key (OpenSSL's RAND_priv_bytes failed)"};
    }
    return key;
}

Expected<std::optional<proto::NtsKeySet>> read_key_file(const std::string& path) {
    auto text = sys::read_text_file(path, 4096);
    if (!text) {
        if (text.error_code() == ENOENT) {
            return std::optional<proto::NtsKeySet>();
        }
        return Error{path + ": " + text.error(), text.error_code()};
    }
    const auto others = sys::readable_by_others(path);
    if (!others || *others) {
        return Error{path + ": readable by others; it holds the NTS cookie keys (chmod 600)"};
    }
    auto decoded = proto::decode_key_set(*text);
    if (!decoded) {
        return Error{path + ": " + decoded.error()};
    }
    return std::optional<proto::NtsKeySet>(std::move(decoded).value());
}

Expected<NtsKeyFile> NtsKeyFile::open(const std::string& path, std::int64_t rotation_s,
                                      std::int64_t now) {
    auto read = read_key_file(path);
    if (!read) {
        return read.failure();
    }
    proto::NtsKeySet set = read->value_or(proto::NtsKeySet{});
    set.rotation_s = rotation_s;
    NtsKeyFile file(path, std::move(set));
    if (file.set_.keys.empty()) {
        if (auto made = file.refresh(now); !made) {
            return made.failure();
        }
    }
    return file;
}

Expected<bool> NtsKeyFile::refresh(std::int64_t now) {
    if (!proto::rotation_due(set_, now)) {
        return false;
    }
    const auto key = fresh_master_key();
    if (!key) {
        return key.failure();
    }
    proto::NtsKeySet next = proto::rotated(set_, *key, now);
    if (auto written = sys::write_private_file(path_, proto::encode_key_set(next)); !written) {
        state_.reachable = false;
        state_.problem = "cannot write the NTS keys: " + written.error();
        ++state_.failures;
        return Error{state_.problem, written.error_code()};
    }
    set_ = std::move(next);
    state_.reachable = true;
    state_.problem.clear();
    ++state_.writes;
    return true;
}

}  // namespace cloudtime::server
