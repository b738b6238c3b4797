// The one place that builds Better-Auth's JSON shapes (user, session) and its
// time format. Used by get_session, the *_response functions and the session
// JWT payload, so a field is added or renamed once.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include <optional>
#include <string>
#include <string_view>


namespace pgauth {

// The admin and twoFactor plugins' user fields (get-session shows them).
struct AccountSecurityFields {
    bool banned = false, two_factor_enabled = false;
    std::optional<std::string> ban_reason;
    std::optional<TimestampTz> ban_expires;
};

// A user as Better-Auth shows it: auth.users without secrets.
struct UserRecord {
    std::string id, email, name;
    std::optional<std::string> image, role, para_wallet_id;
    bool email_verified = false;
    TimestampTz created_at = 0, updated_at = 0;
    std::optional<AccountSecurityFields> security;  // shown with `profile` when set (get-session)
};

// A session row (never its token: only the digest is stored).
struct SessionRecord {
    std::string id, user_id;
    TimestampTz expires_at = 0, created_at = 0, updated_at = 0;
    std::optional<std::string> ip, user_agent;
    bool show_impersonated_by = false;        // the admin plugin's field (get-session)
    std::optional<std::string> impersonated_by;
};

// ISO 8601 in UTC with milliseconds, as JavaScript's Date#toJSON: 2026-11-23T04:20:48.500Z
std::string iso_time(TimestampTz ts);

// JSON is written straight into a string (get-session is the hot path: a
// JSON tree costs several times more). The text is RFC 8259 with UTF-8 passed
// through, as nlohmann's dump() writes it.
void append_json_string(std::string& out, std::string_view s);

// Better-Auth's user object as members without braces: name, email,
// emailVerified, image, createdAt, updatedAt, id. With `profile` (get-session
// and the session JWT), also role and paraWalletId before id, and when the
// record carries them banned, banReason, banExpires and twoFactorEnabled
// (get-session); sign-up and sign-in answer Better-Auth's fields only.
void append_user_members(std::string& out, const UserRecord& user, bool profile);
std::string user_json(const UserRecord& user, bool profile);  // {...}

// Better-Auth's session object; `token` is the session token (get-session) or,
// where the token is not known (list-sessions), the session id.
std::string session_json(const SessionRecord& session, std::string_view token);

// Seconds from the transaction's start to `expires_at`, rounded: a cookie's Max-Age.
int64 seconds_left(TimestampTz expires_at);

// The text of an inet datum ("10.0.0.1", "::1"). May throw PgError.
std::string inet_text(Datum value);

}  // namespace pgauth
