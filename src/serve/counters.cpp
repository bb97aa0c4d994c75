// SPDX-License-Identifier: Apache-2.0
#include "serve/counters.hpp"

#include <numeric>

namespace cloudtime::server {

std::uint64_t CounterTotals::dropped_total() const {
    return std::accumulate(dropped.begin(), dropped.end(), oversized);
}

std::uint64_t CounterTotals::interleaved_total() const {
    return std::accumulate(interleaved.begin(), interleaved.end(), std::uint64_t{0});
}

std::vector<NamedCounter> CounterTotals::named() const {
    std::vector<NamedCounter> out{
        {"received", received}, {"answered", answered}, {"dropped", dropped_total()}};
    for (std::size_t i = 0; i < dropped.size(); ++i) {
        out.push_back({std::string(kDroppedPrefix) +
                           proto::drop_reason_name(static_cast<proto::DropReason>(i)),
                       dropped[i]});
    }
    out.push_back({std::string(kDroppedPrefix) + "oversized", oversized});
    out.push_back({"send_errors", send_errors});
    out.push_back({"kod_sent", kod_sent});
    out.push_back({"leaked", leaked});
    out.push_back({"deny_sent", deny_sent});
    out.push_back({"nts", nts});
    out.push_back({"nts_nak", nts_nak});
    out.push_back({"interleaved", interleaved_total()});
    for (std::size_t i = 0; i < interleaved.size(); ++i) {
        out.push_back({std::string("interleaved_tx.") +
                           proto::transmit_source_name(static_cast<proto::TransmitSource>(i)),
                       interleaved[i]});
    }
    out.push_back({"kernel_tx_stamps", kernel_tx_stamps});
    return out;
}

std::string CounterTotals::to_string() const {
    std::string text;
    for (const auto& [name, value] : named()) {
        text += (text.empty() ? "" : " ") + name + "=" + std::to_string(value);
    }
    return text;
}

void WorkerCounters::add(const CounterTotals& tally) {
    for_each_counter(counts_, tally, [](std::atomic<std::uint64_t>& counter, std::uint64_t n) {
        if (n != 0) {
            add_relaxed(counter, n);
        }
    });
}

void WorkerCounters::add_to(CounterTotals& totals) const {
    for_each_counter(totals, counts_,
                     [](std::uint64_t& total, const std::atomic<std::uint64_t>& counter) {
                         total += counter.load(std::memory_order_relaxed);
                     });
}

}  // namespace cloudtime::server
