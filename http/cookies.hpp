// Better-Auth's signed session cookie: urlencode(token "." base64(HMAC-SHA256(secret, token))).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace pgauth::http {

std::string sign_token(std::string_view token, std::string_view secret);         // "token.sig" (not urlencoded)
std::optional<std::string> verify_signed_token(std::string_view signed_value,     // returns the token, or nullopt
                                               std::string_view secret);
std::string url_encode(std::string_view s);
std::optional<std::string> url_decode(std::string_view s);

// The value of cookie `name` in a Cookie header (first match), still encoded.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

struct CookieOptions {
    std::optional<long> max_age;  // none: a browser-session cookie
    bool secure = false;
};
std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options);

}  // namespace pgauth::http
