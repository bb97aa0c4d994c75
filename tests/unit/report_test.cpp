// SPDX-License-Identifier: Apache-2.0
// The report contract: every checker's report goes to JSON and comes back the same, and a
// report that is not one is refused with the reason (validate-image reads the guest's).
#include "check/report.hpp"
#include "check/guest_console.hpp"

#include <gtest/gtest.h>

#include "check/image_validation.hpp"

namespace cloudtime::check {
namespace {

Report sample_report() {
    Report r;
    r.checker = "cloudtime-vm 0.1.0";
    r.checks = {{"time-source-delivered", "the cloud tells this VM where to get time",
                 Verdict::pass, "metadata: 169.254.169.254"},
                {"source-redundancy", "a PTP clock or two distinct cloud NTP servers",
                 Verdict::warn, "0 PTP clocks, 1 answering cloud NTP server"},
                {"ptp-clock", "PTP hardware clock", Verdict::skip, "absent"},
                {"offset", "system clock offset", Verdict::abort, "nothing to measure"}};
    r.facts = {{"client", {{"kind", "chrony"}}}, {"servers", nlohmann::json::array()}};
    return r;
}

TEST(Report, RoundTripsThroughJson) {
    const Report r = sample_report();
    const nlohmann::json j = to_json(r);
    EXPECT_EQ(j["checker"], "cloudtime-vm 0.1.0");
    EXPECT_EQ(j["exit_code"], 2);  // an abort, no failure
    EXPECT_EQ(j["checks"][1]["verdict"], "warn");
    EXPECT_EQ(j["client"]["kind"], "chrony");  // facts are top-level keys
    const auto back = report_from_json(j);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->checker, r.checker);
    ASSERT_EQ(back->checks.size(), r.checks.size());
    for (std::size_t i = 0; i < r.checks.size(); ++i) {
        EXPECT_EQ(back->checks[i].id, r.checks[i].id);
        EXPECT_EQ(back->checks[i].title, r.checks[i].title);
        EXPECT_EQ(back->checks[i].verdict, r.checks[i].verdict);
        EXPECT_EQ(back->checks[i].reason, r.checks[i].reason);
    }
    EXPECT_EQ(back->facts, r.facts);
    EXPECT_EQ(to_json(*back), j);
}

TEST(Report, EveryVerdictHasOneWord) {
    for (const Verdict v :
         {Verdict::pass, Verdict::warn, Verdict::fail, Verdict::skip, Verdict::abort}) {
        EXPECT_EQ(verdict_from_word(verdict_word(v)), v);
    }
    EXPECT_FALSE(verdict_from_word("PASS"));
    EXPECT_FALSE(verdict_from_word("ok"));
}

TEST(Report, WhatIsNotAReportIsRefusedWithTheReason) {
    const nlohmann::json good = to_json(sample_report());
    auto unknown_verdict = good;
    unknown_verdict["checks"][0]["verdict"] = "passed";
    EXPECT_EQ(report_from_json(unknown_verdict).error(),
              "check time-source-delivered: unknown verdict 'passed'");
    auto no_reason = good;
    no_reason["checks"][2].erase("reason");
    EXPECT_FALSE(report_from_json(no_reason));
    auto lying = good;
    lying["exit_code"] = 0;
    EXPECT_EQ(report_from_json(lying).error(),
              "the report's exit_code does not follow from its checks");
    auto anonymous = good;
    anonymous.erase("checker");
    EXPECT_FALSE(report_from_json(anonymous));
    EXPECT_FALSE(report_from_json(nlohmann::json::array()));
}

TEST(ImageValidation, GuestStageIsTheFurthestTheConsoleShows) {
    EXPECT_EQ(guest_stage(""), "firmware and boot loader");
    EXPECT_EQ(guest_stage("SeaBIOS\nBooting from Hard Disk...\n"), "firmware and boot loader");
    const std::string kernel = "[    0.000000] Linux version 6.1.0-27-amd64\n";
    EXPECT_EQ(guest_stage(kernel), "kernel booting");
    const std::string init = kernel + "Cloud-init v. 22.4.2 running 'init-local' at ...\n";
    EXPECT_EQ(guest_stage(init), "cloud-init init stage");
    const std::string config = init + "Cloud-init v. 22.4.2 running 'modules:config' at ...\n";
    EXPECT_EQ(guest_stage(config), "cloud-init config stage");
    const std::string final_stage = config + "Cloud-init v. 22.4.2 running 'modules:final'\n";
    EXPECT_EQ(guest_stage(final_stage),
              "cloud-init final stage: the check runs (it waits for the guest's NTP client)");
    EXPECT_EQ(guest_stage(final_stage + "CLOUDTIME-CHECK-JSON-BEGIN\n{}\n"),
              "the check has finished");
}

TEST(ImageValidation, TheGuestsReportIsReadFromTheConsole) {
    const std::string json = to_json(sample_report()).dump(2);
    ImageValidation v;
    parse_console("boot noise\nCLOUDTIME-CHECK-JSON-BEGIN\n" + json +
                      "\n[   12.345678] a kernel line in between\n"
                      "CLOUDTIME-CHECK-JSON-END\nCLOUDTIME-CHECK-EXIT 2\n",
                  v);
    EXPECT_TRUE(v.reached_check());
    EXPECT_EQ(v.guest_exit, 2);
    ASSERT_TRUE(v.guest && *v.guest) << (v.guest ? v.guest->error() : "none");
    const auto results = evaluate_image(v, 600);
    ASSERT_EQ(results.size(), 5U);
    EXPECT_EQ(results[0].id, "image-boots");
    EXPECT_EQ(results[0].verdict, Verdict::pass);
    EXPECT_EQ(results[2].id, "source-redundancy");
    EXPECT_EQ(results[2].verdict, Verdict::warn);
    EXPECT_EQ(results[2].title, "guest: a PTP clock or two distinct cloud NTP servers");

    ImageValidation broken;
    parse_console("CLOUDTIME-CHECK-JSON-BEGIN\n{\"checks\": []}\nCLOUDTIME-CHECK-JSON-END\n",
                  broken);
    EXPECT_TRUE(broken.reached_check());
    const auto verdicts = evaluate_image(broken, 600);
    ASSERT_EQ(verdicts.size(), 1U);
    EXPECT_EQ(verdicts[0].verdict, Verdict::fail);
    EXPECT_EQ(verdicts[0].reason,
              "the check ran, but its report is not one: the report names no checker");
}

}  // namespace
}  // namespace cloudtime::check
