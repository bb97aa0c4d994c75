// SPDX-License-Identifier: Apache-2.0
// cloudtime-vm's stand-in for client/nts_session.cpp: the static checker for guests carries
// no TLS and no NTS; `cloudtime-vm query --nts` says so.
#include "client/nts_session.hpp"

namespace cloudtime::client {

Expected<std::size_t> add_nts_fields(NtsSession& /*session*/, NtsRequestState& /*state*/,
                                     std::span<std::uint8_t> /*packet*/) {
    return Error{"built without NTS"};
}

bool accept_nts_reply(NtsSession& /*session*/, const NtsRequestState& /*state*/,
                      std::span<const std::uint8_t> /*reply*/, bool /*nak*/) {
    return false;
}

Expected<NtsSession> establish_nts(const std::string& /*host*/, std::uint16_t /*ke_port*/,
                                   std::uint16_t /*ntp_port*/, const std::string& /*ca_file*/,
                                   double /*timeout_s*/) {
    return Error{"NTS is not in cloudtime-vm (use cloudtime query --nts on a host)"};
}

}  // namespace cloudtime::client
