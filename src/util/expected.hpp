// SPDX-License-Identifier: Apache-2.0
// Errors as values at boundaries: a value or a human-readable reason, with the errno it came
// from when the kernel said it, so that callers decide by the code, never by the text (C++20
// has no std::expected yet).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace cloudtime {

struct Error {
    std::string message;
    int code = 0;  // the errno value when the kernel refused; 0 otherwise
};

template <typename T>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Expected(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const std::string& error() const { return std::get<Error>(state_).message; }
    int error_code() const { return std::get<Error>(state_).code; }
    const Error& failure() const { return std::get<Error>(state_); }

  private:
    std::variant<T, Error> state_;
};

// For operations that return nothing on success.
struct Done {};
using Status = Expected<Done>;

}  // namespace cloudtime
