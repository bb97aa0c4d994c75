// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "serve/snapshot_cell.hpp"

namespace cloudtime::server {
namespace {

proto::ClockSnapshot snapshot_with(std::uint32_t n) {
    proto::ClockSnapshot s;
    s.synchronized = true;
    s.refid = n;
    s.root_delay_s = n;
    s.root_dispersion_s = n;
    s.dispersion_epoch = proto::UnixTime{static_cast<std::int64_t>(n)};
    s.reference_time = proto::UnixTime{static_cast<std::int64_t>(n)};
    return s;
}

TEST(SnapshotCell, ReadersNeverSeeATornSnapshot) {
    SnapshotCell cell;
    cell.publish(snapshot_with(0));
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::thread reader([&] {
        while (!done.load()) {
            const auto s = cell.load();
            const double n = s.refid;
            if (s.root_delay_s != n || s.root_dispersion_s != n ||
                s.reference_time.ns != static_cast<std::int64_t>(s.refid)) {
                torn.fetch_add(1);
            }
        }
    });
    for (std::uint32_t i = 1; i <= 200'000; ++i) {
        cell.publish(snapshot_with(i));
    }
    done = true;
    reader.join();
    EXPECT_EQ(torn.load(), 0);
    EXPECT_EQ(cell.load().refid, 200'000U);
}

}  // namespace
}  // namespace cloudtime::server
