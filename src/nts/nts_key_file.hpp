// SPDX-License-Identifier: Apache-2.0
// The cookie master keys of one host, kept in a file: loaded at start (made when missing),
// rotated when due and written again, always 0600. A file others can read is refused: its
// keys would let them read every client's cookie.
#pragma once

#include <cstdint>
#include <string>

#include <optional>

#include "nts/nts_key_store.hpp"
#include "proto/nts_key_set.hpp"
#include "util/expected.hpp"

namespace cloudtime::server {

// A fresh master key from OpenSSL's private random generator.
Expected<proto::SivKey> fresh_master_key();

// The keys in `path`: none when it does not exist; an error when it cannot be read, others
// can read it, or it is not a key set.
Expected<std::optional<proto::NtsKeySet>> read_key_file(const std::string& path);

class NtsKeyFile final : public NtsKeyStore {
  public:
    // Loads `path`, or makes a first key there when it does not exist. The rotation period
    // given here applies from the next rotation on.
    static Expected<NtsKeyFile> open(const std::string& path, std::int64_t rotation_s,
                                     std::int64_t now);

    // Rotates when due (and writes the file); true when the keys changed. An error leaves the
    // keys as they were: they serve on.
    Expected<bool> refresh(std::int64_t now) override;
    proto::NtsKeySet keys() const override { return set_; }
    // Unreachable while the last rotation could not be written (the problem says why), with
    // the failed writes counted.
    NtsKeyStoreState state() const override { return state_; }

  private:
    NtsKeyFile(std::string path, proto::NtsKeySet set)
        : path_(std::move(path)), set_(std::move(set)) {}
    std::string path_;
    proto::NtsKeySet set_;
    NtsKeyStoreState state_{.kind = "file"};
};

}  // namespace cloudtime::server
