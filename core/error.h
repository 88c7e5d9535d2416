// Cairn errors: one exception type with a stable code for programs and a message for people.
//
// Bad input (files, JSON, user arguments, stored data) is reported with cairn::Error, never an assert:
// asserts are reserved for programmer errors inside the library. The code is stable across versions so the
// JS API and the CLI can map it (e.g. "shape_mismatch", "parse_error", "integrity", "not_found").
#pragma once
#include <stdexcept>
#include <string>

namespace cairn {

class Error : public std::runtime_error {
public:
    Error(std::string code, const std::string& message)
        : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

[[noreturn]] inline void fail(const std::string& code, const std::string& message) {
    throw Error(code, message);
}

}  // namespace cairn
