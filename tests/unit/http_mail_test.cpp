// The mail pieces of pgauth-http that need no server: templates, the MIME
// message, the webhook signature, and the mail settings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "config.hpp"
#include "core/crypto.hpp"
#include "integrations/mail/message.hpp"
#include "integrations/mail/sender.hpp"
#include "integrations/mail/templates.hpp"

using namespace pgauth::http;
using namespace pgauth::http::mail;

namespace {

Environment env_of(std::map<std::string, std::string> vars) {
    auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [held](const char* name) -> const char* {
        auto it = held->find(name);
        return it == held->end() ? nullptr : it->second.c_str();
    };
}

std::map<std::string, std::string> base_env() {
    return {{"PGAUTH_DATABASE_URL", "postgresql:///x"}, {"PGAUTH_SECRET", std::string(40, 's')},
            {"PGAUTH_BASE_URL", "https://auth.example.com"}};
}

std::string decode_part(const std::string& message, const std::string& content_type) {
    auto at = message.find("Content-Type: " + content_type);
    auto start = message.find("\r\n\r\n", at) + 4;
    auto end = message.find("--=_pgauth_", start);
    std::string b64;
    for (char c : message.substr(start, end - start))
        if (c != '\r' && c != '\n') b64 += c;
    return pgauth::base64_decode(b64).value_or("<bad base64>");
}

}  // namespace

TEST(MailTemplates, EveryContractTemplateExists) {
    Templates t;
    for (const char* name : {"verify-email", "change-email", "reset-password", "magic-link", "otp-sign-in",
                             "otp-email-verification", "otp-forget-password", "otp-two-factor",
                             "organization-invitation"})
        EXPECT_TRUE(t.known(name)) << name;
    EXPECT_THROW(t.render("no-such-template", nlohmann::json::object()), TemplateError);
}

