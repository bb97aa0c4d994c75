// SPDX-License-Identifier: Apache-2.0
// chronyd as `chronyc tracking` and `chronyc sources` show it: addresses as text, source
// states as words and symbols, the reachability register in octal, and which source is the
// one tracking names as its reference.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/chrony_command.hpp"

namespace cloudtime::check {

// An address in chrony's IPAddr form as text; "" for a reference clock's id.
std::string chrony_address_text(proto::ChronyAddressFamily family,
                                const std::array<std::uint8_t, 16>& address);

// A reference clock's refid as chrony names it ("PHC0").
std::string chrony_refid_text(std::uint32_t refid);

// A source as chronyc names it: its address, or a reference clock's refid ("PHC0").
std::string chrony_source_name(const proto::ChronySource& source);

const char* source_state_name(proto::ChronySourceState state);  // "selected", "falseticker"
char source_state_symbol(proto::ChronySourceState state);       // '*', 'x', as chronyc shows
std::string reachability_text(std::uint16_t reachability);      // "377"

// The source among `sources` that `tracking` names as chronyd's reference (by address, or by
// refid for a reference clock); nullopt when it is not among them.
std::optional<proto::ChronySource> reference_source(
    const proto::ChronyTracking& tracking, const std::vector<proto::ChronySource>& sources);

}  // namespace cloudtime::check
