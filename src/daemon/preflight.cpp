// SPDX-License-Identifier: Apache-2.0
#include "daemon/preflight.hpp"

#include <filesystem>

#include "nts/nts_key_file.hpp"
#include "sys/paths.hpp"
#include "sys/privileges.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::daemon {

namespace {
constexpr std::size_t kPemLimit = 1U << 20U;

// A certificate chain and its private key (regular files of at most 1 MiB), read and checked
// as a pair; errors begin with `what` and name the files.
Expected<sys::TlsCredentials> read_tls_pair(const std::string& what, const std::string& certificate,
                                            const std::string& key) {
    const std::string cannot =
        what + ": cannot use the certificate " + certificate + " with the key " + key + ": ";
    sys::TlsCredentials tls;
    for (const auto& [path, into] : {std::pair{&certificate, &tls.certificate_chain_pem},
                                     std::pair{&key, &tls.private_key_pem}}) {
        auto pem = sys::read_text_file(*path, kPemLimit);
        if (!pem) {
            return Error{cannot + *path + ": " + pem.error()};
        }
        *into = std::move(pem).value();
    }
    if (auto usable = sys::check_tls_credentials(tls); !usable) {
        return Error{cannot + usable.error()};
    }
    return tls;
}

// etcd's TLS material, read as root like the certificate.
Expected<sys::EtcdOptions> read_etcd_options(const Config::Nts& nts) {
    sys::EtcdOptions options{.endpoints = nts.etcd_endpoints,
                             .timeout = std::chrono::milliseconds(nts.etcd_timeout_ms)};
    const std::pair<const std::string*, std::string*> files[] = {
        {&nts.etcd_ca, &options.ca_pem},
        {&nts.etcd_certificate, &options.certificate_pem},
        {&nts.etcd_private_key, &options.private_key_pem}};
    for (const auto& [path, pem] : files) {
        if (path->empty()) {
            continue;
        }
        auto text = sys::read_text_file(*path, kPemLimit);
        if (!text) {
            return Error{"nts etcd TLS file " + *path + ": " + text.error(), text.error_code()};
        }
        *pem = std::move(text).value();
    }
    return options;
}

// Whether `path` is `directory` or inside it.
bool within(const std::filesystem::path& path, const std::filesystem::path& directory) {
    const auto relative = path.lexically_normal().lexically_relative(directory.lexically_normal());
    return !relative.empty() && *relative.begin() != "..";
}

// What the daemon does with its key file as its user: reads it (when there is one), writes
// the next one beside it and renames it over (in its directory, or the nearest one above that
// exists, where it is made).
Status check_key_file(const Config& config) {
    const std::string& path = config.nts.key_file;
    auto keys = server::read_key_file(path);
    if (!keys) {
        return Error{"nts.key_file: " + keys.error()};
    }
    // The runtime directory is given to the user at start: in it (tests keep everything there),
    // the start's own reading and writing are the check.
    if (config.user.empty() || within(path, config.runtime_directory)) {
        return Done{};
    }
    if (*keys) {
        if (auto readable = sys::check_user_may_read(config.user, path); !readable) {
            return Error{"nts.key_file: " + readable.error() +
                         ": the daemon reads its keys as that user"};
        }
    }
    std::filesystem::path directory = std::filesystem::path(path).parent_path();
    while (!sys::path_exists(directory.string()) && directory.has_relative_path()) {
        directory = directory.parent_path();
    }
    if (auto writable = sys::check_user_may_write(config.user, directory.string()); !writable) {
        return Error{"nts.key_file: " + writable.error() +
                     ": the daemon writes its rotated keys there as that user (chown the "
                     "directory to it)"};
    }
    return Done{};
}
}  // namespace

Expected<sys::TlsCredentials> read_nts_credentials(const Config::Nts& nts) {
    return read_tls_pair("nts", nts.certificate, nts.private_key);
}

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
        auto tls = read_tls_pair("vendordata", config.vendordata.tls_certificate,
                                 config.vendordata.tls_key);
        if (!tls) {
            return tls.failure();
        }
        checked.vendordata_tls = std::move(tls).value();
    }
    if (config.nts.enabled) {
        auto tls = read_nts_credentials(config.nts);
        if (!tls) {
            return tls.failure();
        }
        checked.nts_tls = std::move(tls).value();
        if (config.nts.key_store == "etcd") {
            auto etcd = read_etcd_options(config.nts);
            if (!etcd) {
                return etcd.failure();
            }
            checked.nts_etcd = std::move(etcd).value();
        }
        if (auto usable = check_key_file(config); !usable) {
            return usable.failure();
        }
    }
    return checked;
}

}  // namespace cloudtime::daemon
