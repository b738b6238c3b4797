// Social sign-in (issue 15), Better-Auth 1.7's paths and bodies: /sign-in/social
// (the redirect flow and the idToken form), /callback/:provider (GET, and POST for
// form_post), /link-social, /list-accounts, /unlink-account, /get-access-token,
// /refresh-token, /account-info.
//
// The OAuth client work (discovery, code exchange, id_token checks, userinfo) is in
// integrations/oauth; every decision about users and accounts is the extension's
// (auth.social_*). A flow is started by one SQL call and finished by two: taking the
// flow (its "used" mark commits even when the rest fails) and signing in.
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "cookies.hpp"
#include "core/error_codes.hpp"
#include "log.hpp"
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;
using oauth::Provider;
using oauth::Rejected;
using oauth::UpstreamError;

namespace {

const std::string base_path = "/api/auth";
constexpr std::size_t max_param_bytes = 4096;  // code, state, iss, error...

// ---------------------------------------------------------------- helpers

// An error query parameter as a code: "access_denied" -> "ACCESS_DENIED" (letters, digits, _; at most 64).
std::string upper_code(std::string_view error) {
    std::string out;
    for (char c : error.substr(0, 64))
        out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
    return out.empty() ? "UNKNOWN_ERROR" : out;
}

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

std::string redirect_uri(const Context& ctx, const Provider& p) {
    return ctx.config().base_url + base_path + "/callback/" + p.id();
}

Provider& provider_named(Context& ctx, const std::optional<std::string>& id) {
    Provider* p = id ? ctx.social().find(*id) : nullptr;
    if (!p) throw errors::make("PROVIDER_NOT_FOUND");
    return *p;
}

ApiError upstream(const Provider& p, const std::exception& e) {
    log::warn("social provider failed", {{"provider", p.id()}, {"reason", e.what()}});
    return errors::make("OAUTH_PROVIDER_UNAVAILABLE", "The identity provider " + p.id() + " is unavailable. Try again later.");
}

// An extension code as Better-Auth's callback error (?error=...).
std::string query_error(std::string_view code) {
    if (code == "INVALID_STATE" || code == "STATE_EXPIRED") return "please_restart_the_process";
    if (code == "USER_EMAIL_NOT_FOUND") return "email_not_found";
    if (code == "SOCIAL_ACCOUNT_ALREADY_LINKED") return "account_already_linked_to_different_user";
    return lower(code);
}

// An error code from the extension as an API answer: the catalog's when it knows it.
ApiError api_error(const std::string& code) {
    if (find_error(code)) return errors::make(code);
    return ApiError(401, code, "Social sign-in failed: " + lower(code));
}

// A redirect target from the body: empty or absent is none; otherwise a same-site
// path or a URL on a trusted origin (403 INVALID_CALLBACKURL naming the field).
std::optional<std::string> checked_url(Context& ctx, const json& body, const char* field) {
    auto url = text_field(body, field, false);
    if (!url || url->empty()) return std::nullopt;
    if (!ctx.origins().safe_redirect(*url)) throw errors::make("INVALID_CALLBACKURL", std::string("Invalid ") + field);
    return url;
}

// `url` with `params` added to its query (before any fragment).
std::string append_query(const std::string& url, const std::vector<std::pair<std::string, std::string>>& params) {
    auto hash = url.find('#');
    std::string head = url.substr(0, hash), tail = hash == std::string::npos ? "" : url.substr(hash);
    std::string sep = head.find('?') == std::string::npos ? "?" : (head.back() == '?' || head.back() == '&' ? "" : "&");
    return head + sep + oauth::form_encode(params) + tail;
}

// A same-site path becomes absolute on the base URL (a Location the browser resolves either way).
Response redirect(const std::string& location) {
    Response res{302, "", {}};
    res.header("Location", location);
    return res;
}

std::string state_cookie_name(const Context& ctx) { return ctx.config().cookie_name("state"); }

void set_state_cookie(const Context& ctx, Response& res, const std::string& binding, long max_age) {
    res.header("Set-Cookie", set_cookie(state_cookie_name(ctx), url_encode(sign_token(binding, ctx.config().secret)),
                                        CookieOptions{max_age, ctx.config().secure_cookies()}));
}

void clear_state_cookie(const Context& ctx, Response& res) {
    res.header("Set-Cookie", set_cookie(state_cookie_name(ctx), "", CookieOptions{0, ctx.config().secure_cookies()}));
}

// The browser binding from the signed state cookie; nullopt when absent, duplicated or tampered.
std::optional<std::string> state_binding(const Context& ctx, const Request& req) {
    auto header = req.header("Cookie");
    if (!header) return std::nullopt;
    auto found = find_unique_cookie(*header, state_cookie_name(ctx));
    if (found.state != CookieLookup::State::one) return std::nullopt;
    auto decoded = url_decode(found.value);
    if (!decoded) return std::nullopt;
    return verify_signed_token(*decoded, ctx.config().secret);
}

std::vector<std::string> scopes_field(const json& body) {
    std::vector<std::string> out;
    auto it = body.find("scopes");
    if (it == body.end() || it->is_null()) return out;
    if (!it->is_array() || it->size() > 32) throw errors::make("VALIDATION_ERROR", "scopes must be an array of strings");
    for (const auto& s : *it) {
        if (!s.is_string() || s.get_ref<const std::string&>().empty() || s.get_ref<const std::string&>().size() > 256 ||
            s.get_ref<const std::string&>().find_first_of(" \t\r\n\"\\") != std::string::npos)
            throw errors::make("VALIDATION_ERROR", "scopes must be an array of scope names");
        out.push_back(s.get<std::string>());
    }
    return out;
}

// The provider's token answer as auth.social_sign_in's p_tokens.
json tokens_for_sql(const json& t) {
    json out = json::object();
    for (const char* k : {"access_token", "refresh_token", "id_token", "scope"})
        if (auto it = t.find(k); it != t.end() && it->is_string()) out[k] = *it;
    for (const char* k : {"expires_in", "refresh_token_expires_in"})
        if (auto it = t.find(k); it != t.end()) {
            if (it->is_number()) out[k] = it->get<long long>();
            else if (it->is_string()) try { out[k] = std::stoll(it->get<std::string>()); } catch (const std::exception&) {}
        }
    return out;
}

// ---------------------------------------------------------------- the redirect flow

// Starts a sign-in or link flow: the flow row, the provider's authorization URL, the binding cookie.
Response start_flow(Context& ctx, const Request& req, const json& body, Provider& p, const char* kind,
                    const std::optional<std::string>& session) {
    auto callback = checked_url(ctx, body, "callbackURL");
    auto error_callback = checked_url(ctx, body, "errorCallbackURL");
    auto new_user_callback = checked_url(ctx, body, "newUserCallbackURL");
    bool disable_redirect = bool_field(body, "disableRedirect", false);
    auto scopes = scopes_field(body);
    auto login_hint = text_field(body, "loginHint", false);
    if (login_hint && login_hint->size() > 256) throw errors::make("VALIDATION_ERROR", "loginHint is too long");
    try {
        p.ensure_ready();  // a provider that is down answers 502 before any flow is stored
    } catch (const UpstreamError& e) {
        throw upstream(p, e);
    }
    std::string fallback = ctx.config().base_url;  // Better-Auth: the base URL when no callbackURL is given
    auto r = ctx.exec("social_flow_start", p.id(), std::string(kind), session, callback.value_or(fallback),
                      error_callback, new_user_callback);
    const auto row = r.at(0);
    std::string url;
    try {
        url = p.authorization_url(redirect_uri(ctx, p), row["state"].c_str(), row["code_challenge"].c_str(),
                                  row["nonce"].is_null() ? "" : row["nonce"].c_str(), scopes, login_hint.value_or(""));
    } catch (const UpstreamError& e) {
        throw upstream(p, e);
    }
    Response res = Response::json({{"url", url}, {"redirect", !disable_redirect}});
    if (!disable_redirect) res.header("Location", url);
    set_state_cookie(ctx, res, row["binding"].c_str(), row["expires_in"].as<long>());
    return res;
}

// POST /sign-in/social with idToken: {token, nonce?, accessToken?, refreshToken?}.
Response sign_in_id_token(Context& ctx, const Request& req, const json& body, Provider& p) {
    const json& id = body["idToken"];
    if (!id.is_object()) throw errors::make("VALIDATION_ERROR", "idToken must be an object");
    auto token = text_field(id, "token", true);
    auto nonce = text_field(id, "nonce", false);
    auto access_token = text_field(id, "accessToken", false);
    auto refresh_token = text_field(id, "refreshToken", false);
    checked_url(ctx, body, "callbackURL");
    if (!p.supports_id_token()) throw errors::make("ID_TOKEN_NOT_SUPPORTED");
    json tokens = {{"id_token", *token}};
    if (access_token) tokens["access_token"] = *access_token;
    if (refresh_token) tokens["refresh_token"] = *refresh_token;
    oauth::Identity who;
    try {
        // The id_token alone speaks for the user: no userinfo call with a token the client chose.
        json claims = p.verify_id_token(*token, nonce);
        who = oauth::Identity{{{"sub", claims.value("sub", "")}}, claims};
        for (const char* k : {"email", "name", "picture"})
            if (auto it = claims.find(k); it != claims.end() && it->is_string()) who.claims[k] = *it;
        auto v = claims.find("email_verified");
        who.claims["email_verified"] = v != claims.end() && ((v->is_boolean() && v->get<bool>()) || *v == "true");
    } catch (const Rejected& e) {
        throw errors::make("INVALID_TOKEN", "Invalid id_token");
    } catch (const UpstreamError& e) {
        throw upstream(p, e);
    }
    auto r = ctx.exec("social_sign_in", p.id(), who.claims.dump(), tokens_for_sql(tokens).dump(),
                      std::optional<std::string>(), client_ip(req), req.user_agent());
    const auto row = r.at(0);
    if (!row["error_code"].is_null()) throw api_error(row["error_code"].c_str());
    Response res;
    res.body = row["body"].c_str();
    set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), true);
    return res;
}

