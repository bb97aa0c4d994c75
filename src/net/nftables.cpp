// SPDX-License-Identifier: Apache-2.0
#include "net/nftables.hpp"

#include <nftables/libnftables.h>

#include <memory>
#include <string>

namespace cloudtime::sys {

namespace {
struct ContextFree {
    void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

// nft explains an error in three lines (the message, the command, carets under the
// offending part); the message lines alone make a log line.
std::string error_lines(const std::string& text) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string line = text.substr(start, end - start);
        if (line.rfind("Error: ", 0) == 0) {
            out += (out.empty() ? "" : "; ") + line.substr(7);
        }
        start = end + 1;
    }
    return out.empty() ? text : out;
}
}  // namespace

Status apply_nft(const std::string& commands) {
    // A context per call: its netlink socket belongs to the namespace it was opened in, and
    // the caller may be inside a different one each time.
    const std::unique_ptr<nft_ctx, ContextFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx) {
        return Error{"nftables: cannot create a context"};
    }
    (void)nft_ctx_buffer_output(ctx.get());
    (void)nft_ctx_buffer_error(ctx.get());
    if (nft_run_cmd_from_buffer(ctx.get(), commands.c_str()) != 0) {
        const char* error = nft_ctx_get_error_buffer(ctx.get());
        return Error{"nftables: " + error_lines(error != nullptr && *error != '\0'
                                                    ? error
                                                    : "the ruleset failed")};
    }
    return Done{};
}

}  // namespace cloudtime::sys
