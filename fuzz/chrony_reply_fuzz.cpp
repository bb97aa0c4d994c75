// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the decoders of chronyd's tracking and sources replies on arbitrary bytes
// (a chronyd of another version, or anything else on its socket, must not crash the clock
// thread or the checker).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/chrony_command.hpp"
#include "proto/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = cloudtime::proto;
    const std::span<const std::uint8_t> bytes(data, size);
    const std::uint32_t sequence = size >= 20 ? p::load_u32(bytes.subspan(16)) : 0;
    const auto tracking = p::parse_chrony_tracking_reply(bytes, sequence);
    if (tracking && (!std::isfinite(tracking->root_delay_s) ||
                     !std::isfinite(tracking->root_dispersion_s) || tracking->ref_time.ns < 0)) {
        std::abort();
    }
    (void)p::parse_chrony_n_sources_reply(bytes, sequence);
    const auto source = p::parse_chrony_source_data_reply(bytes, sequence);
    if (source && (!std::isfinite(source->latest_offset_s) || static_cast<int>(source->state) > 5 ||
                   static_cast<int>(source->mode) > 2)) {
        std::abort();
    }
    return 0;
}