Response sign_in_social(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = text_field(body, "provider", true);
    Provider& p = provider_named(ctx, id);
    if (auto it = body.find("idToken"); it != body.end() && !it->is_null()) return sign_in_id_token(ctx, req, body, p);
    return start_flow(ctx, req, body, p, "sign-in", std::nullopt);
}

Response link_social(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto id = text_field(body, "provider", true);
    std::string session = ctx.require_session(req);
    Provider& p = provider_named(ctx, id);
    if (auto it = body.find("idToken"); it != body.end() && !it->is_null())
        throw errors::make("ID_TOKEN_NOT_SUPPORTED", "Linking with an idToken is not supported: use the redirect flow");
    return start_flow(ctx, req, body, p, "link", session);
}

}  // namespace

std::string start_social_sign_in(Context& ctx, const Request& req, const std::string& provider,
                                 const std::string& callback_url, const std::string& error_callback_url, Response& res) {
    Provider& p = provider_named(ctx, provider);
    json body = {{"callbackURL", callback_url}, {"errorCallbackURL", error_callback_url}, {"disableRedirect", true}};
    Response started = start_flow(ctx, req, body, p, "sign-in", std::nullopt);
    for (auto& h : started.headers)
        if (iequals(h.first, "Set-Cookie")) res.headers.push_back(std::move(h));
    return json::parse(started.body).at("url").get<std::string>();
}

