// SPDX-License-Identifier: Apache-2.0
#include "sys/log_output.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>

namespace cloudtime::sys {

namespace {

// syslog(3)'s priorities, as sd-daemon(3)'s SD_ERR etc.
char priority_digit(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::critical:
            return '2';
        case spdlog::level::err:
            return '3';
        case spdlog::level::warn:
            return '4';
        case spdlog::level::info:
            return '6';
        default:
            return '7';  // debug, trace
    }
}

// The "%*" of the journal's pattern: "<N>".
class SyslogPriority final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
                spdlog::memory_buf_t& dest) override {
        const std::array<char, 3> prefix{'<', priority_digit(msg.level), '>'};
        dest.append(prefix.data(), prefix.data() + prefix.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<SyslogPriority>();
    }
};

// "DEV:INODE", both decimal, as systemd.exec(5) describes $JOURNAL_STREAM.
bool parse_device_inode(std::string_view text, dev_t& device, ino_t& inode) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    const auto dev_text = text.substr(0, colon);
    const auto ino_text = text.substr(colon + 1);
    const auto d = std::from_chars(dev_text.data(), dev_text.data() + dev_text.size(), device);
    const auto i = std::from_chars(ino_text.data(), ino_text.data() + ino_text.size(), inode);
    return d.ec == std::errc{} && d.ptr == dev_text.data() + dev_text.size() &&
           i.ec == std::errc{} && i.ptr == ino_text.data() + ino_text.size();
}

}  // namespace

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");  // NOLINT(concurrency-mt-unsafe): at start
    dev_t device = 0;
    ino_t inode = 0;
    if (stream == nullptr || !parse_device_inode(stream, device, inode)) {
        return false;
    }
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

void start_logging(const std::string& name, const std::string& level) {
    std::shared_ptr<spdlog::logger> logger;
    if (stderr_is_journal()) {
        logger = spdlog::stderr_logger_mt(name);
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<SyslogPriority>('*').set_pattern("%*%l %v");
        logger->set_formatter(std::move(formatter));
    } else {
        logger = spdlog::stderr_color_mt(name);
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::flush_on(spdlog::level::info);
}

void print_error(std::string_view program, std::string_view what) {
    std::cerr << (stderr_is_journal() ? "<3>" : "") << program << ": " << what << "\n";
}

void print_warning(std::string_view program, std::string_view what) {
    std::cerr << (stderr_is_journal() ? "<4>" : "") << program << ": warning: " << what << "\n";
}

}  // namespace cloudtime::sys
