// CORS for trusted origins: a frontend on another origin calls pgauth-http with
// credentials. Preflights answer 204; answers to a trusted Origin name it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "origin.hpp"

namespace pgauth::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Request headers a trusted page may send cross-origin (lower case): what the
// better-auth client sends (content-type, authorization for the bearer flow)
// plus common harmless ones. A requested header outside this list is not echoed,
// so the browser refuses the request.
inline constexpr std::string_view cors_safe_headers[] = {
    "accept", "accept-language", "authorization", "cache-control", "content-language",
    "content-type", "pragma", "x-requested-with"};

inline constexpr int cors_max_age_seconds = 600;

struct PreflightAnswer {
    int status;          // 204, or 403 for an Origin that is not trusted
    HeaderList headers;  // CORS headers to send (none when refused)
};

// A preflight (OPTIONS with Origin) to a route answering `methods` (e.g. "GET, POST").
// `request_method` and `request_headers` are Access-Control-Request-Method/-Headers.
PreflightAnswer cors_preflight(const OriginPolicy& policy, std::string_view origin, std::string_view methods,
                               std::optional<std::string_view> request_headers);

// Headers for an actual answer: ACAO + credentials + exposed headers when the
// Origin is trusted; always Vary: Origin (the answer depends on it).
HeaderList cors_response_headers(const OriginPolicy& policy, std::optional<std::string_view> origin);

// The requested header names (comma-separated) that are in the safe list, lower case, ", "-joined.
std::string cors_allowed_request_headers(std::string_view requested);

// A Set-Cookie line made cross-site: SameSite=None (and Secure, which None requires).
std::string cross_site_cookie(std::string_view set_cookie_line);

}  // namespace pgauth::http
