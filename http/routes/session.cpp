// Better-Auth 1.7 core endpoints: sign-up/in/out, sessions, users.
// Each handler parses, makes one SQL call and maps the row; no rule lives here.
#include <ctime>

#include "cookies.hpp"
#include "request_fields.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

std::optional<std::string> callback_url(Context& ctx, const json& body) {
    auto url = text_field(body, "callbackURL", false);
    if (url && !url->empty() && !ctx.origins().safe_redirect(*url)) throw ctx.errors().make("INVALID_CALLBACKURL", 403);
    return url;
}

// ---------------------------------------------------------------- row mapping

// "2026-11-23 04:20:48.5+00" (ISO DateStyle, UTC) -> "2026-11-23T04:20:48.500Z"
std::string iso(const pqxx::field& f) {
    std::string t = f.c_str();
    if (t.size() < 19) return t;
    std::string out = t.substr(0, 10) + "T" + t.substr(11, 8) + ".";
    std::string fraction = (t.size() > 19 && t[19] == '.') ? t.substr(20, t.find_first_not_of("0123456789", 20) - 20) : "";
    fraction.resize(3, '0');
    return out + fraction + "Z";
}

json nullable(const pqxx::field& f) { return f.is_null() ? json(nullptr) : json(f.c_str()); }

json user_json(const pqxx::row& r) {
    json user = {{"id", r["user_id"].c_str()},
                 {"email", r["email"].c_str()},
                 {"name", r["name"].c_str()},
                 {"image", nullable(r["image"])},
                 {"emailVerified", r["email_verified"].as<bool>()},
                 {"createdAt", iso(r["user_created_at"])},
                 {"updatedAt", iso(r["user_updated_at"])}};
    return user;
}

json session_user_json(const pqxx::row& r) {
    json user = user_json(r);
    // profile fields of schema 0.2.0+
    for (const char* column : {"role", "para_wallet_id"}) {
        try {
            const auto& f = r[column];
            user[std::string(column) == "role" ? "role" : "paraWalletId"] = nullable(f);
        } catch (const std::exception&) {
        }
    }
    return user;
}

// ---------------------------------------------------------------- cookies

std::string cookie_value(const Context& ctx, std::string_view token) {
    return url_encode(sign_token(token, ctx.config().secret));
}

void set_session_cookies(Context& ctx, Response& res, const std::string& token, long max_age, bool remember_me) {
    const auto& cfg = ctx.config();
    CookieOptions options{remember_me ? std::optional<long>(max_age) : std::nullopt, cfg.secure_cookies()};
    res.header("Set-Cookie", set_cookie(cfg.cookie_name(), cookie_value(ctx, token), options));
    if (!remember_me)
        res.header("Set-Cookie", set_cookie(cfg.cookie_name("dont_remember"), cookie_value(ctx, "true"),
                                            CookieOptions{std::nullopt, cfg.secure_cookies()}));
    res.header("set-auth-token", sign_token(token, cfg.secret));
    res.header("access-control-expose-headers", "set-auth-token");
}

void clear_session_cookies(Context& ctx, Response& res) {
    const auto& cfg = ctx.config();
    for (const char* name : {"session_token", "session_data", "dont_remember"})
        res.header("Set-Cookie", set_cookie(cfg.cookie_name(name), "", CookieOptions{0, cfg.secure_cookies()}));
}

std::string require_token(Context& ctx, const Request& req) {
    auto token = ctx.session_token(req);
    if (!token) throw ctx.errors().make("UNAUTHORIZED", 401);
    return *token;
}

// One statement keyed by the session: zero rows means no (valid) session.
pqxx::row one_or_unauthorized(Context& ctx, const pqxx::result& r) {
    if (r.empty()) throw ctx.errors().make("UNAUTHORIZED", 401);
    return r[0];
}

std::optional<std::string> ip_of(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
    return ip;
}

// ---------------------------------------------------------------- handlers

Response sign_up(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto password = text_field(body, "password", true);
    auto name = text_field(body, "name", true);
    auto image = text_field(body, "image", false);
    callback_url(ctx, body);
    auto r = ctx.exec("sign_up", *email, *password, *name, image, ip_of(req), req.user_agent());
    const auto row = r.at(0);
    std::string token = row["session_token"].c_str();
    Response res = Response::json({{"token", token}, {"user", user_json(row)}});
    set_session_cookies(ctx, res, token, row["max_age"].as<long>(), true);
    return res;
}

