#include "oauth_errors.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

namespace pgauth::http {

std::string oauth_error_value(std::string_view code, int status) {
    constexpr std::string_view prefix = "OAUTH_";
    if (code.starts_with(prefix) && code.size() > prefix.size()) {
        std::string out;
        for (char c : code.substr(prefix.size())) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    }
    if (code == "UNAUTHORIZED") return "invalid_token";
    if (code == "NOT_FOUND" && status == 404) return "invalid_client";
    if (status == 429 || status == 503) return "temporarily_unavailable";
    if (status >= 500) return "server_error";
    if (status == 401) return "invalid_token";
    if (status == 403) return "access_denied";
    return "invalid_request";
}

Response oauth_error(const ApiError& e) {
    std::string error = oauth_error_value(e.code(), e.status());
    Response res{e.status(),
                 nlohmann::json{{"error", error}, {"error_description", e.what()}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace),
                 {}};
    res.header("Cache-Control", "no-store");
    res.header("Pragma", "no-cache");
    if (e.status() == 401) {
        // RFC 6750 3.1: no error attribute when the request carried no credentials
        if (e.code() == "UNAUTHORIZED") {
            res.header("WWW-Authenticate", "Bearer");
        } else if (error != "invalid_client") {  // the token endpoint's own (Basic) challenge
            // RFC 6750 3: error_description is a quoted string of printable ASCII without " and \.
            std::string description;
            for (char c : std::string_view(e.what()).substr(0, 200))
                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') description += c;
            res.header("WWW-Authenticate", "Bearer error=\"" + error + "\", error_description=\"" + description + "\"");
        }
    }
    if (e.status() == 403 && error == "insufficient_scope")  // RFC 6750 3.1
        res.header("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
    return res;
}

}  // namespace pgauth::http
