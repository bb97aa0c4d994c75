// SPDX-License-Identifier: Apache-2.0
#include "serve/stamped_replies.hpp"

#include <algorithm>

namespace cloudtime::server {

void StampedReplies::sent(proto::NtpTimestamp receive, std::span<const std::uint8_t, 16> client,
                          proto::UnixTime daemon_transmit, std::size_t position) {
    const std::uint32_t key = next_key_++;
    // A reply whose stamp never came (dropped after the send) gives way.
    Waiting& slot = slots_[key % kSlots];
    slot = {true, key, receive, {}, daemon_transmit, position};
    std::copy(client.begin(), client.end(), slot.client.begin());
}

StampedReplies::Arrival StampedReplies::arrived(const sys::TransmitStamp& stamp,
                                                proto::InterleavedTable* records) {
    Waiting& slot = slots_[stamp.key % kSlots];
    if (!slot.valid || slot.key != stamp.key) {
        return {};
    }
    slot.valid = false;
    const std::int64_t after = stamp.time.ns - slot.daemon_transmit.ns;
    if (after < 0 || after > kMaxStampDelayNs) {
        return {};
    }
    const bool refined =
        records != nullptr && !slot.receive.is_zero() &&
        records->refine(slot.receive, slot.client,
                        {proto::to_ntp(stamp.time), proto::TransmitSource::kernel});
    return {true, after, slot.position, refined};
}

}  // namespace cloudtime::server
