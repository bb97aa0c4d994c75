// SPDX-License-Identifier: Apache-2.0
#include "sys/memory.hpp"

#include <malloc.h>

namespace cloudtime::sys {

void release_free_memory() {
    (void)::malloc_trim(0);  // returns whether anything was released: either way is fine
}

}  // namespace cloudtime::sys
