// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: NTS-KE records as a client sends them (and as a server answers them).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "proto/nts_ke.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = cloudtime::proto;
    const std::span<const std::uint8_t> bytes(data, size);
    const p::KeRequestRead read = p::read_ke_request(bytes);
    if (read.status == p::KeRequestRead::Status::complete) {
        // A complete request was complete only with its last octet, and its answer reads back.
        if (p::read_ke_request(bytes.first(size - 1)).status ==
            p::KeRequestRead::Status::complete) {
            std::abort();
        }
        const std::vector<std::vector<std::uint8_t>> cookies(8, std::vector<std::uint8_t>(100, 1));
        const auto response = p::ke_response(read.request, {cookies, read.request.server, 123});
        const auto back = p::read_ke_response(response);
        if (back.status != p::KeResponseRead::Status::complete ||
            back.response.cookies.size() != (p::ke_agrees(read.request) ? 8U : 0U)) {
            std::abort();
        }
    } else if (read.status == p::KeRequestRead::Status::refused) {
        if (read.problem == p::KeRequestProblem::none ||
            p::read_ke_response(p::ke_error_response(read.error)).response.error != read.error) {
            std::abort();
        }
    } else if (size > p::kMaxKeRequestLength) {
        std::abort();  // never waits for more past the limit
    }
    (void)p::read_ke_response(bytes);
    return 0;
}
