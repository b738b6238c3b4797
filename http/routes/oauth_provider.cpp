// The OAuth 2.1 / OpenID Connect provider (issue 13): authorize, consent, continue,
// token, userinfo, introspect, revoke, end-session and discovery, at Better-Auth's
// paths. Each handler parses the request (oauth_params.hpp: form and query parsing,
// client credentials, Bearer tokens), makes one SQL call (auth.oauth_*) and maps the
// answer; the extension holds every rule. A URL client_id at the authorization
// endpoint is looked up first (its Client ID Metadata Document fetched when needed,
// routes/oauth_clients.cpp). Errors are {"error","error_description"} with
// Cache-Control: no-store (oauth_errors.hpp).
#include <algorithm>
#include <chrono>
#include <ctime>

#include "core/crypto.hpp"
#include "oauth_errors.hpp"
#include "oauth_params.hpp"
#include "request_fields.hpp"
#include "routes/oauth_shared.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "integrations/oauth/fetch.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;
namespace op = oauth_params;

namespace {

const std::string base = "/api/auth";
constexpr long page_query_lifetime_s = 600;  // a signed page query is good for 10 minutes (the consent code's life)

Response no_store(Response res) {
    res.header("Cache-Control", "no-store");
    res.header("Pragma", "no-cache");
    return res;
}

std::string body_text(const pqxx::result& r) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("INTERNAL_ERROR");
    return r[0]["body"].c_str();
}

json body_json(const pqxx::result& r) {
    auto parsed = json::parse(body_text(r), nullptr, false);
    if (!parsed.is_object()) throw errors::make("INTERNAL_ERROR");
    return parsed;
}

std::string string_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

bool is_post(const Request& req) { return req.raw().method() == Method::Post; }

// The Accept header as a list of media types (Pistache parses Accept into a typed header
// whose text form is not kept).
std::optional<std::string> accept_of(const Request& req) {
    if (auto typed = req.raw().headers().tryGet<Pistache::Http::Header::Accept>()) {
        std::string out;
        for (const auto& media : typed->media()) out += (out.empty() ? "" : ", ") + media.toString();
        return out;
    }
    return req.header("Accept");
}

bool wants_json(const Request& req) { return op::wants_json(req.header("Sec-Fetch-Mode"), accept_of(req)); }

// A browser asking for a page (Accept names text/html) and not a fetch.
bool wants_html(const Request& req) {
    auto accept = accept_of(req);
    return !wants_json(req) && accept && accept->find("text/html") != std::string::npos;
}

// Where the browser goes next: a 302 for a navigation, {"redirect": true, "url"} for a
// fetch (Better-Auth's client), as Better-Auth answers.
Response go_to(const Request& req, const std::string& url, bool force_json = false) {
    if (force_json || wants_json(req)) return no_store(Response::json({{"redirect", true}, {"url", url}}));
    Response res{302, "", {}};
    res.header("Location", url);
    return no_store(std::move(res));
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// An error the user must see (a bad client or redirect URI: never redirected there):
// JSON for a fetch or a client that asks for JSON, else a small HTML page.
Response show_error(const Request& req, int status, const std::string& error, const std::string& description) {
    if (!wants_html(req)) {
        Response res{status, json{{"error", error}, {"error_description", description}}.dump(-1, ' ', false, json::error_handler_t::replace), {}};
        return no_store(std::move(res));
    }
    Response res{status,
                 "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Authorization error</title></head>"
                 "<body><main><h1>Authorization error</h1><p role=\"alert\"><strong>" +
                     html_escape(error) + "</strong>: " + html_escape(description) +
                     "</p><p>The application that sent you here made a request this server cannot accept. "
                     "Return to the application and try again.</p></main></body></html>",
                 {}};
    res.content_type = "text/html; charset=utf-8";
    res.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.header("X-Frame-Options", "DENY");
    res.header("Referrer-Policy", "no-referrer");
    return no_store(std::move(res));
}

// ---------------------------------------------------------------- signed page queries

// The query a sign-in or consent page receives: the parameters form-encoded (resource
// repeated), exp, one ba_param per signed parameter name, and sig = HMAC-SHA256 under
// PGAUTH_SECRET of the canonical form of every other pair (sorted by name, then value),
// so the order in which a page sends it back does not matter. This is Better-Auth's
// convention: its client (oauthProviderClient) forwards the pairs named by ba_param and
// sig as oauth_query. The extension checks every parameter again when the query comes back.
using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string sign_pairs(const Context& ctx, Pairs pairs) {
    std::sort(pairs.begin(), pairs.end());
    std::string message = "pgauth.oauth_query:" + oauth::form_encode(pairs);
    return base64url_encode(hmac_sha256(as_bytes(ctx.config().secret), as_bytes(message)));
}

std::string signed_query(const Context& ctx, const json& params) {
    Pairs fields;
    for (auto it = params.begin(); it != params.end(); ++it) {
        if (it->is_string()) fields.emplace_back(it.key(), it->get<std::string>());
        else if (it->is_array())
            for (const auto& v : *it)
                if (v.is_string()) fields.emplace_back(it.key(), v.get<std::string>());
    }
    long exp = static_cast<long>(std::time(nullptr)) + page_query_lifetime_s;
    fields.emplace_back("exp", std::to_string(exp));
    std::vector<std::string> names{"ba_param"};
    for (const auto& [k, v] : fields)
        if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) fields.emplace_back("ba_param", n);
    std::string sig = sign_pairs(ctx, fields);
    return oauth::form_encode(fields) + "&sig=" + sig;
}

