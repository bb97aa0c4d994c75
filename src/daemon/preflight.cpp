#include "daemon/preflight.hpp"

#include <filesystem>

#include "sys/paths.hpp"
#include "sys/privileges.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::daemon {

namespace {
constexpr std::size_t kPemLimit = 1U << 20U;

// Errors name the files.
Expected<sys::TlsCredentials> read_tls_credentials(const Config::Vendordata& v) {
    const std::string what = "vendordata: cannot use the certificate " + v.tls_certificate +
                             " with the key " + v.tls_key;
    sys::TlsCredentials tls;
    for (const auto& [path, into] : {std::pair{&v.tls_certificate, &tls.certificate_chain_pem},
                                     std::pair{&v.tls_key, &tls.private_key_pem}}) {
        auto pem = sys::read_text_file(*path, kPemLimit);
        if (!pem) {
            return Error{what + ": " + *path + ": " + pem.error()};
        }
        *into = std::move(pem).value();
    }
    if (auto usable = sys::check_tls_credentials(tls); !usable) {
        return Error{what + ": " + usable.error()};
    }
    return tls;
}
}  // namespace

Expected<Preflight> preflight(const Config& config) {
    if (!config.user.empty()) {
        if (auto usable = sys::check_user(config.user); !usable) {
            return Error{"server.user: " + usable.error()};
        }
    }
    Preflight checked;
    const bool chrony_asked = config.clock_source == config::ClockSourceKind::chrony ||
                              (config.clock_source == config::ClockSourceKind::automatic &&
                               sys::path_exists(config.chrony_socket));
    if (!config.user.empty() && chrony_asked) {
        auto reached = sys::check_user_may_write(config.user, config.chrony_socket);
        if (!reached && config.chrony_command_address) {
            checked.chrony_over_udp = config.chrony_command_address;
        } else if (!reached) {
            checked.warnings.push_back(
                "server.user: " + reached.error() +
                ": once it drops privileges, cloudtimed cannot ask chronyd and serves "
                "unsynchronized (LI=3); set clock.chrony_command_address to chronyd's command "
                "port (chrony.conf: cmdport, default 323 on 127.0.0.1)");
        }
    }
    if (!config.user.empty() && !config.status_socket.empty()) {
        const std::string directory =
            std::filesystem::path(config.status_socket).parent_path().string();
        // The runtime directory is given to the user at start.
        if (auto writable = sys::check_user_may_write(config.user, directory);
            !writable &&
            std::filesystem::path(directory) != std::filesystem::path(config.runtime_directory)) {
            checked.warnings.push_back(
                "status.socket: " + writable.error() +
                ": the socket file stays after a stop (the next start replaces it); put it in "
                "server.runtime_directory (" +
                config.runtime_directory + ")");
        }
    }
    if (config.vendordata.enabled && !config.vendordata.tls_certificate.empty()) {
        auto tls = read_tls_credentials(config.vendordata);
        if (!tls) {
            return tls.failure();
        }
        checked.vendordata_tls = std::move(tls).value();
    }
    return checked;
}

}  // namespace cloudtime::daemon
