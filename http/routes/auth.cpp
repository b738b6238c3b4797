// Better-Auth's email and password endpoints: sign-up, sign-in, sign-out.
// Each handler parses, makes one SQL call (the extension builds the body) and
// adds the cookies.
#include <optional>

#include "request_fields.hpp"
#include "routes/oauth_shared.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

// callbackURL, if given, must be a same-site path or on a trusted origin (403 otherwise).
std::optional<std::string> callback_url(Context& ctx, const json& body) {
    auto url = text_field(body, "callbackURL", false);
    if (!url || url->empty()) return std::nullopt;
    if (!ctx.origins().safe_redirect(*url)) throw errors::make("INVALID_CALLBACKURL");
    return url;
}

// The client address recorded with the session, without IPv6 brackets.
std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

// The body, and the session cookies when there is a session (sign-up under
// requireEmailVerification answers {"token":null,...} and opens none).
Response session_answer(Context& ctx, const pqxx::row& row, bool remember_me) {
    Response res;
    res.body = row["body"].c_str();
    if (!row["session_token"].is_null())
        set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), remember_me);
    return res;
}

Response sign_up(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto password = text_field(body, "password", true);
    auto name = text_field(body, "name", true);
    auto image = text_field(body, "image", false);
    auto callback = callback_url(ctx, body);  // also the verification mail's callbackURL
    auto r = ctx.exec("sign_up", *email, *password, *name, image, client_ip(req), req.user_agent(), callback);
    return session_answer(ctx, r.at(0), true);
}

Response sign_in(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto password = text_field(body, "password", true);
    bool remember_me = bool_field(body, "rememberMe", true);
    auto callback = callback_url(ctx, body);
    // Better-Auth's login continuation (OAuth provider): the sign-in page passes the signed
    // authorization request it received; checked before signing in (no database needed).
    auto oauth_query = text_field(body, "oauth_query", false);
    std::optional<json> authorization;
    if (oauth_query && !oauth_query->empty()) authorization = verify_oauth_query(ctx, *oauth_query);
    auto r = ctx.exec("sign_in", *email, *password, remember_me, client_ip(req), req.user_agent(), callback);
    // EMAIL_NOT_VERIFIED (403) comes back as a value: the verification mail it queued has committed.
    if (!r.at(0)["error_code"].is_null()) throw errors::make(r[0]["error_code"].c_str());
    Response res = session_answer(ctx, r.at(0), remember_me);
    if (authorization && !r[0]["session_token"].is_null()) {
        // The second call of this route: the authorization request, now with the session.
        std::string url = continue_authorization(ctx, req, r[0]["session_token"].c_str(), *authorization);
        auto answer = json::parse(res.body, nullptr, false);
        if (!answer.is_object()) answer = json::object();
        answer["redirect"] = true;
        answer["url"] = url;
        res.body = answer.dump();
    }
    return res;
}

Response sign_out(Context& ctx, const Request& req) {
    req.json();  // a body, if any, must still be valid JSON
    auto token = ctx.session_token(req);
    Response res = token ? Response::json({{"success", true}}) : Response::error(errors::make("FAILED_TO_GET_SESSION"));
    if (token) ctx.exec("sign_out", *token);
    clear_session_cookies(ctx, res);
    return res;
}

}  // namespace

void register_auth_routes(Server& server) {
    const std::string base = "/api/auth";
    server.route(Method::Post, base + "/sign-up/email", "sign-up-email", sign_up);
    server.route(Method::Post, base + "/sign-in/email", "sign-in-email", sign_in);
    server.route(Method::Post, base + "/sign-out", "sign-out", sign_out);
}

}  // namespace pgauth::http