// True when a query carries a sig pair: a page's signed query coming back.
bool is_signed(std::string_view query) {
    return query.starts_with("sig=") || query.find("&sig=") != std::string_view::npos;
}

// The authorization request's answer (auth.oauth_authorize) as where to go next.
struct Next {
    std::optional<std::string> url;  // redirect here
    std::string error, description;  // else: an error to show
};

Next next_step(const Context& ctx, const json& answer) {
    std::string action = string_at(answer, "action");
    if (action == "redirect") return {string_at(answer, "url"), {}, {}};
    if (action == "login") {
        auto query = answer.contains("login_query") ? answer["login_query"] : json::object();
        return {ctx.config().login_page + "?" + signed_query(ctx, query), {}, {}};
    }
    if (action == "consent") {
        const json consent = answer.contains("consent") ? answer["consent"] : json::object();
        json query = json::object();
        for (const char* key : {"consent_code", "client_id"})
            if (auto v = string_at(consent, key); !v.empty()) query[key] = v;
        std::string scope;
        if (consent.contains("scopes") && consent["scopes"].is_array())
            for (const auto& s : consent["scopes"])
                if (s.is_string()) scope += (scope.empty() ? "" : " ") + s.get<std::string>();
        if (!scope.empty()) query["scope"] = scope;
        // the resources (RFC 8707), so that the page shows which API the token is for
        if (consent.contains("resources") && consent["resources"].is_array()) {
            json resources = json::array();
            for (const auto& r : consent["resources"])
                if (r.is_string()) resources.push_back(r);
            if (!resources.empty()) query["resource"] = std::move(resources);
        }
        return {ctx.config().consent_page + "?" + signed_query(ctx, query), {}, {}};
    }
    std::string error = string_at(answer, "error");
    return {std::nullopt, error.empty() ? "invalid_request" : error, string_at(answer, "error_description")};
}

// Runs auth.oauth_authorize, looking a URL client_id up first.
json run_authorize(Context& ctx, const Request& req, const std::optional<std::string>& session, const json& params) {
    std::string client_id = string_at(params, "client_id");
    if (is_url_client_id(client_id)) {
        try {
            oauth_client_lookup(ctx, client_id);
        } catch (const ApiError& e) {
            if (e.status() >= 500) throw;
            return json{{"action", "error"}, {"error", "invalid_client"}, {"error_description", e.what()}};
        }
    }
    return body_json(ctx.exec("oauth_authorize", session, params.dump(), client_ip(req), req.user_agent()));
}

// ---------------------------------------------------------------- handlers

// GET|POST /oauth2/authorize (POST: a form, OIDC Core 3.1.2.1).
Response authorize(Context& ctx, const Request& req) {
    const std::string text = is_post(req) ? req.body() : req.query_string();
    // A page's signed query sent back here (e.g. by a sign-in form after signing in) is
    // checked as such; anything else is a client's request.
    json params = is_signed(text) ? verify_oauth_query(ctx, text) : op::parse(text);
    auto next = next_step(ctx, run_authorize(ctx, req, ctx.session_token(req), params));
    if (next.url) return go_to(req, *next.url);
    return show_error(req, 400, next.error, next.description);
}

