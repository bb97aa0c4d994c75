// SPDX-License-Identifier: Apache-2.0
// The process's heap as the system sees it.
#pragma once

namespace cloudtime::sys {

// Gives the heap's free pages back to the system (glibc keeps them otherwise): after a crowd of
// connections has gone, the resident size returns to what the daemon holds.
void release_free_memory();

}  // namespace cloudtime::sys
