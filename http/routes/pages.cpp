// The sign-in and consent pages of the OAuth authorization flow (issue 13), and
// the sign-in page's social provider buttons (issue 15). Server-rendered HTML
// (pages/render.hpp) that works without script through plain form posts; every
// post is same-origin and carries a per-form token bound to a cookie
// (pages/forms.hpp). Each request makes one SQL call:
//   GET  /sign-in          renders the form (no call)
//   POST /sign-in          auth.sign_in_response, then sends the browser back to
//                          /api/auth/oauth2/authorize with the original request (the
//                          signed query the page received, verified first)
//   POST /sign-in/social   auth.social_flow_start (a provider button)
//   GET  /consent          auth.oauth_client_get: the client of the signed consent
//                          request (consent_code, client_id, scope) the authorize
//                          endpoint sent the browser here with
//   POST /consent          auth.oauth_consent: Allow (with the scopes left checked) or Deny
// After a post the browser goes on through a page (a meta refresh and a link),
// not a redirect: the CSP's form-action 'self' also governs the redirects that
// follow a form submission, and the flow ends on the client's origin.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sodium.h>

#include "cookies.hpp"
#include "integrations/oauth/fetch.hpp"
#include "pages/forms.hpp"
#include "pages/render.hpp"
#include "request_fields.hpp"
#include "routes/oauth_shared.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

const std::string sign_in_path = "/sign-in";
const std::string social_path = "/sign-in/social";
const std::string consent_path = "/consent";

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

std::string authorize_url(const Context& ctx, const std::string& oauth_query) {
    return ctx.config().base_url + "/api/auth/oauth2/authorize" + (oauth_query.empty() ? "" : "?" + oauth_query);
}

std::string provider_label(const oauth::Provider& p) {
    const std::string& id = p.id();
    if (id == "google") return "Continue with Google";
    if (id == "github") return "Continue with GitHub";
    std::string name = id;
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return "Continue with " + name;
}

pages::SignInView sign_in_view(Context& ctx, const std::string& oauth_query) {
    pages::SignInView view;
    view.action = sign_in_path;
    view.social_action = social_path;
    view.oauth_query = oauth_query;
    for (const auto& id : ctx.social().ids())
        if (const auto* p = ctx.social().find(id)) view.providers.push_back({id, provider_label(*p)});
    return view;
}

// The sign-in page again, with an error for the user.
Response sign_in_again(Context& ctx, const Request& req, pages::SignInView view, int status, std::string message) {
    Response res;
    view.csrf = pages::issue_csrf(ctx, req, res, "sign-in");
    view.error = std::move(message);
    Response page = pages::html(status, pages::render_sign_in(view));
    for (auto& h : res.headers) page.headers.push_back(std::move(h));
    return page;
}

// The signed authorization request a page received (pgauth-http signs the query it sends
// a browser to the pages with; routes/oauth_shared.hpp), without what was appended after
// the signature (the social flow's error callback adds error=...).
std::string signed_request(const Request& req) {
    std::string query = req.query_string();
    if (auto sig = query.find("&sig="); sig != std::string::npos)
        if (auto amp = query.find('&', sig + 5); amp != std::string::npos) query.resize(amp);
    if (query.find("sig=") == std::string::npos) return {};  // no authorization request
    return pages::checked_oauth_query(query);
}

// The authorization request of a page's form, verified (400 when altered or expired),
// as the authorize URL's query.
std::string verified_request(const Context& ctx, const std::string& oauth_query) {
    json params = verify_oauth_query(ctx, oauth_query);
    std::vector<std::pair<std::string, std::string>> fields;
    for (auto it = params.begin(); it != params.end(); ++it) {
        if (it.key() == "sig") continue;
        if (it->is_string()) fields.emplace_back(it.key(), it->get<std::string>());
        else if (it->is_array())  // a repeated parameter (resource)
            for (const auto& v : *it)
                if (v.is_string()) fields.emplace_back(it.key(), v.get<std::string>());
    }
    return oauth::form_encode(fields);
}

