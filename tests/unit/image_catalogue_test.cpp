// SPDX-License-Identifier: Apache-2.0
// A catalogue of images for validate-image: read strictly, each image judged against what its
// entry expects, and the matrix, JSON and HTML page built from the runs.
#include "check/image_catalogue.hpp"
#include "check/guest_console.hpp"

#include <gtest/gtest.h>

#include "check/catalogue_html.hpp"
#include "check/catalogue_report.hpp"
#include "check/image_validation.hpp"

namespace cloudtime::check {
namespace {

constexpr const char* kCatalogue = R"(
config = "cloudtimed.toml"
timeout = 420

[[image]]
name = "debian12-chrony"
path = "debian12-chrony.qcow2"

[[image]]
name = "opted-out"
path = "/images/debian12-chrony.qcow2"
config = "/etc/other.toml"
vendordata = true
dhcp = true
metadata = { cloudtime_ntp = "off" }
user_data = "tenant.yaml"
expect = "opted-out"
expect_checks = { time-source-delivered = "skip", leap-status = "pass" }
memory = 512
)";

TEST(ImageCatalogue, ReadsEntriesWithDefaultsAndPathsBesideTheFile) {
    const auto entries = parse_catalogue(kCatalogue, "cat.toml", "/srv/catalogue");
    ASSERT_TRUE(entries) << entries.error();
    ASSERT_EQ(entries->size(), 2U);
    const auto& first = (*entries)[0];
    EXPECT_EQ(first.name, "debian12-chrony");
    EXPECT_EQ(first.image, "/srv/catalogue/debian12-chrony.qcow2");
    EXPECT_EQ(first.config, "/srv/catalogue/cloudtimed.toml");
    EXPECT_EQ(first.timeout_s, 420);
    EXPECT_TRUE(first.vendordata);
    EXPECT_FALSE(first.dhcp);
    EXPECT_EQ(first.expect, ImageOutcome::pass);
    const auto& second = (*entries)[1];
    EXPECT_EQ(second.image, "/images/debian12-chrony.qcow2");
    EXPECT_EQ(second.config, "/etc/other.toml");
    EXPECT_TRUE(second.dhcp);
    EXPECT_EQ(second.metadata.at("cloudtime_ntp"), "off");
    EXPECT_EQ(second.user_data, "/srv/catalogue/tenant.yaml");
    EXPECT_EQ(second.expect, ImageOutcome::opted_out);
    EXPECT_EQ(second.expect_checks.at("time-source-delivered"), Verdict::skip);
    EXPECT_EQ(second.memory_mb, 512);
    EXPECT_EQ(second.timeout_s, 420);
}

TEST(ImageCatalogue, EveryMistakeIsNamedWithItsLine) {
    const auto error = [](const std::string& text) {
        auto parsed = parse_catalogue(text, "cat.toml", "/d");
        return parsed ? std::string("accepted") : parsed.error();
    };
    EXPECT_EQ(error(""), "cat.toml: no [[image]] in the catalogue");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\n"),
              "cat.toml:1: an [[image]] needs a name and a path");
    EXPECT_EQ(error("[[image]]\nname = \"a b\"\npath = \"x\"\n"),
              "cat.toml:2: image.name 'a b' must be 1-64 letters, digits, '.', '_' or '-'");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\npath = \"x\"\n[[image]]\nname = \"a\"\npath = "
                    "\"y\"\n"),
              "cat.toml:4: image.name 'a' is used twice");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\npath = \"x\"\nexpect = \"error\"\n"),
              "cat.toml:4: image.expect must be one of pass, warn, fail, opted-out");
    EXPECT_EQ(
        error("[[image]]\nname = \"a\"\npath = \"x\"\nexpect_checks = { offset = \"ok\" }\n"),
        "cat.toml:4: image.expect_checks.offset must be one of pass, warn, fail, skip, abort");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\npath = \"x\"\nmetadata = { k = 1 }\n"),
              "cat.toml:4: image.metadata.k must be a string");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\npath = \"x\"\ncolour = \"red\"\n"),
              "cat.toml:4: unknown key 'colour' in [image]");
    EXPECT_EQ(error("timeout = 5\n[[image]]\nname = \"a\"\npath = \"x\"\n"),
              "cat.toml:1: catalogue.timeout must be between 30 and 7200, not 5");
    EXPECT_EQ(error("[[image]]\nname = \"a\"\npath = \"x\"\nconfig_drive = \"d.iso\"\n"
                    "user_data = \"u\"\n"),
              "cat.toml:1: image 'a': a config_drive carries its own metadata and user-data "
              "(give neither)");
    EXPECT_EQ(error("image = \"x\"\n"), "cat.toml:1: image must be an array of tables ([[image]])");
    EXPECT_NE(error("[[image]\n").find("cat.toml:1: "), std::string::npos);
}

