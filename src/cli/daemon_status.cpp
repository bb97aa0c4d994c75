// SPDX-License-Identifier: Apache-2.0
#include "cli/daemon_status.hpp"

#include "net/unix_listener.hpp"

namespace cloudtime::cli {

Expected<nlohmann::json> read_daemon_status(const std::string& socket) {
    auto text = sys::read_unix_stream(socket, 2000);
    if (!text) {
        return Error{text.error() + " (is cloudtimed running, with [status] socket = \"" + socket +
                     "\"?)"};
    }
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return Error{socket + " did not answer with JSON"};
    }
    return doc;
}

}  // namespace cloudtime::cli