namespace {

// ---------------------------------------------------------------- the callback

// The provider id in /api/auth/callback/<id>.
std::string callback_provider(const Request& req) {
    std::string path = req.raw().resource();
    const std::string prefix = base_path + "/callback/";
    return path.size() > prefix.size() ? path.substr(prefix.size()) : std::string();
}

// The value of `key` in an application/x-www-form-urlencoded body, decoded.
std::optional<std::string> form_value(std::string_view body, std::string_view key) {
    std::size_t start = 0;
    while (start <= body.size()) {
        auto end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        std::string_view pair = body.substr(start, end - start);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == key)
            return query_param(std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1)), key, max_param_bytes);
        start = end + 1;
    }
    return std::nullopt;
}

const char* const callback_keys[] = {"code", "state", "error", "error_description", "iss"};

// POST /callback/<id> (response_mode=form_post): a cross-site form post carries no
// SameSite=Lax cookie, so, as Better-Auth does, send the browser to the GET callback
// with the same parameters; the GET checks everything.
Response callback_post(Context& ctx, const Request& req) {
    std::vector<std::pair<std::string, std::string>> params;
    const auto& query = req.raw().query();
    for (const char* key : callback_keys) {
        auto v = query_param(query.get(key), key, max_param_bytes);
        if (!v) v = form_value(req.body(), key);
        if (v) params.emplace_back(key, *v);
    }
    std::string provider = callback_provider(req);
    if (!ctx.social().find(provider)) throw errors::make("PROVIDER_NOT_FOUND");
    return redirect(append_query(ctx.config().base_url + base_path + "/callback/" + provider, params));
}