Response sign_in(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto password = text_field(body, "password", true);
    bool remember_me = bool_field(body, "rememberMe", true);
    auto callback = callback_url(ctx, body);
    auto r = ctx.exec("sign_in", *email, *password, remember_me, ip_of(req), req.user_agent());
    const auto row = r.at(0);
    std::string token = row["session_token"].c_str();
    json out = {{"redirect", callback.has_value() && !callback->empty()}, {"token", token}, {"user", user_json(row)}};
    if (callback && !callback->empty()) out["url"] = *callback;
    Response res = Response::json(out);
    set_session_cookies(ctx, res, token, row["max_age"].as<long>(), remember_me);
    return res;
}

Response sign_out(Context& ctx, const Request& req) {
    req.json();  // a body, if any, must still be valid JSON
    auto token = ctx.session_token(req);
    if (!token) {
        Response res = Response::json({{"code", "FAILED_TO_GET_SESSION"}, {"message", "Failed to get session"}}, 400);
        clear_session_cookies(ctx, res);
        return res;
    }
    ctx.exec("sign_out", *token);
    Response res = Response::json({{"success", true}});
    clear_session_cookies(ctx, res);
    return res;
}

Response get_session(Context& ctx, const Request& req) {
    Response res;
    res.header("cache-control", "no-store");
    res.header("pragma", "no-cache");
    auto token = ctx.session_token(req);
    pqxx::result r;
    if (token) r = ctx.exec("get_session", *token);
    if (r.empty()) {
        res.body = "null";
        return res;
    }
    const auto row = r[0];
    json session = {{"id", row["session_id"].c_str()},
                    {"token", *token},
                    {"userId", row["user_id"].c_str()},
                    {"expiresAt", iso(row["expires_at"])},
                    {"createdAt", iso(row["session_created_at"])},
                    {"updatedAt", iso(row["session_updated_at"])},
                    {"ipAddress", nullable(row["ip"])},
                    {"userAgent", nullable(row["user_agent"])}};
    res.body = json{{"session", std::move(session)}, {"user", session_user_json(row)}}.dump();
    // Better-Auth's jwt plugin: the session as a JWT, readable by scripts.
    std::string jwt = row["jwt"].c_str();
    ctx.jwks().saw_token(jwt);
    res.header("set-auth-jwt", jwt);
    res.header("access-control-expose-headers", "set-auth-jwt");
    // The session was just extended (sliding expiry): refresh the cookie's lifetime too.
    if (row["refreshed"].as<bool>() && req.raw().cookies().has(ctx.config().cookie_name()))
        res.header("Set-Cookie", set_cookie(ctx.config().cookie_name(), cookie_value(ctx, *token),
                                            CookieOptions{row["max_age"].as<long>(), ctx.config().secure_cookies()}));
    return res;
}

Response list_sessions(Context& ctx, const Request& req) {
    auto token = require_token(ctx, req);
    auto r = ctx.exec("list_sessions", token);
    if (r.empty()) {
        // no row: either no valid session, or (impossible for a valid one) no sessions
        throw ctx.errors().make("UNAUTHORIZED", 401);
    }
    json out = json::array();
    for (const auto& row : r)
        out.push_back({{"id", row["session_id"].c_str()},
                       {"token", row["session_id"].c_str()},  // tokens are not stored; the id revokes it
                       {"userId", row["user_id"].c_str()},
                       {"expiresAt", iso(row["expires_at"])},
                       {"createdAt", iso(row["created_at"])},
                       {"updatedAt", iso(row["updated_at"])},
                       {"ipAddress", nullable(row["ip"])},
                       {"userAgent", nullable(row["user_agent"])}});
    return Response::json(out);
}

Response revoke_session(Context& ctx, const Request& req) {
    auto target = text_field(req.json(), "token", true);
    auto token = require_token(ctx, req);
    one_or_unauthorized(ctx, ctx.exec("revoke_session", token, *target));
    return Response::json({{"status", true}});
}

Response revoke_sessions(Context& ctx, const Request& req) {
    req.json();
    one_or_unauthorized(ctx, ctx.exec("revoke_sessions", require_token(ctx, req)));
    return Response::json({{"status", true}});
}

Response revoke_other_sessions(Context& ctx, const Request& req) {
    req.json();
    one_or_unauthorized(ctx, ctx.exec("revoke_other_sessions", require_token(ctx, req)));
    return Response::json({{"status", true}});
}

