// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the packet parser (header and extension fields) on arbitrary bytes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/extension_fields.hpp"
#include "proto/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = cloudtime::proto;
    const std::span<const std::uint8_t> bytes(data, size);
    const auto header = p::decode_header(bytes);
    if (!header) {
        return 0;
    }
    std::array<std::uint8_t, p::kHeaderSize> again{};
    p::encode_header(*header, again);
    if (!std::equal(again.begin(), again.end(), bytes.begin())) {
        std::abort();  // the codec must round-trip every header
    }
    p::ExtensionCursor cursor(bytes.subspan(p::kHeaderSize));
    std::size_t consumed = 0;
    while (const auto field = cursor.next()) {
        consumed += field->value.size() + 4;
        if (field->value.size() + 4 < p::kMinExtensionLength || (field->value.size() % 4) != 0) {
            std::abort();
        }
    }
    if (cursor.error() == p::ExtensionError::none &&
        consumed + cursor.mac().size() != size - p::kHeaderSize) {
        std::abort();  // a valid trailer is fields plus MAC, nothing left over
    }
    return 0;
}
