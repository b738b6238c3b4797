// JWT signing and verification inside the backend, shared by jwt.cpp (the
// SQL API) and rls.cpp (the row-level security helpers).
#pragma once
#include "pg/datum.hpp"

#include <optional>
#include <string>
#include <string_view>

#include "core/jwt.hpp"

namespace pgauth {

// Verifies `token` against the published keys (algorithm pinned by the key
// named by kid) and the claim rules; returns the payload's JSON text.
// Throws AuthError INVALID_TOKEN with the reason.
std::string verify_token(std::string_view token, std::optional<std::string_view> audience);

// The Better-Auth jwt-plugin payload for a live session (the user object plus
// sub), without iat/exp/iss/aud. Throws AuthError UNAUTHORIZED when the token
// names no live session. Does not extend the session.
jwt::OrderedJson session_payload(std::string_view session_token);

// Seconds since the Unix epoch, now.
double unix_now();

// Forgets the RLS identity at the end of each transaction; from _PG_init.
void register_identity_callbacks();

}  // namespace pgauth
