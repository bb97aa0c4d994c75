// SPDX-License-Identifier: Apache-2.0
#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace cloudtime::metrics {

namespace {
bool name_char(char c, bool first, bool colon) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return letter || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!name_char(name[i], i == 0, colon)) {
            return false;
        }
    }
    return true;
}

std::string_view type_name(Type type) {
    switch (type) {
        case Type::counter:
            return "counter";
        case Type::gauge:
            return "gauge";
        case Type::histogram:
            return "histogram";
    }
    return "untyped";
}

// Backslash and line feed escaped, and the double quote too in a label value (not in HELP).
std::string escape(std::string_view text, bool quote) {
    std::string out;
    for (const char c : text) {
        if (c == '\\' || (quote && c == '"')) {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}
}  // namespace

bool valid_metric_name(std::string_view name) {
    return valid_name(name, true);
}

bool valid_label_name(std::string_view name) {
    return valid_name(name, false) && !name.starts_with("__");
}

std::string escape_label_value(std::string_view value) {
    return escape(value, true);
}

std::string format_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", value);  // the shortest text that reads back as the same double
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
    if (!valid_metric_name(name)) {
        throw std::invalid_argument("not a metric name: " + std::string(name));
    }
    name_ = name;
    type_ = type;
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name,
                         type_name(type));
}

void Exposition::write_sample(std::string_view suffix, const Labels& labels,
                              std::string_view value) {
    text_ += name_;
    text_ += suffix;
    if (!labels.empty()) {
        text_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (!valid_label_name(labels[i].name)) {
                throw std::invalid_argument("not a label name: " + labels[i].name);
            }
            text_ += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", labels[i].name,
                                 escape_label_value(labels[i].value));
        }
        text_ += '}';
    }
    text_ += ' ';
    text_ += value;
    text_ += '\n';
}

void Exposition::sample(const Labels& labels, std::uint64_t value) {
    write_sample("", labels, std::to_string(value));
}

void Exposition::sample(const Labels& labels, double value) {
    write_sample("", labels, format_value(value));
}

void Exposition::histogram(const Labels& labels, const Histogram& h) {
    if (h.counts.size() != h.upper_bounds.size() + 1) {
        throw std::invalid_argument("a histogram needs one count per bound and one above");
    }
    std::uint64_t cumulative = 0;
    Labels with_le = labels;
    with_le.push_back({"le", ""});
    for (std::size_t i = 0; i <= h.upper_bounds.size(); ++i) {
        cumulative += h.counts[i];
        with_le.back().value = i < h.upper_bounds.size() ? format_value(h.upper_bounds[i]) : "+Inf";
        write_sample("_bucket", with_le, std::to_string(cumulative));
    }
    write_sample("_sum", labels, format_value(h.sum));
    write_sample("_count", labels, std::to_string(cumulative));
}

}  // namespace cloudtime::metrics