TEST(ImageValidation, TheTenantsUserDataComesFirstInTheMultipart) {
    EXPECT_EQ(*user_data_type("#cloud-config\nruncmd: [ls]\n"), "text/cloud-config");
    EXPECT_EQ(*user_data_type("#!/bin/sh\n"), "text/x-shellscript");
    EXPECT_EQ(*user_data_type("#cloud-boothook\n"), "text/cloud-boothook");
    EXPECT_FALSE(user_data_type("Content-Type: multipart/mixed\n"));
    const std::string alone = validator_user_data("");
    EXPECT_EQ(alone.rfind("Content-Type: multipart/mixed; boundary=", 0), 0U);
    EXPECT_EQ(alone.find("tenant-user-data"), std::string::npos);
    const std::string both = validator_user_data("#cloud-config\nruncmd: [ls]");
    const auto tenant = both.find("Content-Type: text/cloud-config");
    const auto check = both.find("Content-Type: text/x-shellscript");
    ASSERT_NE(tenant, std::string::npos);
    ASSERT_NE(check, std::string::npos);
    EXPECT_LT(tenant, check);
    EXPECT_NE(both.find("runcmd: [ls]\n--"), std::string::npos);  // its own line ends
    EXPECT_NE(both.find("filename=\"zz-cloudtime-check\""), std::string::npos);
    // The tools drive's script prints what parse_console reads back.
    const std::string script = run_check_script("cloudtime-vm");
    EXPECT_NE(script.find("\"$d/cloudtime-vm\" check --json --wait 120 "), std::string::npos);
    EXPECT_NE(script.find("echo CLOUDTIME-CHECK-JSON-BEGIN; cat /run/cloudtime-check.json; echo "
                          "CLOUDTIME-CHECK-JSON-END; echo \"CLOUDTIME-CHECK-EXIT $code\"; } "
                          ">/dev/ttyS0"),
              std::string::npos);
    EXPECT_FALSE(check_finished("CLOUDTIME-CHECK-JSON-END\n"));
    EXPECT_TRUE(check_finished("CLOUDTIME-CHECK-EXIT 0\n"));
}

std::vector<CheckResult> verdicts(Verdict delivered, Verdict synchronized) {
    return {{"image-boots", "boots", Verdict::pass, "41 s"},
            {"time-source-delivered", "delivered", delivered, "config-drive: 169.254.169.254"},
            {"client-synchronized", "synchronized", synchronized, "chronyd follows it"}};
}

TEST(ImageCatalogue, OutcomeAndExpectation) {
    EXPECT_EQ(image_outcome(verdicts(Verdict::pass, Verdict::pass), false), ImageOutcome::pass);
    EXPECT_EQ(image_outcome(verdicts(Verdict::pass, Verdict::warn), false), ImageOutcome::warn);
    EXPECT_EQ(image_outcome(verdicts(Verdict::fail, Verdict::pass), false), ImageOutcome::fail);
    EXPECT_EQ(image_outcome(verdicts(Verdict::pass, Verdict::abort), false), ImageOutcome::fail);
    EXPECT_EQ(image_outcome(verdicts(Verdict::skip, Verdict::skip), true), ImageOutcome::opted_out);
    // Opted out but something the cloud still provides failed: a failure.
    EXPECT_EQ(image_outcome(verdicts(Verdict::skip, Verdict::fail), true), ImageOutcome::fail);

    CatalogueEntry e;
    // Expecting a pass allows warnings; expecting a warning needs one.
    EXPECT_EQ(expectation_mismatch(e, ImageOutcome::warn, {}), "");
    e.expect = ImageOutcome::warn;
    EXPECT_EQ(expectation_mismatch(e, ImageOutcome::pass, {}), "expected warn, got pass");
    e.expect = ImageOutcome::fail;
    e.expect_checks = {{"time-source-delivered", Verdict::fail}, {"ptp-clock", Verdict::warn}};
    const auto checks = verdicts(Verdict::fail, Verdict::fail);
    EXPECT_EQ(expectation_mismatch(e, ImageOutcome::fail, checks),
              "ptp-clock: expected warn, not run");
    e.expect_checks.erase("ptp-clock");
    EXPECT_EQ(expectation_mismatch(e, ImageOutcome::fail, checks), "");
    e.expect = ImageOutcome::pass;
    e.expect_checks["client-synchronized"] = Verdict::pass;
    EXPECT_EQ(expectation_mismatch(e, ImageOutcome::fail, checks),
              "expected pass, got fail; client-synchronized: expected pass, got fail");
}

