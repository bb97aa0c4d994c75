// libFuzzer target: the server's decision on arbitrary datagrams. Checks the rules that keep
// cloudtimed from ever being an amplifier: only mode 3 is answered, with mode 4, never with
// more octets than the request, and with its transmit timestamp as origin.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/server_decision.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = cloudtime::proto;
    const std::span<const std::uint8_t> request(data, size);
    p::ClockSnapshot clock;
    clock.synchronized = size % 2 == 0;
    clock.stratum = 2;
    clock.root_dispersion_s = 0.001;
    std::array<std::uint8_t, p::kHeaderSize> reply{};
    const p::UnixTime now{1'790'000'000LL * p::kNanosPerSecond};
    const auto decision = p::decide(request, now, clock, p::ServerPolicy{}, reply);
    const auto* answer = std::get_if<p::Reply>(&decision);
    if (answer == nullptr) {
        return 0;
    }
    if (answer->length > size || p::mode_of(request[0]) != p::Mode::client ||
        p::mode_of(reply[0]) != p::Mode::server ||
        !std::equal(request.begin() + p::kTransmitOffset, request.begin() + p::kHeaderSize,
                    reply.begin() + p::kOriginOffset)) {
        std::abort();
    }
    p::make_kiss_of_death(reply, p::kKissRate);
    return 0;
}
