// SPDX-License-Identifier: Apache-2.0
// The keys of [vendordata]: the endpoint's settings, the time policy and its rules.
#include "config/config_keys.hpp"

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

Status read_path(const KeyReading& v, std::string& out) {
    std::string path;
    if (auto s = v.text(path); !s) {
        return s;
    }
    if (path.empty() || path.front() != '/') {
        return v.fail(v.name() + " must start with '/'");
    }
    out = std::move(path);
    return Done{};
}

// The policy keys; "enabled" in [vendordata] itself is the endpoint's.
Status read_policy_key(const KeyReading& v, cloud::TimePolicy& policy) {
    cloud::PolicyChange change;
    auto known = apply_policy_key(v.reader, v.key, v.node, std::string(v.section), change);
    if (!known) {
        return known.failure();
    }
    cloud::apply_change(change, policy);
    return Done{};
}

Status read_rules(const KeyReading& v, std::vector<cloud::PolicyRule>& out) {
    const toml::array* rules = v.node.as_array();
    if (rules == nullptr) {
        return v.fail("vendordata.rules must be [[vendordata.rules]] tables");
    }
    std::vector<cloud::PolicyRule> read;
    for (const toml::node& item : *rules) {
        auto rule = rule_of(v.reader, item, "vendordata.rules");
        if (!rule) {
            return rule.failure();
        }
        read.push_back(std::move(rule).value());
    }
    out = std::move(read);
    return Done{};
}

Status check_vendordata(const TomlReader& reader, const toml::table& table, const Config& c) {
    if (c.vendordata.tls_certificate.empty() != c.vendordata.tls_key.empty()) {
        return reader.fail(table.source(),
                           "vendordata.tls_certificate and vendordata.tls_key go together");
    }
    return Done{};
}

