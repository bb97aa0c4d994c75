// SPDX-License-Identifier: Apache-2.0
// Exit codes shared by cloudtime and cloudtimed (sysexits.h where one fits).
#pragma once

namespace cloudtime::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUnusable = 1;  // query: answered but unusable; daemon: failed to run
inline constexpr int kExitNoAnswer = 2;  // query: no answer or network error
inline constexpr int kExitUsage = 64;    // EX_USAGE: bad command line
inline constexpr int kExitConfig = 78;   // EX_CONFIG: bad configuration file

}  // namespace cloudtime::cli