TEST(MailTemplates, HtmlIsEscapedTextIsNot) {
    Templates t;
    auto r = t.render("verify-email", {{"name", "<b>Eve & co</b>"}, {"url", "https://a.example/v?token=x&y=1"}});
    EXPECT_NE(r.html.find("&lt;b&gt;Eve &amp; co&lt;/b&gt;"), std::string::npos) << r.html;
    EXPECT_EQ(r.html.find("<b>Eve"), std::string::npos);
    EXPECT_NE(r.html.find("href=\"https://a.example/v?token=x&amp;y=1\""), std::string::npos) << r.html;
    EXPECT_NE(r.text.find("<b>Eve & co</b>"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("\nhttps://a.example/v?token=x&y=1\n"), std::string::npos) << r.text;
}

// An organization's name is chosen by any user who creates one: escaped in HTML, one line in the subject.
TEST(MailTemplates, InvitationNamesTheOrganizationSafely) {
    Templates t;
    auto r = t.render("organization-invitation",
                      {{"organizationName", "<i>Acme</i>\r\nBcc: victim@example.com"}, {"inviterName", "Ann"},
                       {"inviterEmail", "ann@example.com"}, {"role", "admin"},
                       {"url", "https://a.example/accept-invitation/0b6f2b1e-0000-4000-8000-000000000001"}});
    EXPECT_EQ(r.subject.find_first_of("\r\n"), std::string::npos) << r.subject;
    EXPECT_NE(r.subject.find("<i>Acme</i>"), std::string::npos) << r.subject;
    EXPECT_EQ(r.html.find("<i>Acme"), std::string::npos) << r.html;
    EXPECT_NE(r.html.find("&lt;i&gt;Acme&lt;/i&gt;"), std::string::npos) << r.html;
    EXPECT_NE(r.text.find("\nhttps://a.example/accept-invitation/0b6f2b1e-0000-4000-8000-000000000001\n"), std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("Ann (ann@example.com) invited you"), std::string::npos) << r.text;
    auto anonymous = t.render("organization-invitation", {{"organizationName", "Acme"}, {"inviterEmail", "ann@example.com"},
                                                          {"role", "member"}, {"url", "U"}});
    EXPECT_NE(anonymous.text.find("ann@example.com invited you"), std::string::npos) << anonymous.text;
}

TEST(MailTemplates, OtpStandsAloneOnItsLine) {
    Templates t;
    for (const char* name : {"otp-sign-in", "otp-email-verification", "otp-forget-password", "otp-two-factor"}) {
        auto r = t.render(name, {{"otp", "042917"}});
        EXPECT_NE(r.text.find("\n042917\n"), std::string::npos) << name << ": " << r.text;
    }
}

TEST(MailTemplates, SubjectIsOneLine) {
    auto dir = std::filesystem::temp_directory_path() / ("pgauth-mail-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "magic-link.subject") << "Hi {{name}}\r\nBcc: victim@example.com\n";
    std::ofstream(dir / "magic-link.txt") << "custom {{url}}";
    Templates t(dir.string());
    EXPECT_EQ(t.overridden(), 2);
    auto r = t.render("magic-link", {{"name", "x\r\nBcc: y@example.com"}, {"url", "U"}});
    EXPECT_EQ(r.subject.find_first_of("\r\n"), std::string::npos) << r.subject;
    EXPECT_EQ(r.text, "custom U");
    EXPECT_NE(r.html.find("Sign in"), std::string::npos);  // the default HTML stays
    std::ofstream(dir / "verify-email.html") << "{{#unclosed}}";
    EXPECT_THROW(Templates{dir.string()}, TemplateError);
    std::filesystem::remove_all(dir);
}

TEST(MailTemplates, LinksGoOnTheAuthBaseUrl) {
    EXPECT_EQ(absolute_link("https://a.example/api/auth", "/verify-email?token=t"),
              "https://a.example/api/auth/verify-email?token=t");
    EXPECT_EQ(absolute_link("https://a.example/api/auth/", "/x"), "https://a.example/api/auth/x");
    EXPECT_EQ(absolute_link("https://a.example/api/auth", "https://b.example/y"), "https://b.example/y");
}

TEST(MailMessage, CarriesOneMessageIdPerRowAndBothBodies) {
    Rendered content{"Caf\xc3\xa9 sign-in", "text body \xc3\xa9\n", "<p>html</p>\n"};
    Envelope e{42, "pgauth <no-reply@auth.example.com>", "user@example.com", "auth.example.com"};
    std::string m = build_message(e, content, "Fri, 27 Nov 2026 16:30:12 +0000", "seed");
    EXPECT_NE(m.find("\r\nMessage-ID: <outbox-42@auth.example.com>\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("\r\nTo: user@example.com\r\n"), std::string::npos);
    EXPECT_NE(m.find("\r\nSubject: =?UTF-8?B?"), std::string::npos) << m;
    EXPECT_EQ(decode_part(m, "text/plain"), content.text);
    EXPECT_EQ(decode_part(m, "text/html"), content.html);
    for (std::size_t at = 0; (at = m.find('\n', at + 1)) != std::string::npos;) ASSERT_EQ(m[at - 1], '\r');
}

TEST(MailMessage, RefusesAddressesThatWouldInjectHeaders) {
    EXPECT_TRUE(safe_address("a.b+c@example.com"));
    EXPECT_FALSE(safe_address("a@example.com\r\nBcc: b@example.com"));
    EXPECT_FALSE(safe_address("a@example.com, b@example.com"));
    EXPECT_FALSE(safe_address("<a@example.com>"));
    EXPECT_FALSE(safe_address("no-at-sign"));
    EXPECT_EQ(bare_address("pgauth <no-reply@x.example>"), "no-reply@x.example");
    EXPECT_EQ(bare_address(" a@x.example "), "a@x.example");
}

TEST(MailWebhook, SignsTimestampDotBody) {
    pgauth::crypto_init();
    // HMAC-SHA256("key", "1700000000.{}"), computed independently with openssl dgst.
    EXPECT_EQ(webhook_signature("key", "1700000000", "{}"),
              "v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
    EXPECT_NE(webhook_signature("key", "1700000000", "{}"), webhook_signature("key", "1700000001", "{}"));
}

TEST(MailSmtp, StartTlsIsRequiredWhenCredentialsLeaveTheHost) {
    EXPECT_EQ(smtp_tls("smtps://u:p@mail.example.com:465"), SmtpTls::implicit);
    EXPECT_EQ(smtp_tls("smtp://u:p@mail.example.com:587"), SmtpTls::required);
    EXPECT_EQ(smtp_tls("smtp://u%40x:p%3A@mail.example.com"), SmtpTls::required);
    EXPECT_EQ(smtp_tls("smtp://mail.example.com:25"), SmtpTls::opportunistic);
    EXPECT_EQ(smtp_tls("smtp://u:p@127.0.0.1:2525"), SmtpTls::opportunistic);
    EXPECT_EQ(smtp_tls("smtp://u:p@localhost"), SmtpTls::opportunistic);
    EXPECT_EQ(smtp_tls("smtp://u:p@[::1]:25"), SmtpTls::opportunistic);
}

TEST(MailConfig, DefaultsAndChecks) {
    Config c = load_config({}, env_of(base_env()));
    EXPECT_EQ(c.email_from, "pgauth <no-reply@auth.example.com>");
    EXPECT_EQ(c.base_host(), "auth.example.com");
    EXPECT_EQ(c.email_workers, 2);
    auto env = base_env();
    env["PGAUTH_SMTP_URL"] = "http://mail.example.com";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);
    env = base_env();
    env["PGAUTH_EMAIL_WEBHOOK_URL"] = "https://app.example.com/hook";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);  // no secret
    env["PGAUTH_EMAIL_WEBHOOK_SECRET"] = std::string(32, 'k');
    EXPECT_NO_THROW(load_config({}, env_of(env)));
    env["PGAUTH_SMTP_URL"] = "smtp://localhost:2525";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);  // both
    env = base_env();
    env["PGAUTH_OUTBOX_LEASE_SECONDS"] = "5";
    env["PGAUTH_EMAIL_SEND_TIMEOUT_MS"] = "10000";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);  // a send could outlive its lease
    env = base_env();
    env["PGAUTH_EMAIL_FROM"] = "Example <no-reply@example.com>";
    EXPECT_EQ(load_config({}, env_of(env)).email_from, "Example <no-reply@example.com>");
    for (const char* bad : {"no-reply", "a@example.com, b@example.com", "Example <a@example.com>\r\nBcc: b@example.com"}) {
        env["PGAUTH_EMAIL_FROM"] = bad;
        EXPECT_THROW(load_config({}, env_of(env)), ConfigError) << bad;
    }
    env = base_env();
    env["PGAUTH_BASE_URL"] = "http://127.0.0.1:8080";
    EXPECT_EQ(load_config({}, env_of(env)).base_host(), "127.0.0.1");
}
