// Better-Auth's admin plugin endpoints under /api/auth/admin/ (issue 16), and GET
// /admin/audit-log. The extension decides who is an admin (a non-admin is 403 FORBIDDEN
// there), builds every body and writes the audit rows; each handler parses, makes one
// SQL call and maps the answer. Impersonation keeps the admin's session in the signed
// admin_session cookie ("<token>:<dont_remember>", as Better-Auth) and restores it on stop.
#include <cmath>
#include <optional>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

constexpr std::size_t max_query_bytes = 1024;

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

// The functions answer NULL when the token names no live session.
Response body_or_401(const pqxx::result& r) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

std::string user_id(const json& body) { return *text_field(body, "userId", true); }

// The query string as a JSON object of strings (each decoded and bounded); the extension
// checks names and values (VALIDATION_ERROR for what it does not know).
std::string query_object(const Request& req) {
    json out = json::object();
    const auto& query = req.raw().query();
    std::size_t count = 0;
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
        if (++count > 32) throw errors::make("VALIDATION_ERROR", "too many query parameters");
        auto key = query_param(it->first, "query parameter name", 64);
        auto value = query_param(it->second, it->first, max_query_bytes);
        if (key && value) out[*key] = *value;
    }
    return out.dump();
}

// Posts whose body is {userId}.
Handler by_user(const char* statement) {
    return [statement](Context& ctx, const Request& req) {
        auto id = user_id(req.json());
        return body_or_401(ctx.exec(statement, ctx.require_session(req), id));
    };
}

// Posts whose whole body the extension reads as jsonb.
Handler with_body(const char* statement) {
    return [statement](Context& ctx, const Request& req) {
        const auto& body = req.json();
        require_no_nul(body);
        return body_or_401(ctx.exec(statement, ctx.require_session(req), body.dump()));
    };
}

Response list_users(Context& ctx, const Request& req) {
    std::string query = query_object(req);
    return body_or_401(ctx.exec("admin_list_users", ctx.require_session(req), query));
}

Response audit_log(Context& ctx, const Request& req) {
    std::string query = query_object(req);
    return body_or_401(ctx.exec("admin_audit_log", ctx.require_session(req), query));
}

Response get_user(Context& ctx, const Request& req) {
    auto id = query_param(req.raw().query().get("id"), "id", 128);
    if (!id || id->empty()) throw errors::make("VALIDATION_ERROR", "id is required");
    return body_or_401(ctx.exec("admin_get_user", ctx.require_session(req), *id));
}

Response update_user(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = user_id(body);
    auto data = body.find("data");
    if (data == body.end() || !data->is_object()) throw errors::make("VALIDATION_ERROR", "data must be an object");
    if (data->empty()) throw errors::make("VALIDATION_ERROR", "No data to update");  // Better-Auth's NO_DATA_TO_UPDATE
    require_no_nul(*data);
    return body_or_401(ctx.exec("admin_update_user", ctx.require_session(req), id, data->dump()));
}

Response set_role(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = user_id(body);
    auto role = body.find("role");
    bool ok = role != body.end() && (role->is_string() || role->is_array());
    if (ok && role->is_array())
        for (const auto& r : *role) ok = ok && r.is_string();
    if (!ok) throw errors::make("VALIDATION_ERROR", "role must be a string or an array of strings");
    require_no_nul(*role);
    return body_or_401(ctx.exec("admin_set_role", ctx.require_session(req), id, role->dump()));
}

Response set_user_password(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = user_id(body);
    auto password = text_field(body, "newPassword", true);
    return body_or_401(ctx.exec("admin_set_user_password", ctx.require_session(req), id, *password));
}

// {userId, banReason?, banExpiresIn? (seconds)}.
Response ban_user(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = user_id(body);
    auto reason = text_field(body, "banReason", false);
    std::optional<long long> expires_in;
    if (auto it = body.find("banExpiresIn"); it != body.end() && !it->is_null()) {
        bool whole = it->is_number_integer() || (it->is_number_float() && std::trunc(it->get<double>()) == it->get<double>());
        double v = it->is_number() ? it->get<double>() : 0;
        if (!whole || v < 1 || v > 100.0 * 365 * 24 * 3600)
            throw errors::make("VALIDATION_ERROR", "banExpiresIn must be a whole number of seconds, at least 1");
        expires_in = static_cast<long long>(v);
    }
    return body_or_401(ctx.exec("admin_ban_user", ctx.require_session(req), id, reason, expires_in));
}

