// The hot-path session lookup: direct index scans on auth.sessions(token_hash)
// and auth.users(id), no executor, no planner, no SPI.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace pgauth {

// Columns of auth.validate_session's result, in order.
enum SessionColumn {
    col_user_id, col_email, col_name, col_image, col_email_verified, col_user_created_at, col_user_updated_at,
    col_session_id, col_expires_at, col_session_created_at, col_session_updated_at, col_ip, col_user_agent,
    col_role, col_para_wallet_id,
    session_column_count
};

// Called with the row while the scanned tuples are still pinned: copy or
// store what you need before returning. Runs inside PostgreSQL code (no C++
// objects with destructors, must not throw).
struct SessionRow {
    Datum values[session_column_count];
    bool nulls[session_column_count];
    bool remember_me;
    // account security (not in validate_session's result): from the same two tuples
    bool banned, two_factor_enabled;
    Datum ban_reason, ban_expires, impersonated_by;
    bool ban_reason_null, ban_expires_null, impersonated_by_null;
};
using SessionVisitor = void (*)(SessionRow& row, void* context);

// Looks up the unexpired session whose token_hash is `digest` (bytea datum)
// and its active user. Returns false when there is none. The library and the
// installed schema are one version (see the control file), so every column is
// required. May ereport: call it through pg_call.
bool lookup_session(Datum digest, TimestampTz now, SessionVisitor visit, void* context);

// True when the session with this id exists and has not expired (a revoked
// session's row is deleted). One index scan on auth.sessions_pkey. May
// ereport: call it through pg_call.
bool session_is_live(const pg_uuid_t& session_id, TimestampTz now);

}  // namespace pgauth
