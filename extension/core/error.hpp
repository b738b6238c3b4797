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
    // Seconds after which a retry may succeed (RATE_LIMITED, ACCOUNT_LOCKED...);
    // 0 when the error says nothing about it. The boundary raises it as the
    // error's HINT "Retry-After: <seconds>", which pgauth-http turns into the header.
    long retry_after() const noexcept { return retry_after_; }
    AuthError& with_retry_after(long seconds) noexcept {
        retry_after_ = seconds < 1 ? 1 : seconds;
        return *this;
    }

private:
    std::string code_;
    std::string reason_;
    long retry_after_ = 0;
};

}  // namespace pgauth
