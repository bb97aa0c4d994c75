// SPDX-License-Identifier: Apache-2.0
// Not built: scripts/lint.sh joins this file and batch_canary_second.cpp into one batch, as it
// joins the sources, and checks that clang-tidy reports exactly the findings marked
// "lint-expect" in them, at their lines: that a joined batch is read as each source alone.
#include <string>

namespace canary {

// A definition outside a header: misc-definitions-in-headers must not fire.
int first_counter = 0;

int first_null_read(bool flag) {
    int* pointer = nullptr;
    int* silenced = 0;  // NOLINT(modernize-use-nullptr): a NOLINT holds in a batch too
    static_cast<void>(silenced);
    if (flag) {
        return *pointer;  // lint-expect: clang-analyzer-core.NullDereference
    }
    return first_counter;
}

}  // namespace canary
