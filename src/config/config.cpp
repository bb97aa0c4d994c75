#include "config/config.hpp"

#include <spdlog/common.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "config/interface_pattern.hpp"
#include "config/nts_config.hpp"
#include "config/toml_reader.hpp"
#include "config/vendordata_config.hpp"
#include "proto/refid.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::config {

namespace {

constexpr std::int64_t kMaxSmear = 7 * 86'400LL;  // a week: longer smears serve no one

class Reader : public TomlReader {
  public:
    using TomlReader::TomlReader;

    Status apply(const toml::table& root, Config& c) const {
        for (const auto& [key, node] : root) {
            const std::string name(key.str());
            const toml::table* table = node.as_table();
            if (table == nullptr) {
                return fail(key.source(), "'" + name + "' must be a table ([" + name + "])");
            }
            Status s = Done{};
            if (name == "server") {
                s = apply_server(*table, c);
            } else if (name == "clock") {
                s = apply_clock(*table, c);
            } else if (name == "leap") {
                s = apply_leap(*table, c);
            } else if (name == "rate_limit") {
                s = apply_rate_limit(*table, c.rate_limit);
            } else if (name == "access") {
                s = apply_access(*table, c);
            } else if (name == "status") {
                s = apply_status(*table, c);
            } else if (name == "metrics") {
                s = apply_metrics(*table, c.metrics);
            } else if (name == "tenant_networks") {
                s = apply_tenant_networks(*table, c);
            } else if (name == "vendordata") {
                s = apply_vendordata(*this, *table, c.vendordata);
            } else if (name == "nts") {
                s = apply_nts(*this, *table, c.nts);
            } else if (name == "log") {
                s = apply_log(*table, c);
            } else {
                return fail(key.source(), "unknown section [" + name + "]");
            }
            if (!s) {
                return s;
            }
        }
        return Done{};
    }

  private:
    Status apply_server(const toml::table& t, Config& c) const {
        for (const auto& [key, node] : t) {
            Status s = Done{};
            if (key == "listen") {
                const toml::array* list = node.as_array();
                if (list == nullptr) {
                    return fail(node.source(), "server.listen must be an array of \"ADDR:PORT\"");
                }
                std::vector<sys::SocketAddress> addresses;
                for (const toml::node& item : *list) {
                    const auto text = item.value<std::string>();
                    if (!item.is_string() || !text) {
                        return fail(item.source(), "server.listen entries must be strings");
                    }
                    auto address = sys::parse_socket_address(*text);
                    if (!address) {
                        return fail(item.source(), "server.listen: " + address.error());
                    }
                    addresses.push_back(*address);
                }
                if (addresses.empty()) {
                    return fail(node.source(), "server.listen must name at least one address");
                }
                c.listen = std::move(addresses);
            } else if (key == "threads") {
                s = read_integer(key, node, "server", 0, 1024, c.threads);
            } else if (key == "batch_size") {
                s = read_integer(key, node, "server", 1, 1024, c.batch_size);
            } else if (key == "user") {
                s = read_string(key, node, "server", c.user);
            } else if (key == "runtime_directory") {
                s = read_string(key, node, "server", c.runtime_directory);
                if (s && (c.runtime_directory.empty() || c.runtime_directory.front() != '/')) {
                    return fail(node.source(), "server.runtime_directory must be an absolute path");
                }
            } else if (key == "seccomp") {
                s = read_bool(key, node, "server", c.seccomp);
            } else if (key == "interleaved") {
                s = read_bool(key, node, "server", c.interleaved);
            } else if (key == "interleaved_records") {
                s = read_integer(key, node, "server", 4, 1 << 24, c.interleaved_records);
            } else if (key == "receive_buffer") {
                s = read_integer(key, node, "server", 0, 1U << 30U, c.receive_buffer);
            } else {
                return unknown(key, "server");
            }
            if (!s) {
                return s;
            }
        }
        return Done{};
    }

    Status read_refid(const toml::key& key, const toml::node& node, std::uint32_t& refid) const {
        auto text = string_of(key, node, "clock");
        if (!text) {
            return text.failure();
        }
        const auto parsed = proto::parse_refid(*text);
        if (!parsed) {
            return fail(node.source(), "clock." + std::string(key.str()) + " '" + *text +
                                           "' is neither an IPv4 address nor 1-4 ASCII characters");
        }
        refid = *parsed;
        return Done{};
    }

