// The session cookies Better-Auth sets and clears, shared by the auth, sessions and user routes,
// and the account-security plugins' cookies: two_factor, trust_device, admin_session and the
// multiSession plugin's per-session copies (<session cookie>_multi-<lowercased token>).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server.hpp"

namespace pgauth::http {

// The signed session cookie (Max-Age only when remembered; otherwise also the
// dont_remember marker), and the signed token in set-auth-token for script clients.
void set_session_cookies(const Context& ctx, Response& res, std::string_view token, long max_age, bool remember_me);

// The session cookie again with a new Max-Age (after the sliding expiry extended the session).
void refresh_session_cookie(const Context& ctx, Response& res, std::string_view token, long max_age);

// Expires the session_token, session_data and dont_remember cookies.
void clear_session_cookies(const Context& ctx, Response& res);

// Cookie better-auth.<suffix> (with the __Secure- prefix when cookies are secure), signed
// like the session cookie; nullopt when absent, sent twice, or tampered with.
std::optional<std::string> read_signed_cookie(const Context& ctx, const Request& req, const char* suffix);
// Sets better-auth.<suffix> = signed value (no Max-Age: a browser-session cookie).
void set_signed_cookie(const Context& ctx, Response& res, const char* suffix, std::string_view value,
                       std::optional<long> max_age);
// Expires cookie `name` (a full name, prefix included).
void expire_cookie(const Context& ctx, Response& res, std::string_view name);

// multiSession: the request's verified <session cookie>_multi-* cookies (tampered ones are skipped).
struct MultiSessionCookie {
    std::string name;
    std::string token;
};
std::vector<MultiSessionCookie> multi_session_cookies(const Context& ctx, const Request& req);
// The multi cookie's name for a session token.
std::string multi_session_cookie_name(const Context& ctx, std::string_view token);
// Pipeline step after a successful handler: when the answer sets a new session cookie, also
// set its multi-session copy (Better-Auth's multiSession after-hook), unless the browser already
// holds it or already holds `maximum` of them.
void add_multi_session_cookie(const Context& ctx, const Request& req, Response& res, int maximum);

}  // namespace pgauth::http