// The consent code of a consent call: the body's consent_code, or the one in oauth_query
// (the consent page's query, which Better-Auth's client sends).
std::string consent_code_of(const Context& ctx, const json& body) {
    if (auto code = text_field(body, "consent_code", false); code && !code->empty()) return *code;
    auto query = text_field(body, "oauth_query", false);
    if (!query || query->empty()) throw op::invalid_request("consent_code (or oauth_query) is required");
    json params = verify_oauth_query(ctx, *query);
    std::string code = string_at(params, "consent_code");
    if (code.empty()) throw op::invalid_request("the oauth_query names no consent request");
    return code;
}

// POST /oauth2/consent {accept, consent_code | oauth_query, scope?} with the session
// cookie: {"redirect": true, "url"} to the client (a code, or error=access_denied).
Response consent(Context& ctx, const Request& req) {
    const json& body = req.json();
    require_no_nul(body);
    auto accept = body.find("accept");
    if (accept == body.end() || !accept->is_boolean()) throw op::invalid_request("accept must be true or false");
    std::string code = consent_code_of(ctx, body);
    auto scope = text_field(body, "scope", false);
    if (scope && scope->empty()) scope.reset();
    std::string session = ctx.require_session(req);
    auto answer = body_json(ctx.exec("oauth_consent", session, code, accept->get<bool>(), scope));
    return go_to(req, string_at(answer, "url"), /*force_json=*/true);
}

// POST /oauth2/continue {postLogin | selected: true, oauth_query} with the session
// cookie: the authorization request again, now with the session.
Response continue_flow(Context& ctx, const Request& req) {
    const json& body = req.json();
    require_no_nul(body);
    bool post_login = body.value("postLogin", json(false)) == json(true);
    bool selected = body.value("selected", json(false)) == json(true);
    if (!post_login && !selected) throw op::invalid_request("postLogin or selected must be true");
    auto query = text_field(body, "oauth_query", false);
    if (!query || query->empty()) throw op::invalid_request("oauth_query is required");
    json params = verify_oauth_query(ctx, *query);
    std::string url = continue_authorization(ctx, req, ctx.require_session(req), params);
    Response res = go_to(req, url, /*force_json=*/true);
    return res;
}

// The answer for an OAuth error at an endpoint that authenticates clients: a 401
// invalid_client after HTTP Basic carries WWW-Authenticate: Basic (RFC 6749 5.2).
Response client_error(const ApiError& e, bool basic) {
    Response res = oauth_error(e);
    if (e.status() == 401 && oauth_error_value(e.code(), e.status()) == "invalid_client") {
        std::erase_if(res.headers, [](const auto& h) { return iequals(h.first, "WWW-Authenticate"); });
        if (basic) res.header("WWW-Authenticate", "Basic realm=\"pgauth\", charset=\"UTF-8\"");
    }
    return res;
}

// True when the request authenticates its client with HTTP Basic (even a malformed one).
bool uses_basic(const Request& req) {
    auto h = req.header("Authorization");
    return h && istarts_with(*h, "Basic ");
}

// POST /oauth2/token (application/x-www-form-urlencoded).
Response token(Context& ctx, const Request& req) {
    try {
        json params = op::parse(req.body());
        auto auth = op::client_auth(req.header("Authorization"), params);
        Response res;
        res.body = body_text(
            with_client_jwks(ctx, auth.json, [&] { return ctx.exec("oauth_token", params.dump(), auth.json.dump()); }));
        // A code replay or a refresh-token reuse comes back as a value ({"error": ...}), not
        // raised: the revocation it caused has committed. It is still a 400.
        if (res.body.find("\"error\"") != std::string::npos && json::parse(res.body, nullptr, false).contains("error"))
            res.status = 400;
        return no_store(std::move(res));
    } catch (const ApiError& e) {
        return client_error(e, uses_basic(req));
    }
}

