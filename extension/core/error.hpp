// The extension's one C++ error type. PG-free: core/ never includes postgres.h.
#pragma once
#include <stdexcept>
#include <string>

namespace pgauth {

// An error reported to the SQL caller. `code` names a row of auth.error_codes
// (e.g. "INVALID_EMAIL_OR_PASSWORD"); the boundary turns it into
// ereport(ERROR) with that row's SQLSTATE, message and errdetail = code.
// `reason`, when not empty, replaces the table's message (e.g. INVALID_TOKEN
// carries why the token was rejected). It never contains secrets.
class AuthError : public std::runtime_error {
public:
    explicit AuthError(std::string code, std::string reason = {})
        : std::runtime_error(code), code_(std::move(code)), reason_(std::move(reason)) {}
    const std::string& code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string code_;
    std::string reason_;
};

}  // namespace pgauth
