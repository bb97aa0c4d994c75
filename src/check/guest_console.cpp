// SPDX-License-Identifier: Apache-2.0
#include "check/guest_console.hpp"

#include <cstdlib>
#include <regex>
#include <sstream>

#include "check/image_validation.hpp"

namespace cloudtime::check {

namespace {
constexpr const char* kJsonBegin = "CLOUDTIME-CHECK-JSON-BEGIN";
constexpr const char* kJsonEnd = "CLOUDTIME-CHECK-JSON-END";
constexpr const char* kExitMarker = "CLOUDTIME-CHECK-EXIT ";
constexpr int kGuestWaitS = 120;  // for chronyd in the guest to follow the cloud's server
}  // namespace

std::string run_check_script(std::string_view checker) {
    return "#!/bin/sh\n# Run by the validator's user-data: cloudtime-vm check, its verdict on the "
           "serial console.\nd=$(dirname \"$0\")\n\"$d/" +
           std::string(checker) + "\" check --json --wait " + std::to_string(kGuestWaitS) +
           " >/run/cloudtime-check.json 2>/run/cloudtime-check.err\ncode=$?\n"
           "{ echo " +
           kJsonBegin + "; cat /run/cloudtime-check.json; echo " + kJsonEnd + "; echo \"" +
           kExitMarker + "$code\"; } >/dev/ttyS0\n";
}

bool check_finished(const std::string& console) {
    return console.find(kExitMarker) != std::string::npos;
}

std::string guest_stage(std::string_view console) {
    // The furthest one the console shows: the kernel's banner, cloud-init's stage lines, the
    // check's output.
    constexpr std::pair<std::string_view, std::string_view> kStages[] = {
        {kJsonBegin, "the check has finished"},
        {"running 'modules:final'",
         "cloud-init final stage: the check runs (it waits for the guest's NTP client)"},
        {"running 'modules:config'", "cloud-init config stage"},
        {"running 'init", "cloud-init init stage"},
        {"Linux version", "kernel booting"},
    };
    for (const auto& [marker, stage] : kStages) {
        if (console.find(marker) != std::string_view::npos) {
            return std::string(stage);
        }
    }
    return "firmware and boot loader";
}

// The validator's part runs the check from the tools drive and powers the guest off; as a
// shell part of a MIME multipart it runs after the tenant's runcmd (cloud-init runs the
// scripts-user directory in name order: "runcmd" < "zz-cloudtime-check"), and no key of the
// tenant's cloud-config replaces it.
std::string validator_user_data(const std::string& tenant) {
    const std::string boundary = "==cloudtime-validate-image==";
    const auto part = [&](const std::string& type, const std::string& filename,
                          const std::string& body) {
        return "--" + boundary + "\nContent-Type: " + type + "; charset=\"us-ascii\"\n" +
               "MIME-Version: 1.0\nContent-Disposition: attachment; filename=\"" + filename +
               "\"\n\n" + body + (body.ends_with("\n") ? "" : "\n");
    };
    std::string out =
        "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\nMIME-Version: 1.0\n\n";
    if (!tenant.empty()) {
        out += part(*user_data_type(tenant), "tenant-user-data", tenant);
    }
    out += part("text/x-shellscript", "zz-cloudtime-check",
                "#!/bin/sh\n# cloudtime validate-image: the check from the tools drive, then "
                "power off\nmkdir -p /run/cloudtime-tools\nmount -o ro LABEL=CLOUDTIME "
                "/run/cloudtime-tools && sh /run/cloudtime-tools/run-check\n"
                "systemctl --no-block poweroff\n");
    return out + "--" + boundary + "--\n";
}

Expected<std::string> user_data_type(std::string_view user_data) {
    constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {"#cloud-config", "text/cloud-config"},     {"#!", "text/x-shellscript"},
        {"#cloud-boothook", "text/cloud-boothook"}, {"#include", "text/x-include-url"},
        {"#part-handler", "text/part-handler"},
    };
    for (const auto& [start, type] : kTypes) {
        if (user_data.starts_with(start)) {
            return std::string(type);
        }
    }
    return Error{
        "the tenant's user-data must begin with #cloud-config, #!, #cloud-boothook, "
        "#include or #part-handler (a MIME or gzipped one is not supported here)"};
}

void parse_console(const std::string& console, ImageValidation& out) {
    const auto begin = console.find(kJsonBegin);
    const auto end = console.find(kJsonEnd, begin == std::string::npos ? 0 : begin);
    const auto exit = console.find(kExitMarker);
    if (begin == std::string::npos || end == std::string::npos) {
        return;
    }
    // The kernel and systemd may write lines of their own in between: keep ours.
    std::string json;
    std::istringstream lines(console.substr(begin + std::string(kJsonBegin).size(),
                                            end - begin - std::string(kJsonBegin).size()));
    const std::regex kernel_line(R"(^\[\s*\d+\.\d+\].*)");
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (!std::regex_match(line, kernel_line)) {
            json += line + "\n";
        }
    }
    const auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded()) {
        out.guest = Error{"its output on the console is not JSON"};
    } else if (auto report = report_from_json(doc); report) {
        out.guest = std::move(report).value();
    } else {
        out.guest = Error{"its report is not one: " + report.error()};
    }
    if (exit != std::string::npos) {
        out.guest_exit = std::atoi(console.c_str() + exit + std::string(kExitMarker).size());
    }
}

std::vector<std::string> vendordata_log(const std::string& console) {
    std::vector<std::string> out;
    std::istringstream lines(console);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        // Written to the console by cloud-init ("cloudtime: ...") or through the journal
        // ("[   28.9] cloud-init[389]: cloudtime: ...").
        const auto at = line.find("cloudtime: ");
        if (at == 0 ||
            (at != std::string::npos && at >= 3 && line.compare(at - 3, 3, "]: ") == 0)) {
            out.push_back(line.substr(at));
        }
    }
    return out;
}

nlohmann::json validation_facts(const ImageValidation& v, const std::string& image) {
    nlohmann::json out = {{"image", image},
                          {"accelerator", v.accelerator},
                          {"boot_s", v.boot_s},
                          {"reached_check", v.reached_check()},
                          {"guest_exit_code", v.guest_exit},
                          {"vendordata_log", v.vendordata_log}};
    if (v.guest && *v.guest) {
        out["guest"] = to_json(**v.guest);
    } else if (v.guest) {
        out["guest_error"] = v.guest->error();
    }
    if (!v.console_tail.empty()) {
        out["console_tail"] = v.console_tail;
    }
    return out;
}

std::vector<CheckResult> evaluate_image(const ImageValidation& v, int timeout_s) {
    std::vector<CheckResult> out;
    CheckResult boots{"image-boots", "the image boots and cloud-init runs the check", Verdict::fail,
                      ""};
    if (v.guest && *v.guest) {
        boots.verdict = Verdict::pass;
        std::ostringstream text;
        text.precision(1);
        text << std::fixed << "cloud-init ran the check " << v.boot_s << " s after start ("
             << v.accelerator << ")";
        boots.reason = text.str();
    } else if (v.reached_check()) {
        boots.reason = "the check ran, but " + v.guest->error();
    } else {
        boots.reason = "the guest did not run the check within " + std::to_string(timeout_s) +
                       " s (" + v.accelerator + "); the console ends with:\n" + v.console_tail;
    }
    out.push_back(boots);
    if (v.guest && *v.guest) {
        for (const auto& r : (*v.guest)->checks) {
            out.push_back({r.id, "guest: " + r.title, r.verdict, r.reason});
        }
    }
    return out;
}

}  // namespace cloudtime::check
