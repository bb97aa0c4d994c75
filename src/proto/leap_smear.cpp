// SPDX-License-Identifier: Apache-2.0
#include "proto/leap_smear.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace cloudtime::proto {

namespace {
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kDay = 86'400;

double shape_at(SmearShape shape, double x) {
    x = std::clamp(x, 0.0, 1.0);
    return shape == SmearShape::cosine ? (1.0 - std::cos(std::numbers::pi * x)) / 2.0 : x;
}

std::string format_day(UnixTime t) {
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    std::int64_t z = t.ns / kSecond / kDay + 719'468;
    const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
    const std::int64_t doe = z - era * 146'097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    auto two = [](std::int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
    return std::to_string(year) + "-" + two(month) + "-" + two(day) + "T00:00:00Z";
}
}  // namespace

bool SmearWindow::near_leap(UnixTime posix) const {
    return active && posix.ns >= leap_at.ns - 2 * kSecond && posix.ns < leap_at.ns + kSecond;
}

SmearWindow make_smear_window(const LeapEvent& event, const SmearPolicy& policy) {
    SmearWindow w;
    w.active = event.direction != 0;
    w.direction = static_cast<std::int8_t>(event.direction > 0 ? 1 : -1);
    w.shape = policy.shape;
    w.leap_at = event.at;
    w.duration_s = policy.duration_s;
    w.start_before_s = policy.start_before_s;
    return w;
}

UnixTime smear(const SmearWindow& w, UnixTime posix, bool stepped) {
    if (!w.active || posix.ns < w.start().ns || posix.ns >= w.end().ns) {
        return posix;
    }
    // True seconds elapsed since the window opened: POSIX time plus the inserted second once
    // the kernel has stepped back over it, minus a deleted one once skipped.
    const bool after = posix.ns >= w.leap_at.ns || (w.direction > 0 && stepped);
    const std::int64_t elapsed_ns = posix.ns - w.start().ns + (after ? w.direction * kSecond : 0);
    const double true_length_s = static_cast<double>(w.duration_s + w.direction);
    const double x = static_cast<double>(elapsed_ns) / 1e9 / true_length_s;
    const double correction_s = static_cast<double>(w.direction) * shape_at(w.shape, x);
    return UnixTime{w.start().ns + elapsed_ns - std::llround(correction_s * 1e9)};
}

bool stepped_at(const SmearWindow& w, UnixTime rx, UnixTime now, bool now_stepped) {
    if (rx.ns >= w.leap_at.ns) {
        return true;
    }
    if (w.direction < 0 || rx.ns < w.leap_at.ns - kSecond || !now_stepped) {
        return false;
    }
    // `now` is in or after the repeated second: `rx`, read before it, is in the repeated
    // second too unless it reads later than `now` (then it came before the step).
    return now.ns >= w.leap_at.ns || rx.ns <= now.ns;
}

LeapPlan LeapPlanner::plan(UnixTime now, Leap upstream, const LeapSchedule* list) {
    LeapPlan result;
    if (event_ && now.ns >= make_smear_window(*event_, policy_).end().ns &&
        now.ns >= event_->at.ns) {
        event_.reset();
    }
    const bool list_usable = list != nullptr && !list->expired_at(now);
    const std::optional<LeapEvent> listed = list_usable ? next_leap(*list, now) : std::nullopt;
    const bool announced = upstream == Leap::insert_second || upstream == Leap::delete_second;
    std::string warning;
    if (announced) {
        const LeapEvent from_upstream{end_of_utc_day(now),
                                      upstream == Leap::insert_second ? 1 : -1};
        if (list_usable && (!listed || listed->at.ns != from_upstream.at.ns ||
                            listed->direction != from_upstream.direction)) {
            warning = "the upstream announces a leap second before " +
                      format_day(from_upstream.at) + " that leap-seconds.list does not hold";
        }
        event_ = from_upstream;
    } else if (listed) {
        if (now.ns >= listed->at.ns - kDay * kSecond) {
            warning = "leap-seconds.list holds a leap second before " + format_day(listed->at) +
                      " that the upstream does not announce";
        }
        if (mode_ == LeapMode::smear && now.ns >= make_smear_window(*listed, policy_).start().ns) {
            event_ = listed;
        }
    }
    if (warning != last_warning_) {
        result.warning = warning;
        last_warning_ = warning;
    }
    if (mode_ == LeapMode::pass) {
        result.announce = announced ? upstream : Leap::none;
        return result;
    }
    if (event_) {
        const SmearWindow window = make_smear_window(*event_, policy_);
        if (now.ns >= window.start().ns && now.ns < window.end().ns) {
            result.smear = window;
        }
    }
    return result;  // a smearing server never announces the leap
}

}  // namespace cloudtime::proto
