#include "db/statements.hpp"

#include <string>

namespace pgauth::http {
namespace {

// The user columns every user-returning statement ends with.
#define USER_COLUMNS "u.id AS user_id, u.email, u.name, u.image, u.email_verified, u.created_at AS user_created_at, u.updated_at AS user_updated_at"

// Seconds until the session expires: the cookie's Max-Age.
#define MAX_AGE "round(extract(epoch FROM s.expires_at - now()))::bigint AS max_age"

struct Statement {
    const char* name;
    const char* sql;
};

const Statement statements[] = {
    {"error_codes", "SELECT code, http_status, message FROM auth.error_codes"},
    {"health", "SELECT 1"},
    {"sign_up",
     "SELECT s.session_token, s.expires_at, " MAX_AGE ", " USER_COLUMNS
     " FROM auth.sign_up_email($1, $2, $3, $4, $5::inet, $6) s CROSS JOIN LATERAL auth.get_user(s.user_id) u"},
    {"sign_in",
     "SELECT s.session_token, s.expires_at, " MAX_AGE ", " USER_COLUMNS
     " FROM auth.sign_in_email($1, $2, $3, $4::inet, $5) s CROSS JOIN LATERAL auth.get_user(s.user_id) u"},
    {"get_session",
     "SELECT v.*, (v.session_updated_at = now()) AS refreshed,"
     " round(extract(epoch FROM v.expires_at - now()))::bigint AS max_age, auth.session_jwt($1) AS jwt"
     " FROM auth.validate_session($1) v"},
    {"sign_out", "SELECT auth.revoke_session($1)"},
    {"list_sessions",
     "SELECT l.* , v.user_id FROM auth.validate_session($1) v CROSS JOIN LATERAL auth.list_sessions(v.user_id) l"},
    {"revoke_session", "SELECT auth.revoke_user_session(v.user_id, $2) FROM auth.validate_session($1) v"},
    {"revoke_sessions", "SELECT auth.revoke_user_sessions(v.user_id) FROM auth.validate_session($1) v"},
    {"revoke_other_sessions", "SELECT auth.revoke_user_sessions(v.user_id, $1) FROM auth.validate_session($1) v"},
    {"update_user", "SELECT auth.update_user(v.user_id, $2, $3) FROM auth.validate_session($1) v"},
    {"change_password",
     "SELECT " USER_COLUMNS " FROM auth.validate_session($1) v,"
     " LATERAL (SELECT auth.change_password(v.user_id, $2, $3, $4, $1)) c, LATERAL auth.get_user(v.user_id) u"},
    {"link_para_wallet", "SELECT auth.link_para_wallet(v.user_id, $2) FROM auth.validate_session($1) v"},
    {"claim_avatar",
     "SELECT v.user_id, v.email, c.state, c.avatar_id, c.claim"
     " FROM auth.validate_session($1) v CROSS JOIN LATERAL auth.claim_avatar(v.user_id, 'oasis') c"},
    {"complete_avatar", "SELECT auth.complete_avatar($1::uuid, $2)"},
    {"fail_avatar", "SELECT auth.fail_avatar($1::uuid, $2)"},
    {"avatar_for", "SELECT auth.avatar_for(v.user_id, 'oasis') AS avatar_id FROM auth.validate_session($1) v"},
    {"session_jwt", "SELECT auth.session_jwt($1) AS token"},
    {"jwks", "SELECT auth.jwks()::text AS jwks"},
    {"load_extension", "SELECT auth.user_id()"},  // loads the library, so its settings are defined
    {"base_url", "SELECT current_setting('pgauth.base_url') AS base_url"},
    {"delete_user", "SELECT auth.delete_user(v.user_id, $2) AS deleted FROM auth.validate_session($1) v"},
};

}  // namespace

void prepare_statements(pqxx::connection& conn, int statement_timeout_ms) {
    {
        pqxx::nontransaction tx(conn);
        tx.exec("SET statement_timeout = " + std::to_string(statement_timeout_ms));
        tx.exec("SET TimeZone = 'UTC'");
        tx.exec("SET DateStyle = 'ISO, YMD'");
        tx.exec("SET application_name = 'pgauth-http'");
    }
    for (const auto& s : statements) conn.prepare(s.name, s.sql);
}

}  // namespace pgauth::http
