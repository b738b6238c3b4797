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
    bool api_key = false;    // a mock session made from an API key (session.id = the key's id)
};

// The credential form of an API key: "apikey:<key>". No session token can
// take it (session tokens are base64url, which has no ':').
constexpr std::string_view api_key_marker = "apikey:";
inline bool is_api_key_credential(std::string_view token) { return token.starts_with(api_key_marker); }

// Whether a caller takes an API-key credential as its user.
enum class ApiKeys { refused, accepted };

// The one credential resolver. A session token: the live session it names and
// its active user, or nothing; with `extend`, Better-Auth's sliding expiry
// exactly as auth.validate_session applies it (not on a standby or in a
// read-only transaction). An API-key credential: with ApiKeys::accepted, the
// key is checked and one use consumed (auth.verify_api_key's rules) and its
// user comes with a mock session (Better-Auth's enableSessionForAPIKeys); a
// refused key raises its code (INVALID_API_KEY, KEY_EXPIRED, USAGE_EXCEEDED,
// RATE_LIMITED with a retry-after...). With ApiKeys::refused it raises
// API_KEY_NOT_ALLOWED without looking at the key.
std::optional<LoadedSession> load_session(std::string_view token, bool extend, ApiKeys api_keys = ApiKeys::refused);

struct ApiKeyCheck;
// The mock session of a valid check made with want_user: id = the key's id,
// expiresAt = the key's expiry or now + pgauth.session_expires_in.
LoadedSession api_key_session(const ApiKeyCheck& check);

// The Better-Auth jwt-plugin payload for a session as a JSON object (the user
// object with its profile fields, sub and sid), without iat/exp/iss/aud.
std::string session_payload(const LoadedSession& s);

}  // namespace pgauth
