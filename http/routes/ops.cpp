// Operational endpoints: GET /api/auth/ok, GET /health, GET /metrics.
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

// 200 while the database answers: {"status":"ok","database":"ok","signing_key":"ok"}, or
// "degraded" with the key problem named (get-session still works; JWTs do not);
// 503 when the database does not answer, with why.
Response health(Context& ctx, const Request&) {
    pqxx::result r;
    try {
        r = ctx.exec("health");
    } catch (const DatabaseUnavailable& e) {
        // "timeout", "busy" or "unreachable: <libpq's reason>"; never the URL or a user name
        return Response::json(
            {{"status", "unavailable"}, {"database", e.reason()}, {"code", e.code()}, {"message", e.what()}}, 503);
    }
    std::string key = r.at(0)["status"].c_str();
    if (key != "ok" && !r[0]["reason"].is_null()) key += std::string(": ") + r[0]["reason"].c_str();
    return Response::json({{"status", key == "ok" ? "ok" : "degraded"}, {"database", "ok"}, {"signing_key", key}});
}

Response metrics(Context& ctx, const Request& req) {
    switch (metrics_access(ctx.config().metrics_token, req.header("Authorization"), req.ip())) {
        case MetricsAccess::allowed: break;
        case MetricsAccess::unauthorized: {
            Response res = Response::error(errors::make("UNAUTHORIZED", "/metrics needs Authorization: Bearer <metrics token>"));
            res.header("WWW-Authenticate", "Bearer");
            return res;
        }
        case MetricsAccess::forbidden:
            throw errors::make("FORBIDDEN", "/metrics answers loopback clients only unless a metrics token is configured");
    }
    Response res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = ctx.metrics().render(ctx.pool().size(), ctx.pool().in_use());
    const auto& cfg = ctx.config();
    res.body += ctx.mail_stats().render(
        mail::transport_name(mail::transport_of(mail::Settings{cfg.smtp_url, cfg.email_from, cfg.email_webhook_url, {}})),
        cfg.email_workers > 0);
    return res;
}

}  // namespace

void register_ops_routes(Server& server) {
    // ok and metrics never touch the database: they answer inline, even while it hangs.
    server.route(Method::Get, "/api/auth/ok", "ok", [](Context&, const Request&) {
        return Response::json({{"ok", true}});
    }, RouteKind::no_database);
    server.route(Method::Get, "/health", "health", health);
    server.route(Method::Get, "/metrics", "metrics", metrics, RouteKind::no_database);
}

void register_routes(Server& server) {
    register_ops_routes(server);
    register_auth_routes(server);
    register_session_routes(server);
    register_user_routes(server);
    register_token_routes(server);
    register_wallet_routes(server);
    register_vault_routes(server);
    register_api_key_routes(server);
    register_email_routes(server);
    register_social_routes(server);
    register_oauth_client_routes(server);
    register_organization_routes(server);
    register_two_factor_routes(server);
    register_admin_routes(server);
    register_multi_session_routes(server);
    register_oauth_provider_routes(server);
    register_page_routes(server);
    register_mcp_routes(server);
}

}  // namespace pgauth::http
