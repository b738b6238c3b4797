// The OAuth pages' pure parts: rendering (escaping, accessibility, no script, the CSP
// matching the one stylesheet), form bodies, and the authorization request a page carries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "errors.hpp"
#include "pages/forms.hpp"
#include "pages/render.hpp"

using namespace pgauth::http;

namespace {

const std::string hostile = "<script>alert(\"x\")</script><img src=x onerror=alert(1)> & 'Co'";

std::string style_of(const std::string& html) {
    auto start = html.find("<style>") + 7;
    return html.substr(start, html.find("</style>") - start);
}

}  // namespace

TEST(PagesRender, ConsentEscapesEverythingTheClientChose) {
    pages::ConsentView v;
    v.action = "/consent";
    v.csrf = "tok\"en";
    v.consent_code = "c<o>de";
    v.client_name = hostile;
    v.client_uri = "https://client.example/?a=1&b=<2>\"";
    v.logo_uri = "javascript:alert(1)";
    v.scopes = {{"openid", pages::scope_label("openid")}, {"<b>x</b>", pages::scope_label("<b>x</b>")}};
    std::string html = pages::render_consent(v);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<b>x"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
    EXPECT_EQ(html.find("javascript:"), std::string::npos) << "only http(s) URIs become links";
    EXPECT_NE(html.find("href=\"https://client.example/?a=1&amp;b=&lt;2&gt;&quot;\""), std::string::npos) << html;
    EXPECT_NE(html.find("value=\"tok&quot;en\""), std::string::npos);
    EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
    EXPECT_NE(html.find("<title>Allow access to &lt;script&gt;"), std::string::npos);
    EXPECT_NE(html.find("name=\"accept\" value=\"true\""), std::string::npos);
    EXPECT_NE(html.find("name=\"accept\" value=\"false\""), std::string::npos);
}

TEST(PagesRender, SignInLabelsAlertAndFocusOnTheFirstInvalidField) {
    pages::SignInView v;
    v.action = "/sign-in";
    v.social_action = "/sign-in/social";
    v.oauth_query = "client_id=a&state=b";
    v.csrf = "t";
    v.email = hostile;
    v.error = "Invalid email or password";
    v.email_invalid = true;
    v.password_invalid = true;
    v.providers = {{"google", "Continue with Google"}, {"acme\"", "Continue with <Acme>"}};
    std::string html = pages::render_sign_in(v);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_NE(html.find("<label for=\"email\">"), std::string::npos);
    EXPECT_NE(html.find("<label for=\"password\">"), std::string::npos);
    EXPECT_NE(html.find("role=\"alert\">Invalid email or password</div>"), std::string::npos);
    // autofocus on the email field (the first invalid one), not on the password
    auto email = html.find("id=\"email\"");
    auto password = html.find("id=\"password\"");
    auto focus = html.find(" autofocus");
    ASSERT_NE(focus, std::string::npos);
    EXPECT_GT(focus, email);
    EXPECT_LT(focus, password);
    EXPECT_EQ(html.find(" autofocus", focus + 1), std::string::npos);
    EXPECT_NE(html.find("value=\"client_id=a&amp;state=b\""), std::string::npos);
    EXPECT_NE(html.find("value=\"acme&quot;\""), std::string::npos);
    EXPECT_NE(html.find("Continue with &lt;Acme&gt;"), std::string::npos);

    v.email_invalid = false;  // only the password is wrong: it gets the focus
    html = pages::render_sign_in(v);
    focus = html.find(" autofocus");
    EXPECT_GT(focus, html.find("id=\"password\""));
}

TEST(PagesRender, TheCspAllowsExactlyThePagesStylesheetAndNoScript) {
    const std::string& csp = pages::content_security_policy();
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("form-action 'self'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("script-src"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe"), std::string::npos);
    std::string style = style_of(pages::render_message("t", "m"));
    std::string hash = pgauth::base64_encode(pgauth::sha256(style));
    EXPECT_NE(csp.find("style-src 'sha256-" + hash + "'"), std::string::npos) << csp;
    EXPECT_EQ(style_of(pages::render_continue("t", "https://x")), style);

    Response res = pages::html(200, "x");
    auto header = [&](const char* name) {
        for (const auto& [k, v] : res.headers)
            if (k == name) return v;
        return std::string();
    };
    EXPECT_EQ(header("Content-Security-Policy"), csp);
    EXPECT_EQ(header("X-Frame-Options"), "DENY");
    EXPECT_EQ(header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(header("Cache-Control"), "no-store");
    EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
}

TEST(PagesRender, ContinuePageEscapesTheUrl) {
    std::string html = pages::render_continue("Signed in", "https://c.example/cb?code=a&state=\"><script>");
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("content=\"0; url=https://c.example/cb?code=a&amp;state=&quot;&gt;&lt;script&gt;\""),
              std::string::npos) << html;
}

