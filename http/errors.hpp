// The HTTP layer's one error type. Status and message come from the error
// catalog compiled into pgauth_core (extension/core/error_codes.hpp), the very
// table the extension raises from, so pgauth-http never loads it at run time.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

namespace pgauth::http {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string code, std::string message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}
    int status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }
    // Seconds after which a retry may succeed (the Retry-After header); 0 when unknown.
    long retry_after() const noexcept { return retry_after_; }
    ApiError& with_retry_after(long seconds) noexcept {
        retry_after_ = seconds;
        return *this;
    }
    // The extension's HINT, when the error carries one (e.g. OAUTH_JWKS_FETCH_REQUIRED's
    // "jwks_uri: <url>"); empty otherwise.
    const std::string& hint() const noexcept { return hint_; }
    ApiError& with_hint(std::string hint) {
        hint_ = std::move(hint);
        return *this;
    }
    // The JSON body every error answer carries: {"code","message"}.
    std::string body() const;

private:
    int status_;
    std::string code_;
    long retry_after_ = 0;
    std::string hint_;
};

namespace errors {

// The catalog's status and message for `code`; an unknown code is INTERNAL_ERROR (500).
ApiError make(std::string_view code);
// The catalog's status for `code`, with a message saying more than the catalog's.
ApiError make(std::string_view code, std::string message);
// A SQL error: PA SQLSTATEs carry the code in DETAIL and the message in the
// primary text; the status is the catalog's. A 500 never shows its message. A
// HINT of exactly "Retry-After: <seconds>" (the extension's structured retry,
// e.g. ACCOUNT_LOCKED, an API key's RATE_LIMITED) becomes retry_after().
ApiError from_sql(const pqxx::sql_error& e);
// The same mapping over the parts, for tests: SQLSTATE, primary message, DETAIL, HINT.
ApiError from_sql(std::string_view sqlstate, std::string_view message, std::string_view detail,
                  std::string_view hint = {});

}  // namespace errors
}  // namespace pgauth::http
