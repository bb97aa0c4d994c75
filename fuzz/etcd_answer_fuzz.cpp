// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: etcd's answers as cloudtime reads them (sys/etcd_messages), a trust
// boundary: an endpoint that is broken, or not etcd, answers anything. With the first octet
// even, the rest is any answer: it is read as a range, a transaction and a watch stream, and
// never throws (a "succeeded" that was no boolean once ended the daemon); a value it reads
// is read back the same from an answer written as etcd writes it. With it odd, the rest is a
// value and the octets before it a revision: an answer etcd would write reads back to them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "peers/etcd_messages.hpp"

namespace s = cloudtime::sys;

namespace {

std::string range_answer(std::int64_t revision, const s::EtcdValue& kv) {
    return R"({"header":{"cluster_id":"14841639068965178418","revision":")" +
           std::to_string(revision) + R"("},"kvs":[{"key":")" + s::base64("/cloudtime/nts") +
           R"(","create_revision":"2","mod_revision":")" + std::to_string(kv.mod_revision) +
           R"(","version":"1","value":")" + s::base64(kv.value) + R"("}],"count":"1"})";
}

void check_round_trip(const s::EtcdRead& read) {
    if (!read.value) {
        return;
    }
    const auto again = s::read_range_answer(range_answer(read.revision, *read.value));
    if (!again || *again != read) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if ((data[0] & 1U) == 0) {
        const std::string_view body = input.substr(1);
        if (const auto read = s::read_range_answer(body)) {
            check_round_trip(*read);
        }
        [[maybe_unused]] const auto txn = s::read_txn_answer(body);
        [[maybe_unused]] const bool event = s::watch_saw_event(body);
        return 0;
    }
    if (size < 9) {
        return 0;
    }
    std::int64_t revision = 0;
    for (std::size_t i = 1; i < 9; ++i) {
        revision =
            static_cast<std::int64_t>((static_cast<std::uint64_t>(revision) << 8U) | data[i]);
    }
    const s::EtcdRead written{.value = s::EtcdValue{std::string(input.substr(9)), revision / 2},
                              .revision = revision};
    const auto read = s::read_range_answer(range_answer(written.revision, *written.value));
    if (!read || *read != written) {
        std::abort();
    }
    return 0;
}