Response callback_get(Context& ctx, const Request& req) {
    const auto& query = req.raw().query();
    auto param = [&](const char* key) { return query_param(query.get(key), key, max_param_bytes); };
    auto code = param("code"), state = param("state"), error = param("error"),
         error_description = param("error_description"), iss = param("iss");
    std::string default_error_url = ctx.config().base_url + base_path + "/error";
    std::string provider_id = callback_provider(req);
    Provider* p = ctx.social().find(provider_id);

    auto fail = [&](const std::string& url, const std::string& code_, const std::optional<std::string>& description) {
        std::vector<std::pair<std::string, std::string>> params = {{"error", code_}};
        if (description && !description->empty()) params.emplace_back("error_description", description->substr(0, 512));
        Response res = redirect(append_query(url, params));
        clear_state_cookie(ctx, res);
        return res;
    };
    if (!p) return fail(default_error_url, "oauth_provider_not_found", std::nullopt);
    if (!state || state->empty()) return fail(default_error_url, "state_not_found", std::nullopt);

    // Taking the flow marks it used (committed), whatever follows: a state works once.
    auto taken = ctx.exec("social_flow_take", *state, state_binding(ctx, req), p->id()).at(0);
    if (!taken["error_code"].is_null()) {
        std::string url = taken["error_callback_url"].is_null() ? default_error_url : taken["error_callback_url"].c_str();
        return fail(url, query_error(taken["error_code"].c_str()), std::nullopt);
    }
    std::string error_url = taken["error_callback_url"].is_null() ? default_error_url : taken["error_callback_url"].c_str();
    std::string flow_id = taken["flow_id"].c_str();
    std::string kind = taken["kind"].c_str();
    std::optional<std::string> nonce;
    if (!taken["nonce"].is_null()) nonce = taken["nonce"].c_str();

    if (error) return fail(error_url, *error, error_description);
    if (!code || code->empty()) return fail(error_url, "no_code", std::nullopt);
    oauth::Identity who;
    json tokens;
    try {
        // RFC 9207: an authorization response naming another issuer is a mix-up attack.
        std::string expected = p->issuer();
        if (iss && !expected.empty() && *iss != expected) return fail(error_url, "issuer_mismatch", std::nullopt);
        if (!iss && p->requires_iss()) return fail(error_url, "issuer_missing", std::nullopt);
        try {
            tokens = p->exchange_code(*code, taken["code_verifier"].c_str(), redirect_uri(ctx, *p));
        } catch (const Rejected& e) {
            log::warn("social sign-in refused by the provider", {{"provider", p->id()}, {"reason", e.what()}});
            return fail(error_url, "invalid_code", std::nullopt);
        }
        who = p->identity(tokens, nonce);
    } catch (const Rejected& e) {
        log::warn("social sign-in: the provider's answer did not check out", {{"provider", p->id()}, {"reason", e.what()}});
        return fail(error_url, e.code(), std::nullopt);
    } catch (const UpstreamError& e) {
        log::warn("social provider failed", {{"provider", p->id()}, {"reason", e.what()}});
        return fail(error_url, "provider_unavailable", std::nullopt);
    }
    if (kind == "sign-in" && !who.claims.contains("email")) return fail(error_url, "email_not_found", std::nullopt);

    auto r = ctx.exec("social_sign_in", p->id(), who.claims.dump(), tokens_for_sql(tokens).dump(),
                      std::optional<std::string>(flow_id), client_ip(req), req.user_agent());
    const auto row = r.at(0);
    if (!row["error_code"].is_null()) return fail(error_url, query_error(row["error_code"].c_str()), std::nullopt);
    std::string to = taken["callback_url"].is_null() ? ctx.config().base_url : taken["callback_url"].c_str();
    if (row["new_user"].as<bool>(false) && !taken["new_user_callback_url"].is_null())
        to = taken["new_user_callback_url"].c_str();
    Response res = redirect(to);
    clear_state_cookie(ctx, res);
    if (!row["session_token"].is_null())
        set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), true);
    return res;
}

