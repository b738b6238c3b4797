// Better-Auth's jwt plugin endpoints: GET /token (the session as a JWT) and
// GET /jwks (the public keys, from memory). get-session's set-auth-jwt header
// is added in routes/sessions.cpp. No usable signing key: 503 SIGNING_KEY_UNAVAILABLE.
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;

namespace {

Response token(Context& ctx, const Request& req) {
    auto r = ctx.exec("session_jwt", ctx.require_session(req));
    if (r.empty() || r[0]["token"].is_null()) throw errors::make("UNAUTHORIZED");
    std::string jwt = r[0]["token"].c_str();
    ctx.jwks().saw_token(jwt);
    Response res = Response::json({{"token", jwt}});
    res.header("cache-control", "no-store");
    return res;
}

Response jwks_answer(std::shared_ptr<const std::string> document) {
    Response res;
    res.body = *document;
    // Clients may cache it; a rotated-out key stays published for the grace period (days).
    res.header("cache-control", "public, max-age=60");
    return res;
}

// From memory on Pistache's thread while the copy is fresh: no executor hop.
std::optional<Response> jwks_from_memory(Context& ctx, const Request&) {
    if (auto document = ctx.jwks().peek()) return jwks_answer(std::move(document));
    return std::nullopt;
}

// On the executor: a fetch is due (no copy yet, or a stale one).
Response jwks(Context& ctx, const Request&) {
    auto document = ctx.jwks().get([&] {
        std::string text = ctx.exec("jwks").at(0)["jwks"].c_str();
        // An empty set (no key yet, and none can be created without the key file)
        // verifies nothing: answer 503 rather than publish it, and keep no copy.
        auto parsed = nlohmann::json::parse(text, nullptr, false);
        if (!parsed.is_object() || !parsed.contains("keys") || !parsed["keys"].is_array() || parsed["keys"].empty())
            throw errors::make("SIGNING_KEY_UNAVAILABLE");
        return text;
    });
    return jwks_answer(std::move(document));
}

}  // namespace

void register_token_routes(Server& server) {
    server.route(Method::Get, "/api/auth/token", "token", token);
    server.route(Method::Get, "/api/auth/jwks", "jwks", jwks_from_memory, jwks);
}

}  // namespace pgauth::http