// GET /sign-in?<signed authorization request>
Response sign_in_page(Context& ctx, const Request& req) {
    const auto& query = req.raw().query();
    auto error = query_param(query.get("error"), "error", 128);
    pages::SignInView view = sign_in_view(ctx, signed_request(req));
    if (auto hint = query_param(query.get("login_hint"), "login_hint", 256)) view.email = *hint;
    Response res;
    view.csrf = pages::issue_csrf(ctx, req, res, "sign-in");
    if (error)  // back from a provider that failed (the social flow's errorCallbackURL)
        view.error = "Sign-in with the provider did not succeed (" + error->substr(0, 64) + "). Try again.";
    Response page = pages::html(200, pages::render_sign_in(view));
    for (auto& h : res.headers) page.headers.push_back(std::move(h));
    return page;
}

// The value of a form field, "" when absent.
std::string field(const std::map<std::string, std::string>& form, const char* key) {
    auto it = form.find(key);
    return it == form.end() ? std::string() : it->second;
}

// POST /sign-in: email, password, oauth_query, csrf_token.
Response sign_in_post(Context& ctx, const Request& req) {
    auto form = pages::parse_form(req.body());
    pages::check_csrf(ctx, req, "sign-in", field(form, "csrf_token"));
    std::string oauth_query = pages::checked_oauth_query(field(form, "oauth_query"));
    std::string next = oauth_query.empty() ? ctx.config().base_url + "/" : authorize_url(ctx, verified_request(ctx, oauth_query));
    pages::SignInView view = sign_in_view(ctx, oauth_query);
    view.email = field(form, "email");
    std::string password = field(form, "password");
    if (view.email.empty() || view.email.size() > 320) {
        view.email_invalid = true;
        view.password_invalid = password.empty();
        return sign_in_again(ctx, req, view, 400, "Enter your email address.");
    }
    if (password.empty()) {
        view.password_invalid = true;
        return sign_in_again(ctx, req, view, 400, "Enter your password.");
    }
    pqxx::result r;
    try {
        r = ctx.exec("sign_in", view.email, password, true, client_ip(req), req.user_agent(), std::optional<std::string>(),
                     std::optional<std::string>());
        sodium_memzero(password.data(), password.size());
    } catch (const ApiError& e) {
        sodium_memzero(password.data(), password.size());
        if (e.status() >= 500) throw;
        view.email_invalid = e.code() == "INVALID_EMAIL" || e.code() == "INVALID_EMAIL_OR_PASSWORD";
        view.password_invalid = e.code() != "INVALID_EMAIL";
        Response again = sign_in_again(ctx, req, view, e.status(), e.what());
        if (e.retry_after() > 0) again.header("Retry-After", std::to_string(e.retry_after()));
        return again;
    }
    const auto row = r.at(0);
    if (!row["error_code"].is_null()) {  // refusals come back as values (their mail and audit row commit)
        auto e = errors::make(row["error_code"].c_str());
        view.email_invalid = e.code() == "INVALID_EMAIL" || e.code() == "INVALID_EMAIL_OR_PASSWORD";
        view.password_invalid = e.code() == "INVALID_EMAIL_OR_PASSWORD";
        return sign_in_again(ctx, req, view, e.status(), e.what());
    }
    if (!row["two_factor_token"].is_null()) {  // no second-factor step on this page yet: no session
        auto e = errors::make("TWO_FACTOR_REQUIRED");
        return sign_in_again(ctx, req, view, e.status(), e.what());
    }
    Response res = pages::html(200, pages::render_continue("Signed in", next));
    set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), true);
    return res;
}

// POST /sign-in/social: provider, oauth_query, csrf_token (a provider button).
Response social_post(Context& ctx, const Request& req) {
    auto form = pages::parse_form(req.body());
    pages::check_csrf(ctx, req, "sign-in", field(form, "csrf_token"));
    std::string oauth_query = pages::checked_oauth_query(field(form, "oauth_query"));
    std::string back = oauth_query.empty() ? "/" : "/api/auth/oauth2/authorize?" + verified_request(ctx, oauth_query);
    std::string error_back = sign_in_path + (oauth_query.empty() ? "" : "?" + oauth_query);
    Response res = pages::html(200, "");
    std::string url = start_social_sign_in(ctx, req, field(form, "provider"), back, error_back, res);
    res.body = pages::render_continue("Continue to the provider", url);
    return res;
}

