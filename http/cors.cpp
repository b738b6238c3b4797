#include "cors.hpp"

#include <algorithm>
#include <cctype>

namespace pgauth::http {
namespace {

std::string trim_lower(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

std::string cors_allowed_request_headers(std::string_view requested) {
    std::string out;
    std::size_t start = 0;
    while (start <= requested.size()) {
        auto end = requested.find(',', start);
        if (end == std::string_view::npos) end = requested.size();
        std::string name = trim_lower(requested.substr(start, end - start));
        bool safe = std::find(std::begin(cors_safe_headers), std::end(cors_safe_headers), name) != std::end(cors_safe_headers);
        if (safe && out.find(name) == std::string::npos) {
            if (!out.empty()) out += ", ";
            out += name;
        }
        start = end + 1;
    }
    return out;
}

PreflightAnswer cors_preflight(const OriginPolicy& policy, std::string_view origin, std::string_view methods,
                               std::optional<std::string_view> request_headers) {
    if (!policy.trusted_origin(origin)) return {403, {{"Vary", "Origin"}}};
    HeaderList h;
    h.emplace_back("Access-Control-Allow-Origin", *origin_of(origin));
    h.emplace_back("Access-Control-Allow-Credentials", "true");
    h.emplace_back("Access-Control-Allow-Methods", std::string(methods));
    std::string allowed = request_headers ? cors_allowed_request_headers(*request_headers) : std::string();
    if (!allowed.empty()) h.emplace_back("Access-Control-Allow-Headers", allowed);
    h.emplace_back("Access-Control-Max-Age", std::to_string(cors_max_age_seconds));
    h.emplace_back("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    return {204, std::move(h)};
}

HeaderList cors_response_headers(const OriginPolicy& policy, std::optional<std::string_view> origin) {
    HeaderList h;
    if (origin && policy.trusted_origin(*origin)) {
        h.emplace_back("Access-Control-Allow-Origin", *origin_of(*origin));
        h.emplace_back("Access-Control-Allow-Credentials", "true");
        h.emplace_back("Access-Control-Expose-Headers", "set-auth-token, set-auth-jwt");
    }
    h.emplace_back("Vary", "Origin");
    return h;
}

std::string cross_site_cookie(std::string_view line) {
    std::string out(line);
    if (auto at = out.find("; SameSite=Lax"); at != std::string::npos) out.replace(at, 14, "; SameSite=None");
    else if (out.find("; SameSite=") == std::string::npos) out += "; SameSite=None";
    if (out.find("; Secure") == std::string::npos) out += "; Secure";
    return out;
}

}  // namespace pgauth::http