Response revoke_user_session(Context& ctx, const Request& req) {
    auto target = text_field(req.json(), "sessionToken", true);
    return body_or_401(ctx.exec("admin_revoke_user_session", ctx.require_session(req), *target));
}

// The impersonation session replaces the admin's cookie, which waits in admin_session.
Response impersonate_user(Context& ctx, const Request& req) {
    auto id = user_id(req.json());
    auto admin_token = ctx.session_token(req);  // a session, not an API key: it must be restorable
    if (!admin_token) throw errors::make("UNAUTHORIZED");
    auto r = ctx.exec("admin_impersonate_user", *admin_token, id, client_ip(req), req.user_agent());
    if (r.empty() || r[0]["body"].is_null() || r[0]["session_token"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    bool dont_remember = read_signed_cookie(ctx, req, "dont_remember").has_value();
    set_signed_cookie(ctx, res, "admin_session", *admin_token + ":" + (dont_remember ? "true" : ""), std::nullopt);
    // Better-Auth opens the impersonation session as a browser-session cookie (dontRememberMe).
    set_session_cookies(ctx, res, r[0]["session_token"].c_str(), r[0]["max_age"].as<long>(), false);
    return res;
}

Response stop_impersonating(Context& ctx, const Request& req) {
    req.json();
    auto token = ctx.session_token(req);
    if (!token) throw errors::make("UNAUTHORIZED");
    auto saved = read_signed_cookie(ctx, req, "admin_session");
    if (!saved) throw errors::make("FAILED_TO_FIND_ADMIN_SESSION");
    auto colon = saved->find(':');
    std::string admin_token = saved->substr(0, colon);
    bool dont_remember = colon != std::string::npos && saved->substr(colon + 1) == "true";
    auto r = ctx.exec("admin_stop_impersonating", *token, admin_token);
    if (r.empty() || r[0]["body"].is_null() || r[0]["session_token"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    expire_cookie(ctx, res, ctx.config().cookie_name("admin_session"));
    set_session_cookies(ctx, res, r[0]["session_token"].c_str(), r[0]["max_age"].as<long>(), !dont_remember);
    return res;
}

}  // namespace

void register_admin_routes(Server& server) {
    const std::string base = "/api/auth/admin";
    server.route(Method::Post, base + "/create-user", "admin-create-user", with_body("admin_create_user"));
    server.route(Method::Get, base + "/list-users", "admin-list-users", list_users);
    server.route(Method::Get, base + "/get-user", "admin-get-user", get_user);
    server.route(Method::Post, base + "/update-user", "admin-update-user", update_user);
    server.route(Method::Post, base + "/set-role", "admin-set-role", set_role);
    server.route(Method::Post, base + "/set-user-password", "admin-set-user-password", set_user_password);
    server.route(Method::Post, base + "/ban-user", "admin-ban-user", ban_user);
    server.route(Method::Post, base + "/unban-user", "admin-unban-user", by_user("admin_unban_user"));
    server.route(Method::Post, base + "/list-user-sessions", "admin-list-user-sessions", by_user("admin_list_user_sessions"));
    server.route(Method::Post, base + "/revoke-user-session", "admin-revoke-user-session", revoke_user_session);
    server.route(Method::Post, base + "/revoke-user-sessions", "admin-revoke-user-sessions", by_user("admin_revoke_user_sessions"));
    server.route(Method::Post, base + "/impersonate-user", "admin-impersonate-user", impersonate_user);
    server.route(Method::Post, base + "/stop-impersonating", "admin-stop-impersonating", stop_impersonating);
    server.route(Method::Post, base + "/remove-user", "admin-remove-user", by_user("admin_remove_user"));
    server.route(Method::Post, base + "/has-permission", "admin-has-permission", with_body("admin_has_permission"));
    server.route(Method::Get, base + "/audit-log", "admin-audit-log", audit_log);
}

}  // namespace pgauth::http
