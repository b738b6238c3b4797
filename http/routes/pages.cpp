// The sign-in and consent pages of the OAuth authorization flow (issue 13), and
// the sign-in page's social provider buttons (issue 15). Server-rendered HTML
// (pages/render.hpp) that works without script through plain form posts; every
// post is same-origin and carries a per-form token bound to a cookie
// (pages/forms.hpp). Each request makes one SQL call:
//   GET  /sign-in          renders the form (no call)
//   POST /sign-in          auth.sign_in_response, then sends the browser back to
//                          /api/auth/oauth2/authorize with the original request
//   POST /sign-in/social   auth.social_flow_start (a provider button)
//   GET  /consent          auth.oauth_authorize with the original request: the
//                          consent to show (or where the flow goes instead)
//   POST /consent          auth.oauth_consent: Allow or Deny
// After a post the browser goes on through a page (a meta refresh and a link),
// not a redirect: the CSP's form-action 'self' also governs the redirects that
// follow a form submission, and the flow ends on the client's origin.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sodium.h>

#include "cookies.hpp"
#include "integrations/oauth/fetch.hpp"
#include "pages/forms.hpp"
#include "pages/render.hpp"
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

constexpr std::size_t max_param_bytes = 4096;
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

// The query of a page request, decoded, without the keys in `skip` (in key order).
std::vector<std::pair<std::string, std::string>> query_fields(const Request& req,
                                                              std::initializer_list<std::string_view> skip = {}) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto& query = req.raw().query();
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
        bool skipped = false;
        for (auto s : skip) skipped = skipped || it->first == s;
        if (skipped) continue;
        auto key = url_decode(it->first);
        if (!key || key->empty() || key->size() > 64) throw errors::make("VALIDATION_ERROR", "Malformed query");
        auto value = query_param(it->second, *key, max_param_bytes);
        out.emplace_back(*key, value.value_or(""));
    }
    std::sort(out.begin(), out.end());
    return out;
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

// GET /sign-in?<authorization request>
Response sign_in_page(Context& ctx, const Request& req) {
    const auto& query = req.raw().query();
    auto error = query_param(query.get("error"), "error", 128);
    auto fields = query_fields(req, {"error", "error_description"});
    std::string oauth_query = pages::checked_oauth_query(oauth::form_encode(fields));
    pages::SignInView view = sign_in_view(ctx, oauth_query);
    for (const auto& [k, v] : fields)
        if (k == "login_hint" && v.size() <= 256) view.email = v;
    Response res;
    view.csrf = pages::issue_csrf(ctx, req, res, "sign-in");
    int status = 200;
    if (error) {  // back from a provider that failed (the social flow's errorCallbackURL)
        view.error = "Sign-in with the provider did not succeed (" + error->substr(0, 64) + "). Try again.";
    }
    Response page = pages::html(status, pages::render_sign_in(view));
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
        r = ctx.exec("sign_in", view.email, password, true, client_ip(req), req.user_agent(), std::optional<std::string>());
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
    if (!row["error_code"].is_null()) {  // EMAIL_NOT_VERIFIED: the verification mail was queued
        auto e = errors::make(row["error_code"].c_str());
        return sign_in_again(ctx, req, view, e.status(), e.what());
    }
    std::string next = oauth_query.empty() ? ctx.config().base_url + "/" : authorize_url(ctx, oauth_query);
    Response res = pages::html(200, pages::render_continue("Signed in", next));
    set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), true);
    return res;
}

// POST /sign-in/social: provider, oauth_query, csrf_token (a provider button).
Response social_post(Context& ctx, const Request& req) {
    auto form = pages::parse_form(req.body());
    pages::check_csrf(ctx, req, "sign-in", field(form, "csrf_token"));
    std::string oauth_query = pages::checked_oauth_query(field(form, "oauth_query"));
    std::string provider = field(form, "provider");
    std::string back = oauth_query.empty() ? "/" : "/api/auth/oauth2/authorize?" + oauth_query;
    std::string error_back = sign_in_path + (oauth_query.empty() ? "" : "?" + oauth_query);
    Response res = pages::html(200, "");
    std::string url = start_social_sign_in(ctx, req, provider, back, error_back, res);
    res.body = pages::render_continue("Continue to the provider", url);
    return res;
}

Response redirect(const std::string& location) {
    Response res = pages::html(302, "");
    res.header("Location", location);
    return res;
}

// GET /consent?<authorization request>: asks the extension again what the flow needs.
Response consent_page(Context& ctx, const Request& req) {
    json params = json::object();
    for (auto& [k, v] : query_fields(req)) params[k] = v;
    auto r = ctx.exec("page_authorize", ctx.session_token(req), params.dump(), client_ip(req), req.user_agent());
    json answer = json::parse(r.at(0)["body"].c_str());
    std::string action = answer.value("action", "");
    if (action == "redirect") return redirect(answer.at("url").get<std::string>());
    if (action == "login") {
        std::vector<std::pair<std::string, std::string>> login;
        const json query = answer.value("login_query", json::object());
        for (const auto& [k, v] : query.items())
            if (v.is_string()) login.emplace_back(k, v.get<std::string>());
            else if (v.is_array())  // a repeated parameter (resource)
                for (const auto& item : v)
                    if (item.is_string()) login.emplace_back(k, item.get<std::string>());
        std::string q = oauth::form_encode(login);
        const std::string& page = ctx.config().login_page;
        return redirect(page + (q.empty() ? "" : (page.find('?') == std::string::npos ? "?" : "&") + q));
    }
    if (action != "consent") {
        std::string description = answer.value("error_description", "The authorization request is not valid.");
        return pages::html(400, pages::render_message("This request cannot go on", description));
    }
    const json& c = answer.at("consent");
    auto text = [&](const char* k) {
        auto it = c.find(k);
        return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    pages::ConsentView view;
    view.action = consent_path;
    view.consent_code = text("consent_code");
    view.client_name = text("client_name");
    if (view.client_name.empty()) view.client_name = text("client_id");
    view.client_uri = text("client_uri");
    view.logo_uri = text("logo_uri");
    if (auto s = c.find("scopes"); s != c.end() && s->is_array())
        for (const auto& scope : *s)
            if (scope.is_string()) view.scopes.push_back({scope.get<std::string>(), pages::scope_label(scope.get<std::string>())});
    Response res;
    view.csrf = pages::issue_csrf(ctx, req, res, "consent");
    Response page = pages::html(200, pages::render_consent(view));
    for (auto& h : res.headers) page.headers.push_back(std::move(h));
    return page;
}

// POST /consent: consent_code, accept (true|false), csrf_token.
Response consent_post(Context& ctx, const Request& req) {
    auto form = pages::parse_form(req.body());
    pages::check_csrf(ctx, req, "consent", field(form, "csrf_token"));
    std::string code = field(form, "consent_code"), accept = field(form, "accept");
    if (code.empty() || code.size() > 256) throw errors::make("VALIDATION_ERROR", "The consent request is missing");
    if (accept != "true" && accept != "false") throw errors::make("VALIDATION_ERROR", "Choose Allow or Deny");
    auto session = ctx.session_token(req);
    if (!session) throw errors::make("UNAUTHORIZED", "Your session has ended. Start again from the application.");
    auto r = ctx.exec("page_consent", *session, code, accept == "true");
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
