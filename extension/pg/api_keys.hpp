// API keys on the hot path: auth.verify_api_key's check, and the API-key
// credential every session-taking function accepts ("apikey:<key>", see
// session.hpp). Plans prepared once per backend over qualified names.
#pragma once
#include "pg/better_auth_json.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace pgauth {

// Longest key we bother hashing; anything longer cannot be one of ours.
constexpr std::size_t max_api_key_length = 1024;

// The outcome of one check. `error` is empty when the key is valid (one use
// was consumed), else Better-Auth's code: INVALID_API_KEY, KEY_DISABLED,
// KEY_EXPIRED, USER_INACTIVE, KEY_NOT_FOUND (permissions), USAGE_EXCEEDED,
// RATE_LIMITED.
struct ApiKeyCheck {
    std::string error;
    bool known = false;  // key_id and user_id are set (every error but INVALID_API_KEY)
    pg_uuid_t key_id{}, user_id{};
    std::optional<int> remaining;
    std::optional<std::string> permissions;  // JSON text of the key's permissions (valid keys only)
    std::optional<TimestampTz> expires_at;
    TimestampTz retry_at = 0;  // RATE_LIMITED: when the window ends
    std::optional<UserRecord> user;  // with want_user, for a valid key
};

// Checks `key` as auth.verify_api_key does: one unique-index lookup on the
// digest; keys with remaining or a rate limit are re-read under the row lock
// and counted (concurrent checks never overspend); others are not written.
// `permissions` is the requested {resource: [action, ...]} as JSON text, or
// nothing (SQL NULL). With `want_user`, also loads the user for a valid key.
ApiKeyCheck check_api_key(std::string_view key, const std::optional<std::string>& permissions, bool want_user);

}  // namespace pgauth
