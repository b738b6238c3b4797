// What the page forms need: reading an application/x-www-form-urlencoded body,
// and the CSRF defence (a per-form token bound to a signed cookie, plus a
// same-origin check on Origin and Sec-Fetch-Site).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server.hpp"

namespace pgauth::http::pages {

// The fields of a form body, decoded ('+' is a space). 400 VALIDATION_ERROR for
// malformed encoding, a control character in a value, a field sent twice or
// more than 32 fields. A field named `repeatable` (a list of checkboxes, e.g. the
// consent page's "scope") may come more than once (up to 256 times, not counted in the
// 32): its values are joined with single spaces, and a value holding a space is refused.
std::map<std::string, std::string> parse_form(std::string_view body, std::string_view repeatable = {});

// An authorization request carried by a page (a query string without '?'): it is
// only ever appended to this server's authorize URL, and must be printable URL
// text (no space, quote, angle bracket, control character or '#'), at most 8 KiB.
// 400 VALIDATION_ERROR otherwise.
std::string checked_oauth_query(std::string_view query);

// The form token for `purpose` ("sign-in", "consent"), and the cookie that binds it
// to this browser when it is not already set (appended to `res`).
std::string issue_csrf(const Context& ctx, const Request& req, Response& res, std::string_view purpose);

// 403 (INVALID_ORIGIN, MISSING_OR_NULL_ORIGIN or FORBIDDEN) unless the post is
// same-origin (Sec-Fetch-Site, when sent, is same-origin; Origin, when sent, is this
// server's origin, or "null" with Sec-Fetch-Site: same-origin, which is what a page
// with Referrer-Policy: no-referrer sends) and `form_token` is the token for `purpose`
// bound to the request's CSRF cookie.
void check_csrf(const Context& ctx, const Request& req, std::string_view purpose, const std::string& form_token);

}  // namespace pgauth::http::pages
