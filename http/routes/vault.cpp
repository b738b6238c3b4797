// The user's vault of third-party API keys: GET /api/user/api-keys lists them
// masked, POST /api/user/api-keys {name: "value" | null, ...} sets, replaces or
// deletes them (all or nothing). Write-only over HTTP: the extension answers both
// with the masked list, and the plaintext is readable only through auth.vault_read
// by the pgauth_vault role (docs/keys.md).
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;

namespace {

// vault_list/vault_set answer NULL when the token names no live session.
Response body_or_401(const pqxx::result& r) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

Response list(Context& ctx, const Request& req) {
    return body_or_401(ctx.exec("vault_list", ctx.require_session(req)));
}

// The body is the JSON object itself, passed to the extension whole: it checks the
// names, the values and the limits, and writes all entries or none.
Response set(Context& ctx, const Request& req) {
    const auto& body = req.json();
    require_no_nul(body);
    std::string token = ctx.require_session(req);
    return body_or_401(ctx.exec("vault_set", token, body.dump()));
}

}  // namespace

void register_vault_routes(Server& server) {
    server.route(Method::Get, "/api/user/api-keys", "vault-list", list);
    server.route(Method::Post, "/api/user/api-keys", "vault-set", set);
}

}  // namespace pgauth::http
