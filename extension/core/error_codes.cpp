// The error catalog. Adding a code: add a row here; `make installcheck`
// (sql/errors.sql) checks that auth.error_codes holds exactly these rows.
#include "core/error_codes.hpp"

#include <array>

namespace pgauth {
namespace {

constexpr std::array catalog{
    // 0.1.0
    ErrorCode{"BAD_REQUEST", "PA400", 400, "Bad request"},
    ErrorCode{"VALIDATION_ERROR", "PA400", 400, "Invalid input"},
    ErrorCode{"INVALID_EMAIL", "PA400", 400, "Invalid email"},
    ErrorCode{"PASSWORD_TOO_SHORT", "PA400", 400, "Password too short"},
    ErrorCode{"PASSWORD_TOO_LONG", "PA400", 400, "Password too long"},
    ErrorCode{"INVALID_PASSWORD", "PA400", 400, "Invalid password"},
    ErrorCode{"INVALID_PASSWORD_HASH", "PA400", 400, "Unrecognised password hash format"},
    ErrorCode{"INVALID_EMAIL_OR_PASSWORD", "PA401", 401, "Invalid email or password"},
    ErrorCode{"UNAUTHORIZED", "PA401", 401, "Unauthorized"},
    ErrorCode{"SESSION_EXPIRED", "PA401", 401, "Session expired. Re-authenticate to perform this action."},
    ErrorCode{"INVALID_TOKEN", "PA401", 401, "Invalid token"},
    ErrorCode{"FORBIDDEN", "PA403", 403, "Forbidden"},
    ErrorCode{"USER_NOT_FOUND", "PA404", 404, "User not found"},
    ErrorCode{"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "PA422", 422, "User already exists. Use another email."},
    ErrorCode{"RATE_LIMITED", "PA429", 429, "Too many requests. Please try again later."},
    ErrorCode{"INTERNAL_ERROR", "PA500", 500, "Internal error"},
    // 0.2.0: avatars, wallets, profile
    ErrorCode{"AVATAR_CLAIM_INVALID", "PA409", 409, "The avatar claim is unknown, already used or expired"},
    ErrorCode{"AVATAR_ALREADY_LINKED", "PA409", 409, "This avatar is already linked to another user"},
    ErrorCode{"WALLET_ALREADY_LINKED", "PA409", 409, "This wallet is already linked to another user"},
    ErrorCode{"AVATAR_PROVIDER_UNAVAILABLE", "PA503", 503, "The avatar provider is unavailable. Try again later."},
    ErrorCode{"USER_INACTIVE", "PA403", 403, "This account is deactivated"},
    // 0.2.0: answered by the HTTP layer itself
    ErrorCode{"FAILED_TO_GET_SESSION", "PA400", 400, "Failed to get session"},
    ErrorCode{"EMAIL_CAN_NOT_BE_UPDATED", "PA400", 400, "Email can not be updated"},
    ErrorCode{"MISSING_OR_NULL_ORIGIN", "PA403", 403, "Missing or null Origin"},
    ErrorCode{"INVALID_ORIGIN", "PA403", 403, "Invalid origin"},
    ErrorCode{"INVALID_CALLBACKURL", "PA403", 403, "Invalid callbackURL"},
    ErrorCode{"NOT_FOUND", "PA404", 404, "Not found"},
    ErrorCode{"METHOD_NOT_ALLOWED", "PA405", 405, "Method not allowed"},
    ErrorCode{"PAYLOAD_TOO_LARGE", "PA413", 413, "Request body is too large"},
    ErrorCode{"UNSUPPORTED_MEDIA_TYPE", "PA415", 415, "Content-Type must be application/json"},
    ErrorCode{"SERVICE_UNAVAILABLE", "PA503", 503, "Service unavailable. Try again later."},
    // 0.3.0: JWT
    ErrorCode{"INVALID_KEY", "PA400", 400, "Invalid key"},
    ErrorCode{"SIGNING_KEY_UNAVAILABLE", "PA503", 503, "No signing key is available: check pgauth.key_file (a 32-byte key file readable only by the server)"},
    // 0.4.0: HTTP request limits
    ErrorCode{"INVALID_PATH", "PA400", 400, "Invalid request path"},
    ErrorCode{"LENGTH_REQUIRED", "PA411", 411, "Content-Length is required"},
    ErrorCode{"URI_TOO_LONG", "PA414", 414, "Request URI is too long"},
    ErrorCode{"REQUEST_HEADER_FIELDS_TOO_LARGE", "PA431", 431, "Request header fields are too large"},
    ErrorCode{"TOO_MANY_CONNECTIONS", "PA503", 503, "Too many connections. Try again later."},
    // 0.4.0: password hash cost limits
    ErrorCode{"PASSWORD_HASH_TOO_EXPENSIVE", "PA400", 400,
              "The password hash declares a cost above the configured limits"},
    ErrorCode{"PASSWORD_HASH_UNVERIFIABLE", "PA500", 500,
              "The stored password hash exceeds the configured cost limits: an administrator must reset it"},
    // 0.4.0: sign-in lockout
    ErrorCode{"ACCOUNT_LOCKED", "PA429", 429, "Too many failed sign-in attempts. Try again later."},
    // 0.4.0: vault
    ErrorCode{"INVALID_VAULT_NAME", "PA400", 400,
              "Invalid key name: a letter, then up to 63 letters, digits, '_', '.' or '-'"},
    ErrorCode{"VAULT_VALUE_TOO_LARGE", "PA413", 413, "The key value is too large"},
    ErrorCode{"VAULT_FULL", "PA400", 400, "Too many keys: delete one first"},
    ErrorCode{"VAULT_VALUE_UNREADABLE", "PA500", 500,
              "A stored key does not open: it was altered or sealed under another key-encryption key"},
    // 0.4.0: API keys (Better-Auth apiKey plugin codes and messages)
    ErrorCode{"INVALID_API_KEY", "PA401", 401, "Invalid API key."},
    ErrorCode{"KEY_NOT_FOUND", "PA404", 404, "API Key not found"},
    ErrorCode{"KEY_DISABLED", "PA401", 401, "API Key is disabled"},
    ErrorCode{"KEY_EXPIRED", "PA401", 401, "API Key has expired"},
    ErrorCode{"USAGE_EXCEEDED", "PA429", 429, "API Key has reached its usage limit"},
    ErrorCode{"UNAUTHORIZED_SESSION", "PA401", 401, "Unauthorized or invalid session"},
    ErrorCode{"INVALID_NAME_LENGTH", "PA400", 400, "The name length is either too large or too small."},
    ErrorCode{"INVALID_PREFIX_LENGTH", "PA400", 400, "The prefix length is either too large or too small."},
    ErrorCode{"INVALID_METADATA_TYPE", "PA400", 400, "metadata must be an object or undefined"},
    ErrorCode{"INVALID_REMAINING", "PA400", 400, "The remaining count is either too large or too small."},
    ErrorCode{"REFILL_AMOUNT_AND_INTERVAL_REQUIRED", "PA400", 400,
              "refillAmount is required when refillInterval is provided"},
    ErrorCode{"REFILL_INTERVAL_AND_AMOUNT_REQUIRED", "PA400", 400,
              "refillInterval is required when refillAmount is provided"},
    ErrorCode{"EXPIRES_IN_IS_TOO_SMALL", "PA400", 400, "The expiresIn is smaller than the predefined minimum value."},
    ErrorCode{"EXPIRES_IN_IS_TOO_LARGE", "PA400", 400, "The expiresIn is larger than the predefined maximum value."},
    ErrorCode{"NO_VALUES_TO_UPDATE", "PA400", 400, "No values to update."},
    // 0.5.0: API keys, compiled
    ErrorCode{"API_KEY_NOT_ALLOWED", "PA403", 403,
              "An API key cannot do this: it needs a signed-in session"},
    ErrorCode{"TOO_MANY_API_KEYS", "PA400", 400,
              "Too many API keys: delete one first (pgauth.api_key_max_per_user)"},
    // 0.5.0: email flows and the outbox (Better-Auth's codes where it has one)
    ErrorCode{"EMAIL_NOT_VERIFIED", "PA403", 403, "Email not verified"},
    ErrorCode{"TOKEN_EXPIRED", "PA401", 401, "Token expired"},
    ErrorCode{"INVALID_OTP", "PA400", 400, "Invalid OTP"},
    ErrorCode{"OTP_EXPIRED", "PA400", 400, "OTP expired"},
    ErrorCode{"TOO_MANY_ATTEMPTS", "PA403", 403, "Too many attempts"},
    ErrorCode{"OUTBOX_NOT_CLAIMED", "PA409", 409, "This outbox row is not claimed by this worker"},
    // 0.5.0: social accounts (Better-Auth's codes and messages where it has them)
    ErrorCode{"INVALID_STATE", "PA400", 400, "Invalid or already used state. Please restart the process."},
    ErrorCode{"STATE_MISMATCH", "PA400", 400, "State mismatch: the flow was started in another browser"},
    ErrorCode{"STATE_EXPIRED", "PA400", 400, "The sign-in flow has expired. Please restart the process."},
    ErrorCode{"ACCOUNT_NOT_LINKED", "PA401", 401,
              "Account not linked: sign in with your existing method and link this provider from your account"},
    ErrorCode{"SOCIAL_ACCOUNT_ALREADY_LINKED", "PA409", 409, "Social account already linked to another user"},
    ErrorCode{"USER_EMAIL_NOT_FOUND", "PA401", 401, "User email not found"},
    ErrorCode{"SIGNUP_DISABLED", "PA403", 403, "Sign up is disabled"},
    ErrorCode{"ACCOUNT_NOT_FOUND", "PA400", 400, "Account not found"},
    ErrorCode{"FAILED_TO_UNLINK_LAST_ACCOUNT", "PA400", 400, "You can't unlink your last account"},
    ErrorCode{"SOCIAL_TOKEN_UNREADABLE", "PA500", 500,
              "A stored provider token does not open: it was altered or sealed under another key-encryption key"},
    // 0.5.0: social sign-in, answered by pgauth-http (issue 15; Better-Auth's codes and messages)
    ErrorCode{"PROVIDER_NOT_FOUND", "PA404", 404, "Provider not found"},
    ErrorCode{"ID_TOKEN_NOT_SUPPORTED", "PA404", 404, "id_token not supported"},
    ErrorCode{"FAILED_TO_GET_ACCESS_TOKEN", "PA400", 400, "Failed to get a valid access token"},
    ErrorCode{"FAILED_TO_REFRESH_ACCESS_TOKEN", "PA400", 400, "Failed to refresh access token"},
    ErrorCode{"REFRESH_TOKEN_NOT_FOUND", "PA400", 400, "Refresh token not found"},
    ErrorCode{"ACCESS_TOKEN_NOT_FOUND", "PA400", 400, "Access token not found"},
    ErrorCode{"FAILED_TO_GET_USER_INFO", "PA401", 401, "Failed to get user info"},
    ErrorCode{"OAUTH_PROVIDER_UNAVAILABLE", "PA502", 502, "The identity provider is unavailable. Try again later."},
    // 0.5.0: OAuth clients (issue 13). OAUTH_<ERROR> carries the RFC error value lower(<ERROR>);
    // the raised message is its error_description.
    ErrorCode{"OAUTH_INVALID_REDIRECT_URI", "PA400", 400, "The value of one or more redirection URIs is invalid"},
    ErrorCode{"OAUTH_INVALID_CLIENT_METADATA", "PA400", 400, "The value of one of the client metadata fields is invalid"},
    ErrorCode{"OAUTH_INVALID_TOKEN", "PA401", 401, "The access token is invalid"},
    ErrorCode{"OAUTH_ACCESS_DENIED", "PA403", 403, "Access denied"},
    // 0.5.0: account security (issue 16): two-factor, admin, multi-session (Better-Auth's codes and messages)
    ErrorCode{"BANNED_USER", "PA403", 403,
              "You have been banned from this application. Please contact support if you believe this is an error."},
    ErrorCode{"TWO_FACTOR_REQUIRED", "PA403", 403, "Two-factor authentication is required: sign in with email and password"},
    ErrorCode{"TWO_FACTOR_NOT_ENABLED", "PA400", 400, "Two factor isn't enabled"},
    ErrorCode{"INVALID_CODE", "PA401", 401, "Invalid code"},
    ErrorCode{"INVALID_BACKUP_CODE", "PA401", 401, "Invalid backup code"},
    ErrorCode{"INVALID_TWO_FACTOR_COOKIE", "PA401", 401, "Invalid two factor cookie"},
    ErrorCode{"TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "PA400", 400, "Too many attempts. Please request a new code."},
    ErrorCode{"YOU_CANNOT_BAN_YOURSELF", "PA400", 400, "You cannot ban yourself"},
    ErrorCode{"YOU_CANNOT_REMOVE_YOURSELF", "PA400", 400, "You cannot remove yourself"},
    ErrorCode{"YOU_CANNOT_IMPERSONATE_ADMINS", "PA403", 403, "You cannot impersonate admins"},
    ErrorCode{"FAILED_TO_FIND_ADMIN_SESSION", "PA400", 400, "Failed to find admin session"},
    ErrorCode{"INVALID_SESSION_TOKEN", "PA401", 401, "Invalid session token"},
    // 0.5.0: organizations (issue 17; Better-Auth's organization plugin codes and messages)
    ErrorCode{"ORGANIZATION_ALREADY_EXISTS", "PA400", 400, "Organization already exists"},
    ErrorCode{"ORGANIZATION_SLUG_ALREADY_TAKEN", "PA400", 400, "Organization slug already taken"},
    ErrorCode{"ORGANIZATION_NOT_FOUND", "PA400", 400, "Organization not found"},
    ErrorCode{"NO_ACTIVE_ORGANIZATION", "PA400", 400, "No active organization"},
    ErrorCode{"YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", "PA403", 403, "You are not a member of this organization"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION", "PA403", 403,
              "You are not allowed to update this organization"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION", "PA403", 403,
              "You are not allowed to delete this organization"},
    ErrorCode{"YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS", "PA403", 403,
              "You have reached the maximum number of organizations"},
    ErrorCode{"USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", "PA400", 400,
              "User is already a member of this organization"},
    ErrorCode{"USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", "PA400", 400, "User is not a member of the organization"},
    ErrorCode{"MEMBER_NOT_FOUND", "PA400", 400, "Member not found"},
    ErrorCode{"ROLE_NOT_FOUND", "PA400", 400, "Role not found"},
    ErrorCode{"ROLE_ALREADY_EXISTS", "PA400", 400, "Role already exists"},
    ErrorCode{"ROLE_IS_ASSIGNED_TO_MEMBERS", "PA400", 400, "Role is assigned to members or pending invitations"},
    ErrorCode{"YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "PA400", 400,
              "You cannot leave the organization as the only owner"},
    ErrorCode{"YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER", "PA400", 400,
              "You cannot leave the organization without an owner"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_ADD_A_MEMBER", "PA403", 403, "You are not allowed to add a member"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER", "PA403", 403, "You are not allowed to delete this member"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "PA403", 403, "You are not allowed to update this member"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION", "PA403", 403,
              "You are not allowed to invite users to this organization"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE", "PA403", 403,
              "You are not allowed to invite user with this role"},
    ErrorCode{"USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION", "PA400", 400,
              "User is already invited to this organization"},
    ErrorCode{"INVITATION_NOT_FOUND", "PA400", 400, "Invitation not found"},
    ErrorCode{"YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "PA403", 403,
              "You are not the recipient of the invitation"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION", "PA403", 403,
              "You are not allowed to cancel this invitation"},
    ErrorCode{"INVITATION_LIMIT_REACHED", "PA403", 403, "Invitation limit reached"},
    ErrorCode{"ORGANIZATION_MEMBERSHIP_LIMIT_REACHED", "PA403", 403, "Organization membership limit reached"},
    ErrorCode{"TEAM_NOT_FOUND", "PA400", 400, "Team not found"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM", "PA403", 403, "You are not allowed to create a new team"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM", "PA403", 403, "You are not allowed to update this team"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM", "PA403", 403, "You are not allowed to delete this team"},
    ErrorCode{"USER_IS_NOT_A_MEMBER_OF_THE_TEAM", "PA400", 400, "User is not a member of the team"},
    ErrorCode{"YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM", "PA400", 400, "You do not have an active team"},
    ErrorCode{"YOU_CAN_NOT_ACCESS_THE_MEMBERS_OF_THIS_TEAM", "PA403", 403,
              "You are not allowed to list the members of this team"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER", "PA403", 403,
              "You are not allowed to create a new member"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER", "PA403", 403,
              "You are not allowed to remove a team member"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE", "PA403", 403, "You are not allowed to create a role"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_LIST_ROLES", "PA403", 403, "You are not allowed to list roles"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE", "PA403", 403, "You are not allowed to update a role"},
    ErrorCode{"YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE", "PA403", 403, "You are not allowed to delete a role"},
    // 0.6.0: organizations (issue 17): Better-Auth's dynamic access control and teams options, and the
    // last-owner rule on deleting a user
    ErrorCode{"INVALID_RESOURCE", "PA400", 400, "The provided permission includes an invalid resource"},
    ErrorCode{"TEAM_MEMBER_LIMIT_REACHED", "PA403", 403, "Team member limit reached"},
    ErrorCode{"UNABLE_TO_REMOVE_LAST_TEAM", "PA400", 400, "Unable to remove last team"},
    ErrorCode{"USER_IS_THE_ONLY_OWNER_OF_AN_ORGANIZATION", "PA400", 400,
              "The user is the only owner of an organization that has other members: transfer its ownership or "
              "delete it first"},
    // 0.5.0: OAuth provider (issue 13): authorization, token, userinfo, introspection, revocation
    ErrorCode{"OAUTH_INVALID_REQUEST", "PA400", 400, "The request is missing a parameter or is otherwise malformed"},
    ErrorCode{"OAUTH_INVALID_CLIENT", "PA401", 401, "Client authentication failed"},
    ErrorCode{"OAUTH_INVALID_GRANT", "PA400", 400, "The authorization grant or refresh token is invalid"},
    ErrorCode{"OAUTH_UNAUTHORIZED_CLIENT", "PA400", 400, "The client is not authorized to use this grant type"},
    ErrorCode{"OAUTH_UNSUPPORTED_GRANT_TYPE", "PA400", 400, "The grant type is not supported"},
    ErrorCode{"OAUTH_INVALID_SCOPE", "PA400", 400, "The requested scope is invalid or exceeds what was granted"},
    ErrorCode{"OAUTH_INVALID_TARGET", "PA400", 400, "The requested resource is invalid"},
    ErrorCode{"OAUTH_INSUFFICIENT_SCOPE", "PA403", 403, "The access token does not have the required scope"},
    // 0.6.0: OAuth provider (issue 13): private_key_jwt for a client registered with a jwks_uri.
    // Not an RFC error: it asks pgauth-http to fetch the URL named by the HINT ("jwks_uri: <url>"),
    // store it (auth.oauth_client_jwks_store) and try again; pgauth-http answers invalid_client
    // when it comes back after that.
    ErrorCode{"OAUTH_JWKS_FETCH_REQUIRED", "PA401", 401, "The client's JWK Set must be fetched from its jwks_uri"},
};

}  // namespace

std::span<const ErrorCode> error_catalog() noexcept { return catalog; }

const ErrorCode* find_error(std::string_view code) noexcept {
    for (const ErrorCode& e : catalog)
        if (e.code == code) return &e;
    return nullptr;
}

}  // namespace pgauth