// GET|POST /oauth2/userinfo with Authorization: Bearer (or, POST, the access_token form
// parameter, RFC 6750 2.2). Every 401 carries WWW-Authenticate: Bearer.
Response userinfo(Context& ctx, const Request& req) {
    auto access_token = op::bearer_token(req.header("Authorization"));
    if (is_post(req) && !req.body().empty()) {
        json params = op::parse(req.body());
        if (auto form_token = string_at(params, "access_token"); !form_token.empty()) {
            if (access_token) throw op::invalid_request("the access token was sent in more than one way");
            access_token = form_token;
        }
    }
    if (!access_token) throw errors::make("UNAUTHORIZED", "an access token is required (Authorization: Bearer)");
    Response res;
    res.body = body_text(ctx.exec("oauth_userinfo", *access_token));
    return no_store(std::move(res));
}

// The token and its hint of an introspection or revocation request.
struct TokenRequest {
    std::string token;
    std::optional<std::string> hint;
    op::ClientAuth auth;
};

TokenRequest token_request(const Request& req) {
    json params = op::parse(req.body());
    TokenRequest out;
    out.auth = op::client_auth(req.header("Authorization"), params);
    out.token = string_at(params, "token");
    if (out.token.empty()) throw op::invalid_request("token is required");
    if (auto hint = string_at(params, "token_type_hint"); !hint.empty()) out.hint = hint;
    return out;
}

// POST /oauth2/introspect (RFC 7662).
Response introspect(Context& ctx, const Request& req) {
    try {
        auto t = token_request(req);
        Response res;
        res.body = body_text(with_client_jwks(
            ctx, t.auth.json, [&] { return ctx.exec("oauth_introspect", t.token, t.hint, t.auth.json.dump()); }));
        return no_store(std::move(res));
    } catch (const ApiError& e) {
        return client_error(e, uses_basic(req));
    }
}

// POST /oauth2/revoke (RFC 7009): 200 with an empty body, for unknown tokens too.
Response revoke(Context& ctx, const Request& req) {
    try {
        auto t = token_request(req);
        with_client_jwks(ctx, t.auth.json, [&] { return ctx.exec("oauth_revoke", t.token, t.hint, t.auth.json.dump()); });
        Response res{200, "", {}};
        return no_store(std::move(res));
    } catch (const ApiError& e) {
        return client_error(e, uses_basic(req));
    }
}

// GET|POST /oauth2/end-session (OpenID Connect RP-Initiated Logout 1.0): ends the
// session, then goes to the registered post_logout_redirect_uri or shows that the
// user is signed out.
Response end_session(Context& ctx, const Request& req) {
    json params = op::parse(is_post(req) ? std::string_view(req.body()) : std::string_view(req.query_string()));
    auto answer = body_json(ctx.exec("oauth_end_session", ctx.session_token(req), params.dump()));
    Response res;
    if (auto url = string_at(answer, "url"); !url.empty()) {
        res = go_to(req, url);
    } else if (!wants_html(req)) {
        res = no_store(Response::json({{"success", true}}));
    } else {
        res = Response{200,
                       "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>"
                       "<body><main><h1>You are signed out</h1></main></body></html>",
                       {}};
        res.content_type = "text/html; charset=utf-8";
        res.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        res = no_store(std::move(res));
    }
    clear_session_cookies(ctx, res);
    return res;
}

// ---------------------------------------------------------------- discovery

Response discovery_answer(std::shared_ptr<const std::string> document) {
    Response res;
    res.body = *document;
    res.header("Cache-Control", "public, max-age=60");
    return res;
}

FastPath discovery_from_memory(bool openid) {
    return [openid](Context& ctx, const Request&) -> std::optional<Response> {
        if (auto document = ctx.discovery(openid).peek()) return discovery_answer(std::move(document));
        return std::nullopt;
    };
}

Handler discovery(bool openid) {
    return [openid](Context& ctx, const Request&) -> Response {
        auto document = ctx.discovery(openid).get([&] {
            return body_text(ctx.exec("oauth_discovery", openid ? "openid-configuration" : "oauth-authorization-server"));
        });
        return discovery_answer(std::move(document));
    };
}

}  // namespace

// ---------------------------------------------------------------- shared with sign-in

