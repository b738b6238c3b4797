#include "errors.hpp"

#include <cctype>

namespace pgauth::http {
namespace {

// libpq's message text: "ERROR:  <message>\nDETAIL:  <detail>\n..."
std::string field(std::string_view text, std::string_view label) {
    auto at = text.find(label);
    if (at == std::string_view::npos) return {};
    at += label.size();
    while (at < text.size() && text[at] == ' ') ++at;
    auto end = text.find('\n', at);
    return std::string(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

}  // namespace

void ErrorCatalog::load(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared("error_codes");
    std::map<std::string, Entry, std::less<>> fresh;
    for (const auto& row : rows)
        fresh[row[0].as<std::string>()] = Entry{row[1].as<int>(), row[2].as<std::string>()};
    std::lock_guard lock(mutex_);
    entries_ = std::move(fresh);
}

bool ErrorCatalog::loaded() const {
    std::lock_guard lock(mutex_);
    return !entries_.empty();
}

ApiError ErrorCatalog::make(std::string_view code, int fallback_status) const {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(code); it != entries_.end())
        return ApiError(it->second.status, std::string(code), it->second.message);
    // the table is not loaded yet (database down at start-up): a readable fallback
    std::string message(code);
    for (auto& c : message) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!message.empty()) message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
    return ApiError(fallback_status, std::string(code), message);
}

ApiError ErrorCatalog::from_sql(const pqxx::sql_error& e) const {
    std::string state = e.sqlstate();
    std::string text = e.what();
    if (state.rfind("PA", 0) == 0) {
        std::string code = field(text, "DETAIL:");
        std::string message = field(text, "ERROR:");
        int status = 0;
        {
            std::lock_guard lock(mutex_);
            if (auto it = entries_.find(code); it != entries_.end()) status = it->second.status;
        }
        if (status == 0) status = std::atoi(state.c_str() + 2);
        if (status < 400 || status > 599) status = 500;
        if (status >= 500) return make("INTERNAL_ERROR", 500);  // never leak internals
        return ApiError(status, code.empty() ? "BAD_REQUEST" : code, message.empty() ? code : message);
    }
    // Values PostgreSQL itself refuses (a malformed inet, an out-of-range value): the caller's fault.
    if (state.rfind("22", 0) == 0) return ApiError(400, "VALIDATION_ERROR", "Invalid input");
    if (state == "57014") return ApiError(503, "SERVICE_UNAVAILABLE", "The request timed out");
    return make("INTERNAL_ERROR", 500);
}

}  // namespace pgauth::http
