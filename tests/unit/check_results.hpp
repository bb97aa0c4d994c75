// SPDX-License-Identifier: Apache-2.0
// For the checkers' tests: the verdict of one check, by id, in a list of results.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "check/check_result.hpp"

namespace cloudtime::check {

inline Verdict verdict_of(const std::vector<CheckResult>& results, const std::string& id) {
    for (const auto& r : results) {
        if (r.id == id) {
            return r.verdict;
        }
    }
    ADD_FAILURE() << "no check " << id;
    return Verdict::abort;
}

}  // namespace cloudtime::check
