#include "server/counters.hpp"

#include <numeric>

namespace cloudtime::server {

std::uint64_t CounterTotals::dropped_total() const {
    return std::accumulate(dropped.begin(), dropped.end(), std::uint64_t{0});
}

std::string CounterTotals::to_string() const {
    std::string text = "received=" + std::to_string(received) +
                       " answered=" + std::to_string(answered) +
                       " dropped=" + std::to_string(dropped_total() + oversized);
    for (std::size_t i = 0; i < dropped.size(); ++i) {
        text += " dropped.";
        text += proto::drop_reason_name(static_cast<proto::DropReason>(i));
        text += "=" + std::to_string(dropped[i]);
    }
    text += " dropped.oversized=" + std::to_string(oversized);
    text += " send_errors=" + std::to_string(send_errors);
    text += " kod_sent=" + std::to_string(kod_sent);
    text += " leaked=" + std::to_string(leaked);
    text += " deny_sent=" + std::to_string(deny_sent);
    return text;
}

void WorkerCounters::add_to(CounterTotals& totals) const {
    totals.received += received_.load(std::memory_order_relaxed);
    totals.answered += answered_.load(std::memory_order_relaxed);
    totals.oversized += oversized_.load(std::memory_order_relaxed);
    totals.send_errors += send_errors_.load(std::memory_order_relaxed);
    totals.kod_sent += kod_sent_.load(std::memory_order_relaxed);
    totals.leaked += leaked_.load(std::memory_order_relaxed);
    totals.deny_sent += deny_sent_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < dropped_.size(); ++i) {
        totals.dropped[i] += dropped_[i].load(std::memory_order_relaxed);
    }
}

}  // namespace cloudtime::server
