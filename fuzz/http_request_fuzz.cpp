// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the vendordata endpoint's whole request path on bytes from anyone who can
// connect: the hardened server's reading of pipelined requests (Beast's parser under our
// limits and rules) and the endpoint's answer to each.
#include <spdlog/spdlog.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "http/http_request.hpp"
#include "vendordata/vendordata_endpoint.hpp"

namespace {
namespace ct = cloudtime;

ct::config::Config::Vendordata endpoint_config() {
    ct::config::Config::Vendordata v;
    v.enabled = true;
    v.path = "/";
    v.policy = {.enabled = true,
                .servers = {"169.254.169.254"},
                .ptp_kvm = true,
                .strategy = ct::cloud::Strategy::drop_in,
                .install_client = false};
    return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Its access log would be most of the run's time: off.
    static const bool quiet = [] {
        spdlog::set_level(spdlog::level::off);
        return true;
    }();
    (void)quiet;
    static ct::daemon::VendordataEndpoint endpoint(endpoint_config());
    const ct::sys::HttpLimits limits{
        .max_header_bytes = 1024, .max_header_fields = 16, .max_body = 2048};
    const auto peer = *ct::sys::parse_socket_address("127.0.0.1:40000");
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto requests = ct::sys::read_requests(bytes, limits, peer);
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        if (r.refusal) {
            const int s = r.refusal->status;
            if ((s != 400 && s != 413 && s != 431 && s != 505) || r.refusal->why.empty() ||
                i + 1 != requests.size()) {
                std::abort();  // a refusal has its status and reason, and ends the connection
            }
            continue;
        }
        if (!r.request || r.request->body.size() > limits.max_body) {
            std::abort();  // bodies are bounded whatever their coding
        }
        const auto answer = endpoint.answer(*r.request);
        if (answer.status != 200 && answer.status != 400 && answer.status != 404 &&
            answer.status != 405) {
            std::abort();
        }
        if (nlohmann::json::parse(answer.body, nullptr, false).is_discarded()) {
            std::abort();  // every answer, refusals included, is JSON
        }
    }
    return 0;
}
