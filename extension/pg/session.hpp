// Sessions as C++ values: one lookup of a session token (direct index scans,
// see session_lookup.hpp), its sliding expiry, and the session JWT payload.
#pragma once
#include "pg/better_auth_json.hpp"

#include <optional>
#include <string_view>

namespace pgauth {

// Longest token we bother hashing; anything longer cannot be one of ours.
constexpr std::size_t max_session_token_length = 1024;

struct LoadedSession {
    UserRecord user;
    SessionRecord session;
    pg_uuid_t user_uuid{};   // user.id as PostgreSQL's uuid
    bool refreshed = false;  // this lookup extended the session (sliding expiry)
};

// The live session named by `token` and its active user, or nothing. With
// `extend`, applies Better-Auth's sliding expiry exactly as
// auth.validate_session does (not on a standby or in a read-only transaction).
std::optional<LoadedSession> load_session(std::string_view token, bool extend);

// The Better-Auth jwt-plugin payload for a session as a JSON object (the user
// object with its profile fields, sub and sid), without iat/exp/iss/aud.
std::string session_payload(const LoadedSession& s);

}  // namespace pgauth
