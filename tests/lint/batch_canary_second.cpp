// SPDX-License-Identifier: Apache-2.0
// The second source of scripts/lint.sh's canary batch (batch_canary_first.cpp says why).
#include <algorithm>

namespace canary {

using std::max;  // lint-expect: misc-unused-using-decls

int second_counter = 0;

int doubled(int value);
int doubled(int value);  // lint-expect: readability-redundant-declaration

#ifndef CANARY_UNDEFINED
#ifndef CANARY_UNDEFINED  // lint-expect: readability-redundant-preprocessor
#endif
#endif

int second_null_read(bool flag) {
    int* pointer = 0;  // lint-expect: modernize-use-nullptr
    if (flag) {
        return *pointer;  // lint-expect: clang-analyzer-core.NullDereference
    }
    return second_counter;
}

}  // namespace canary
