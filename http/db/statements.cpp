#include "db/statements.hpp"

#include <string>

namespace pgauth::http {
namespace {

struct Statement {
    const char* name;
    const char* sql;
};

// The extension builds every Better-Auth body (json, passed through as text);
// pgauth-http adds only cookies and headers.
const Statement statements[] = {
    {"health", "SELECT status, reason FROM auth.key_status()"},
    {"rate_limit_hit", "SELECT allowed, retry_after FROM auth.rate_limit_hit($1, $2, $3)"},
    {"sign_up",
     "SELECT body::text AS body, session_token, max_age"
     " FROM auth.sign_up_response($1, $2, $3, $4, $5::inet, $6, $7)"},
    // A 2FA user without a trusted device gets a challenge (two_factor_token), no session (issue 16).
    {"sign_in",
     "SELECT body::text AS body, session_token, max_age, error_code, two_factor_token"
     " FROM auth.sign_in_response($1, $2, $3, $4::inet, $5, $6, $7)"},
    {"get_session", "SELECT body::text AS body, jwt, jwt_error, refreshed, max_age FROM auth.get_session($1, $2)"},
    {"sign_out", "SELECT auth.revoke_session($1)"},
    // Sign-out with multiSession cookies: the session and every account the browser holds.
    {"sign_out_all", "SELECT count(auth.revoke_session(t)) AS revoked FROM unnest($1::text[]) t"},
    {"list_sessions", "SELECT auth.list_sessions_response($1)::text AS body"},
    {"revoke_session",
     "SELECT auth.revoke_user_session(v.user_id, $2) AS revoked FROM auth.validate_session($1) v"},
    {"revoke_sessions", "SELECT auth.revoke_user_sessions(v.user_id) FROM auth.validate_session($1) v"},
    {"revoke_other_sessions", "SELECT auth.revoke_user_sessions(v.user_id, $1) FROM auth.validate_session($1) v"},
    {"update_user", "SELECT auth.update_user(v.user_id, $2, $3) FROM auth.validate_session($1) v"},
    {"change_password", "SELECT auth.change_password_response($1, $2, $3, $4)::text AS body"},
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
    // Issue 18: the user's vault and Better-Auth's apiKey plugin.
    {"vault_list", "SELECT auth.vault_list($1)::text AS body"},
    {"vault_set", "SELECT auth.vault_set($1, $2::jsonb)::text AS body"},
    {"api_key_create", "SELECT auth.api_key_create($1, $2::jsonb)::text AS body"},
    {"api_key_get", "SELECT auth.api_key_get($1, $2)::text AS body"},
    {"api_key_list", "SELECT auth.api_key_list($1)::text AS body"},
    {"api_key_update", "SELECT auth.api_key_update($1, $2::jsonb)::text AS body"},
    {"api_key_delete", "SELECT auth.api_key_delete($1, $2::jsonb)::text AS body"},
    {"api_key_verify", "SELECT auth.api_key_verify_response($1::jsonb)::text AS body"},
    // Deleting the account needs a signed-in session: an API key raises API_KEY_NOT_ALLOWED.
    {"delete_user",
     "SELECT auth.delete_user(v.user_id, $2) AS deleted FROM auth.session_user_id($1, false) v(user_id)"
     " WHERE v.user_id IS NOT NULL"},
    // Issue 14: the email flows (the extension queues the mail in the same transaction).
    {"email_send_verification", "SELECT auth.email_send_verification($1, $2, $3)::text AS body"},
    {"email_verify",
     "SELECT body::text AS body, session_token, max_age, error_code FROM auth.email_verify($1, $2::inet, $3)"},
    {"email_request_password_reset", "SELECT auth.email_request_password_reset($1, $2)::text AS body"},
    {"email_check_reset_token", "SELECT auth.email_check_reset_token($1) AS live"},
    {"email_reset_password", "SELECT auth.email_reset_password($1, $2)::text AS body"},
    {"email_change_request", "SELECT auth.email_change_request($1, $2, $3)::text AS body"},
    {"magic_link_request", "SELECT auth.magic_link_request($1, $2, $3, $4, $5)::text AS body"},
    {"magic_link_verify",
     "SELECT body::text AS body, session_token, max_age, new_user, error_code"
     " FROM auth.magic_link_verify($1, $2::inet, $3)"},
    {"email_otp_send", "SELECT auth.email_otp_send($1, $2)::text AS body"},
    {"email_otp_sign_in",
     "SELECT body::text AS body, session_token, max_age, error_code FROM auth.email_otp_sign_in($1, $2, $3::inet, $4)"},
    {"email_otp_verify_email",
     "SELECT body::text AS body, session_token, max_age, error_code"
     " FROM auth.email_otp_verify_email($1, $2, $3::inet, $4)"},
    {"email_otp_reset_password",
     "SELECT body::text AS body, error_code FROM auth.email_otp_reset_password($1, $2, $3)"},
    // Issue 15: social sign-in and accounts (docs/social.md).
    {"social_flow_start",
     "SELECT state, code_challenge, nonce, binding, expires_in FROM auth.social_flow_start($1, $2, $3, $4, $5, $6)"},
    {"social_flow_take",
     "SELECT flow_id, code_verifier, nonce, kind, callback_url, error_callback_url, new_user_callback_url, error_code"
     " FROM auth.social_flow_take($1, $2, $3)"},
    {"social_sign_in",
     "SELECT body::text AS body, session_token, max_age, new_user, linked, error_code"
     " FROM auth.social_sign_in($1, $2::jsonb, $3::jsonb, $4::uuid, $5::inet, $6)"},
    {"list_accounts", "SELECT auth.list_accounts($1)::text AS body"},
    {"unlink_account", "SELECT auth.unlink_account($1, $2, $3)::text AS body"},
    {"social_account_tokens",
     "SELECT account_row_id, provider_id, account_id, access_token, refresh_token, id_token,"
     " to_char(access_token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS access_token_expires_at,"
     " to_json(scopes)::text AS scopes, needs_refresh FROM auth.social_account_tokens($1, $2, $3)"},
    {"social_store_tokens", "SELECT auth.social_store_tokens($1, $2::uuid, $3::jsonb)::text AS body"},
    // Issue 13: OAuth clients
    {"oauth_register_client", "SELECT auth.oauth_register_client($1::jsonb)::text AS body"},
    {"oauth_client_read", "SELECT auth.oauth_client_read($1, $2)::text AS body"},
    {"oauth_client_update", "SELECT auth.oauth_client_update($1, $2, $3::jsonb)::text AS body"},
    {"oauth_client_delete", "SELECT auth.oauth_client_delete($1, $2) AS deleted"},
    {"oauth_client_get", "SELECT auth.oauth_client_get($1)::text AS body"},
    {"oauth_cimd_store", "SELECT auth.oauth_cimd_store($1, $2::jsonb, $3::integer)::text AS body"},
    {"oauth_cimd_store_default", "SELECT auth.oauth_cimd_store($1, $2::jsonb, NULL)::text AS body"},
    // Issue 17: organizations (Better-Auth organization plugin): (credential, body or query as jsonb) -> body
    {"org_create", "SELECT auth.org_create($1, $2::jsonb)::text AS body"},
    {"org_update", "SELECT auth.org_update($1, $2::jsonb)::text AS body"},
    {"org_delete", "SELECT auth.org_delete($1, $2::jsonb)::text AS body"},
    {"org_list", "SELECT auth.org_list($1, $2::jsonb)::text AS body"},
    {"org_get_full", "SELECT auth.org_get_full($1, $2::jsonb)::text AS body"},
    {"org_set_active", "SELECT body::text AS body, error_code FROM auth.org_set_active($1, $2::jsonb)"},
    {"org_check_slug", "SELECT auth.org_check_slug($1, $2::jsonb)::text AS body"},
    {"org_invite_member", "SELECT auth.org_invite_member($1, $2::jsonb)::text AS body"},
    {"org_accept_invitation", "SELECT auth.org_accept_invitation($1, $2::jsonb)::text AS body"},
    {"org_reject_invitation", "SELECT auth.org_reject_invitation($1, $2::jsonb)::text AS body"},
    {"org_cancel_invitation", "SELECT auth.org_cancel_invitation($1, $2::jsonb)::text AS body"},
    {"org_get_invitation", "SELECT auth.org_get_invitation($1, $2::jsonb)::text AS body"},
    {"org_list_invitations", "SELECT auth.org_list_invitations($1, $2::jsonb)::text AS body"},
    {"org_list_user_invitations", "SELECT auth.org_list_user_invitations($1, $2::jsonb)::text AS body"},
    {"org_list_members", "SELECT auth.org_list_members($1, $2::jsonb)::text AS body"},
    {"org_remove_member", "SELECT auth.org_remove_member($1, $2::jsonb)::text AS body"},
    {"org_update_member_role", "SELECT auth.org_update_member_role($1, $2::jsonb)::text AS body"},
    {"org_get_active_member", "SELECT auth.org_get_active_member($1, $2::jsonb)::text AS body"},
    {"org_get_active_member_role", "SELECT auth.org_get_active_member_role($1, $2::jsonb)::text AS body"},
    {"org_leave", "SELECT auth.org_leave($1, $2::jsonb)::text AS body"},
    {"org_has_permission", "SELECT auth.org_has_permission($1, $2::jsonb)::text AS body"},
    {"org_create_role", "SELECT auth.org_create_role($1, $2::jsonb)::text AS body"},
    {"org_list_roles", "SELECT auth.org_list_roles($1, $2::jsonb)::text AS body"},
    {"org_get_role", "SELECT auth.org_get_role($1, $2::jsonb)::text AS body"},
    {"org_update_role", "SELECT auth.org_update_role($1, $2::jsonb)::text AS body"},
    {"org_delete_role", "SELECT auth.org_delete_role($1, $2::jsonb)::text AS body"},
    {"org_create_team", "SELECT auth.org_create_team($1, $2::jsonb)::text AS body"},
    {"org_list_teams", "SELECT auth.org_list_teams($1, $2::jsonb)::text AS body"},
    {"org_update_team", "SELECT auth.org_update_team($1, $2::jsonb)::text AS body"},
    {"org_remove_team", "SELECT auth.org_remove_team($1, $2::jsonb)::text AS body"},
    {"org_set_active_team", "SELECT auth.org_set_active_team($1, $2::jsonb)::text AS body"},
    {"org_add_team_member", "SELECT auth.org_add_team_member($1, $2::jsonb)::text AS body"},
    {"org_remove_team_member", "SELECT auth.org_remove_team_member($1, $2::jsonb)::text AS body"},
    {"org_list_team_members", "SELECT auth.org_list_team_members($1, $2::jsonb)::text AS body"},
    {"org_list_user_teams", "SELECT auth.org_list_user_teams($1, $2::jsonb)::text AS body"},
    // Issue 16: account security (docs/account-security.md): twoFactor, admin, multiSession.
    {"two_factor_enable", "SELECT auth.two_factor_enable($1, $2, $3, $4::inet, $5)::text AS body"},
    {"two_factor_get_totp_uri", "SELECT auth.two_factor_get_totp_uri($1, $2)::text AS body"},
    {"two_factor_verify",
     "SELECT body::text AS body, session_token, max_age, trust_device_token, error_code"
     " FROM auth.two_factor_verify($1, $2, $3, $4, $5, $6::inet, $7)"},
    {"two_factor_send_otp", "SELECT auth.two_factor_send_otp($1, $2)::text AS body"},
    {"two_factor_generate_backup_codes", "SELECT auth.two_factor_generate_backup_codes($1, $2)::text AS body"},
    {"two_factor_disable", "SELECT auth.two_factor_disable($1, $2, $3::inet, $4)::text AS body"},
    {"admin_create_user", "SELECT auth.admin_create_user($1, $2::jsonb)::text AS body"},
    {"admin_list_users", "SELECT auth.admin_list_users($1, $2::jsonb)::text AS body"},
    {"admin_get_user", "SELECT auth.admin_get_user($1, $2)::text AS body"},
    {"admin_update_user", "SELECT auth.admin_update_user($1, $2, $3::jsonb)::text AS body"},
    {"admin_set_role", "SELECT auth.admin_set_role($1, $2, $3::jsonb)::text AS body"},
    {"admin_set_user_password", "SELECT auth.admin_set_user_password($1, $2, $3)::text AS body"},
    {"admin_ban_user", "SELECT auth.admin_ban_user($1, $2, $3, $4::bigint)::text AS body"},
    {"admin_unban_user", "SELECT auth.admin_unban_user($1, $2)::text AS body"},
    {"admin_list_user_sessions", "SELECT auth.admin_list_user_sessions($1, $2)::text AS body"},
    {"admin_revoke_user_session", "SELECT auth.admin_revoke_user_session($1, $2)::text AS body"},
    {"admin_revoke_user_sessions", "SELECT auth.admin_revoke_user_sessions($1, $2)::text AS body"},
    {"admin_impersonate_user",
     "SELECT body::text AS body, session_token, max_age FROM auth.admin_impersonate_user($1, $2, $3::inet, $4)"},
    {"admin_stop_impersonating",
     "SELECT body::text AS body, session_token, max_age FROM auth.admin_stop_impersonating($1, $2)"},
    {"admin_remove_user", "SELECT auth.admin_remove_user($1, $2)::text AS body"},
    {"admin_has_permission", "SELECT auth.admin_has_permission($1, $2::jsonb)::text AS body"},
    {"admin_audit_log", "SELECT auth.admin_audit_log($1, $2::jsonb)::text AS body"},
    {"multi_session_list", "SELECT auth.multi_session_list($1::text[])::text AS body"},
    {"multi_session_set_active",
     "SELECT body::text AS body, max_age FROM auth.multi_session_set_active($1::text[], $2)"},
    {"multi_session_revoke", "SELECT auth.multi_session_revoke($1::text[], $2)::text AS body"},
    // The OAuth provider (routes/oauth_provider.cpp).
    {"oauth_authorize", "SELECT auth.oauth_authorize($1, $2::jsonb, $3::inet, $4)::text AS body"},
    {"oauth_consent", "SELECT auth.oauth_consent($1, $2, $3::boolean, string_to_array($4::text, ' '))::text AS body"},
    {"oauth_token", "SELECT auth.oauth_token($1::jsonb, $2::jsonb)::text AS body"},
    {"oauth_userinfo", "SELECT auth.oauth_userinfo($1)::text AS body"},
    {"oauth_introspect", "SELECT auth.oauth_introspect($1, $2, $3::jsonb)::text AS body"},
    {"oauth_revoke", "SELECT 1 AS done FROM auth.oauth_revoke($1, $2, $3::jsonb)"},
    {"oauth_end_session", "SELECT auth.oauth_end_session($1, $2::jsonb)::text AS body"},
    {"oauth_discovery", "SELECT auth.oauth_discovery($1)::text AS body"},
    {"oauth_client_jwks_store",
     "SELECT auth.oauth_client_jwks_store($1, $2, $3::jsonb, $4::integer, $5) AS stored"},
    // /mcp (routes/mcp.cpp).
    {"mcp_verify_access_token",
     "SELECT subject, client_id, to_json(scopes)::text AS scopes, to_json(expires_at) #>> '{}' AS expires_at"
     " FROM auth.verify_access_token($1, $2)"},
};

}  // namespace

void prepare_statements(pqxx::connection& conn, int statement_timeout_ms) {
    {
        pqxx::nontransaction tx(conn);
        tx.exec("SET statement_timeout = " + std::to_string(statement_timeout_ms));
        tx.exec("SET TimeZone = 'UTC'");
        tx.exec("SET application_name = 'pgauth-http'");
    }
    for (const auto& s : statements) conn.prepare(s.name, s.sql);
}

}  // namespace pgauth::http
