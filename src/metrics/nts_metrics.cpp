// SPDX-License-Identifier: Apache-2.0
#include "metrics/nts_metrics.hpp"

namespace cloudtime::daemon {

using metrics::Type;

void nts_metrics(metrics::Exposition& e, const NtsRunner& nts, const server::CounterTotals& totals,
                 std::int64_t now_s) {
    const server::NtsKeCounters ke = nts.counters();
    e.family("cloudtime_nts_ke_established_total", Type::counter,
             "NTS key establishments answered with cookies.");
    e.sample(ke.established);
    e.family("cloudtime_nts_ke_refused_total", Type::counter,
             "NTS-KE requests answered with an error record, by problem.");
    for (std::size_t i = 1; i < ke.refused.size(); ++i) {
        e.sample({{"problem", std::string(proto::ke_request_problem_name(
                                  static_cast<proto::KeRequestProblem>(i)))}},
                 ke.refused.at(i));
    }
    e.family(
        "cloudtime_nts_ke_no_agreement_total", Type::counter,
        "NTS-KE requests offering no NTPv4 or no AES-SIV-CMAC-256 (answered without cookies).");
    e.sample(ke.no_agreement);
    e.family("cloudtime_nts_ke_connections_closed_total", Type::counter,
             "NTS-KE connections that ended without an answer, by reason.");
    e.sample({{"reason", "over_limit"}}, ke.tls.over_limit);
    e.sample({{"reason", "evicted"}}, ke.tls.evicted);
    e.sample({{"reason", "deadline_expired"}}, ke.tls.deadline_expired);
    e.sample({{"reason", "handshake_failed"}}, ke.tls.handshake_failed);
    e.sample({{"reason", "wrong_alpn"}}, ke.tls.wrong_alpn);
    e.sample({{"reason", "request_too_long"}}, ke.tls.request_too_long);
    e.family("cloudtime_nts_ke_open_connections", Type::gauge, "NTS-KE connections open now.");
    e.sample(std::uint64_t{ke.tls.open});
    e.family("cloudtime_nts_responses_sent_total", Type::counter,
             "NTP replies sent authenticated with NTS (in cloudtime_ntp_responses_sent_total).");
    e.sample(totals.nts);
    e.family("cloudtime_nts_naks_sent_total", Type::counter,
             "NTS NAKs sent (KoD NTSN): cookies or authenticators that did not verify.");
    e.sample(totals.nts_nak);
    const proto::NtsKeySet keys = nts.keys();
    e.family("cloudtime_nts_cookie_keys", Type::gauge, "Cookie master keys held.");
    e.sample(std::uint64_t{keys.keys.size()});
    e.family("cloudtime_nts_cookie_key_generation", Type::gauge,
             "Rotations of the cookie master keys so far (the same on every instance sharing "
             "them).");
    e.sample(keys.generation);
    e.family("cloudtime_nts_cookie_key_age_seconds", Type::gauge,
             "Age of the key new cookies are made under: above the rotation period, rotations "
             "fail (see cloudtime_nts_key_store_reachable and the status's nts.keys.store).");
    e.sample(keys.keys.empty() ? 0.0 : static_cast<double>(now_s - keys.keys.front().created));
    e.family("cloudtime_nts_cookie_key_rotation_seconds", Type::gauge,
             "The rotation period of the cookie master keys (nts.rotation).");
    e.sample(static_cast<double>(keys.rotation_s));
    if (nts.certificate_expiry() != 0) {
        e.family("cloudtime_nts_certificate_expiry_timestamp_seconds", Type::gauge,
                 "When the NTS-KE certificate stops being valid (its notAfter, Unix time).");
        e.sample(static_cast<double>(nts.certificate_expiry()));
    }
    const server::NtsKeyStoreState store = nts.key_store();
    e.family("cloudtime_nts_key_store_reachable", Type::gauge,
             "1 while the key store answers (a file: its last rotation was written; etcd: its "
             "last request succeeded).");
    e.sample({{"store", store.kind}}, std::uint64_t{store.reachable ? 1U : 0U});
    e.family("cloudtime_nts_key_store_rotations_total", Type::counter,
             "Rotations this instance wrote to the key store (etcd: another wrote first).");
    e.sample({{"result", "written"}}, store.writes);
    e.sample({{"result", "conflict"}}, store.conflicts);
    e.family("cloudtime_nts_key_store_failures_total", Type::counter,
             "Key store requests that failed on every etcd member, or key file writes that "
             "failed.");
    e.sample(store.failures);
}

}  // namespace cloudtime::daemon
