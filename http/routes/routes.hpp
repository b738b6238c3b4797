// The routes by domain. A new route goes in the file of its domain (or a new
// routes/<domain>.cpp with its register_<domain>_routes, called by register_routes).
#pragma once

#include <string>

namespace pgauth::http {

class Server;
class Context;
class Request;
struct Response;

void register_auth_routes(Server& server);     // routes/auth.cpp: sign-up, sign-in, sign-out
void register_session_routes(Server& server);  // routes/sessions.cpp: get-session, list/revoke sessions
void register_user_routes(Server& server);     // routes/user.cpp: update-user, change-password, delete-user, link-para-wallet
void register_token_routes(Server& server);    // routes/tokens.cpp: /token, /jwks (Better-Auth jwt plugin)
void register_wallet_routes(Server& server);   // routes/wallet.cpp: /api/wallet (OASIS)
void register_vault_routes(Server& server);    // routes/vault.cpp: /api/user/api-keys (the user's vault)
void register_api_key_routes(Server& server);  // routes/api_keys.cpp: /api-key/* (Better-Auth apiKey plugin)
void register_email_routes(Server& server);    // routes/email.cpp: verification, reset, change-email, magic link, email OTP
void register_social_routes(Server& server);   // routes/social.cpp: social sign-in and accounts (issue 15)
void register_oauth_client_routes(Server& server);  // routes/oauth_clients.cpp: /oauth2/register (RFC 7591/7592), /oauth2/public-client
void register_organization_routes(Server& server);  // routes/organization.cpp: /organization/* (Better-Auth organization plugin, issue 17)
void register_two_factor_routes(Server& server);     // routes/two_factor.cpp: /two-factor/* (issue 16)
void register_admin_routes(Server& server);          // routes/admin.cpp: /admin/* and /admin/audit-log (issue 16)
void register_multi_session_routes(Server& server);  // routes/multi_session.cpp: /multi-session/* (issue 16)
void register_oauth_provider_routes(Server& server);  // routes/oauth_provider.cpp: /oauth2/authorize, token, userinfo, ..., discovery
void register_page_routes(Server& server);     // routes/pages.cpp: the sign-in and consent pages of the OAuth flow
void register_mcp_routes(Server& server);      // routes/mcp.cpp: /mcp (the reference MCP resource) and RFC 9728 metadata
void register_ops_routes(Server& server);      // routes/ops.cpp: ok, /health, /metrics

// Starts a social sign-in from a page (the sign-in page's provider buttons): the
// provider's authorization URL, with the flow's state cookie added to `res`.
// callback_url and error_callback_url are where the callback sends the browser.
std::string start_social_sign_in(Context& ctx, const Request& req, const std::string& provider,
                                 const std::string& callback_url, const std::string& error_callback_url, Response& res);

// All of the above.
void register_routes(Server& server);

}  // namespace pgauth::http
