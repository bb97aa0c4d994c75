#include "config/nts_config.hpp"

#include "proto/nts_key_set.hpp"

namespace cloudtime::config {

namespace {
constexpr std::int64_t kMinRotation = 2;                       // seconds; tests rotate fast
constexpr std::int64_t kMaxRotation = proto::kMaxNtsRotation;  // a year: what a key set holds
constexpr std::int64_t kMaxConnections = 1'000'000;
constexpr std::int64_t kMaxTimeoutMs = 60'000;
}  // namespace

Status apply_nts(const TomlReader& r, const toml::table& table, Config::Nts& out) {
    const std::string section = "nts";
    for (const auto& [key, node] : table) {
        Status s = Done{};
        if (key == "enabled") {
            s = r.read_bool(key, node, section, out.enabled);
        } else if (key == "certificate") {
            s = r.read_string(key, node, section, out.certificate);
        } else if (key == "private_key") {
            s = r.read_string(key, node, section, out.private_key);
        } else if (key == "ke_port") {
            s = r.read_integer(key, node, section, 1, 65535, out.ke_port);
        } else if (key == "key_store") {
            s = r.read_string(key, node, section, out.key_store);
            if (s && out.key_store != "file" && out.key_store != "etcd") {
                return r.fail(node.source(), "nts.key_store must be \"file\" or \"etcd\"");
            }
        } else if (key == "etcd_endpoints") {
            auto list = r.strings_of(key, node, section);
            if (!list) {
                return list.failure();
            }
            out.etcd_endpoints = std::move(list).value();
        } else if (key == "etcd_key") {
            s = r.read_string(key, node, section, out.etcd_key);
            if (s && out.etcd_key.empty()) {
                return r.fail(node.source(), "nts.etcd_key must not be empty");
            }
        } else if (key == "etcd_ca") {
            s = r.read_string(key, node, section, out.etcd_ca);
        } else if (key == "etcd_certificate") {
            s = r.read_string(key, node, section, out.etcd_certificate);
        } else if (key == "etcd_private_key") {
            s = r.read_string(key, node, section, out.etcd_private_key);
        } else if (key == "etcd_timeout_ms") {
            s = r.read_integer(key, node, section, 100, kMaxTimeoutMs, out.etcd_timeout_ms);
        } else if (key == "key_file") {
            s = r.read_string(key, node, section, out.key_file);
            if (s && (out.key_file.empty() || out.key_file.front() != '/')) {
                return r.fail(node.source(), "nts.key_file must be an absolute path");
            }
        } else if (key == "rotation") {
            s = r.read_integer(key, node, section, kMinRotation, kMaxRotation, out.rotation_s);
        } else if (key == "max_connections") {
            s = r.read_integer(key, node, section, 1, kMaxConnections, out.max_connections);
        } else if (key == "max_connections_per_client") {
            s = r.read_integer(key, node, section, 1, kMaxConnections,
                               out.max_connections_per_client);
        } else if (key == "ke_timeout_ms") {
            s = r.read_integer(key, node, section, 100, kMaxTimeoutMs, out.ke_timeout_ms);
        } else {
            return r.unknown(key, section);
        }
        if (!s) {
            return s;
        }
    }
    if (out.enabled && (out.certificate.empty() || out.private_key.empty())) {
        return r.fail(table.source(),
                      "nts.enabled needs nts.certificate (a PEM chain) and nts.private_key");
    }
    if (out.key_store == "etcd" && out.etcd_endpoints.empty()) {
        return r.fail(table.source(), "nts.key_store = \"etcd\" needs nts.etcd_endpoints");
    }
    if (out.etcd_certificate.empty() != out.etcd_private_key.empty()) {
        return r.fail(table.source(), "nts.etcd_certificate and nts.etcd_private_key go together");
    }
    return Done{};
}

}  // namespace cloudtime::config
