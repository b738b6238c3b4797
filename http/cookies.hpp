// Better-Auth's signed session cookie: urlencode(token "." base64(HMAC-SHA256(secret, token))).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace pgauth::http {

class Request;

std::string sign_token(std::string_view token, std::string_view secret);         // "token.sig" (not urlencoded)
std::optional<std::string> verify_signed_token(std::string_view signed_value,     // returns the token, or nullopt
                                               std::string_view secret);
std::string url_encode(std::string_view s);
std::optional<std::string> url_decode(std::string_view s);

// Cookie `name` in a Cookie header value. Its value is still encoded (and
// unquoted). A name sent more than once is `duplicate`: a sibling subdomain can
// plant a second cookie of the same name, and a browser sends the cookie with
// the longer Path first, so neither copy can be trusted.
struct CookieLookup {
    enum class State { absent, one, duplicate };
    State state = State::absent;
    std::string_view value;
};
CookieLookup find_unique_cookie(std::string_view header, std::string_view name);

struct CookieOptions {
    std::optional<long> max_age;  // none: a browser-session cookie
    bool secure = false;
};
std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options);

// Pipeline step: the session token from the signed cookie `cookie_name` or an
// Authorization: Bearer header (signed or raw). Tampered, malformed or
// duplicated values are simply "no token".
std::optional<std::string> session_token(const Request& request, std::string_view cookie_name,
                                         std::string_view secret);

}  // namespace pgauth::http
