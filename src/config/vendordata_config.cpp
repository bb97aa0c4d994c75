#include "config/vendordata_config.hpp"

namespace cloudtime::config {

namespace {
constexpr std::size_t kMaxBodyLimit = 16U << 20U;  // Nova's bodies hold user-data: 64 KiB max
constexpr std::size_t kMaxConnectionsLimit = 65536;

Expected<std::vector<std::string>> servers_of(const TomlReader& r, const toml::key& key,
                                              const toml::node& node, const std::string& section) {
    auto list = r.strings_of(key, node, section);
    if (!list) {
        return list.failure();
    }
    if (list->empty()) {
        return r.fail(node.source(), section + ".servers must name at least one NTP server");
    }
    for (const auto& server : *list) {
        if (auto valid = cloud::check_server_name(server); !valid) {
            return r.fail(node.source(), section + ".servers: " + valid.error());
        }
    }
    return list;
}

Expected<cloud::Strategy> strategy_of(const TomlReader& r, const toml::key& key,
                                      const toml::node& node, const std::string& section) {
    auto text = r.string_of(key, node, section);
    if (!text) {
        return text.failure();
    }
    const auto strategy = cloud::parse_strategy(*text);
    if (!strategy) {
        return r.fail(
            node.source(),
            section + ".strategy must be \"drop-in\" or \"cloud-init-ntp\", not \"" + *text + "\"");
    }
    return *strategy;
}

// Keys that set the policy, in [vendordata] itself and in each rule. Returns false for a key
// that is not one of them.
Expected<bool> apply_policy_key(const TomlReader& r, const toml::key& key, const toml::node& node,
                                const std::string& section, cloud::PolicyChange& change) {
    bool flag = false;
    Status s = Done{};
    if (key == "enabled" || key == "ptp_kvm" || key == "install_client" || key == "xleave" ||
        key == "nts") {
        s = r.read_bool(key, node, section, flag);
        auto& target = key == "enabled"          ? change.enabled
                       : key == "ptp_kvm"        ? change.ptp_kvm
                       : key == "install_client" ? change.install_client
                       : key == "nts"            ? change.nts
                                                 : change.xleave;
        target = flag;
    } else if (key == "nts_trusted_ca") {
        std::string pem;
        s = r.read_string(key, node, section, pem);
        // PEM certificates only: the text goes into a shell script between single quotes.
        // "" (the documented default) is none: the image's own trust store.
        constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
        if (s && !pem.empty() &&
            (pem.find(kBegin) == std::string::npos || pem.find('\'') != std::string::npos)) {
            return r.fail(node.source(), section +
                                             ".nts_trusted_ca must hold PEM certificates "
                                             "(\"-----BEGIN CERTIFICATE-----...\"), the "
                                             "text itself, not a path");
        }
        change.nts_ca = std::move(pem);
    } else if (key == "servers") {
        auto servers = servers_of(r, key, node, section);
        if (!servers) {
            return servers.failure();
        }
        change.servers = std::move(servers).value();
    } else if (key == "strategy") {
        auto strategy = strategy_of(r, key, node, section);
        if (!strategy) {
            return strategy.failure();
        }
        change.strategy = *strategy;
    } else {
        return false;
    }
    if (!s) {
        return s.failure();
    }
    return true;
}

Expected<cloud::PolicyRule> rule_of(const TomlReader& r, const toml::node& node,
                                    const std::string& section) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
        return r.fail(node.source(), section + " must be a table ([[vendordata.rules]])");
    }
    cloud::PolicyRule rule;
    for (const auto& [key, value] : *table) {
        if (key == "project_ids" || key == "image_ids") {
            auto ids = r.strings_of(key, value, section);
            if (!ids) {
                return ids.failure();
            }
            (key == "project_ids" ? rule.project_ids : rule.image_ids) = std::move(ids).value();
        } else if (key == "metadata") {
            const toml::table* pairs = value.as_table();
            if (pairs == nullptr) {
                return r.fail(
                    value.source(),
                    section + ".metadata must be a table of strings ({ key = \"value\" })");
            }
            for (const auto& [name, text] : *pairs) {
                auto s = r.string_of(name, text, section + ".metadata");
                if (!s) {
                    return s.failure();
                }
                rule.metadata[std::string(name.str())] = *s;
            }
        } else {
            auto known = apply_policy_key(r, key, value, section, rule.change);
            if (!known) {
                return known.failure();
            }
            if (!*known) {
                return r.unknown(key, section);
            }
        }
    }
    return rule;
}
}  // namespace

Status apply_vendordata(const TomlReader& r, const toml::table& table, Config::Vendordata& out) {
    const std::string section = "vendordata";
    for (const auto& [key, node] : table) {
        Status s = Done{};
        if (key == "enabled") {
            s = r.read_bool(key, node, section, out.enabled);
        } else if (key == "listen") {
            s = r.read_address(key, node, section, out.listen);
        } else if (key == "path") {
            s = r.read_string(key, node, section, out.path);
            if (s && (out.path.empty() || out.path.front() != '/')) {
                return r.fail(node.source(), section + ".path must start with '/'");
            }
        } else if (key == "instance_metadata") {
            s = r.read_bool(key, node, section, out.instance_metadata);
        } else if (key == "max_body") {
            s = r.read_integer(key, node, section, 1024, kMaxBodyLimit, out.max_body);
        } else if (key == "max_connections") {
            s = r.read_integer(key, node, section, 1, kMaxConnectionsLimit, out.max_connections);
        } else if (key == "max_connections_per_client") {
            s = r.read_integer(key, node, section, 1, kMaxConnectionsLimit,
                               out.max_connections_per_client);
        } else if (key == "tls_certificate") {
            s = r.read_string(key, node, section, out.tls_certificate);
        } else if (key == "tls_key") {
            s = r.read_string(key, node, section, out.tls_key);
        } else if (key == "allowed_clients") {
            s = r.read_prefixes(key, node, section, out.allowed_clients);
        } else if (key == "rules") {
            const toml::array* rules = node.as_array();
            if (rules == nullptr) {
                return r.fail(node.source(),
                              section + ".rules must be [[vendordata.rules]] tables");
            }
            out.rules.clear();
            for (const toml::node& item : *rules) {
                auto rule = rule_of(r, item, section + ".rules");
                if (!rule) {
                    return rule.failure();
                }
                out.rules.push_back(std::move(rule).value());
            }
        } else {
            // The policy keys; "enabled" above is the endpoint's.
            cloud::PolicyChange change;
            auto known = apply_policy_key(r, key, node, section, change);
            if (!known) {
                return known.failure();
            }
            if (!*known) {
                return r.unknown(key, section);
            }
            cloud::apply_change(change, out.policy);
        }
        if (!s) {
            return s;
        }
    }
    if (out.tls_certificate.empty() != out.tls_key.empty()) {
        return r.fail(table.source(),
                      "vendordata.tls_certificate and vendordata.tls_key go together");
    }
    return Done{};
}

}  // namespace cloudtime::config