const ConfigKey kVendordataKeys[] = {
    {.name = "enabled",
     .value = "false",
     .type = KeyType::boolean,
     .reload = KeyReload::restart,
     .summary = "the HTTP endpoint for Nova's DynamicJSON vendordata provider",
     .doc = "serve the DynamicJSON endpoint.",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.vendordata.enabled); },
     .same = [](const Config& a,
                const Config& b) { return a.vendordata.enabled == b.vendordata.enabled; }},
    {.name = "listen",
     .value = "\"127.0.0.1:8790\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "\"ADDR:PORT\"",
     .summary = "ADDR:PORT; Nova's metadata API must reach it",
     .doc = "`ADDR:PORT` (IPv6 as `[ADDR]:PORT`) it listens on; nova-api-metadata must reach it.",
     .read = [](const KeyReading& v, Config& c) { return v.address(c.vendordata.listen); },
     .same =
         [](const Config& a, const Config& b) {
             return !a.vendordata.enabled || !b.vendordata.enabled ||
                    a.vendordata.listen == b.vendordata.listen;
         }},
    {.name = "path",
     .value = "\"/\"",
     .type = KeyType::other,
     .kind = "string: a URL path",
     .summary = "the URL path Nova posts to",
     .doc = "the URL path Nova posts to; other paths answer 404.",
     .read = [](const KeyReading& v, Config& c) { return read_path(v, c.vendordata.path); }},
    {.name = "servers",
     .value = "[\"169.254.169.254\"]",
     .type = KeyType::other,
     .kind = "array of addresses or DNS names",
     .summary = "what VMs are told to use: addresses or names",
     .doc =
         "the NTP servers VMs are told to use: addresses or DNS names (validated: no quoting can "
         "leak into the guest's shell or YAML). 169.254.169.254 is served by `[tenant_networks]`.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "ptp_kvm",
     .value = "true",
     .type = KeyType::boolean,
     .summary = "load ptp_kvm in the guest, chrony refclock PHC /dev/ptp_kvm",
     .doc = "load `ptp_kvm` in the guest (now and at every boot, "
            "`/etc/modules-load.d/cloudtime-ptp_kvm.conf`) and, where `/dev/ptp_kvm` then exists, "
            "add `refclock PHC /dev/ptp_kvm poll 2` to chrony. The host needs the `tsc` "
            "clocksource (`cloudtime host-check`).",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "strategy",
     .value = "\"drop-in\"",
     .type = KeyType::choice,
     .choices = "drop-in cloud-init-ntp",
     .summary = "drop-in | cloud-init-ntp",
     .doc = "`drop-in`: files the image's client already reads, its configuration left alone "
            "(below). `cloud-init-ntp`: cloud-init's own `ntp:` module, which replaces chrony.conf "
            "(losing the distribution's `sourcedir` lines, DHCP servers with them) and installs a "
            "client if none is there.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "install_client",
     .value = "false",
     .type = KeyType::boolean,
     .summary = "install chrony where an image has no NTP client",
     .doc = "`drop-in` only: install chrony (cloud-init `packages:`) where an image has no NTP "
            "client. No package is ever installed otherwise.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "xleave",
     .value = "true",
     .type = KeyType::boolean,
     .summary = "chrony server lines ask for interleaved mode",
     .doc = "`drop-in` with chrony: the server lines ask for interleaved mode (`server ADDR iburst "
            "prefer xleave`), in which cloudtimed sends each reply's exact transmit time (the "
            "kernel's) in the next one (`server.interleaved`). chrony falls back to basic mode by "
            "itself against a server that does not do it. systemd-timesyncd has no interleaved "
            "mode, and cloud-init's `ntp:` module (strategy `cloud-init-ntp`) writes no server "
            "options: there it changes nothing.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "nts",
     .value = "false",
     .type = KeyType::boolean,
     .summary = "chrony server lines ask for NTS; nts_trusted_ca = PEM text to trust",
     .doc = "`drop-in` with chrony: the server lines ask for NTS (`server ADDR iburst prefer "
            "xleave nts`), so that the VM's chrony authenticates cloudtimed's replies (`[nts]` on "
            "the hypervisors, with a certificate naming 169.254.169.254). systemd-timesyncd has no "
            "NTS (the script logs that its time is not authenticated) and cloud-init's `ntp:` "
            "module writes no options: there it changes nothing.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "nts_trusted_ca",
     .value = "\"\"",
     .type = KeyType::other,
     .kind = "string: PEM certificates",
     .summary = "PEM certificates (the text) the VMs trust for NTS; \"\": their own store",
     .doc = "the PEM certificate(s) the VMs' chrony trusts for NTS, the text itself (a TOML "
            "multi-line string `\"\"\"-----BEGIN CERTIFICATE-----...\"\"\"`, not a path): written "
            "as `cloudtime-nts-ca.crt` beside the drop-ins with an `ntstrustedcerts` line "
            "(`cloudtime-nts.conf`), and chrony restarted (it reads certificates at start). Empty: "
            "the image's own trust store.",
     .read = [](const KeyReading& v,
                Config& c) { return read_policy_key(v, c.vendordata.policy); }},
    {.name = "instance_metadata",
     .value = "true",
     .type = KeyType::boolean,
     .summary = "honour cloudtime_ntp=off, cloudtime_ptp=on|off (instance metadata)",
     .doc = "honour the tenant's instance metadata: `cloudtime_ntp=off` (no time vendordata at "
            "all) and `cloudtime_ptp=on|off` (also `true/false`, `yes/no`; other values are "
            "ignored). They apply after the rules.",
     .read = [](const KeyReading& v,
                Config& c) { return v.boolean(c.vendordata.instance_metadata); }},
    {.name = "max_body",
     .value = "65536",
     .type = KeyType::integer,
     .lo = 1024,
     .hi = kMaxBodyLimit,
     .summary = "bytes; larger requests get 413",
     .doc = "bytes; a larger request body gets 413, whatever its transfer coding (Nova's body "
            "carries the user-data, at most 64 KiB).",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.vendordata.max_body); }},
    {.name = "max_connections",
     .value = "4096",
     .type = KeyType::integer,
     .lo = 1,
     .hi = kMaxConnectionsLimit,
     .summary = "open at once; at the limit the longest-waiting one is closed",
     .doc = "connections open at once (1-65536). An idle connection costs the endpoint's process a "
            "descriptor and a few hundred bytes (nothing is buffered before a client sends), so "
            "the limit is high: a flood of connections from many addresses must not push Nova's "
            "out. At the limit one connection waiting for a request is closed to make room: one "
            "that had its last answer, else one that never had an answer before one kept alive "
            "between requests (answered before), then one from the address holding the most "
            "connections, then the one waiting longest; under a storm of reconnecting clients a "
            "waiting connection then lives about `max_connections` / (connections per second) "
            "before it is closed, which a client that sends its request at once never notices.",
     .read = [](const KeyReading& v,
                Config& c) { return v.integer(c.vendordata.max_connections); }},
    {.name = "max_connections_per_client",
     .value = "32",
     .type = KeyType::integer,
     .lo = 1,
     .hi = kMaxConnectionsLimit,
     .summary = "from one address; more are closed at once",
     .doc = "connections from one address (1-65536); more are closed at once. Nova's metadata API "
            "asks from a few addresses: keep this above the boots it serves at once.",
     .read = [](const KeyReading& v,
                Config& c) { return v.integer(c.vendordata.max_connections_per_client); }},
    {.name = "tls_certificate",
     .value = "\"\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "PEM certificate chain file; with tls_key: HTTPS only",
     .doc = "PEM certificate chain file; with `tls_key` set too the endpoint speaks HTTPS only "
            "(then Nova's target URL is `https://...`; nova verifies it against its CA bundle). "
            "Read at start, as root.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.vendordata.tls_certificate); },
     .same =
         [](const Config& a, const Config& b) {
             return a.vendordata.tls_certificate == b.vendordata.tls_certificate;
         }},
    {.name = "tls_key",
     .value = "\"\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "its PEM private key file",
     .doc = "the certificate's PEM private key file; set with `tls_certificate` or not at all. "
            "Read at start, as root.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.vendordata.tls_key); },
     .same = [](const Config& a,
                const Config& b) { return a.vendordata.tls_key == b.vendordata.tls_key; }},
    {.name = "allowed_clients",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of prefixes",
     .summary = "prefixes allowed to ask (\"10.0.0.0/8\"); [] = any that can connect",
     .doc = "prefixes (`\"10.0.0.0/8\"`, `\"fd00::/8\"`) allowed to ask; others get 403 and a "
            "warning. `[]`: anyone who can connect.",
     .read = [](const KeyReading& v,
                Config& c) { return v.prefixes(c.vendordata.allowed_clients); }},
    {.name = "rules",
     .value = "[]",
     .type = KeyType::other,
     .kind = "array of tables ([[vendordata.rules]])",
     .summary =
         "[[vendordata.rules]] tables: by project, image, instance metadata; later rules win",
     .doc = "the rules, in order (below): each one that matches changes the policy, and a later "
            "one wins.",
     .read = [](const KeyReading& v, Config& c) { return read_rules(v, c.vendordata.rules); }},
};

const ConfigSection kVendordataSections[] = {
    {.name = "vendordata", .summary = "", .keys = kVendordataKeys, .check = check_vendordata},
};

}  // namespace

std::span<const ConfigSection> vendordata_sections() {
    return kVendordataSections;
}

}  // namespace cloudtime::config