// GET /error?error=...: where a failed callback lands without an errorCallbackURL.
Response error_page(Context&, const Request& req) {
    const auto& query = req.raw().query();
    auto error = query_param(query.get("error"), "error", 128);
    auto description = query_param(query.get("error_description"), "error_description", 512);
    std::string code = upper_code(error.value_or("unknown_error"));
    std::string message = description && !description->empty() ? *description : "Social sign-in failed: " + error.value_or("unknown error");
    return Response::error(ApiError(400, code, message));
}

// ---------------------------------------------------------------- accounts

Response list_accounts(Context& ctx, const Request& req) {
    auto r = ctx.exec("list_accounts", ctx.require_session(req));
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.body = r[0]["body"].c_str();
    return res;
}

struct Selection {
    std::optional<std::string> provider_id, account_id;
};

Selection selection(const json& body) {
    Selection s{text_field(body, "providerId", false), text_field(body, "accountId", false)};
    if (s.provider_id && s.provider_id->empty()) s.provider_id.reset();
    if (s.account_id && s.account_id->empty()) s.account_id.reset();
    if (!s.provider_id && !s.account_id) throw errors::make("VALIDATION_ERROR", "providerId or accountId is required");
    for (const auto& v : {s.provider_id, s.account_id})
        if (v && v->size() > 255) throw errors::make("VALIDATION_ERROR", "providerId and accountId are at most 255 bytes");
    return s;
}

Response unlink_account(Context& ctx, const Request& req) {
    Selection s = selection(req.json());
    auto r = ctx.exec("unlink_account", ctx.require_session(req), s.provider_id, s.account_id);
    Response res;
    res.body = r.at(0)["body"].c_str();
    return res;
}

std::string iso(const pqxx::field& f) { return f.is_null() ? std::string() : f.c_str(); }

// The stored tokens of the session user's account, refreshed at the provider when
// `force` or when they expire within 5 s (the extension says which).
struct Refreshed {
    json body;  // get-access-token's
    json tokens;
    std::string provider_id, account_row_id, account_id;
};

Refreshed valid_tokens(Context& ctx, const std::string& session, const Selection& s, bool force) {
    auto row = ctx.exec("social_account_tokens", session, s.provider_id, s.account_id).at(0);
    Refreshed out;
    out.provider_id = row["provider_id"].c_str();
    out.account_row_id = row["account_row_id"].c_str();
    out.account_id = row["account_id"].c_str();
    bool needs = row["needs_refresh"].as<bool>(false);
    if (!force && !needs) {
        out.body = {{"accessToken", row["access_token"].is_null() ? json() : json(row["access_token"].c_str())},
                    {"accessTokenExpiresAt", row["access_token_expires_at"].is_null() ? json() : json(iso(row["access_token_expires_at"]))},
                    {"scopes", json::parse(row["scopes"].c_str(), nullptr, false)},
                    {"idToken", row["id_token"].is_null() ? json() : json(row["id_token"].c_str())}};
        if (out.body["scopes"].is_discarded()) out.body["scopes"] = json::array();
        return out;
    }
    Provider* p = ctx.social().find(out.provider_id);
    if (!p) throw errors::make("PROVIDER_NOT_FOUND", "Provider " + out.provider_id + " is not configured");
    if (row["refresh_token"].is_null()) throw errors::make("REFRESH_TOKEN_NOT_FOUND");
    try {
        out.tokens = p->refresh(row["refresh_token"].c_str());
    } catch (const Rejected& e) {
        log::warn("social token refresh refused", {{"provider", p->id()}, {"reason", e.what()}});
        throw errors::make(force ? "FAILED_TO_REFRESH_ACCESS_TOKEN" : "FAILED_TO_GET_ACCESS_TOKEN");
    } catch (const UpstreamError& e) {
        throw upstream(*p, e);
    }
    auto stored = ctx.exec("social_store_tokens", session, out.account_row_id, tokens_for_sql(out.tokens).dump());
    out.body = json::parse(stored.at(0)["body"].c_str());
    return out;
}

