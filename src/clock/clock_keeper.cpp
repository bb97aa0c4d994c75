// SPDX-License-Identifier: Apache-2.0
#include "clock/clock_keeper.hpp"

#include <spdlog/spdlog.h>

#include "sys/text_file.hpp"

namespace cloudtime::server {

namespace {
constexpr std::int64_t kLeapListRereadNs = 86'400LL * 1'000'000'000;
}

ClockKeeper::ClockKeeper(std::unique_ptr<ClockSource> source, ClockKeeperOptions options)
    : source_(std::move(source)),
      options_(std::move(options)),
      planner_(options_.leap_mode, options_.smear),
      holdover_(options_.holdover_s, options_.restart_grace_s) {}

void ClockKeeper::reload_leap_seconds(proto::UnixTime now) {
    leap_list_read_ = now;
    if (options_.leap_seconds_file.empty()) {
        return;
    }
    const auto text = sys::read_text_file(options_.leap_seconds_file, proto::kLeapSecondsFileLimit);
    if (!text) {
        spdlog::warn("leap seconds: cannot read {}: {}; only the upstream's announcements count",
                     options_.leap_seconds_file, text.error());
        leap_list_.reset();
        return;
    }
    auto parsed = proto::parse_leap_seconds(*text);
    if (!parsed) {
        spdlog::warn("leap seconds: {}: {}; only the upstream's announcements count",
                     options_.leap_seconds_file, parsed.error());
        leap_list_.reset();
        return;
    }
    leap_list_ = std::move(parsed).value();
    if (leap_list_->expired_at(now)) {
        spdlog::warn(
            "leap seconds: {} expired {} days ago; update tzdata. Only the upstream's "
            "announcements count until then",
            options_.leap_seconds_file, (now.ns - leap_list_->expires.ns) / 86'400'000'000'000LL);
    } else {
        spdlog::info("leap seconds: {} ({} entries, TAI-UTC {} s, valid {} more days)",
                     options_.leap_seconds_file, leap_list_->entries.size(),
                     leap_list_->entries.back().tai_offset,
                     (leap_list_->expires.ns - now.ns) / 86'400'000'000'000LL);
    }
}

void ClockKeeper::reconfigure(ClockKeeperOptions options) {
    const bool new_plan =
        options.leap_mode != options_.leap_mode || !(options.smear == options_.smear);
    holdover_.set_limits(options.holdover_s, options.restart_grace_s);
    options_ = std::move(options);
    if (new_plan) {
        planner_ = proto::LeapPlanner(options_.leap_mode, options_.smear);
    }
}

proto::ClockSnapshot ClockKeeper::refresh(proto::UnixTime now) {
    if (now.ns - leap_list_read_.ns >= kLeapListRereadNs) {
        reload_leap_seconds(now);
    }
    const proto::HoldoverStep step = holdover_.update(source_->refresh(now), now);
    switch (step.event) {
        case proto::HoldoverEvent::none:
            break;
        case proto::HoldoverEvent::started:
            spdlog::warn(
                "source of truth {}: holding over on its last state for up to {} s",
                holdover_.allowed_s() > options_.holdover_s ? "interrupted (restarting?)" : "lost",
                holdover_.allowed_s());
            break;
        case proto::HoldoverEvent::ended:
            spdlog::info("holdover ended: the source of truth is back");
            break;
        case proto::HoldoverEvent::exhausted:
            spdlog::warn("holdover of {} s exhausted: answering with LI=3", holdover_.allowed_s());
            break;
    }
    proto::ClockSnapshot s = step.served;
    if (!s.synchronized) {
        return s;
    }
    const proto::LeapPlan plan = planner_.plan(now, s.leap, leap_list_ ? &*leap_list_ : nullptr);
    if (!plan.warning.empty()) {
        spdlog::warn("leap seconds: {}", plan.warning);
    }
    s.leap = plan.announce;
    s.smear = plan.smear;
    if (s.smear.active) {
        s.reference_time =
            proto::smear(s.smear, s.reference_time, s.reference_time.ns >= s.smear.leap_at.ns);
    }
    return s;
}

}  // namespace cloudtime::server
