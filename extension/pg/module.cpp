// Module entry: PG_MODULE_MAGIC, GUC definitions, libsodium start-up.
#include "pg/boundary.hpp"
#include "pg/lockout.hpp"
#include "pg/rls.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/guc.h"
}

#include "core/crypto.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace pgauth::settings {

int session_expires_in = 7 * 24 * 3600;
int session_short_expires_in = 24 * 3600;
int session_update_age = 24 * 3600;
int fresh_age = 24 * 3600;
int password_min_length = 8;
int password_max_length = 128;
int argon2_opslimit = 2;
int argon2_memlimit_kb = 19456;
int argon2_max_opslimit = 10;
int argon2_max_memlimit_kb = 64 * 1024;
int bcrypt_max_cost = 14;
int scrypt_max_n = 1 << 17;
int avatar_claim_timeout = 60;
char* key_file = nullptr;
char* base_url = nullptr;
char* issuer = nullptr;
int jwt_expires_in = 15 * 60;
int jwt_leeway = 60;
int jwt_key_grace_period = 30 * 24 * 3600;
int lockout_threshold = 5;
int lockout_max_delay = 15 * 60;
int vault_max_value_bytes = 8192;
int vault_max_entries = 50;
int api_key_max_per_user = 100;
char* previous_key_file = nullptr;
bool email_require_verification = false;
bool email_send_on_sign_up = false;
bool email_auto_sign_in_after_verification = false;
bool revoke_sessions_on_password_reset = false;
bool magic_link_disable_sign_up = false;
bool email_otp_disable_sign_up = false;
int email_verification_expires_in = 3600;
int password_reset_expires_in = 3600;
int magic_link_expires_in = 300;
int email_otp_expires_in = 300;
int email_otp_length = 6;
int email_otp_attempts = 3;
int email_max_per_address = 5;
int email_address_window = 3600;
int outbox_max_attempts = 10;
char* social_trusted_providers = nullptr;
int social_flow_expires_in = 10 * 60;
bool social_disable_sign_up = false;
int oauth_dynamic_registration = 1;
int oauth_cimd_max_age = 24 * 3600;
bool oauth_cimd_allow_http_loopback = false;
char* admin_roles = nullptr;
bool admin_impersonate_admins = false;
int impersonation_session_duration = 3600;
int two_factor_challenge_expires_in = 5 * 60;
int two_factor_trust_device_expires_in = 30 * 24 * 3600;
int multi_session_maximum = 5;
int audit_retention = 0;
int organization_limit = 0;
int membership_limit = 100;
int team_member_limit = 0;
bool allow_removing_all_teams = false;
int invitation_limit = 100;
int invitation_expires_in = 48 * 3600;
char* organization_invitation_url = nullptr;
int oauth_access_token_expires_in = 3600;
int oauth_refresh_token_expires_in = 30 * 24 * 3600;
int oauth_id_token_expires_in = 3600;
int oauth_refresh_reuse_interval = 10;
int oauth_jwks_max_age = 3600;
int oauth_jwks_min_refresh = 60;
char* oauth_extra_scopes = nullptr;

const char* effective_issuer() { return issuer && *issuer ? issuer : (base_url ? base_url : ""); }

