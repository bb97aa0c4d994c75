#include "server/counters.hpp"

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

void WorkerCounters::add_to(CounterTotals& totals) const {
    totals.received += received_.load(std::memory_order_relaxed);
    totals.answered += answered_.load(std::memory_order_relaxed);
    totals.oversized += oversized_.load(std::memory_order_relaxed);
    totals.send_errors += send_errors_.load(std::memory_order_relaxed);
    totals.kod_sent += kod_sent_.load(std::memory_order_relaxed);
    totals.leaked += leaked_.load(std::memory_order_relaxed);
    totals.deny_sent += deny_sent_.load(std::memory_order_relaxed);
    totals.nts += nts_.load(std::memory_order_relaxed);
    totals.nts_nak += nts_nak_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < interleaved_.size(); ++i) {
        totals.interleaved[i] += interleaved_[i].load(std::memory_order_relaxed);
    }
    totals.kernel_tx_stamps += kernel_tx_stamps_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < dropped_.size(); ++i) {
        totals.dropped[i] += dropped_[i].load(std::memory_order_relaxed);
    }
}

}  // namespace cloudtime::server
