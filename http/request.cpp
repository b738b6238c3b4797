#include "request.hpp"

#include <sstream>

#include "text.hpp"

namespace pgauth::http {

std::optional<std::string> Request::header(std::string_view name) const {
    for (const auto& h : raw_.headers().list()) {
        if (iequals(h->name(), name)) {
            std::ostringstream out;
            h->write(out);
            return out.str();
        }
    }
    for (const auto& [key, raw] : raw_.headers().rawList())
        if (iequals(key, name)) return raw.value();
    return std::nullopt;
}

bool Request::reads_only() const {
    return raw_.method() == Pistache::Http::Method::Get || raw_.method() == Pistache::Http::Method::Head ||
           raw_.method() == Pistache::Http::Method::Options;
}

const nlohmann::json& Request::json() const {
    if (!json_) {
        nlohmann::json parsed;
        const std::string& text = body();
        if (text.empty()) {
            parsed = nlohmann::json::object();
        } else {
            parsed = nlohmann::json::parse(text, nullptr, false);
            if (parsed.is_discarded()) throw errors::make("BAD_REQUEST", "Invalid JSON body");
            if (!parsed.is_object()) throw errors::make("VALIDATION_ERROR", "The body must be a JSON object");
        }
        json_ = std::move(parsed);
    }
    return *json_;
}

std::string Request::query_string() const {
    if (query_) return *query_;
    std::string rebuilt = raw_.query().as_str();
    return rebuilt.empty() ? rebuilt : rebuilt.substr(1);
}

void check_body(const Request& request, std::size_t max_body) {
    if (request.body().size() > max_body) throw errors::make("PAYLOAD_TOO_LARGE");
    if (request.reads_only() || request.body().empty()) return;
    auto type = request.header("Content-Type");
    if (!type || !istarts_with(*type, "application/json")) throw errors::make("UNSUPPORTED_MEDIA_TYPE");
}

void check_form_body(const Request& request, std::size_t max_body) {
    if (request.body().size() > max_body) throw errors::make("PAYLOAD_TOO_LARGE");
    if (request.reads_only() || request.body().empty()) return;
    auto type = request.header("Content-Type");
    if (!type || !istarts_with(*type, "application/x-www-form-urlencoded"))
        throw errors::make("UNSUPPORTED_MEDIA_TYPE", "The body must be application/x-www-form-urlencoded");
}

}  // namespace pgauth::http
