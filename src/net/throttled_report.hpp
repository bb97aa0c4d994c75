// SPDX-License-Identifier: Apache-2.0
// Reports of what a server counted, at most one per period however fast things change: a
// report at once when the last one is older than the period, else one when the period ends.
// For the Asio servers (HTTP, TLS exchanges), on their io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <utility>

namespace cloudtime::sys {

class ThrottledReport {
  public:
    ThrottledReport(boost::asio::io_context& io, std::chrono::milliseconds every,
                    std::function<void()> report)
        : timer_(io), every_(every), report_(std::move(report)) {}

    void changed() {
        if (pending_ || !report_) {
            return;
        }
        if (std::chrono::steady_clock::now() - last_ >= every_) {
            fire();
            return;
        }
        pending_ = true;
        timer_.expires_at(last_ + every_);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            pending_ = false;
            if (!ec) {
                fire();
            }
        });
    }

  private:
    void fire() {
        last_ = std::chrono::steady_clock::now();
        report_();
    }

    boost::asio::steady_timer timer_;
    std::chrono::milliseconds every_;
    std::function<void()> report_;
    bool pending_ = false;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace cloudtime::sys
