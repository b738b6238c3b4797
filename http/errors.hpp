// The HTTP layer's one error type, and the mapping of SQL errors to HTTP,
// driven by auth.error_codes (loaded from the database, never duplicated here).
#pragma once
#include <map>
#include <mutex>
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

private:
    int status_;
    std::string code_;
};

class ErrorCatalog {
public:
    struct Entry {
        int status;
        std::string message;
    };
    void load(pqxx::connection& conn);  // SELECT FROM auth.error_codes
    bool loaded() const;
    // An error raised by the HTTP layer itself (origin, size, ...): status and message from the table.
    ApiError make(std::string_view code, int fallback_status) const;
    // A SQL error from the extension: PA SQLSTATEs carry the code in DETAIL.
    ApiError from_sql(const pqxx::sql_error& e) const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace pgauth::http
