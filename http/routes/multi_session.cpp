// Better-Auth's multiSession plugin endpoints under /api/auth/multi-session/ (issue 16).
// Every signed-in account of a browser has a signed cookie
// better-auth.session_token_multi-<lowercased token> (set by the pipeline next to a new
// session cookie: add_multi_session_cookie); these routes read them, make one SQL call
// over the tokens they hold and switch or drop cookies. Only a token the browser holds
// under its own multi cookie can be listed, made active or revoked.
#include <vector>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

std::vector<std::string> tokens_of(const std::vector<MultiSessionCookie>& held) {
    std::vector<std::string> tokens;
    for (const auto& c : held) tokens.push_back(c.token);
    return tokens;
}

// The held multi cookie named for `session_token`, or 401 INVALID_SESSION_TOKEN.
const MultiSessionCookie& held_cookie(const Context& ctx, const std::vector<MultiSessionCookie>& held,
                                      const std::string& session_token) {
    std::string name = multi_session_cookie_name(ctx, session_token);
    for (const auto& c : held)
        if (c.name == name) return c;
    throw errors::make("INVALID_SESSION_TOKEN");
}

Response list_device_sessions(Context& ctx, const Request& req) {
    auto held = multi_session_cookies(ctx, req);
    Response res;
    res.header("cache-control", "no-store");
    if (held.empty()) {
        res.body = "[]";
        return res;
    }
    auto r = ctx.exec("multi_session_list", text_array(tokens_of(held)));
    res.body = r.empty() || r[0]["body"].is_null() ? "[]" : r[0]["body"].c_str();
    return res;
}

Response set_active(Context& ctx, const Request& req) {
    auto wanted = text_field(req.json(), "sessionToken", true);
    auto held = multi_session_cookies(ctx, req);
    const auto& cookie = held_cookie(ctx, held, *wanted);
    pqxx::result r;
    try {
        r = ctx.exec("multi_session_set_active", text_array(tokens_of(held)), cookie.token);
    } catch (const ApiError& e) {
        if (e.code() != "INVALID_SESSION_TOKEN") throw;
        Response res = Response::error(e);  // a dead session: its cookie goes (as Better-Auth)
        expire_cookie(ctx, res, cookie.name);
        return res;
    }
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("INVALID_SESSION_TOKEN");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    set_session_cookies(ctx, res, cookie.token, r[0]["max_age"].as<long>(), true);
    return res;
}

// Revokes one of the browser's sessions; when it was the active one, the next held
// account becomes active (or, with none left, the session cookies are cleared).
Response revoke(Context& ctx, const Request& req) {
    auto wanted = text_field(req.json(), "sessionToken", true);
    auto current = ctx.session_token(req);
    if (!current) throw errors::make("UNAUTHORIZED");
    auto held = multi_session_cookies(ctx, req);
    const auto& cookie = held_cookie(ctx, held, *wanted);
    std::string revoked = cookie.token;
    Response res = Response{200, "", {}};
    auto r = ctx.exec("multi_session_revoke", text_array(tokens_of(held)), revoked);
    res.body = r.empty() || r[0]["body"].is_null() ? R"({"status":true})" : r[0]["body"].c_str();
    expire_cookie(ctx, res, cookie.name);
    if (revoked != *current) return res;
    for (const auto& c : held)
        if (c.token != revoked) {
            // The cookie's Max-Age: the session's own lifetime is checked by get-session.
            set_session_cookies(ctx, res, c.token, 7L * 24 * 3600, true);
            return res;
        }
    clear_session_cookies(ctx, res);
    return res;
}

}  // namespace

void register_multi_session_routes(Server& server) {
    const std::string base = "/api/auth/multi-session";
    server.route(Method::Get, base + "/list-device-sessions", "multi-session-list-device-sessions", list_device_sessions);
    server.route(Method::Post, base + "/set-active", "multi-session-set-active", set_active);
    server.route(Method::Post, base + "/revoke", "multi-session-revoke", revoke);
}

}  // namespace pgauth::http
