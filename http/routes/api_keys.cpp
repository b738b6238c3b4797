// Better-Auth's apiKey plugin endpoints under /api/auth/api-key/: create, get
// (GET ?id=), list, update, delete, and verify. Each handler makes one SQL call;
// the extension checks the body and builds Better-Auth's answer (the key itself
// only in create's, once). Another user's key id is Better-Auth's KEY_NOT_FOUND.
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;

namespace {

// A key id as the query string carries it: ids are UUIDs, so 128 bytes is generous.
constexpr std::size_t max_id_bytes = 128;

// The api_key_* functions answer NULL when the token names no live session.
Response body_or_401(const pqxx::result& r) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

// A POST whose JSON object body the extension reads as jsonb.
Handler with_body(const char* statement) {
    return [statement](Context& ctx, const Request& req) {
        const auto& body = req.json();
        require_no_nul(body);
        std::string token = ctx.require_session(req);
        return body_or_401(ctx.exec(statement, token, body.dump()));
    };
}

Response get(Context& ctx, const Request& req) {
    auto id = query_param(req.raw().query().get("id"), "id", max_id_bytes);
    if (!id || id->empty()) throw errors::make("VALIDATION_ERROR", "id is required");
    std::string token = ctx.require_session(req);
    return body_or_401(ctx.exec("api_key_get", token, *id));
}

Response list(Context& ctx, const Request& req) {
    return body_or_401(ctx.exec("api_key_list", ctx.require_session(req)));
}

// {key, permissions?}: no session needed, the key is the credential. Consumes one use
// of the key, as any request made with it. Always 200: {"valid", "error", "key"}.
Response verify(Context& ctx, const Request& req) {
    const auto& body = req.json();
    require_no_nul(body);
    text_field(body, "key", true);
    auto r = ctx.exec("api_key_verify", body.dump());
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("INTERNAL_ERROR");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

}  // namespace

void register_api_key_routes(Server& server) {
    const std::string base = "/api/auth/api-key";
    server.route(Method::Post, base + "/create", "api-key-create", with_body("api_key_create"));
    server.route(Method::Get, base + "/get", "api-key-get", get);
    server.route(Method::Get, base + "/list", "api-key-list", list);
    server.route(Method::Post, base + "/update", "api-key-update", with_body("api_key_update"));
    server.route(Method::Post, base + "/delete", "api-key-delete", with_body("api_key_delete"));
    server.route(Method::Post, base + "/verify", "api-key-verify", verify);
}

}  // namespace pgauth::http