json verify_oauth_query(const Context& ctx, std::string_view oauth_query) {
    if (!oauth_query.empty() && oauth_query.front() == '?') oauth_query.remove_prefix(1);
    if (oauth_query.size() > 16 * 1024) throw op::invalid_request("oauth_query is too long");
    Pairs pairs;
    std::optional<std::string> sig;
    for (std::size_t start = 0; start <= oauth_query.size();) {
        auto end = oauth_query.find('&', start);
        if (end == std::string_view::npos) end = oauth_query.size();
        std::string_view pair = oauth_query.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto name = op::form_decode(pair.substr(0, eq));
        auto value = op::form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) throw op::invalid_request("oauth_query is malformed");
        if (*name == "sig") {
            if (sig) throw op::invalid_request("oauth_query is malformed");
            sig = std::move(*value);
        } else {
            pairs.emplace_back(std::move(*name), std::move(*value));
        }
    }
    if (!sig) throw op::invalid_request("oauth_query is not a signed authorization request");
    std::string expected = sign_pairs(ctx, pairs);
    if (!equal_ct(as_bytes(*sig), as_bytes(expected))) throw op::invalid_request("oauth_query was altered");
    long exp = -1;
    Pairs request;
    for (auto& [k, v] : pairs) {
        if (k == "exp") {
            try {
                exp = std::stol(v);
            } catch (const std::exception&) {
                throw op::invalid_request("oauth_query was altered");
            }
        } else if (k != "ba_param") {
            request.emplace_back(std::move(k), std::move(v));
        }
    }
    if (exp < static_cast<long>(std::time(nullptr))) throw op::invalid_request("the authorization request has expired: start again");
    // the parameters again under RFC 6749 3.1's rules (a repeat only for resource)
    return op::parse(oauth::form_encode(request));
}

std::string continue_authorization(Context& ctx, const Request& req, const std::string& session_token,
                                   const json& params) {
    auto next = next_step(ctx, run_authorize(ctx, req, session_token, params));
    if (next.url) return *next.url;
    throw op::failure(400, next.error, next.description);
}

void register_oauth_provider_routes(Server& server) {
    const std::string oauth2 = base + "/oauth2";
    const OAuthRouteOptions form{.form = true};
    const OAuthRouteOptions public_form{.form = true, .public_cors = true};
    const OAuthRouteOptions with_session{.origin_check = true};
    server.oauth_route(Method::Get, oauth2 + "/authorize", "oauth2-authorize", authorize);
    server.oauth_route(Method::Post, oauth2 + "/authorize", "oauth2-authorize", authorize, form);
    server.oauth_route(Method::Post, oauth2 + "/consent", "oauth2-consent", consent, with_session);
    server.oauth_route(Method::Post, oauth2 + "/continue", "oauth2-continue", continue_flow, with_session);
    server.oauth_route(Method::Post, oauth2 + "/token", "oauth2-token", token, public_form);
    server.oauth_route(Method::Get, oauth2 + "/userinfo", "oauth2-userinfo", userinfo, public_form);
    server.oauth_route(Method::Post, oauth2 + "/userinfo", "oauth2-userinfo", userinfo, public_form);
    server.oauth_route(Method::Post, oauth2 + "/introspect", "oauth2-introspect", introspect, public_form);
    server.oauth_route(Method::Post, oauth2 + "/revoke", "oauth2-revoke", revoke, public_form);
    server.oauth_route(Method::Get, oauth2 + "/end-session", "oauth2-end-session", end_session);
    server.oauth_route(Method::Post, oauth2 + "/end-session", "oauth2-end-session", end_session, form);
    // Discovery at every place clients look for an issuer with a path (RFC 8414 3.1's
    // path-inserted form, OIDC Discovery's appended form) and at the root.
    for (bool openid : {true, false}) {
        std::string doc = openid ? "/.well-known/openid-configuration" : "/.well-known/oauth-authorization-server";
        for (const std::string& path : {doc, doc + base, base + doc}) {
            server.route(Method::Get, path, openid ? "openid-configuration" : "oauth-authorization-server",
                         discovery_from_memory(openid), discovery(openid));
            server.public_cors(path);
        }
    }
    server.public_cors(base + "/jwks");
}

}  // namespace pgauth::http
