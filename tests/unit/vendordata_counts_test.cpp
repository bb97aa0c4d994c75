// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <limits>

#include "metrics/vendordata_metrics.hpp"
#include "vendordata/vendordata_counts.hpp"

namespace cloudtime::daemon {
namespace {

TEST(VendordataCounts, OnlyCountsAreKeptFromTheProcess) {
    const ProcessMessage m = read_process_message(
        R"({"counters":{"connections":5,"open":2,"responses":{"200":4,"404":"x"},"endpoint":1,)"
        R"("negative":-3,"ratio":0.5,"a":{"b":{"c":{"d":5,"e":{"f":1}}}}}})");
    ASSERT_EQ(m.kind, ProcessMessage::Kind::counters);
    EXPECT_EQ(m.counters, nlohmann::json::parse(
                              R"({"connections":5,"open":2,"responses":{"200":4},"endpoint":1,)"
                              R"("a":{"b":{"c":{"d":5}}}})"));
    EXPECT_EQ(read_process_message(R"({"ready":true})").kind, ProcessMessage::Kind::ready);
    const ProcessMessage error = read_process_message(R"({"error":{"why":1}})");
    EXPECT_EQ(error.kind, ProcessMessage::Kind::error);
    EXPECT_EQ(error.error, R"({"why":1})");
    for (const char* text : {"", "[]", "null", "{", R"({"counters":[1]})"}) {
        EXPECT_EQ(read_process_message(text).kind, ProcessMessage::Kind::unreadable) << text;
    }
}

// A status whose parts have other shapes than the endpoint writes (an "endpoint" that is a
// number) made the metrics throw nlohmann's type_error, and /metrics answered nothing at all.
TEST(VendordataCounts, MetricsOfAnyShapeAreWrittenNotThrown) {
    for (const char* status :
         {R"({"endpoint":1})", R"({"endpoint":{"deliveries":[],"latency":7}})",
          R"({"responses":1,"endpoint":{"rules_matched":"x"}})", "[]", "null"}) {
        metrics::Exposition e;
        EXPECT_NO_THROW(vendordata_metrics(e, nlohmann::json::parse(status))) << status;
        EXPECT_NE(e.text().find("cloudtime_vendordata_deliveries_total{choice=\"time\"} 0"),
                  std::string::npos)
            << status;
    }
}

TEST(VendordataCounts, TotalsAddUpAndSaturate) {
    nlohmann::json totals = nlohmann::json::object();
    add_counts(totals,
               nlohmann::json::parse(R"({"connections":3,"open":2,"responses":{"200":1}})"));
    add_counts(totals, nlohmann::json::parse(R"({"connections":4,"responses":{"200":2,"429":1}})"));
    const nlohmann::json status =
        vendordata_status(totals, nlohmann::json::parse(R"({"open":5,"connections":1})"),
                          {"http://169.254.169.254", 7, 2});
    EXPECT_EQ(status["connections"], 8);
    EXPECT_EQ(status["open"], 5);  // a level: the running process's alone
    EXPECT_EQ(status["answered"], 3);
    EXPECT_EQ(status["refused"], 1);
    EXPECT_EQ(status["pid"], 7);
    EXPECT_EQ(status["restarts"], 2);
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    add_counts(totals, nlohmann::json{{"connections", max}});
    EXPECT_EQ(totals["connections"], max);
}

}  // namespace
}  // namespace cloudtime::daemon
