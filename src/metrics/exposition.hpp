// SPDX-License-Identifier: Apache-2.0
// The Prometheus text exposition format (version 0.0.4), written by hand since prometheus-cpp
// is not in Debian 12: metric families with HELP and TYPE, label values escaped, counters
// exact as integers, floats as Prometheus reads them (+Inf, -Inf, NaN), histograms with
// cumulative buckets. Pure: text in, text out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cloudtime::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class Type { counter, gauge, histogram };

struct Label {
    std::string name;
    std::string value;
};
using Labels = std::vector<Label>;

// A histogram as observed: counts per bucket (not cumulative), one per upper bound, and
// one more for the observations above the last bound.
struct Histogram {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> counts;  // upper_bounds.size() + 1
    double sum = 0;
};

class Exposition {
  public:
    // Starts a family; the samples that follow belong to it. A name or label name that
    // Prometheus would refuse is a programming error: it throws std::invalid_argument.
    void family(std::string_view name, Type type, std::string_view help);
    void sample(const Labels& labels, std::uint64_t value);
    void sample(const Labels& labels, double value);
    void sample(std::uint64_t value) { sample(Labels{}, value); }
    void sample(double value) { sample(Labels{}, value); }
    void histogram(const Labels& labels, const Histogram& h);

    const std::string& text() const { return text_; }

  private:
    void write_sample(std::string_view suffix, const Labels& labels, std::string_view value);

    std::string text_;
    std::string name_;
    Type type_ = Type::gauge;
};

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
std::string escape_label_value(std::string_view value);
std::string format_value(double value);

}  // namespace cloudtime::metrics
