// Parsing what the OAuth provider endpoints receive (RFC 6749, RFC 7636, RFC 8707):
// query strings and application/x-www-form-urlencoded bodies, the client's
// credentials (HTTP Basic per RFC 6749 2.3.1, the form, or a client assertion per
// RFC 7523) and a Bearer token (RFC 6750). Pure functions, free of Pistache and of
// the database, so they can be unit-tested; every refusal is an ApiError with an
// OAuth code (oauth_errors.hpp maps it to {"error","error_description"}).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace pgauth::http::oauth_params {

// Bounds of one request's parameters.
inline constexpr std::size_t max_params = 64;          // distinct parameters
inline constexpr std::size_t max_value_bytes = 8192;   // one decoded value (an assertion is the largest)
inline constexpr std::size_t max_resources = 10;       // RFC 8707 resource values

// An OAuth refusal: status and RFC error value; the code is OAUTH_<ERROR> (the catalog's
// when it lists it, with this message).
ApiError failure(int status, std::string_view error, std::string message);
inline ApiError invalid_request(std::string message) { return failure(400, "invalid_request", std::move(message)); }

// Decodes one form component: '+' is a space, %XX a byte. nullopt when the
// percent-encoding is malformed.
std::optional<std::string> form_decode(std::string_view component);

// Parses a query string (without '?') or a form body into a JSON object of strings.
// RFC 6749 3.1: a parameter sent without a value is treated as omitted, and no parameter
// may be sent twice (400 invalid_request naming it) except `resource` (RFC 8707 2),
// which is always an array of its values. Also invalid_request: malformed
// percent-encoding, a control character (NUL included) or invalid UTF-8 in a name or
// a value, a value over max_value_bytes, more than max_params parameters.
nlohmann::json parse(std::string_view text);

// The client credentials of a token, introspection or revocation request, as
// auth.oauth_token and friends take them:
//   {"method": "client_secret_basic"|"client_secret_post"|"private_key_jwt"|"none",
//    "client_id"?, "client_secret"?, "client_assertion"?}
// `authorization` is the Authorization header, if any; `params` the parsed form, from
// which client_id, client_secret, client_assertion and client_assertion_type are
// removed. More than one method (RFC 6749 2.3), a Basic header that is not
// base64("id:secret") with form-encoded parts, a client_id in the form that differs
// from Basic's, or an unknown client_assertion_type: 400 invalid_request (401
// invalid_client for a malformed Basic header, with `basic` set so the caller sends
// WWW-Authenticate: Basic).
struct ClientAuth {
    nlohmann::json json;
    bool basic = false;  // the client authenticated (or tried) with HTTP Basic
};
ClientAuth client_auth(const std::optional<std::string>& authorization, nlohmann::json& params);

// The token of an `Authorization: Bearer <token>` header (RFC 6750 2.1): nullopt when the
// header is absent or is not a Bearer one; 401 invalid_token when it is Bearer but holds
// no well-formed token (b64token characters only, at most 8 KiB).
std::optional<std::string> bearer_token(const std::optional<std::string>& authorization);

// True when a client asked for JSON rather than a redirect: Sec-Fetch-Mode: cors (a
// fetch from a page, as Better-Auth's client does) or an Accept that names
// application/json.
bool wants_json(const std::optional<std::string>& sec_fetch_mode, const std::optional<std::string>& accept);

}  // namespace pgauth::http::oauth_params