Response get_access_token(Context& ctx, const Request& req) {
    Selection s = selection(req.json());
    return Response::json(valid_tokens(ctx, ctx.require_session(req), s, false).body);
}

Response refresh_token(Context& ctx, const Request& req) {
    Selection s = selection(req.json());
    Refreshed r = valid_tokens(ctx, ctx.require_session(req), s, true);
    json body = r.body;
    body["refreshToken"] = r.tokens.contains("refresh_token") ? r.tokens["refresh_token"] : json();
    body["providerId"] = r.provider_id;
    body["accountId"] = r.account_row_id;
    if (auto it = r.tokens.find("scope"); it != r.tokens.end() && it->is_string()) body["scope"] = *it;
    return Response::json(body);
}

Response account_info(Context& ctx, const Request& req) {
    const auto& query = req.raw().query();
    json body = json::object();
    for (const char* key : {"accountId", "providerId"})
        if (auto v = query_param(query.get(key), key, 255)) body[key] = *v;
    Selection s = selection(body);
    std::string session = ctx.require_session(req);
    Refreshed t = valid_tokens(ctx, session, s, false);
    Provider* p = ctx.social().find(t.provider_id);
    if (!p) throw errors::make("PROVIDER_NOT_FOUND", "Provider " + t.provider_id + " is not configured");
    if (!t.body["accessToken"].is_string()) throw errors::make("ACCESS_TOKEN_NOT_FOUND");
    oauth::Identity who;
    try {
        who = p->profile(t.body["accessToken"].get<std::string>());
    } catch (const Rejected&) {
        throw errors::make("FAILED_TO_GET_USER_INFO");
    } catch (const UpstreamError& e) {
        throw upstream(*p, e);
    }
    json user = {{"id", who.claims.value("sub", "")},
                 {"name", who.claims.value("name", "")},
                 {"email", who.claims.contains("email") ? who.claims["email"] : json()},
                 {"image", who.claims.contains("picture") ? who.claims["picture"] : json()},
                 {"emailVerified", who.claims.value("email_verified", false)}};
    return Response::json({{"user", user},
                           {"data", who.profile},
                           {"account", {{"id", t.account_row_id}, {"providerId", t.provider_id}, {"accountId", t.account_id}}}});
}

}  // namespace

void register_social_routes(Server& server) {
    server.route(Method::Post, base_path + "/sign-in/social", "sign-in-social", sign_in_social);
    server.route(Method::Get, base_path + "/callback/:provider", "callback", callback_get);
    server.form_route(Method::Post, base_path + "/callback/:provider", "callback-form-post", callback_post);
    server.route(Method::Get, base_path + "/error", "error", error_page, RouteKind::no_database);
    server.route(Method::Post, base_path + "/link-social", "link-social", link_social);
    server.route(Method::Get, base_path + "/list-accounts", "list-accounts", list_accounts);
    server.route(Method::Post, base_path + "/unlink-account", "unlink-account", unlink_account);
    server.route(Method::Post, base_path + "/get-access-token", "get-access-token", get_access_token);
    server.route(Method::Post, base_path + "/refresh-token", "refresh-token", refresh_token);
    server.route(Method::Get, base_path + "/account-info", "account-info", account_info);
}

}  // namespace pgauth::http
