#include "pages/render.hpp"

#include <kainjow/mustache.hpp>

#include "core/crypto.hpp"

namespace pgauth::http::pages {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

// The one stylesheet of the pages, inline; the CSP names its hash, so nothing else styles them.
const std::string style =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f4f5;color:#18181b}"
    "main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.15)}"
    "h1{font-size:1.4rem;margin:0 0 1rem}"
    "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"
    "input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;"
    "border:1px solid #a1a1aa;border-radius:.25rem}"
    "input[aria-invalid=true]{border-color:#b91c1c}"
    "button{font:inherit;padding:.5rem 1rem;margin-top:1rem;border-radius:.25rem;border:1px solid #3f3f46;"
    "background:#18181b;color:#fff;cursor:pointer}"
    "button.secondary{background:#fff;color:#18181b}"
    ".providers button{width:100%}"
    ".alert{background:#fef2f2;color:#7f1d1d;border:1px solid #b91c1c;padding:.5rem;border-radius:.25rem}"
    ".client a{overflow-wrap:anywhere}"
    "ul.scopes,ul.resources{padding-left:1.25rem}"
    "fieldset{border:1px solid #d4d4d8;border-radius:.25rem;margin:1rem 0;padding:.5rem 1rem}"
    "legend{font-weight:600;padding:0 .25rem}"
    ".scope{margin:.35rem 0}.scope label{display:inline;font-weight:400;margin:0 0 0 .35rem}"
    "code{overflow-wrap:anywhere}"
    ":focus{outline:3px solid #2563eb;outline-offset:2px}";

const std::string layout_head =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"referrer\" content=\"no-referrer\">"
    "<title>{{title}}</title><style>" + style + "</style></head><body><main>";
const std::string layout_tail = "</main></body></html>\n";

const std::string sign_in_template = layout_head +
    "<h1>Sign in</h1>"
    "{{#has_oauth}}<p>Sign in to continue to the application that sent you here.</p>{{/has_oauth}}"
    "{{#error}}<div id=\"form-error\" class=\"alert\" role=\"alert\">{{error}}</div>{{/error}}"
    "<form method=\"post\" action=\"{{action}}\" novalidate>"
    "<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf}}\">"
    "<input type=\"hidden\" name=\"oauth_query\" value=\"{{oauth_query}}\">"
    "<label for=\"email\">Email</label>"
    "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{{email}}\""
    "{{#email_invalid}} aria-invalid=\"true\" aria-describedby=\"form-error\"{{/email_invalid}}"
    "{{#email_focus}} autofocus{{/email_focus}}>"
    "<label for=\"password\">Password</label>"
    "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required"
    "{{#password_invalid}} aria-invalid=\"true\" aria-describedby=\"form-error\"{{/password_invalid}}"
    "{{#password_focus}} autofocus{{/password_focus}}>"
    "<button type=\"submit\">Sign in</button>"
    "</form>"
    "{{#has_providers}}<form method=\"post\" action=\"{{social_action}}\" class=\"providers\">"
    "<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf}}\">"
    "<input type=\"hidden\" name=\"oauth_query\" value=\"{{oauth_query}}\">"
    "<p>Or</p>"
    "{{#providers}}<button type=\"submit\" class=\"secondary\" name=\"provider\" value=\"{{id}}\">{{label}}</button>{{/providers}}"
    "</form>{{/has_providers}}" + layout_tail;

const std::string consent_template = layout_head +
    "<h1>Allow access?</h1>"
    "{{#error}}<div id=\"form-error\" class=\"alert\" role=\"alert\" tabindex=\"-1\">{{error}}</div>{{/error}}"
    "<p class=\"client\"><strong>{{client_name}}</strong> asks to access your account.</p>"
    "{{#client_uri}}<p class=\"client\">Application: <a href=\"{{client_uri}}\" rel=\"noopener noreferrer\">{{client_uri}}</a></p>{{/client_uri}}"
    "{{#logo_uri}}<p class=\"client\">Logo: <a href=\"{{logo_uri}}\" rel=\"noopener noreferrer\">{{logo_uri}}</a></p>{{/logo_uri}}"
    "{{#has_terms}}<p class=\"client terms\">Read the application's"
    "{{#policy_uri}} <a href=\"{{policy_uri}}\" rel=\"noopener noreferrer\">privacy policy</a>{{/policy_uri}}"
    "{{#both_terms}} and{{/both_terms}}"
    "{{#tos_uri}} <a href=\"{{tos_uri}}\" rel=\"noopener noreferrer\">terms of service</a>{{/tos_uri}}.</p>{{/has_terms}}"
    "{{#has_resources}}<p id=\"resources-title\">The access is for:</p>"
    "<ul class=\"resources\" aria-labelledby=\"resources-title\">{{#resources}}<li><code>{{uri}}</code></li>{{/resources}}</ul>"
    "{{/has_resources}}"
    "<form method=\"post\" action=\"{{action}}\">"
    "<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf}}\">"
    "<input type=\"hidden\" name=\"consent_code\" value=\"{{consent_code}}\">"
    "<input type=\"hidden\" name=\"scope_choice\" value=\"1\">"
    "<fieldset class=\"scopes\"><legend>It will be able to:</legend>"
    "{{#scopes}}<div class=\"scope\">"
    "{{#required}}<input type=\"checkbox\" id=\"scope-{{index}}\" checked disabled aria-describedby=\"scope-{{index}}-note\">"
    "<label for=\"scope-{{index}}\">{{label}} <small>({{name}})</small></label>"
    " <small id=\"scope-{{index}}-note\">(always included)</small>{{/required}}"
    "{{^required}}<input type=\"checkbox\" id=\"scope-{{index}}\" name=\"scope\" value=\"{{name}}\" checked>"
    "<label for=\"scope-{{index}}\">{{label}} <small>({{name}})</small></label>{{/required}}"
    "</div>{{/scopes}}"
    "</fieldset>"
    "<button type=\"submit\" name=\"accept\" value=\"true\" autofocus>Allow</button> "
    "<button type=\"submit\" name=\"accept\" value=\"false\" class=\"secondary\">Deny</button>"
    "</form>" + layout_tail;

// After a form post the browser is sent on by this page, not by a redirect: a CSP
// form-action also governs the redirects that follow a form submission, and the
// flow ends on the client's origin.
const std::string continue_template =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"referrer\" content=\"no-referrer\">"
    "<meta http-equiv=\"refresh\" content=\"0; url={{url}}\">"
    "<title>{{title}}</title><style>" + style + "</style></head><body><main>"
    "<h1>{{title}}</h1><p><a id=\"continue\" href=\"{{url}}\">Continue</a></p>" + layout_tail;

const std::string message_template = layout_head +
    "<h1>{{title}}</h1><div class=\"alert\" role=\"alert\">{{message}}</div>" + layout_tail;

std::string render(const std::string& text, data& d) {
    mustache tmpl(text);
    return tmpl.render(d);
}

// Only http(s) URLs become links; anything else (javascript:, data:) is not shown at all.
std::string link_or_empty(const std::string& url) {
    if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) return url;
    return {};
}

}  // namespace

