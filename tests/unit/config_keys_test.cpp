// SPDX-License-Identifier: Apache-2.0
// The config key table: every key whole, the default config made of it is the one parsed, the
// reload policy comes from it, and the reference shows what it holds.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/config.hpp"
#include "config/config_keys.hpp"
#include "config/config_reference.hpp"

namespace {

using namespace cloudtime::config;

TEST(ConfigKeys, EveryKeyIsWholeAndNamedOnce) {
    std::set<std::string> names;
    for (const auto& section : config_sections()) {
        EXPECT_FALSE(section.keys.empty()) << section.name;
        for (const auto& key : section.keys) {
            const std::string name = std::string(section.name) + "." + std::string(key.name);
            EXPECT_TRUE(names.insert(name).second) << name << " twice";
            EXPECT_FALSE(key.value.empty()) << name;
            EXPECT_FALSE(key.summary.empty()) << name;
            EXPECT_FALSE(key.doc.empty()) << name;
            EXPECT_NE(key.read, nullptr) << name;
            // A restart key says how to tell a change; an applied one has nothing to say.
            EXPECT_EQ(key.reload == KeyReload::restart, key.same != nullptr) << name;
            EXPECT_FALSE(type_text(key).empty()) << name;
            if (key.type == KeyType::integer || key.type == KeyType::seconds) {
                EXPECT_LT(key.lo, key.hi) << name;
            }
        }
    }
    EXPECT_EQ(names.size(), 83U);  // a key added or removed changes this on purpose
}

TEST(ConfigKeys, TheDefaultConfigIsMadeOfTheTableAndParsesToTheDefaults) {
    const std::string text = render_default_config();
    EXPECT_EQ(text, std::string(default_config_text()));
    for (const auto& section : config_sections()) {
        EXPECT_NE(text.find("\n[" + std::string(section.name) + "]"), std::string::npos);
        for (const auto& key : section.keys) {
            EXPECT_NE(text.find("\n" + std::string(key.name) + " = " + std::string(key.value)),
                      std::string::npos)
                << key.name;
        }
    }
    auto parsed = parse_config(text, "default");
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_TRUE(keys_needing_restart(default_config(), *parsed).empty());
}

TEST(ConfigKeys, ARestartKeyChangedIsNamedAndAnAppliedOneIsNot) {
    const Config started = default_config();
    auto next = parse_config(
        "[server]\nthreads = 3\ninterleaved = false\n[rate_limit]\nburst = 4\n"
        "[nts]\netcd_endpoints = [\"https://127.0.0.1:2379\"]\n",
        "t.toml");
    ASSERT_TRUE(next) << next.error();
    EXPECT_EQ(keys_needing_restart(started, *next),
              (std::vector<std::string>{"server.threads", "nts.etcd_endpoints"}));
    // The vendordata endpoint's address matters only when it runs before and after.
    auto moved = parse_config("[vendordata]\nlisten = \"127.0.0.1:9999\"\n", "t.toml");
    ASSERT_TRUE(moved) << moved.error();
    EXPECT_TRUE(keys_needing_restart(started, *moved).empty());
}

TEST(ConfigKeys, TheReferenceTableEscapesPipesAndShowsTypeDefaultAndReload) {
    const ConfigSection* log = find_section("log");
    ASSERT_NE(log, nullptr);
    const std::string table = render_key_table(*log);
    EXPECT_NE(table.find("| `level` | one of `trace`, `debug`, `info`, `warn`, `error`, "
                         "`critical`, `off` | `\"info\"` | applied |"),
              std::string::npos)
        << table;
    const ConfigSection* vendordata = find_section("vendordata");
    ASSERT_NE(vendordata, nullptr);
    const std::string escaped = render_key_table(*vendordata);
    EXPECT_NE(escaped.find("`cloudtime_ptp=on\\|off`"), std::string::npos) << escaped;
    EXPECT_EQ(escaped.find("on|off"), std::string::npos);
    const std::string page = render_man_page();
    EXPECT_EQ(page.rfind("# cloudtimed.toml(5)\n", 0), 0U);
    EXPECT_NE(page.find("\n## [nts]\n"), std::string::npos);
    EXPECT_NE(page.find("- `rotation` (integer, 2 to 31536000; default `86400`; restart)"),
              std::string::npos);
}

}  // namespace
