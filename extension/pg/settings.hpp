// The pgauth.* GUCs, defined in module.cpp. All are PGC_SUSET or stricter:
// nothing that changes security is settable by an ordinary role.
#pragma once

namespace pgauth::settings {

extern int session_expires_in;        // seconds, Better-Auth default 7 days
extern int session_short_expires_in;  // seconds, rememberMe=false (1 day)
extern int session_update_age;        // seconds, 1 day
extern int fresh_age;                 // seconds, 1 day
extern int password_min_length;       // 8
extern int password_max_length;       // 128
extern int argon2_opslimit;           // t, 2
extern int argon2_memlimit_kb;        // m in KiB, 19456 (19 MiB)
extern int argon2_max_opslimit;       // highest t a stored argon2id hash may declare, 10
extern int argon2_max_memlimit_kb;    // highest m (KiB) a stored argon2id hash may declare, 65536 (64 MiB)
extern int bcrypt_max_cost;           // highest bcrypt cost, 14
extern int scrypt_max_n;              // highest scrypt N, 131072 (2^17)
extern int avatar_claim_timeout;      // seconds a claim_avatar claim stays exclusive, 60
extern char* key_file;                // path of the 32-byte KEK; superuser-only
extern char* base_url;                // the public base URL: default iss and aud of session JWTs
extern char* issuer;                  // iss of our JWTs; empty = base_url
extern int jwt_expires_in;            // seconds, 15 minutes
extern int jwt_leeway;                // seconds of clock skew accepted on exp/nbf/iat, 60
extern int jwt_key_grace_period;      // seconds a rotated-out key stays published, 30 days
extern int lockout_threshold;         // failed sign-ins before an email is locked, 5; 0 = no lockout
extern int lockout_max_delay;         // seconds, the longest lock, 15 minutes
extern int vault_max_value_bytes;     // largest vault value, 8192 (read by auth.vault_set)
extern int vault_max_entries;         // vault entries per user, 50
extern int api_key_max_per_user;      // API keys per user, 100 (read by auth.api_key_create)
extern char* previous_key_file;       // the previous KEK while rotating; superuser-only, empty = none
// email flows (issue 14); Better-Auth's defaults
extern bool email_require_verification;             // sign-in/sign-up of an unverified user: no session
extern bool email_send_on_sign_up;                  // sign-up queues the verification mail
extern bool email_auto_sign_in_after_verification;  // verify-email creates a session
extern bool revoke_sessions_on_password_reset;      // a reset ends every session of the user
extern bool magic_link_disable_sign_up;             // a magic link never creates a user
extern bool email_otp_disable_sign_up;              // an OTP sign-in never creates a user
extern int email_verification_expires_in;           // seconds, 1 hour
extern int password_reset_expires_in;               // seconds, 1 hour
extern int magic_link_expires_in;                   // seconds, 5 minutes
extern int email_otp_expires_in;                    // seconds, 5 minutes
extern int email_otp_length;                        // digits, 6 (4..10)
extern int email_otp_attempts;                      // wrong attempts before a code is dead, 3
extern int email_max_per_address;                   // mail requests per address per window, 5; 0 = no limit
extern int email_address_window;                    // seconds, 1 hour
extern int outbox_max_attempts;                     // delivery attempts before a row is dead, 10
extern char* social_trusted_providers; // comma list of providers whose verified email may link, ""
extern int social_flow_expires_in;    // seconds a social sign-in flow lives, 10 minutes
extern bool social_disable_sign_up;   // social sign-in never creates a user, false
// OAuth clients (issue 13); read by the plpgsql rules through current_setting()
extern int oauth_dynamic_registration;     // 1 = open (default), 0 = off
extern int oauth_cimd_max_age;             // seconds, the longest a Client ID Metadata Document is cached, 1 day
extern bool oauth_cimd_allow_http_loopback;  // dev only: http://127.0.0.1|[::1]|localhost client_id URLs, off
// account security (issue 16); read by the plpgsql rules through current_setting()
extern char* admin_roles;                    // comma list of roles that are admins, "admin"
extern bool admin_impersonate_admins;        // an admin may impersonate another admin, false
extern int impersonation_session_duration;   // seconds, 1 hour
extern int two_factor_challenge_expires_in;  // seconds a sign-in's pending second factor lives, 5 minutes
extern int two_factor_trust_device_expires_in;  // seconds, 30 days
extern int multi_session_maximum;            // sessions per device (multi-session), 5
extern int audit_retention;                  // seconds auth.audit_purge() keeps, 0 = forever
// organizations (issue 17); read by the plpgsql rules through current_setting()
extern int organization_limit;             // organizations a user may belong to when creating one, 0 = no limit
extern int membership_limit;               // members per organization, 100 (Better-Auth membershipLimit)
extern int team_member_limit;              // members per team, 0 = none (teams.maximumMembersPerTeam)
extern bool allow_removing_all_teams;      // remove-team may remove the last team (teams.allowRemovingAllTeams)
extern int invitation_limit;               // pending invitations per organization, 100
extern int invitation_expires_in;          // seconds, 48 hours
extern char* organization_invitation_url;  // accept link with {id}; "" = <base_url>/accept-invitation/{id}
// OAuth provider (issue 13); read by the plpgsql rules through current_setting()
extern int oauth_access_token_expires_in;   // seconds, 1 hour
extern int oauth_refresh_token_expires_in;  // seconds, 30 days
extern int oauth_id_token_expires_in;       // seconds, 1 hour
extern int oauth_refresh_reuse_interval;    // seconds a rotated refresh token may be retried, 10 (0..60)
extern int oauth_jwks_max_age;               // seconds, the longest a fetched client JWK Set is cached, 1 hour
extern int oauth_jwks_min_refresh;           // seconds between two fetches of one jwks_uri, 60 (0..3600)
extern char* oauth_extra_scopes;            // space-separated extra supported scopes, ""

// pgauth.issuer, or pgauth.base_url when it is empty.
const char* effective_issuer();

void define();  // called once from _PG_init

}  // namespace pgauth::settings