TEST(PagesForms, ParsesFormBodies) {
    auto f = pages::parse_form("email=a%40b.c&password=p+q%2B&oauth_query=client_id%3Dx%26state%3Dy&empty=");
    EXPECT_EQ(f.at("email"), "a@b.c");
    EXPECT_EQ(f.at("password"), "p q+");
    EXPECT_EQ(f.at("oauth_query"), "client_id=x&state=y");
    EXPECT_EQ(f.at("empty"), "");
}

TEST(PagesForms, RefusesDuplicatesControlCharactersAndBadEncoding) {
    for (const char* body : {"a=1&a=2", "a=%0d%0aSet-Cookie:x", "a=%00", "a=%zz", "a=%4"}) {
        try {
            pages::parse_form(body);
            ADD_FAILURE() << body;
        } catch (const ApiError& e) {
            EXPECT_EQ(e.status(), 400) << body;
        }
    }
    std::string many;
    for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + "=v&";
    EXPECT_THROW(pages::parse_form(many), ApiError);
}

TEST(PagesForms, ARepeatableFieldJoinsItsValues) {
    auto f = pages::parse_form("scope=profile&csrf_token=t&scope=email&scope=mcp%3Atools", "scope");
    EXPECT_EQ(f.at("scope"), "profile email mcp:tools");
    EXPECT_EQ(f.at("csrf_token"), "t");
    // only the named field; a value with a space (two scopes in one) or an empty one is refused
    for (const char* body : {"scope=a&csrf_token=1&csrf_token=2", "scope=a+b", "scope=", "scope=a%20b"})
        EXPECT_THROW(pages::parse_form(body, "scope"), ApiError) << body;
    EXPECT_THROW(pages::parse_form("scope=a&scope=b"), ApiError) << "without the name, a repeat is refused";
    // many scopes do not count against the 32 fields, but are bounded too
    std::string forty = "csrf_token=t";
    for (int i = 0; i < 40; ++i) forty += "&scope=s" + std::to_string(i);
    EXPECT_EQ(pages::parse_form(forty, "scope").at("scope").substr(0, 8), "s0 s1 s2");
    std::string too_many;
    for (int i = 0; i < 300; ++i) too_many += "scope=s" + std::to_string(i) + "&";
    EXPECT_THROW(pages::parse_form(too_many, "scope"), ApiError);
}

TEST(PagesRender, ConsentHasACheckboxPerScopeTermsLinksAndResources) {
    pages::ConsentView v;
    v.action = "/consent";
    v.client_name = "App";
    v.policy_uri = "https://client.example/privacy?a=1&b=\"<2>";
    v.tos_uri = "javascript:alert(1)";
    v.scopes = {{"openid", pages::scope_label("openid"), true}, {"em\"ail", pages::scope_label("email")}};
    v.resources = {"https://api.example/mcp?<x>"};
    std::string html = pages::render_consent(v);
    EXPECT_NE(html.find("<fieldset class=\"scopes\"><legend>"), std::string::npos) << html;
    EXPECT_NE(html.find("<input type=\"hidden\" name=\"scope_choice\" value=\"1\">"), std::string::npos) << html;
    EXPECT_NE(html.find("<input type=\"checkbox\" id=\"scope-0\" checked disabled"), std::string::npos) << html;
    EXPECT_EQ(html.find("name=\"scope\" value=\"openid\""), std::string::npos) << "openid is not a choice";
    EXPECT_NE(html.find("<input type=\"checkbox\" id=\"scope-1\" name=\"scope\" value=\"em&quot;ail\" checked>"
                        "<label for=\"scope-1\">"),
              std::string::npos) << html;
    EXPECT_NE(html.find("<a href=\"https://client.example/privacy?a=1&amp;b=&quot;&lt;2&gt;\" rel=\"noopener noreferrer\">"
                        "privacy policy</a>"),
              std::string::npos) << html;
    EXPECT_EQ(html.find("javascript:"), std::string::npos) << "only http(s) URIs become links";
    EXPECT_EQ(html.find("terms of service"), std::string::npos);
    EXPECT_NE(html.find("<code>https://api.example/mcp?&lt;x&gt;</code>"), std::string::npos) << html;
}

TEST(PagesForms, TheCarriedAuthorizationRequestCannotBreakOutOfAUrl) {
    EXPECT_EQ(pages::checked_oauth_query("?client_id=a&state=b%20c"), "client_id=a&state=b%20c");
    EXPECT_EQ(pages::checked_oauth_query(""), "");
    for (const std::string& bad : std::vector<std::string>{"a=b\r\nLocation: x", "a=b c", "a=\"b", "a=<b>", "a=b#frag", "a=b\\c", std::string(9000, 'a')}) {
        EXPECT_THROW(pages::checked_oauth_query(bad), ApiError) << bad.substr(0, 40);
    }
}
