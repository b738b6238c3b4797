// The OAuth routes' error answers (RFC 6749 5.2, RFC 7591 3.2.2, RFC 6750 3):
// {"error","error_description"} with Cache-Control: no-store, instead of pgauth's
// {"code","message"}. The catalog carries OAuth errors as codes OAUTH_<ERROR>, whose
// `error` is lower(<ERROR>) and whose raised message is the description; any other
// code (a pipeline refusal: size, content type, rate limit) maps by its status.
#pragma once
#include <string>
#include <string_view>

#include "errors.hpp"
#include "request.hpp"

namespace pgauth::http {

// The RFC `error` value for a catalog code and its HTTP status.
std::string oauth_error_value(std::string_view code, int status);

// The answer for an error on an OAuth route. A 401 carries WWW-Authenticate: Bearer
// (with error="invalid_token" unless the request had no credentials at all).
Response oauth_error(const ApiError& e);

}  // namespace pgauth::http
