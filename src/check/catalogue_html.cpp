// SPDX-License-Identifier: Apache-2.0
#include "check/catalogue_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cloudtime::check {

namespace {
constexpr const char* kStyle = R"(
body{font-family:sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th.check{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;font-size:.85em}
td.pass{background:#cfc}td.warn{background:#ffd27f}td.fail,td.abort{background:#f99}
td.skip{background:#eee;color:#777}td.none{color:#999}
tr.unexpected td.name{background:#f99;font-weight:bold}
pre{background:#f4f4f4;padding:.5em;overflow-x:auto;font-size:.85em;max-height:30em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}
.summary{font-size:1.1em}svg text{font-size:10px;font-family:sans-serif}
)";

std::string microseconds(double seconds) {
    return fmt::format("{:.1f} µs", seconds * 1e6);
}

std::string matrix(const std::vector<ImageRun>& runs) {
    const auto columns = check_columns(runs);
    std::string out =
        "<table id=\"matrix\">\n<thead><tr><th>image</th><th>expected</th>"
        "<th>outcome</th><th>boot</th>";
    for (const auto& id : columns) {
        out += "<th class=\"check\" data-check=\"" + html_escape(id) + "\">" + html_escape(id) +
               "</th>";
    }
    out += "<th>as expected</th></tr></thead>\n<tbody>\n";
    for (const auto& r : runs) {
        const bool as_expected = r.mismatch.empty();
        out += fmt::format(
            "<tr data-image=\"{0}\" data-outcome=\"{1}\" data-as-expected=\"{2}\"{3}>"
            "<td class=\"name\"><a href=\"#image-{0}\">{0}</a></td><td>{4}</td><td>{1}</td>"
            "<td>{5}</td>",
            html_escape(r.entry.name), outcome_word(r.outcome), as_expected ? "yes" : "no",
            as_expected ? "" : " class=\"unexpected\"", outcome_word(r.entry.expect),
            r.validation ? fmt::format("{:.0f} s", r.validation->boot_s) : "-");
        for (const auto& id : columns) {
            const CheckResult* it = find_check(r, id);
            if (it == nullptr) {
                out += "<td class=\"none\" data-check=\"" + html_escape(id) + "\">-</td>";
                continue;
            }
            out += fmt::format("<td class=\"{}\" data-check=\"{}\" title=\"{}\">{}</td>",
                               verdict_word(it->verdict), html_escape(id), html_escape(it->reason),
                               verdict_name(it->verdict));
        }
        out += std::string("<td>") + (as_expected ? "yes" : "NO") + "</td></tr>\n";
    }
    return out + "</tbody></table>\n";
}

std::string servers_table(const nlohmann::json& facts) {
    std::string out =
        "<table class=\"servers\"><tr><th>server</th><th>found by</th>"
        "<th>offset</th><th>delay</th><th>jitter</th><th>samples</th></tr>\n";
    for (const auto& s : facts.value("servers", nlohmann::json::array())) {
        std::string found;
        for (const auto& f : s.value("found_by", nlohmann::json::array())) {
            found += (found.empty() ? "" : ", ") + f.get<std::string>();
        }
        if (s.contains("offset_s")) {
            out += fmt::format(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html_escape(s.value("server", "?")), html_escape(found),
                microseconds(s.value("offset_s", 0.0)), microseconds(s.value("delay_s", 0.0)),
                microseconds(s.value("jitter_s", 0.0)),
                s.value("samples", nlohmann::json::array()).size());
        } else {
            out += fmt::format("<tr><td>{}</td><td>{}</td><td colspan=\"4\">{}</td></tr>\n",
                               html_escape(s.value("server", "?")), html_escape(found),
                               html_escape(s.value("error", std::string("no usable answer"))));
        }
    }
    return out + "</table>\n";
}

std::string image_section(const ImageRun& r) {
    const auto summary = guest_summary(r);
    std::string out =
        fmt::format("<section id=\"image-{0}\">\n<h2>{0}</h2>\n<dl>\n", html_escape(r.entry.name));
    const auto item = [&](const std::string& term, const std::string& text) {
        out += "<dt>" + term + "</dt><dd>" + html_escape(text) + "</dd>\n";
    };
    item("image file", r.entry.image);
    item("expected", outcome_word(r.entry.expect));
    item("outcome", outcome_word(r.outcome) +
                        (r.mismatch.empty() ? std::string(" (as expected)") : ": " + r.mismatch));
    std::string setup = r.entry.vendordata ? "vendordata on the config drive" : "no vendordata";
    setup += r.entry.dhcp ? "; DHCP with option 42" : "; static address";
    for (const auto& [key, value] : r.entry.metadata) {
        setup += "; metadata " + key + "=" + value;
    }
    if (!r.entry.user_data.empty()) {
        setup += "; the tenant's user-data " + r.entry.user_data;
    }
    item("as the cloud offered it", setup);
    if (!r.validation) {
        item("could not be validated", r.error);
        return out + "</dl>\n</section>\n";
    }
    const auto& v = *r.validation;
    item("boot", fmt::format("{:.1f} s to the check's verdict, {}", v.boot_s, v.accelerator));
    std::string channels;
    for (const auto& c : summary.channels) {
        channels += (channels.empty() ? "" : ", ") + c;
    }
    item("time delivered by", channels.empty() ? "nothing" : channels);
    std::string follows;
    for (const auto& s : summary.client_servers) {
        follows += (follows.empty() ? "" : ", ") + s;
    }
    item("NTP client", summary.client + (follows.empty() ? "" : ", following " + follows));
    if (!summary.opted_out.empty()) {
        item("opted out", "cloudtime_ntp=off in " + summary.opted_out);
    }
    out += "</dl>\n";
    if (const nlohmann::json* facts = guest_facts(r)) {
        out += servers_table(*facts);
        for (const auto& s : facts->value("servers", nlohmann::json::array())) {
            const std::string plot = offset_plot_svg(s);
            if (!plot.empty()) {
                out += "<figure>" + plot + "<figcaption>offset of each of the check's samples of " +
                       html_escape(s.value("server", "?")) + "</figcaption></figure>\n";
            }
        }
    }
    std::string verdicts;
    for (const auto& c : r.checks) {
        verdicts += fmt::format("<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                                verdict_word(c.verdict), verdict_name(c.verdict), html_escape(c.id),
                                html_escape(c.reason));
    }
    out += "<table class=\"verdicts\">\n" + verdicts + "</table>\n";
    if (!v.vendordata_log.empty()) {
        std::string log;
        for (const auto& line : v.vendordata_log) {
            log += line + "\n";
        }
        out += "<h3>what the vendordata did</h3>\n<pre>" + html_escape(log) + "</pre>\n";
    }
    if (!v.console_tail.empty()) {
        out += "<h3>the console's end</h3>\n<pre>" + html_escape(v.console_tail) + "</pre>\n";
    }
    return out + "</section>\n";
}
}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string offset_plot_svg(const nlohmann::json& server) {
    std::vector<double> offsets;
    for (const auto& sample : server.value("samples", nlohmann::json::array())) {
        if (sample.contains("offset_s") && sample["offset_s"].is_number()) {
            offsets.push_back(sample["offset_s"].get<double>() * 1e6);
        }
    }
    if (offsets.empty()) {
        return "";
    }
    const double best = server.value("offset_s", offsets.front()) * 1e6;
    const double jitter = server.value("jitter_s", 0.0) * 1e6;
    double lo = std::min(best - jitter, *std::min_element(offsets.begin(), offsets.end()));
    double hi = std::max(best + jitter, *std::max_element(offsets.begin(), offsets.end()));
    const double pad = std::max((hi - lo) * 0.1, 1.0);
    lo -= pad;
    hi += pad;
    constexpr double kWidth = 360;
    constexpr double kHeight = 160;
    constexpr double kLeft = 56;
    constexpr double kBottom = 24;
    const double plot_w = kWidth - kLeft - 8;
    const double plot_h = kHeight - kBottom - 8;
    const auto x = [&](std::size_t i) {
        return kLeft + (offsets.size() == 1 ? plot_w / 2
                                            : plot_w * static_cast<double>(i) /
                                                  static_cast<double>(offsets.size() - 1));
    };
    const auto y = [&](double us) { return 8 + plot_h * (hi - us) / (hi - lo); };
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"offset-plot\" width=\"{0}\" "
        "height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">\n"
        "<rect x=\"{2}\" y=\"8\" width=\"{3:.1f}\" height=\"{4:.1f}\" fill=\"#fafafa\" "
        "stroke=\"#999\"/>\n",
        kWidth, kHeight, kLeft, plot_w, plot_h);
    out += fmt::format(
        "<rect class=\"jitter\" x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"#9cf\" opacity=\"0.4\"><title>jitter ±{:.1f} µs</title></rect>\n",
        kLeft, y(best + jitter), plot_w, std::max(y(best - jitter) - y(best + jitter), 0.5),
        jitter);
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#36c\" "
        "stroke-dasharray=\"4 2\"/>\n",
        kLeft, kLeft + plot_w, y(best), y(best));
    if (lo < 0 && hi > 0) {
        out += fmt::format(
            "<line x1=\"{}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#000\" stroke-width=\"0.5\"/>\n",
            kLeft, kLeft + plot_w, y(0), y(0));
    }
    for (std::size_t i = 0; i < offsets.size(); ++i) {
        out += fmt::format(
            "<circle class=\"sample\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#c33\">"
            "<title>sample {}: {:.1f} µs</title></circle>\n",
            x(i), y(offsets[i]), i + 1, offsets[i]);
    }
    out += fmt::format(
        "<text x=\"{0}\" y=\"{1:.1f}\" text-anchor=\"end\">{2:.0f} µs</text>\n"
        "<text x=\"{0}\" y=\"{3:.1f}\" text-anchor=\"end\">{4:.0f} µs</text>\n"
        "<text x=\"{5:.1f}\" y=\"{6}\" text-anchor=\"middle\">sample (1-{7})</text>\n",
        kLeft - 4, y(hi) + 10, hi, y(lo), lo, kLeft + plot_w / 2, kHeight - 6, offsets.size());
    return out + "</svg>";
}

std::string catalogue_html(const std::vector<ImageRun>& runs, const std::string& checker,
                           const std::string& generated_at) {
    std::size_t as_expected = 0;
    for (const auto& r : runs) {
        as_expected += r.mismatch.empty() ? 1U : 0U;
    }
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>cloudtime validate-image</title>\n<style>" +
        std::string(kStyle) + "</style>\n</head>\n<body>\n<h1>Time synchronization of " +
        std::to_string(runs.size()) + (runs.size() == 1 ? " image" : " images") + "</h1>\n";
    out += fmt::format(
        "<p class=\"summary\" id=\"summary\" data-as-expected=\"{0}\" data-images=\"{1}\">{0} of "
        "{1} images came out as expected.</p>\n<p>{2}, {3}. Each image was booted the way the "
        "cloud offers it, and <code>cloudtime check</code> ran inside it.</p>\n",
        as_expected, runs.size(), html_escape(checker), html_escape(generated_at));
    out += matrix(runs);
    for (const auto& r : runs) {
        out += image_section(r);
    }
    return out + "</body>\n</html>\n";
}

}  // namespace cloudtime::check
