// Pure functions of pgauth-http: cookies, origins and redirects, rate limits, configuration.
#include <gtest/gtest.h>

#include <map>

#include "config.hpp"
#include "cookies.hpp"
#include "core/crypto.hpp"
#include "origin.hpp"
#include "rate_limit.hpp"

using namespace pgauth::http;

TEST(http_cookies, SignedTokenMatchesBetterAuth) {
    pgauth::crypto_init();
    // HMAC-SHA256(key="secret", msg="token") in standard base64 (Node crypto), as Better-Auth signs cookies
    EXPECT_EQ(sign_token("token", "secret"), "token.6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko=");
    EXPECT_EQ(verify_signed_token("token.6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko=", "secret").value(), "token");
    EXPECT_FALSE(verify_signed_token("token.6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko=", "other"));
    EXPECT_FALSE(verify_signed_token("tokeN.6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko=", "secret"));
    EXPECT_FALSE(verify_signed_token("token.6UERDj0r/oJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGk", "secret"));
    EXPECT_FALSE(verify_signed_token("token", "secret"));
    EXPECT_FALSE(verify_signed_token(".abc", "secret"));
    EXPECT_FALSE(verify_signed_token("", "secret"));
    // one accepted spelling: a '/' of the signature written as a byte >= 0x80 is refused
    EXPECT_FALSE(verify_signed_token("token.6UERDj0r\xcfoJiHw4+FDRzDXMF0QbF9oyHFl0LJ6RhGko=", "secret"));
}

TEST(http_cookies, UrlEncoding) {
    EXPECT_EQ(url_encode("a+b/c=d.e_f-g~"), "a%2Bb%2Fc%3Dd.e_f-g~");
    EXPECT_EQ(url_decode("a%2Bb%2fc%3D").value(), "a+b/c=");
    EXPECT_FALSE(url_decode("%E"));
    EXPECT_FALSE(url_decode("%zz"));
    EXPECT_FALSE(url_decode("abc%"));
}

TEST(http_cookies, FindAndSet) {
    EXPECT_EQ(find_cookie("a=1; better-auth.session_token=xyz; b=2", "better-auth.session_token").value(), "xyz");
    EXPECT_EQ(find_cookie("x=\"q\"", "x").value(), "q");
    EXPECT_FALSE(find_cookie("better-auth.session_token_x=1", "better-auth.session_token"));
    EXPECT_EQ(set_cookie("n", "v", {604800, false}), "n=v; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax");
    EXPECT_EQ(set_cookie("n", "v", {std::nullopt, true}), "n=v; Path=/; HttpOnly; SameSite=Lax; Secure");
}

TEST(http_origin, OriginOf) {
    EXPECT_EQ(origin_of("https://App.Example.com/path?q").value(), "https://app.example.com");
    EXPECT_EQ(origin_of("http://127.0.0.1:8080").value(), "http://127.0.0.1:8080");
    EXPECT_EQ(origin_of("https://a.example:443/").value(), "https://a.example");
    EXPECT_EQ(origin_of("http://[::1]:3000/x").value(), "http://[::1]:3000");
    for (const char* bad : {"", "//evil.example", "https:evil.example", "javascript:alert(1)", "ftp://x.example",
                            "https://user@evil.example", "https://a.example\\@evil", "https://a b.example",
                            "https://a.example:99999", "https://a.example:8x", "http://", "http://\r\nx"})
        EXPECT_FALSE(origin_of(bad)) << bad;
}

TEST(http_origin, Policy) {
    OriginPolicy policy({"http://127.0.0.1:8080", "https://app.example.com"});
    EXPECT_TRUE(policy.trusted_origin("https://app.example.com"));
    EXPECT_TRUE(policy.trusted_origin("https://APP.example.com/page"));  // a Referer
    EXPECT_FALSE(policy.trusted_origin("https://app.example.com.evil.com"));
    EXPECT_FALSE(policy.trusted_origin("http://app.example.com"));
    EXPECT_FALSE(policy.trusted_origin("null"));
    EXPECT_TRUE(policy.safe_redirect("/dashboard"));
    EXPECT_TRUE(policy.safe_redirect("/"));
    EXPECT_TRUE(policy.safe_redirect("https://app.example.com/after"));
    for (const char* bad : {"//evil.example", "/\\evil.example", "https://evil.example", "https:evil.example",
                            "https://app.example.com@evil.example", "/x\r\nSet-Cookie:a", "\\\\evil", "evil.example", ""})
        EXPECT_FALSE(policy.safe_redirect(bad)) << bad;
}