Response update_user(Context& ctx, const Request& req) {
    const json& body = req.json();
    if (body.contains("email")) throw ApiError(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated");
    auto name = text_field(body, "name", false);
    auto image = text_field(body, "image", false);
    one_or_unauthorized(ctx, ctx.exec("update_user", require_token(ctx, req), name, image));
    return Response::json({{"status", true}});
}

Response change_password(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto current = text_field(body, "currentPassword", true);
    auto next = text_field(body, "newPassword", true);
    bool revoke_others = bool_field(body, "revokeOtherSessions", false);
    auto token = require_token(ctx, req);
    auto row = one_or_unauthorized(ctx, ctx.exec("change_password", token, *current, *next, revoke_others));
    return Response::json({{"token", revoke_others ? json(token) : json(nullptr)}, {"user", user_json(row)}});
}

Response delete_user(Context& ctx, const Request& req) {
    auto password = text_field(req.json(), "password", true);
    one_or_unauthorized(ctx, ctx.exec("delete_user", require_token(ctx, req), *password));
    Response res = Response::json({{"success", true}, {"message", "User deleted"}});
    clear_session_cookies(ctx, res);
    return res;
}

Response link_para_wallet(Context& ctx, const Request& req) {
    auto wallet = text_field(req.json(), "walletId", true);
    one_or_unauthorized(ctx, ctx.exec("link_para_wallet", require_token(ctx, req), *wallet));
    return Response::json({{"status", true}, {"walletId", *wallet}});
}

}  // namespace

void register_session_routes(Server& server) {
    const std::string base = "/api/auth";
    server.route(Method::Post, base + "/sign-up/email", "sign-up-email", sign_up);
    server.route(Method::Post, base + "/sign-in/email", "sign-in-email", sign_in);
    server.route(Method::Post, base + "/sign-out", "sign-out", sign_out);
    server.route(Method::Get, base + "/get-session", "get-session", get_session);
    server.route(Method::Get, base + "/list-sessions", "list-sessions", list_sessions);
    server.route(Method::Post, base + "/revoke-session", "revoke-session", revoke_session);
    server.route(Method::Post, base + "/revoke-sessions", "revoke-sessions", revoke_sessions);
    server.route(Method::Post, base + "/revoke-other-sessions", "revoke-other-sessions", revoke_other_sessions);
    server.route(Method::Post, base + "/update-user", "update-user", update_user);
    server.route(Method::Post, base + "/change-password", "change-password", change_password);
    server.route(Method::Post, base + "/delete-user", "delete-user", delete_user);
    server.route(Method::Post, base + "/link-para-wallet", "link-para-wallet", link_para_wallet);
}

void register_core_routes(Server& server) {
    // ok and metrics never touch the database: they answer inline, even while it hangs.
    server.route(Method::Get, "/api/auth/ok", "ok", [](Context&, const Request&) {
        return Response::json({{"ok", true}});
    }, RouteKind::no_database);
    server.route(Method::Get, "/health", "health", [](Context& ctx, const Request&) {
        try {
            ctx.exec("health");
        } catch (const DatabaseUnavailable& e) {
            // "timeout", "busy" or "unreachable: <libpq's reason>"; never the URL or a user name
            return Response::json({{"status", "unavailable"},
                                   {"database", e.reason()},
                                   {"code", e.code()},
                                   {"message", e.what()}},
                                  503);
        }
        return Response::json({{"status", "ok"}});
    });
    server.route(Method::Get, "/metrics", "metrics", [](Context& ctx, const Request& req) {
        auto authorization = req.header("Authorization");
        switch (metrics_access(ctx.config().metrics_token, authorization, req.ip())) {
            case MetricsAccess::allowed: break;
            case MetricsAccess::unauthorized: {
                ApiError e = ctx.errors().make("UNAUTHORIZED", 401);
                Response res = Response::json({{"code", e.code()}, {"message", "/metrics needs Authorization: Bearer <metrics token>"}}, 401);
                res.header("WWW-Authenticate", "Bearer");
                return res;
            }
            case MetricsAccess::forbidden:
                throw ApiError(403, "FORBIDDEN", "/metrics answers loopback clients only unless a metrics token is configured");
        }
        Response res;
        res.content_type = "text/plain; version=0.0.4";
        res.body = ctx.metrics().render(ctx.pool().size(), ctx.pool().in_use());
        return res;
    }, RouteKind::no_database);
}

}  // namespace pgauth::http
