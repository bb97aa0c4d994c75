#include "daemon/reload.hpp"

#include <utility>

namespace cloudtime::daemon {

std::vector<std::string> keys_needing_restart(const config::Config& started,
                                              const config::Config& next) {
    const auto& a = started;
    const auto& b = next;
    const std::pair<const char*, bool> keys[] = {
        {"server.user", a.user != b.user},
        {"server.runtime_directory", a.runtime_directory != b.runtime_directory},
        {"server.threads", a.threads != b.threads},
        {"server.batch_size", a.batch_size != b.batch_size},
        {"server.receive_buffer", a.receive_buffer != b.receive_buffer},
        {"server.seccomp", a.seccomp != b.seccomp},
        {"clock.source", a.clock_source != b.clock_source},
        {"clock.chrony_socket", a.chrony_socket != b.chrony_socket},
        {"clock.chrony_command_address", a.chrony_command_address != b.chrony_command_address},
        {"clock.kernel_stratum", a.kernel_stratum != b.kernel_stratum},
        {"clock.kernel_refid", a.kernel_refid != b.kernel_refid},
        {"clock.local_stratum", a.local_stratum != b.local_stratum},
        {"clock.local_refid", a.local_refid != b.local_refid},
        {"[tenant_networks]", !(a.tenant_networks == b.tenant_networks)},
        {"vendordata.enabled", a.vendordata.enabled != b.vendordata.enabled},
        {"vendordata.listen", a.vendordata.enabled && b.vendordata.enabled &&
                                  !(a.vendordata.listen == b.vendordata.listen)},
        {"vendordata.tls_certificate",
         a.vendordata.tls_certificate != b.vendordata.tls_certificate},
        {"vendordata.tls_key", a.vendordata.tls_key != b.vendordata.tls_key},
        {"status.socket", a.status_socket != b.status_socket},
    };
    std::vector<std::string> changed;
    for (const auto& [key, differs] : keys) {
        if (differs) {
            changed.emplace_back(key);
        }
    }
    return changed;
}

}  // namespace cloudtime::daemon
