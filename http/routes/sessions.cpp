// Better-Auth's session endpoints: get-session, list-sessions, revoke-session,
// revoke-sessions, revoke-other-sessions. Each handler makes one SQL call; the
// extension builds the bodies.
#include <atomic>
#include <cstdio>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

// get-session answers without set-auth-jwt when no signing key is usable; say so once per process.
void warn_no_jwt_once(const char* reason) {
    static std::atomic<bool> warned{false};
    if (warned.exchange(true)) return;
    std::string line = json{{"level", "warning"},
                            {"msg", "get-session answers without set-auth-jwt: no usable signing key"},
                            {"reason", reason}}
                           .dump(-1, ' ', false, json::error_handler_t::replace);
    std::fprintf(stderr, "%s\n", line.c_str());
}

Response get_session(Context& ctx, const Request& req) {
    Response res;
    res.header("cache-control", "no-store");
    res.header("pragma", "no-cache");
    // A session token, or x-api-key as "apikey:<key>" (Better-Auth's enableSessionForAPIKeys):
    // the extension answers the key's user with a mock session, or raises the key's code.
    auto token = ctx.credential(req);
    pqxx::result r;
    if (token) r = ctx.exec("get_session", *token, true);
    if (r.empty()) {
        res.body = "null";
        return res;
    }
    const auto row = r[0];
    res.body = row["body"].c_str();
    // Better-Auth's jwt plugin: the session as a JWT, readable by scripts.
    if (!row["jwt"].is_null()) {
        std::string jwt = row["jwt"].c_str();
        ctx.jwks().saw_token(jwt);
        res.header("set-auth-jwt", jwt);
        res.header("access-control-expose-headers", "set-auth-jwt");
    } else if (!row["jwt_error"].is_null()) {
        warn_no_jwt_once(row["jwt_error"].c_str());
    }
    // The sliding expiry just extended the session: extend the cookie too (not a Bearer client's).
    if (row["refreshed"].as<bool>() && req.raw().cookies().has(ctx.config().cookie_name()))
        refresh_session_cookie(ctx, res, *token, row["max_age"].as<long>());
    return res;
}

Response list_sessions(Context& ctx, const Request& req) {
    auto r = ctx.exec("list_sessions", ctx.require_session(req));
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.body = r[0]["body"].c_str();
    return res;
}

// As Better-Auth: only the caller's own sessions; any other token is 401. (Better-Auth
// answers 400 for a token that matches no session at all; here both are 401, so the
// answer does not tell whether a token is someone else's session.)
Response revoke_session(Context& ctx, const Request& req) {
    auto target = text_field(req.json(), "token", true);
    auto r = ctx.exec("revoke_session", ctx.require_session(req), *target);
    if (r.empty() || !r[0]["revoked"].as<bool>()) throw errors::make("UNAUTHORIZED");
    return Response::json({{"status", true}});
}

Response revoke_sessions(Context& ctx, const Request& req) {
    req.json();
    if (ctx.exec("revoke_sessions", ctx.require_session(req)).empty()) throw errors::make("UNAUTHORIZED");
    return Response::json({{"status", true}});
}

Response revoke_other_sessions(Context& ctx, const Request& req) {
    req.json();
    if (ctx.exec("revoke_other_sessions", ctx.require_session(req)).empty()) throw errors::make("UNAUTHORIZED");
    return Response::json({{"status", true}});
}

}  // namespace

void register_session_routes(Server& server) {
    const std::string base = "/api/auth";
    server.route(Method::Get, base + "/get-session", "get-session", get_session);
    server.route(Method::Get, base + "/list-sessions", "list-sessions", list_sessions);
    server.route(Method::Post, base + "/revoke-session", "revoke-session", revoke_session);
    server.route(Method::Post, base + "/revoke-sessions", "revoke-sessions", revoke_sessions);
    server.route(Method::Post, base + "/revoke-other-sessions", "revoke-other-sessions", revoke_other_sessions);
}

}  // namespace pgauth::http