    Status apply_clock(const toml::table& t, Config& c) const {
        for (const auto& [key, node] : t) {
            Status s = Done{};
            if (key == "source") {
                auto text = string_of(key, node, "clock");
                if (!text) {
                    return text.failure();
                }
                if (*text == "auto") {
                    c.clock_source = ClockSourceKind::automatic;
                } else if (*text == "chrony") {
                    c.clock_source = ClockSourceKind::chrony;
                } else if (*text == "kernel") {
                    c.clock_source = ClockSourceKind::kernel;
                } else if (*text == "local") {
                    c.clock_source = ClockSourceKind::local;
                } else {
                    return fail(node.source(),
                                "clock.source must be \"auto\", \"chrony\", \"kernel\" or "
                                "\"local\", not \"" +
                                    *text + "\"");
                }
            } else if (key == "kernel_stratum") {
                s = read_integer(key, node, "clock", 1, 15, c.kernel_stratum);
            } else if (key == "kernel_refid") {
                s = read_refid(key, node, c.kernel_refid);
            } else if (key == "local_stratum") {
                s = read_integer(key, node, "clock", 1, 15, c.local_stratum);
            } else if (key == "local_refid") {
                s = read_refid(key, node, c.local_refid);
            } else if (key == "chrony_socket") {
                s = read_string(key, node, "clock", c.chrony_socket);
                if (s && c.chrony_socket.empty()) {
                    return fail(node.source(), "clock.chrony_socket must not be empty");
                }
            } else if (key == "chrony_command_address") {
                std::string text;
                s = read_string(key, node, "clock", text);
                if (s && text.empty()) {
                    c.chrony_command_address.reset();
                } else if (s) {
                    auto address = sys::parse_socket_address(text);
                    if (!address || address->port() == 0) {
                        return fail(node.source(),
                                    "clock.chrony_command_address must be \"ADDR:PORT\" or \"\", "
                                    "not \"" +
                                        text + "\"");
                    }
                    c.chrony_command_address = *address;
                }
            } else if (key == "holdover") {
                s = read_seconds(key, node, "clock", 0.0, 86'400.0, c.holdover_s);
            } else if (key == "restart_grace") {
                s = read_seconds(key, node, "clock", 0.0, 3'600.0, c.restart_grace_s);
            } else {
                return unknown(key, "clock");
            }
            if (!s) {
                return s;
            }
        }
        return Done{};
    }

    Status apply_leap(const toml::table& t, Config& c) const {
        const toml::node* start_node = nullptr;
        for (const auto& [key, node] : t) {
            Status s = Done{};
            if (key == "mode" || key == "smear_shape") {
                auto text = string_of(key, node, "leap");
                if (!text) {
                    return text.failure();
                }
                if (key == "mode" && (*text == "pass" || *text == "smear")) {
                    c.leap_mode = *text == "pass" ? proto::LeapMode::pass : proto::LeapMode::smear;
                } else if (key == "smear_shape" && (*text == "linear" || *text == "cosine")) {
                    c.smear.shape =
                        *text == "linear" ? proto::SmearShape::linear : proto::SmearShape::cosine;
                } else {
                    return fail(
                        node.source(),
                        key == "mode"
                            ? "leap.mode must be \"pass\" or \"smear\", not \"" + *text + "\""
                            : "leap.smear_shape must be \"linear\" or \"cosine\", not \"" + *text +
                                  "\"");
                }
            } else if (key == "leap_seconds_file") {
                s = read_string(key, node, "leap", c.leap_seconds_file);
            } else if (key == "smear_duration") {
                s = read_integer(key, node, "leap", 3600, kMaxSmear, c.smear.duration_s);
            } else if (key == "smear_start_before") {
                s = read_integer(key, node, "leap", 0, kMaxSmear, c.smear.start_before_s);
                start_node = &node;
            } else {
                return unknown(key, "leap");
            }
            if (!s) {
                return s;
            }
        }
        if (c.smear.start_before_s > c.smear.duration_s) {
            return fail(start_node != nullptr ? start_node->source() : t.source(),
                        "leap.smear_start_before must not exceed leap.smear_duration (the leap "
                        "must fall inside the smear window)");
        }
        return Done{};
    }

    Status apply_rate_limit(const toml::table& t, proto::RateLimitPolicy& r) const {
        for (const auto& [key, node] : t) {
            const std::string name = "rate_limit." + std::string(key.str());
            Status s = Done{};
            if (key == "enabled") {
                s = read_bool(key, node, "rate_limit", r.enabled);
            } else if (key == "interval") {
                const auto v = node.value<double>();
                if (!(node.is_floating_point() || node.is_integer()) || !v || !(*v >= 1e-6) ||
                    *v > 86400.0) {
                    return fail(node.source(),
                                name + " must be a number of seconds between 0.000001 and 86400");
                }
                r.interval_s = *v;
            } else if (key == "burst") {
                s = read_integer(key, node, "rate_limit", 1, 1'000'000, r.burst);
            } else if (key == "leak") {
                s = read_integer(key, node, "rate_limit", 0, 16, r.leak);
            } else if (key == "kod") {
                s = read_integer(key, node, "rate_limit", -1, 16, r.kod);
            } else if (key == "table_size") {
                s = read_integer(key, node, "rate_limit", 4, 1 << 26, r.table_entries);
            } else if (key == "ipv6_prefix") {
                s = read_integer(key, node, "rate_limit", 1, 128, r.ipv6_prefix);
            } else {
                return unknown(key, "rate_limit");
            }
            if (!s) {
                return s;
            }
        }
        return Done{};
    }

    static std::optional<proto::AccessAction> action_named(std::string_view name) {
        if (name == "allow") {
            return proto::AccessAction::allow;
        }
        if (name == "ignore") {
            return proto::AccessAction::ignore;
        }
        if (name == "kod") {
            return proto::AccessAction::deny;
        }
        return std::nullopt;
    }

    Status apply_access(const toml::table& t, Config& c) const {
        std::vector<proto::AccessRule> rules;
        // Each prefix once (as the prefix it names: 10.0.0.1/8 is 10.0.0.0/8): a map, so
        // that tens of thousands of prefixes are checked in O(n log n).
        std::map<std::pair<proto::Address16, std::uint8_t>, proto::AccessAction> listed;
        for (const auto& [key, node] : t) {
            const std::string name = "access." + std::string(key.str());
            if (key == "default") {
                auto text = string_of(key, node, "access");
                if (!text) {
                    return text.failure();
                }
                const auto action = action_named(*text);
                if (!action) {
                    return fail(node.source(), name + " must be \"allow\", \"ignore\" or \"kod\"");
                }
                c.access_default = *action;
                continue;
            }
            const auto action = action_named(key.str());
            if (!action) {
                return unknown(key, "access");
            }
            const toml::array* list = node.as_array();
            if (list == nullptr) {
                return fail(node.source(), name + " must be an array of prefixes (\"10.0.0.0/8\")");
            }
            for (const toml::node& item : *list) {
                const auto text = item.value<std::string>();
                if (!item.is_string() || !text) {
                    return fail(item.source(), name + " entries must be strings");
                }
                auto cidr = sys::parse_cidr(*text);
                if (!cidr) {
                    return fail(item.source(), name + ": " + cidr.error());
                }
                const auto [it, added] = listed.emplace(
                    std::pair{proto::masked_prefix(cidr->octets, cidr->length), cidr->length},
                    *action);
                if (!added) {
                    return fail(item.source(), name + ": '" + *text + "' is already listed as " +
                                                   proto::access_action_name(it->second));
                }
                rules.push_back({cidr->octets, cidr->length, *action});
            }
        }
        c.access_rules = std::move(rules);
        return Done{};
    }

    Status apply_tenant_networks(const toml::table& t, Config& c) const {
        auto& tn = c.tenant_networks;
        for (const auto& [key, node] : t) {
            const std::string name = "tenant_networks." + std::string(key.str());
            Status s = Done{};
            if (key == "enabled") {
                s = read_bool(key, node, "tenant_networks", tn.enabled);
            } else if (key == "netns_dir") {
                s = read_string(key, node, "tenant_networks", tn.netns_dir);
            } else if (key == "patterns" || key == "router_patterns") {
                auto list = strings_of(key, node, "tenant_networks");
                if (!list) {
                    return list.failure();
                }
                (key == "patterns" ? tn.patterns : tn.router_patterns) = std::move(list).value();
            } else if (key == "router_interfaces") {
                s = read_string(key, node, "tenant_networks", tn.router_interfaces);
                if (s) {
                    if (auto valid = check_interface_pattern(tn.router_interfaces); !valid) {
                        return fail(node.source(), name + ": " + valid.error());
                    }
                }
            } else if (key == "router_port") {
                s = read_integer(key, node, "tenant_networks", 1, 65535, tn.router_port);
            } else if (key == "addresses" || key == "managed_addresses") {
                auto list = strings_of(key, node, "tenant_networks");
                if (!list) {
                    return list.failure();
                }
                auto& out = key == "addresses" ? tn.addresses : tn.managed_addresses;
                out.clear();
                for (const auto& text : *list) {
                    const bool v6 = text.find(':') != std::string::npos;
                    auto address = sys::parse_socket_address((v6 ? "[" + text + "]" : text) + ":0");
                    if (!address) {
                        return fail(node.source(), name + ": '" + text + "' is not an IP address");
                    }
                    out.push_back(*address);
                }
            } else if (key == "port") {
                s = read_integer(key, node, "tenant_networks", 1, 65535, tn.port);
            } else {
                return unknown(key, "tenant_networks");
            }
            if (!s) {
                return s;
            }
        }
        const auto ipv4 = [](const sys::SocketAddress& a) { return !a.is_ipv6(); };
        if (!tn.router_patterns.empty() &&
            std::none_of(tn.addresses.begin(), tn.addresses.end(), ipv4) &&
            std::none_of(tn.managed_addresses.begin(), tn.managed_addresses.end(), ipv4)) {
            return fail(t.source(),
                        "tenant_networks.router_patterns: routers redirect IPv4 "
                        "only, and no IPv4 address is in tenant_networks.addresses "
                        "or managed_addresses");
        }
        return Done{};
    }

    Status apply_status(const toml::table& t, Config& c) const {
        for (const auto& [key, node] : t) {
            if (key != "socket") {
                return unknown(key, "status");
            }
            if (Status s = read_string(key, node, "status", c.status_socket); !s) {
                return s;
            }
        }
        return Done{};
    }

    Status apply_metrics(const toml::table& t, Config::Metrics& m) const {
        constexpr std::int64_t kMaxSeries = 100'000;
        const std::string section = "metrics";
        for (const auto& [key, node] : t) {
            Status s = Done{};
            if (key == "enabled") {
                s = read_bool(key, node, section, m.enabled);
            } else if (key == "listen") {
                s = read_address(key, node, section, m.listen);
            } else if (key == "allowed_clients") {
                s = read_prefixes(key, node, section, m.allowed_clients);
            } else if (key == "max_tenant_series") {
                s = read_integer(key, node, section, 0, kMaxSeries, m.max_tenant_series);
            } else {
                return unknown(key, section);
            }
            if (!s) {
                return s;
            }
        }
        return Done{};
    }

    Status apply_log(const toml::table& t, Config& c) const {
        for (const auto& [key, node] : t) {
            if (key != "level") {
                return unknown(key, "log");
            }
            auto text = string_of(key, node, "log");
            if (!text) {
                return text.failure();
            }
            if (spdlog::level::from_str(*text) == spdlog::level::off && *text != "off") {
                return fail(node.source(), "log.level '" + *text +
                                               "' is not one of trace, debug, info, warn, "
                                               "error, critical, off");
            }
            c.log_level = *text;
        }
        return Done{};
    }
};

Status apply_text(std::string_view text, const std::string& origin, Config& config) {
    auto root = parse_toml(text, origin);
    if (!root) {
        return root.failure();
    }
    return Reader(origin).apply(*root, config);
}

}  // namespace

const char* clock_source_name(ClockSourceKind kind) {
    switch (kind) {
        case ClockSourceKind::automatic:
            return "auto";
        case ClockSourceKind::chrony:
            return "chrony";
        case ClockSourceKind::kernel:
            return "kernel";
        case ClockSourceKind::local:
            return "local";
    }
    return "?";
}

Config default_config() {
    Config config;
    // The embedded default is part of the build and covered by tests; it cannot fail.
    const Status s = apply_text(default_config_text(), "<embedded default>", config);
    if (!s) {
        std::abort();
    }
    return config;
}

Expected<Config> parse_config(std::string_view text, const std::string& origin) {
    Config config = default_config();
    if (Status s = apply_text(text, origin, config); !s) {
        return s.failure();
    }
    return config;
}

Expected<std::string> read_config_text(const std::string& path) {
    // A pipe too (--config /dev/stdin); never a FIFO that blocks or a device without end.
    auto text = sys::read_text_file(path, kConfigLimit, true);
    if (!text) {
        return Error{path + ": cannot read config file: " + text.error()};
    }
    return text;
}

Expected<Config> load_config_file(const std::string& path) {
    auto text = read_config_text(path);
    if (!text) {
        return text.failure();
    }
    return parse_config(*text, path);
}

}  // namespace cloudtime::config
