#include "errors.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "core/error_codes.hpp"

namespace pgauth::http {
namespace {

// libpq's message text: "ERROR:  <message>\nDETAIL:  <detail>\n..."
std::string_view field(std::string_view text, std::string_view label) {
    auto at = text.find(label);
    if (at == std::string_view::npos) return {};
    at += label.size();
    while (at < text.size() && text[at] == ' ') ++at;
    auto end = text.find('\n', at);
    return text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
}

}  // namespace

std::string ApiError::body() const {
    return nlohmann::json{{"code", code_}, {"message", what()}}.dump(-1, ' ', false,
                                                                     nlohmann::json::error_handler_t::replace);
}

namespace errors {

ApiError make(std::string_view code) {
    const ErrorCode* e = find_error(code);
    if (!e) e = find_error("INTERNAL_ERROR");
    return ApiError(e->http_status, std::string(e->code), std::string(e->message));
}

ApiError make(std::string_view code, std::string message) {
    const ErrorCode* e = find_error(code);
    if (!e) return make("INTERNAL_ERROR");
    return ApiError(e->http_status, std::string(e->code), std::move(message));
}

namespace {

ApiError map_sql(std::string_view sqlstate, std::string_view message, std::string_view detail) {
    if (sqlstate.starts_with("PA")) {
        const ErrorCode* e = find_error(detail);
        if (!e) {
            // A code newer than this build's catalog: its SQLSTATE digits are the status.
            int status = sqlstate.size() == 5 ? std::atoi(std::string(sqlstate.substr(2)).c_str()) : 0;
            if (status < 400 || status > 499 || detail.empty()) return make("INTERNAL_ERROR");
            return ApiError(status, std::string(detail), std::string(message.empty() ? detail : message));
        }
        if (e->http_status == 500) return make("INTERNAL_ERROR");  // never leak internals
        // 5xx: the catalog's message (a raised reason may name files or hosts); 4xx: the raised one.
        if (e->http_status > 500 || message.empty()) return make(detail);
        return make(detail, std::string(message));
    }
    // Values PostgreSQL itself refuses (a malformed inet, an out-of-range value): the caller's fault.
    if (sqlstate.starts_with("22")) return make("VALIDATION_ERROR");
    if (sqlstate == "57014") return make("SERVICE_UNAVAILABLE", "The request timed out");  // statement_timeout
    return make("INTERNAL_ERROR");
}

// The extension's structured retry: a HINT of exactly "Retry-After: <1 to 9 digits>".
long retry_after_hint(std::string_view hint) {
    constexpr std::string_view label = "Retry-After: ";
    if (!hint.starts_with(label)) return 0;
    std::string_view digits = hint.substr(label.size());
    if (digits.empty() || digits.size() > 9) return 0;
    long n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return 0;
        n = n * 10 + (c - '0');
    }
    return n;
}

}  // namespace

ApiError from_sql(std::string_view sqlstate, std::string_view message, std::string_view detail,
                  std::string_view hint) {
    if (sqlstate.starts_with("PA")) {
        ApiError e = map_sql(sqlstate, message, detail);
        if (long retry = retry_after_hint(hint); retry > 0 && e.status() == 429) e.with_retry_after(retry);
        if (!hint.empty() && e.status() < 500) e.with_hint(std::string(hint.substr(0, 4096)));
        return e;
    }
    return map_sql(sqlstate, message, detail);
}

ApiError from_sql(const pqxx::sql_error& e) {
    std::string_view text = e.what();
    return from_sql(e.sqlstate(), field(text, "ERROR:"), field(text, "DETAIL:"), field(text, "HINT:"));
}

}  // namespace errors
}  // namespace pgauth::http