// GET /consent?consent_code&client_id&scope&exp&sig (signed by the authorize endpoint):
// the client's public metadata (auth.oauth_client_get) and the scopes asked for.
Response consent_page(Context& ctx, const Request& req) {
    std::string query = signed_request(req);
    if (query.empty()) throw errors::make("VALIDATION_ERROR", "This page needs the authorization request. Start again from the application.");
    json params = verify_oauth_query(ctx, query);
    auto text = [](const json& j, const char* k) {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    pages::ConsentView view;
    view.action = consent_path;
    view.consent_code = text(params, "consent_code");
    std::string client_id = text(params, "client_id");
    if (view.consent_code.empty() || client_id.empty())
        throw errors::make("VALIDATION_ERROR", "The consent request is incomplete. Start again from the application.");
    auto r = ctx.exec("oauth_client_get", client_id);
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("VALIDATION_ERROR", "The application is unknown.");
    json client = json::parse(r[0]["body"].c_str());
    view.client_name = text(client, "client_name");
    if (view.client_name.empty()) view.client_name = client_id;
    view.client_uri = text(client, "client_uri");
    view.logo_uri = text(client, "logo_uri");
    view.policy_uri = text(client, "policy_uri");
    view.tos_uri = text(client, "tos_uri");
    // one checkbox per scope; openid is always granted when asked for (auth.oauth_consent)
    std::istringstream scopes(text(params, "scope"));
    for (std::string s; scopes >> s;) view.scopes.push_back({s, pages::scope_label(s), s == "openid"});
    // the resources (RFC 8707) the token will be for, as the authorize endpoint signed them
    if (auto it = params.find("resource"); it != params.end()) {
        if (it->is_string()) view.resources.push_back(it->get<std::string>());
        else if (it->is_array())
            for (const auto& r : *it)
                if (r.is_string()) view.resources.push_back(r.get<std::string>());
    }
    Response res;
    view.csrf = pages::issue_csrf(ctx, req, res, "consent");
    Response page = pages::html(200, pages::render_consent(view));
    for (auto& h : res.headers) page.headers.push_back(std::move(h));
    return page;
}

// POST /consent: consent_code, accept (true|false), csrf_token, and from the page's checkboxes
// scope_choice=1 with one scope field per checked scope: the scopes granted are those (the
// extension keeps openid when it was asked for; none checked grants no optional scope). A
// post without scope_choice (no checkboxes) grants the scopes asked for.
Response consent_post(Context& ctx, const Request& req) {
    auto form = pages::parse_form(req.body(), "scope");
    pages::check_csrf(ctx, req, "consent", field(form, "csrf_token"));
    std::string code = field(form, "consent_code"), accept = field(form, "accept");
    if (code.empty() || code.size() > 256) throw errors::make("VALIDATION_ERROR", "The consent request is missing");
    if (accept != "true" && accept != "false") throw errors::make("VALIDATION_ERROR", "Choose Allow or Deny");
    auto session = ctx.session_token(req);
    if (!session) throw errors::make("UNAUTHORIZED", "Your session has ended. Start again from the application.");
    std::optional<std::string> scopes;
    if (field(form, "scope_choice") == "1") scopes = field(form, "scope");
    auto r = ctx.exec("oauth_consent", *session, code, accept == "true", scopes);
    json answer = json::parse(r.at(0)["body"].c_str());
    return pages::html(200, pages::render_continue(accept == "true" ? "Access allowed" : "Access denied",
                                                   answer.at("url").get<std::string>()));
}

}  // namespace

void register_page_routes(Server& server) {
    server.page_route(Method::Get, sign_in_path, "login-page", sign_in_page);
    server.page_route(Method::Post, sign_in_path, "sign-in-page", sign_in_post);  // strict rate limit, as sign-in
    server.page_route(Method::Post, social_path, "social-page", social_post);
    server.page_route(Method::Get, consent_path, "consent-page", consent_page);
    server.page_route(Method::Post, consent_path, "consent-page-post", consent_post);
}

}  // namespace pgauth::http
