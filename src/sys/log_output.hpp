// SPDX-License-Identifier: Apache-2.0
// Where the daemon's log goes and in what form: stderr, as a terminal or a file reads it
// ("TIME LEVEL message", coloured on a terminal), or, when stderr is systemd's journal stream
// ($JOURNAL_STREAM names its device and inode), lines that begin with the syslog priority,
// "<3>error ...", as sd-daemon(3) says, so that `journalctl -p err` finds them; the journal
// keeps its own time stamp.
#pragma once

#include <string>
#include <string_view>

namespace cloudtime::sys {

// Whether stderr is the journal stream systemd connected (read once per call: cheap).
bool stderr_is_journal();

// Makes the default logger `name` at `level` ("info", ...), writing to stderr as above.
void start_logging(const std::string& name, const std::string& level);

// One line on stderr before the logger exists ("PROGRAM: what", "PROGRAM: warning: what"),
// with its priority when stderr is the journal.
void print_error(std::string_view program, std::string_view what);
void print_warning(std::string_view program, std::string_view what);

}  // namespace cloudtime::sys