// One run as judge_image makes it from a guest's report on the console.
ImageRun run_of(const std::string& name, const std::string& guest_json, ImageOutcome expect) {
    ImageValidation v;
    v.accelerator = "tcg (no /dev/kvm)";
    v.boot_s = 41.5;
    parse_console("CLOUDTIME-CHECK-JSON-BEGIN\n" + guest_json +
                      "\nCLOUDTIME-CHECK-JSON-END\nCLOUDTIME-CHECK-EXIT 0\n",
                  v);
    v.vendordata_log = vendordata_log(
        "[   29.5] cloud-init[389]: cloudtime: chrony (/etc/chrony/chrony.conf) uses: "
        "169.254.169.254\r\nnot ours: cloudtime: no\ncloudtime: wrote /etc/x\n");
    EXPECT_EQ(v.vendordata_log,
              (std::vector<std::string>{
                  "cloudtime: chrony (/etc/chrony/chrony.conf) uses: 169.254.169.254",
                  "cloudtime: wrote /etc/x"}));
    CatalogueEntry e;
    e.name = name;
    e.image = "/images/" + name + ".qcow2";
    e.expect = expect;
    return judge_image(e, v);
}

const char* kPassingGuest = R"({"checker": "cloudtime-vm 0.1.0", "exit_code": 0,
  "checks": [{"id": "time-source-delivered", "title": "t", "verdict": "pass",
              "reason": "config-drive: 169.254.169.254"},
             {"id": "client-synchronized", "title": "s", "verdict": "pass", "reason": "<ok>"}],
  "channels": [{"kind": "config-drive", "source": "/dev/sr0", "servers": ["169.254.169.254"]},
               {"kind": "dhcp", "source": "x", "error": "no lease file"}],
  "servers": [{"server": "169.254.169.254", "found_by": ["config-drive"], "answered": true,
               "offset_s": 0.00012, "delay_s": 0.0009, "jitter_s": 0.00003,
               "samples": [{"offset_s": 0.00012, "delay_s": 0.0009},
                           {"offset_s": 0.00016, "delay_s": 0.0011},
                           {"offset_s": 0.00009, "delay_s": 0.0010}]}],
  "client": {"kind": "chrony", "sources": [{"address": "169.254.169.254", "symbol": "*"},
                                           {"address": "192.0.2.1", "symbol": "?"}]}})";

