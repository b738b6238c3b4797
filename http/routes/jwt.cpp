// Better-Auth jwt plugin endpoints: GET /token (the session as a JWT) and
// GET /jwks (the public keys, from memory). get-session's set-auth-jwt header
// is added in routes/session.cpp.
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;

namespace {

Response token(Context& ctx, const Request& req) {
    auto session = ctx.session_token(req);
    if (!session) throw ctx.errors().make("UNAUTHORIZED", 401);
    auto r = ctx.exec("session_jwt", *session);
    std::string jwt = r.at(0)["token"].c_str();
    ctx.jwks().saw_token(jwt);
    Response res = Response::json({{"token", jwt}});
    res.header("cache-control", "no-store");
    return res;
}

Response jwks(Context& ctx, const Request&) {
    auto document = ctx.jwks().get([&] { return std::string(ctx.exec("jwks").at(0)["jwks"].c_str()); });
    Response res;
    res.body = *document;
    // Clients may cache it; a rotated-out key stays published for the grace period (days).
    res.header("cache-control", "public, max-age=60");
    return res;
}

}  // namespace

void register_jwt_routes(Server& server) {
    server.route(Method::Get, "/api/auth/token", "token", token);
    server.route(Method::Get, "/api/auth/jwks", "jwks", jwks);
}

}  // namespace pgauth::http
