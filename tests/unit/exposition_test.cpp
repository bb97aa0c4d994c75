// SPDX-License-Identifier: Apache-2.0
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace cloudtime::metrics {
namespace {

TEST(Exposition, FamilyWithHelpTypeAndLabelledSamples) {
    Exposition e;
    e.family("cloudtime_ntp_requests_total", Type::counter, "NTP requests received.");
    e.sample({{"address", "127.0.0.1:123"}}, std::uint64_t{18446744073709551615ULL});
    e.sample({{"address", "[::1]:123"}}, std::uint64_t{0});
    e.family("cloudtime_clock_synchronized", Type::gauge, "1 when synchronized.");
    e.sample(1.0);
    EXPECT_EQ(e.text(),
              "# HELP cloudtime_ntp_requests_total NTP requests received.\n"
              "# TYPE cloudtime_ntp_requests_total counter\n"
              "cloudtime_ntp_requests_total{address=\"127.0.0.1:123\"} 18446744073709551615\n"
              "cloudtime_ntp_requests_total{address=\"[::1]:123\"} 0\n"
              "# HELP cloudtime_clock_synchronized 1 when synchronized.\n"
              "# TYPE cloudtime_clock_synchronized gauge\n"
              "cloudtime_clock_synchronized 1\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
    Exposition e;
    e.family("x", Type::gauge, "a \\ b\nc");
    e.sample({{"namespace", "a\"b\\c\nd"}, {"k", ""}}, 2.5);
    EXPECT_EQ(e.text(),
              "# HELP x a \\\\ b\\nc\n# TYPE x gauge\n"
              "x{namespace=\"a\\\"b\\\\c\\nd\",k=\"\"} 2.5\n");
}

TEST(Exposition, FloatsAsPrometheusReadsThem) {
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
    EXPECT_EQ(format_value(0.000001), "1e-06");
    EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // round-trips exactly
}

TEST(Exposition, HistogramBucketsAreCumulative) {
    Exposition e;
    e.family("h_seconds", Type::histogram, "h");
    e.histogram({{"code", "200"}}, {.upper_bounds = {0.01, 0.1}, .counts = {3, 2, 1}, .sum = 0.5});
    EXPECT_EQ(e.text(),
              "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
              "h_seconds_bucket{code=\"200\",le=\"0.01\"} 3\n"
              "h_seconds_bucket{code=\"200\",le=\"0.1\"} 5\n"
              "h_seconds_bucket{code=\"200\",le=\"+Inf\"} 6\n"
              "h_seconds_sum{code=\"200\"} 0.5\n"
              "h_seconds_count{code=\"200\"} 6\n");
}

TEST(Exposition, NamesPrometheusRefusesAreRefused) {
    EXPECT_TRUE(valid_metric_name("cloudtime:x_total"));
    EXPECT_FALSE(valid_metric_name("1x"));
    EXPECT_FALSE(valid_metric_name("a-b"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_FALSE(valid_label_name("a:b"));
    EXPECT_FALSE(valid_label_name("__reserved"));
    Exposition e;
    EXPECT_THROW(e.family("a b", Type::gauge, ""), std::invalid_argument);
    e.family("ok", Type::gauge, "");
    EXPECT_THROW(e.sample({{"bad-label", "v"}}, 1.0), std::invalid_argument);
    EXPECT_THROW(e.histogram({}, {.upper_bounds = {1.0}, .counts = {1}, .sum = 0}),
                 std::invalid_argument);
}

}  // namespace
}  // namespace cloudtime::metrics