TEST(CatalogueReport, MatrixJsonScsAndExitCode) {
    std::vector<ImageRun> runs{run_of("good", kPassingGuest, ImageOutcome::pass),
                               run_of("surprise", kPassingGuest, ImageOutcome::fail)};
    CatalogueEntry broken;
    broken.name = "broken";
    broken.image = "/images/missing.qcow2";
    runs.push_back(judge_image(broken, Error{"/images/missing.qcow2: not a file"}));
    EXPECT_EQ(runs[0].outcome, ImageOutcome::pass);
    EXPECT_EQ(runs[0].mismatch, "");
    EXPECT_EQ(runs[1].mismatch, "expected fail, got pass");
    EXPECT_EQ(runs[2].outcome, ImageOutcome::error);
    EXPECT_EQ(catalogue_exit_code(runs), 1);
    EXPECT_EQ(catalogue_exit_code({runs[0], runs[2]}), 2);
    EXPECT_EQ(catalogue_exit_code({runs[0]}), 0);

    const auto summary = guest_summary(runs[0]);
    EXPECT_EQ(summary.channels, std::vector<std::string>{"config-drive"});
    EXPECT_EQ(summary.client, "chrony");
    EXPECT_EQ(summary.client_servers, std::vector<std::string>{"169.254.169.254"});

    EXPECT_EQ(check_columns(runs), (std::vector<std::string>{"image-boots", "time-source-delivered",
                                                             "client-synchronized"}));
    const auto lines = matrix_lines(runs);
    ASSERT_GE(lines.size(), 6U);
    EXPECT_EQ(lines[0], "image     expect    outcome     boot     1    2    3  as expected");
    EXPECT_EQ(lines[1], "good      pass      pass        42 s  PASS PASS PASS  yes");
    EXPECT_EQ(lines[3], "broken    pass      error          -     -    -    -  NO");
    EXPECT_EQ(lines[4],
              "checks: 1 image-boots, 2 time-source-delivered, 3 "
              "client-synchronized");
    EXPECT_EQ(lines.back(), "1 of 3 images as expected");

    const auto json = catalogue_json(runs, "cloudtime 0.1.0");
    EXPECT_EQ(json["exit_code"], 1);
    EXPECT_EQ(json["images"][0]["delivered_by"], nlohmann::json::array({"config-drive"}));
    EXPECT_EQ(json["images"][0]["client"]["follows"], nlohmann::json::array({"169.254.169.254"}));
    EXPECT_EQ(json["images"][1]["as_expected"], false);
    EXPECT_EQ(json["images"][2]["error"], "/images/missing.qcow2: not a file");
    EXPECT_EQ(json["images"][0]["validation"]["guest"]["servers"][0]["samples"].size(), 3U);

    const auto scs = catalogue_scs_lines(runs);
    EXPECT_EQ(scs.front(), "good: scs-0129-image-boots: PASS");
    EXPECT_EQ(scs.back(), "broken: scs-0129-image-boots: ABORT");
}

TEST(CatalogueHtml, OnePageWithTheMatrixAndAPlotPerImage) {
    const std::vector<ImageRun> runs{run_of("good", kPassingGuest, ImageOutcome::pass),
                                     run_of("a<b", kPassingGuest, ImageOutcome::fail)};
    const std::string page = catalogue_html(runs, "cloudtime 0.1.0", "2026-12-01 09:00:00 UTC");
    EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0U);
    // Self-contained: nothing fetched from elsewhere.
    for (const char* external : {"<script", "<link", "src=\"http", "@import", "url("}) {
        EXPECT_EQ(page.find(external), std::string::npos) << external;
    }
    EXPECT_NE(page.find("<table id=\"matrix\">"), std::string::npos);
    EXPECT_NE(page.find("<tr data-image=\"good\" data-outcome=\"pass\" data-as-expected=\"yes\">"),
              std::string::npos);
    EXPECT_NE(page.find("data-image=\"a&lt;b\""), std::string::npos);  // escaped
    EXPECT_EQ(page.find("a<b"), std::string::npos);
    EXPECT_NE(page.find("<td class=\"pass\" data-check=\"client-synchronized\" "
                        "title=\"&lt;ok&gt;\">PASS</td>"),
              std::string::npos);
    EXPECT_NE(page.find("<section id=\"image-good\">"), std::string::npos);
    EXPECT_NE(page.find("config-drive"), std::string::npos);
    EXPECT_NE(page.find("chrony, following 169.254.169.254"), std::string::npos);
    EXPECT_NE(page.find("cloudtime: chrony (/etc/chrony/chrony.conf) uses"), std::string::npos);
    EXPECT_NE(page.find("1 of 2 images came out as expected"), std::string::npos);

    nlohmann::json server = {{"offset_s", 0.00012},
                             {"jitter_s", 0.00003},
                             {"samples", {{{"offset_s", 0.00012}}, {{"offset_s", 0.00016}}}}};
    const std::string svg = offset_plot_svg(server);
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U);
    std::size_t circles = 0;
    for (auto pos = svg.find("<circle"); pos != std::string::npos;
         pos = svg.find("<circle", pos + 1)) {
        ++circles;
    }
    EXPECT_EQ(circles, 2U);
    EXPECT_NE(svg.find("sample 2: 160.0 µs"), std::string::npos);
    EXPECT_NE(svg.find("jitter ±30.0 µs"), std::string::npos);
    EXPECT_EQ(offset_plot_svg({{"offset_s", 0.0}}), "");
}

}  // namespace
}  // namespace cloudtime::check
