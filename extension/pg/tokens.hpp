// JWT signing and verification inside the backend, shared by tokens.cpp (the
// SQL API), session.cpp (get_session) and rls.cpp (the row-level security helpers).
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

// The session JWT for a session already looked up (auth.session_jwt,
// auth.get_session): reuses a token this backend issued for the same claims
// less than a minute ago. Throws AuthError SIGNING_KEY_UNAVAILABLE when no key can sign.
struct LoadedSession;
std::string session_jwt_for(const LoadedSession& session);

// Seconds since the Unix epoch, now.
double unix_now();

}  // namespace pgauth