TEST(http_rate_limit, BetterAuthDefaults) {
    RateLimiter limiter(true);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.check("10.0.0.1", "/api/auth/sign-in/email", t0).allowed);
    auto denied = limiter.check("10.0.0.1", "/api/auth/sign-in/email", t0);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GE(denied.retry_after_seconds, 1);
    EXPECT_TRUE(limiter.check("10.0.0.2", "/api/auth/sign-in/email", t0).allowed);  // per IP
    EXPECT_TRUE(limiter.check("10.0.0.1", "/api/auth/get-session", t0).allowed);   // own budget
    EXPECT_TRUE(limiter.check("10.0.0.1", "/api/auth/sign-in/email", t0 + std::chrono::seconds(10)).allowed);
    for (int i = 1; i < 100; ++i) ASSERT_TRUE(limiter.check("10.0.0.3", "/api/auth/get-session", t0).allowed);
    EXPECT_TRUE(limiter.check("10.0.0.3", "/api/auth/list-sessions", t0).allowed);  // the 100th
    EXPECT_FALSE(limiter.check("10.0.0.3", "/api/auth/get-session", t0).allowed);
    RateLimiter off(false);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(off.check("10.0.0.1", "/api/auth/sign-in/email", t0).allowed);
}

TEST(http_rate_limit, Ipv6GroupedBy64) {
    EXPECT_EQ(rate_limit_key("2001:db8:1:2:aaaa::1"), rate_limit_key("2001:db8:1:2:bbbb::2"));
    EXPECT_NE(rate_limit_key("2001:db8:1:2::1"), rate_limit_key("2001:db8:1:3::1"));
    EXPECT_EQ(rate_limit_key("::ffff:10.1.2.3"), "10.1.2.3");
    EXPECT_EQ(rate_limit_key("10.1.2.3"), "10.1.2.3");
}

TEST(http_config, EnvironmentAndFlags) {
    std::map<std::string, std::string> env = {{"PGAUTH_DATABASE_URL", "postgresql://x/db"},
                                              {"PGAUTH_SECRET", std::string(32, 's')},
                                              {"PGAUTH_TRUSTED_ORIGINS", "https://app.example.com, http://localhost:3000"}};
    auto lookup = [&](const char* n) -> const char* { auto it = env.find(n); return it == env.end() ? nullptr : it->second.c_str(); };
    Config c = load_config({"--listen", "127.0.0.1:9090", "--rate-limit=off", "--threads", "3"}, lookup);
    EXPECT_EQ(c.listen_port, 9090);
    EXPECT_FALSE(c.rate_limit);
    EXPECT_EQ(c.threads, 3);
    EXPECT_EQ(c.pool_size, 3);
    EXPECT_EQ(c.base_url, "http://127.0.0.1:9090");
    EXPECT_EQ(c.trusted_origins.size(), 3u);
    EXPECT_EQ(c.cookie_name(), "better-auth.session_token");
    env["PGAUTH_BASE_URL"] = "https://auth.example.com/";
    EXPECT_EQ(load_config({}, lookup).cookie_name(), "__Secure-better-auth.session_token");
    EXPECT_THROW(load_config({"--bogus", "1"}, lookup), ConfigError);
    EXPECT_THROW(load_config({"--threads", "0"}, lookup), ConfigError);
    EXPECT_THROW(load_config({"--rate-limit", "maybe"}, lookup), ConfigError);
    EXPECT_THROW(load_config({"--help"}, lookup), HelpRequested);
    env["PGAUTH_SECRET"] = "short";
    EXPECT_THROW(load_config({}, lookup), ConfigError);
    env.erase("PGAUTH_SECRET");
    EXPECT_THROW(load_config({}, lookup), ConfigError);
}