std::string scope_label(std::string_view scope) {
    if (scope == "openid") return "Confirm who you are";
    if (scope == "profile") return "See your name and profile picture";
    if (scope == "email") return "See your email address";
    if (scope == "offline_access") return "Stay connected when you are not using it";
    return std::string(scope);
}

std::string render_sign_in(const SignInView& v) {
    data d;
    d.set("title", "Sign in");
    d.set("action", v.action);
    d.set("oauth_query", v.oauth_query);
    d.set("has_oauth", !v.oauth_query.empty());
    d.set("csrf", v.csrf);
    d.set("email", v.email);
    if (v.error) d.set("error", *v.error);
    d.set("email_invalid", v.email_invalid);
    d.set("password_invalid", v.password_invalid);
    // The focus goes to the first invalid field; with none, to the email field.
    bool email_focus = v.email_invalid || !v.password_invalid;
    d.set("email_focus", email_focus);
    d.set("password_focus", !email_focus);
    data list = data::type::list;
    for (const auto& p : v.providers) {
        data item;
        item.set("id", p.id);
        item.set("label", p.label);
        list.push_back(item);
    }
    d.set("providers", list);
    d.set("has_providers", !v.providers.empty());
    d.set("social_action", v.social_action);
    return render(sign_in_template, d);
}

std::string render_consent(const ConsentView& v) {
    data d;
    d.set("title", "Allow access to " + v.client_name);
    d.set("action", v.action);
    d.set("csrf", v.csrf);
    d.set("consent_code", v.consent_code);
    d.set("client_name", v.client_name);
    if (auto uri = link_or_empty(v.client_uri); !uri.empty()) d.set("client_uri", uri);
    if (auto uri = link_or_empty(v.logo_uri); !uri.empty()) d.set("logo_uri", uri);
    std::string policy = link_or_empty(v.policy_uri), tos = link_or_empty(v.tos_uri);
    if (!policy.empty()) d.set("policy_uri", policy);
    if (!tos.empty()) d.set("tos_uri", tos);
    d.set("has_terms", !policy.empty() || !tos.empty());
    d.set("both_terms", !policy.empty() && !tos.empty());
    if (v.error) d.set("error", *v.error);
    data list = data::type::list;
    int index = 0;
    for (const auto& s : v.scopes) {
        data item;
        item.set("index", std::to_string(index++));
        item.set("name", s.name);
        item.set("label", s.label);
        item.set("required", s.required);
        list.push_back(item);
    }
    d.set("scopes", list);
    data resources = data::type::list;
    for (const auto& r : v.resources) {
        data item;
        item.set("uri", r);
        resources.push_back(item);
    }
    d.set("resources", resources);
    d.set("has_resources", !v.resources.empty());
    return render(consent_template, d);
}

std::string render_message(std::string_view title, std::string_view message) {
    data d;
    d.set("title", std::string(title));
    d.set("message", std::string(message));
    return render(message_template, d);
}

std::string render_continue(std::string_view title, std::string_view url) {
    data d;
    d.set("title", std::string(title));
    d.set("url", std::string(url));
    return render(continue_template, d);
}

const std::string& content_security_policy() {
    static const std::string policy = [] {
        auto digest = sha256(style);
        return "default-src 'none'; style-src 'sha256-" + base64_encode(digest) +
               "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }();
    return policy;
}

Response html(int status, std::string body) {
    Response res{status, std::move(body), {}};
    res.content_type = "text/html; charset=utf-8";
    res.header("Content-Security-Policy", content_security_policy());
    res.header("X-Frame-Options", "DENY");
    res.header("Referrer-Policy", "no-referrer");
    res.header("Cache-Control", "no-store");
    res.header("X-Content-Type-Options", "nosniff");
    return res;
}

Response error_page(const ApiError& e) {
    std::string title = e.status() == 429 ? "Too many attempts" : (e.status() >= 500 ? "Something went wrong" : "This request cannot go on");
    std::string message = e.status() >= 500 ? "The server could not answer. Try again later." : e.what();
    Response res = html(e.status(), render_message(title, message));
    if (e.retry_after() > 0) res.header("Retry-After", std::to_string(e.retry_after()));
    return res;
}

}  // namespace pgauth::http::pages
