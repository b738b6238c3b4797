// The session cookies Better-Auth sets and clears, shared by the auth, sessions and user routes.
#pragma once
#include <string>
#include <string_view>

#include "server.hpp"

namespace pgauth::http {

// The signed session cookie (Max-Age only when remembered; otherwise also the
// dont_remember marker), and the signed token in set-auth-token for script clients.
void set_session_cookies(const Context& ctx, Response& res, std::string_view token, long max_age, bool remember_me);

// The session cookie again with a new Max-Age (after the sliding expiry extended the session).
void refresh_session_cookie(const Context& ctx, Response& res, std::string_view token, long max_age);

// Expires the session_token, session_data and dont_remember cookies.
void clear_session_cookies(const Context& ctx, Response& res);

}  // namespace pgauth::http