namespace {
void define_bool(const char* name, const char* description, bool* variable) {
    DefineCustomBoolVariable(name, description, nullptr, variable, *variable, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

void define_int(const char* name, const char* description, int* variable, int min, int max) {
    DefineCustomIntVariable(name, description, nullptr, variable, *variable, min, max, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
}

void define_seconds(const char* name, const char* description, int* variable, int min, int max) {
    DefineCustomIntVariable(name, description, nullptr, variable, *variable, min, max, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
}
// pgauth.oauth_dynamic_registration
const struct config_enum_entry dynamic_registration_options[] = {
    {"open", 1, false}, {"off", 0, false}, {nullptr, 0, false}};
}  // namespace

void define() {
    constexpr int ten_years = 10 * 366 * 24 * 3600;
    define_seconds("pgauth.session_expires_in", "Lifetime of a session (Better-Auth expiresIn).",
                   &session_expires_in, 60, ten_years);
    define_seconds("pgauth.session_short_expires_in", "Lifetime of a session signed in with remember_me = false.",
                   &session_short_expires_in, 60, ten_years);
    define_seconds("pgauth.session_update_age",
                   "Sliding expiry: a session is extended once it is this old since its last extension.",
                   &session_update_age, 0, ten_years);
    define_seconds("pgauth.fresh_age", "A session younger than this counts as fresh for sensitive operations.",
                   &fresh_age, 0, ten_years);
    DefineCustomIntVariable("pgauth.password_min_length", "Minimum password length in characters.", nullptr,
                            &password_min_length, password_min_length, 1, 4096, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("pgauth.password_max_length", "Maximum password length in characters.", nullptr,
                            &password_max_length, password_max_length, 1, 4096, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    define_seconds("pgauth.avatar_claim_timeout",
                   "How long an avatar claim stays exclusive before another caller may take it over.",
                   &avatar_claim_timeout, 1, 24 * 3600);
    DefineCustomStringVariable("pgauth.key_file",
                               "File holding the 32-byte key-encryption key that seals JWT signing keys.", nullptr,
                               &key_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("pgauth.base_url", "Public base URL of the auth server: iss and aud of session JWTs.",
                               nullptr, &base_url, "http://127.0.0.1:8080", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("pgauth.issuer", "iss of the JWTs pgauth signs and requires; empty means base_url.",
                               nullptr, &issuer, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    define_seconds("pgauth.jwt_expires_in", "Lifetime of JWTs from session_jwt and sign_jwt.", &jwt_expires_in, 1,
                   ten_years);
    define_seconds("pgauth.jwt_leeway", "Clock skew accepted when checking exp, nbf and iat.", &jwt_leeway, 0, 3600);
    define_seconds("pgauth.jwt_key_grace_period",
                   "How long a rotated-out signing key stays published in the JWKS and accepted.",
                   &jwt_key_grace_period, 0, ten_years);
    DefineCustomIntVariable("pgauth.lockout_threshold",
                            "Consecutive failed sign-ins for an email before it is locked (2^(failures - threshold) "
                            "seconds, up to pgauth.lockout_max_delay); 0 turns the lockout off.",
                            nullptr, &lockout_threshold, lockout_threshold, 0, 1000, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    define_seconds("pgauth.lockout_max_delay", "The longest an email stays locked after failed sign-ins.",
                   &lockout_max_delay, 1, 24 * 3600);
    DefineCustomIntVariable("pgauth.vault_max_value_bytes", "Largest vault value in bytes (auth.vault_set).",
                            nullptr, &vault_max_value_bytes, vault_max_value_bytes, 1, 1024 * 1024, PGC_SUSET, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.vault_max_entries", "Most vault entries per user (auth.vault_set).", nullptr,
                            &vault_max_entries, vault_max_entries, 1, 10000, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("pgauth.api_key_max_per_user", "Most API keys per user (auth.api_key_create).", nullptr,
                            &api_key_max_per_user, api_key_max_per_user, 1, 100000, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomStringVariable("pgauth.previous_key_file",
                               "While rotating the KEK: the file of the previous key-encryption key. Sealed values "
                               "that do not open with pgauth.key_file are tried with it; auth.reseal() re-seals them.",
                               nullptr, &previous_key_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr,
                               nullptr);
    // email flows (issue 14)
    define_bool("pgauth.email_require_verification",
                "Sign-in of a user whose email is not verified answers EMAIL_NOT_VERIFIED (and queues a new "
                "verification mail); sign-up creates no session.",
                &email_require_verification);
    define_bool("pgauth.email_send_on_sign_up", "Sign-up queues the verification mail.", &email_send_on_sign_up);
    define_bool("pgauth.email_auto_sign_in_after_verification", "Following a verification link signs the user in.",
                &email_auto_sign_in_after_verification);
    define_bool("pgauth.revoke_sessions_on_password_reset", "A password reset ends every session of the user.",
                &revoke_sessions_on_password_reset);
    define_bool("pgauth.magic_link_disable_sign_up", "A magic link for an unknown address creates no user.",
                &magic_link_disable_sign_up);
    define_bool("pgauth.email_otp_disable_sign_up", "An OTP sign-in for an unknown address creates no user.",
                &email_otp_disable_sign_up);
    define_seconds("pgauth.email_verification_expires_in", "Lifetime of an email verification link.",
                   &email_verification_expires_in, 1, ten_years);
    define_seconds("pgauth.password_reset_expires_in", "Lifetime of a password reset link.", &password_reset_expires_in,
                   1, ten_years);
    define_seconds("pgauth.magic_link_expires_in", "Lifetime of a magic sign-in link.", &magic_link_expires_in, 1,
                   ten_years);
    define_seconds("pgauth.email_otp_expires_in", "Lifetime of an email one-time code.", &email_otp_expires_in, 1,
                   ten_years);
    define_int("pgauth.email_otp_length", "Digits of an email one-time code.", &email_otp_length, 4, 10);
    define_int("pgauth.email_otp_attempts", "Wrong attempts after which an email one-time code is dead.",
               &email_otp_attempts, 1, 100);
    define_int("pgauth.email_max_per_address",
               "Mail requests per address (known or not) per pgauth.email_address_window; 0 turns the limit off.",
               &email_max_per_address, 0, 100000);
    define_seconds("pgauth.email_address_window", "The window of pgauth.email_max_per_address.",
                   &email_address_window, 1, 86400);
    define_int("pgauth.outbox_max_attempts", "Delivery attempts after which an outbox row is dead.",
               &outbox_max_attempts, 1, 1000);
    DefineCustomStringVariable("pgauth.social_trusted_providers",
                               "Comma-separated social provider ids whose verified email links a sign-in to an "
                               "existing user with that email (read by auth.social_sign_in).",
                               nullptr, &social_trusted_providers, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    define_seconds("pgauth.social_flow_expires_in", "Lifetime of a social sign-in or link flow (state, PKCE, nonce).",
                   &social_flow_expires_in, 60, 3600);
    DefineCustomBoolVariable("pgauth.social_disable_sign_up",
                             "Social sign-in signs in and links existing users only; it never creates a user.",
                             nullptr, &social_disable_sign_up, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.argon2_opslimit", "argon2id time cost t for new password hashes.", nullptr,
                            &argon2_opslimit, argon2_opslimit, 1, 64, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.argon2_memlimit", "argon2id memory cost m for new password hashes.", nullptr,
                            &argon2_memlimit_kb, argon2_memlimit_kb, 7168, 4 * 1024 * 1024, PGC_SUSET, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.argon2_max_opslimit",
                            "Highest argon2id t a stored or imported hash may declare; above it import is refused "
                            "and verification fails fast.",
                            nullptr, &argon2_max_opslimit, argon2_max_opslimit, 1, 64, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("pgauth.argon2_max_memlimit",
                            "Highest argon2id m a stored or imported hash may declare; above it import is refused and "
                            "verification fails fast.",
                            nullptr, &argon2_max_memlimit_kb, argon2_max_memlimit_kb, 7168, 4 * 1024 * 1024, PGC_SUSET,
                            GUC_UNIT_KB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.bcrypt_max_cost", "Highest bcrypt cost a stored or imported hash may declare.",
                            nullptr, &bcrypt_max_cost, bcrypt_max_cost, 4, 31, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("pgauth.oauth_dynamic_registration",
                             "OAuth dynamic client registration (RFC 7591): open, or off (registration is refused).",
                             nullptr, &oauth_dynamic_registration, oauth_dynamic_registration,
                             dynamic_registration_options, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    define_seconds("pgauth.oauth_cimd_max_age",
                   "The longest a fetched Client ID Metadata Document is cached, whatever its max-age says.",
                   &oauth_cimd_max_age, 0, 30 * 24 * 3600);
    DefineCustomBoolVariable("pgauth.oauth_cimd_allow_http_loopback",
                             "Development only: accept http Client ID Metadata Document URLs on a loopback host.",
                             nullptr, &oauth_cimd_allow_http_loopback, oauth_cimd_allow_http_loopback, PGC_SUSET, 0,
                             nullptr, nullptr, nullptr);
    // organizations (issue 17)
    define_int("pgauth.organization_limit",
               "Organizations a user may belong to and still create one (Better-Auth organizationLimit); 0 = no limit.",
               &organization_limit, 0, 1000000);
    define_int("pgauth.membership_limit", "Members per organization (Better-Auth membershipLimit); 0 = no limit.",
               &membership_limit, 0, 10000000);
    define_int("pgauth.team_member_limit",
               "Members per team (Better-Auth teams.maximumMembersPerTeam); 0 = no limit.", &team_member_limit, 0,
               10000000);
    define_bool("pgauth.allow_removing_all_teams",
                "remove-team may remove an organization's last team (Better-Auth teams.allowRemovingAllTeams).",
                &allow_removing_all_teams);
    define_int("pgauth.invitation_limit",
               "Pending invitations per organization (Better-Auth invitationLimit); 0 = no limit.", &invitation_limit,
               0, 10000000);
    define_seconds("pgauth.invitation_expires_in", "Lifetime of an organization invitation.", &invitation_expires_in,
                   60, ten_years);
    DefineCustomStringVariable("pgauth.organization_invitation_url",
                               "Accept link of an invitation mail, {id} = the invitation id; empty means "
                               "<pgauth.base_url>/accept-invitation/{id}.",
                               nullptr, &organization_invitation_url, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    define_seconds("pgauth.oauth_access_token_expires_in", "Lifetime of an OAuth access token.",
                   &oauth_access_token_expires_in, 60, 24 * 3600);
    define_seconds("pgauth.oauth_refresh_token_expires_in", "Lifetime of an OAuth refresh token family.",
                   &oauth_refresh_token_expires_in, 60, 365 * 24 * 3600);
    define_seconds("pgauth.oauth_id_token_expires_in", "Lifetime of an OpenID Connect id_token.",
                   &oauth_id_token_expires_in, 60, 24 * 3600);
    define_seconds("pgauth.oauth_refresh_reuse_interval",
                   "How long a rotated refresh token may be presented again (a retried refresh) and get the same successor; 0 = never.",
                   &oauth_refresh_reuse_interval, 0, 60);
    define_seconds("pgauth.oauth_jwks_max_age",
                   "The longest a client's JWK Set fetched from its jwks_uri is cached, whatever its max-age says.",
                   &oauth_jwks_max_age, 0, 7 * 24 * 3600);
    define_seconds("pgauth.oauth_jwks_min_refresh",
                   "The least time between two fetches of a client's jwks_uri (an unknown kid, an expired set, a failed fetch).",
                   &oauth_jwks_min_refresh, 0, 3600);
    DefineCustomStringVariable("pgauth.oauth_extra_scopes",
                               "Space-separated scopes the OAuth provider supports beside openid profile email offline_access.",
                               nullptr, &oauth_extra_scopes, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pgauth.scrypt_max_n", "Highest scrypt N a stored or imported hash may need.", nullptr,
                            &scrypt_max_n, scrypt_max_n, 16384, 1 << 30, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    // account security (issue 16)
    DefineCustomStringVariable("pgauth.admin_roles",
                               "Comma-separated roles whose users are admins (Better-Auth adminRoles).",
                               nullptr, &admin_roles, "admin", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    define_bool("pgauth.admin_impersonate_admins", "An admin may impersonate another admin.",
                &admin_impersonate_admins);
    define_seconds("pgauth.impersonation_session_duration", "Lifetime of an impersonation session.",
                   &impersonation_session_duration, 60, 7 * 24 * 3600);
    define_seconds("pgauth.two_factor_challenge_expires_in",
                   "Lifetime of the pending second factor of a sign-in (the two-factor cookie).",
                   &two_factor_challenge_expires_in, 30, 3600);
    define_seconds("pgauth.two_factor_trust_device_expires_in",
                   "How long a trusted device skips the second factor.", &two_factor_trust_device_expires_in,
                   60, 366 * 24 * 3600);
    define_int("pgauth.multi_session_maximum", "Signed-in accounts per device (multi-session).",
               &multi_session_maximum, 1, 100);
    define_seconds("pgauth.audit_retention",
                   "auth.audit_purge() deletes audit rows older than this; 0 keeps them forever.",
                   &audit_retention, 0, ten_years);
}

}  // namespace pgauth::settings

void _PG_init(void) {
    bool sodium_ready = true;
    try {
        pgauth::crypto_init();
    } catch (...) {
        sodium_ready = false;  // raise only after the handler has finished
    }
    if (!sodium_ready)
        ereport(ERROR, (errcode(ERRCODE_SYSTEM_ERROR), errmsg("pgauth: libsodium failed to initialize")));
    pgauth::settings::define();
    pgauth::register_identity_callbacks();
    pgauth::request_lockout_memory();  // only when preloaded
    MarkGUCPrefixReserved("pgauth");
}
