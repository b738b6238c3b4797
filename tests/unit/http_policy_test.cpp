// Pure functions of pgauth-http: cookies, origins and redirects, rate limits, configuration.
#include <gtest/gtest.h>

#include <map>

#include "config.hpp"
#include "errors.hpp"
#include "cookies.hpp"
#include "core/crypto.hpp"
#include "metrics.hpp"
#include "origin.hpp"
#include "rate_limit.hpp"
#include "request_fields.hpp"

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
    using State = CookieLookup::State;
    const char* name = "better-auth.session_token";
    auto one = find_unique_cookie("a=1; better-auth.session_token=xyz; b=2", name);
    EXPECT_EQ(one.state, State::one);
    EXPECT_EQ(one.value, "xyz");
    EXPECT_EQ(find_unique_cookie("x=\"q\"", "x").value, "q");
    EXPECT_EQ(find_unique_cookie(" \tx = v \t;y=1", "x").value, "v");
    EXPECT_EQ(find_unique_cookie("better-auth.session_token_x=1; xbetter-auth.session_token=2", name).state, State::absent);
    EXPECT_EQ(find_unique_cookie("", name).state, State::absent);
    EXPECT_EQ(find_unique_cookie(";;=;better-auth.session_token", name).state, State::absent);  // no '=': not a pair
    EXPECT_EQ(find_unique_cookie("better-auth.session_token=", name).state, State::one);
    // cookie tossing: a second cookie of the same name makes both untrustworthy, whichever comes first
    for (const char* tossed : {"better-auth.session_token=evil; better-auth.session_token=good",
                               "better-auth.session_token=good;better-auth.session_token=evil",
                               "better-auth.session_token=same; a=1; better-auth.session_token=same",
                               "better-auth.session_token=x; better-auth.session_token="}) {
        auto r = find_unique_cookie(tossed, name);
        EXPECT_EQ(r.state, State::duplicate) << tossed;
        EXPECT_TRUE(r.value.empty()) << tossed;
    }
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
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.check("10.0.0.1", "sign-in-email", t0).allowed);
    auto denied = limiter.check("10.0.0.1", "sign-in-email", t0);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GE(denied.retry_after_seconds, 1);
    EXPECT_LE(denied.retry_after_seconds, 10);
    EXPECT_TRUE(limiter.check("10.0.0.2", "sign-in-email", t0).allowed);  // per IP
    EXPECT_TRUE(limiter.check("10.0.0.1", "get-session", t0).allowed);    // own budget
    EXPECT_TRUE(limiter.check("10.0.0.1", "sign-in-email", t0 + std::chrono::seconds(10)).allowed);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.check("10.0.0.3", "get-session", t0).allowed);
    EXPECT_FALSE(limiter.check("10.0.0.3", "get-session", t0).allowed);  // the 101st
    EXPECT_TRUE(limiter.check("10.0.0.3", "list-sessions", t0).allowed);  // per route
    RateLimiter off(false);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(off.check("10.0.0.1", "sign-in-email", t0).allowed);
    EXPECT_EQ(off.size(), 0u);
}

TEST(http_rate_limit, StrictnessComesFromTheRouteName) {
    for (const char* strict : {"sign-in-email", "sign-up-email", "sign-in-social", "change-password", "change-email",
                               "sign-in-magic-link", "sign-in-email-otp", "send-verification-email",
                               "request-password-reset", "forget-password-email-otp", "email-otp-send-verification-otp",
                               "email-otp-request-password-reset"})
        EXPECT_TRUE(strict_route(strict)) << strict;
    for (const char* loose : {"get-session", "not_found", "method_not_allowed", "sign-out", "verify-email",
                              "magic-link-verify", "reset-password", "/api/auth/sign-in/email", "x-sign-in"})
        EXPECT_FALSE(strict_route(loose)) << loose;
    // 404 and 405 answers share one loose bucket per client and never touch sign-up's budget
    RateLimiter limiter(true);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) {
        limiter.check("10.0.0.1", "not_found", t0);
        limiter.check("10.0.0.1", "method_not_allowed", t0);
    }
    EXPECT_EQ(limiter.size(), 2u);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.check("10.0.0.1", "sign-up-email", t0).allowed);
}

TEST(http_rate_limit, CappedWithExpiredFirstThenOldestEviction) {
    using namespace std::chrono_literals;
    RateLimiter limiter(true, 4);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) limiter.check("10.0.0.1", "sign-in-email", t0);  // the oldest, now limited
    limiter.check("10.0.0.2", "r", t0 + 1s);
    limiter.check("10.0.0.3", "r", t0 + 2s);
    limiter.check("10.0.0.4", "r", t0 + 3s);
    EXPECT_EQ(limiter.size(), 4u);
    EXPECT_FALSE(limiter.check("10.0.0.1", "sign-in-email", t0 + 4s).allowed);
    limiter.check("10.0.0.5", "r", t0 + 4s);  // full of live windows: the oldest (10.0.0.1) goes
    EXPECT_EQ(limiter.size(), 4u);
    EXPECT_TRUE(limiter.check("10.0.0.1", "sign-in-email", t0 + 4s).allowed);  // forgotten, so a fresh window
    // expired windows are dropped before any live one
    limiter.check("10.0.0.6", "r", t0 + 12s);  // 10.0.0.3 (t0+2s) has expired (10.0.0.2 was evicted)
    EXPECT_EQ(limiter.size(), 4u);  // .4, .5, .1, .6
    for (int i = 0; i < 99; ++i) ASSERT_TRUE(limiter.check("10.0.0.4", "r", t0 + 12s).allowed);
    // a flood of distinct clients never grows the table beyond its cap
    for (int i = 0; i < 10'000; ++i) limiter.check("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250), "r", t0 + 13s);
    EXPECT_EQ(limiter.size(), 4u);
    RateLimiter big(true);
    for (int i = 0; i < 150'000; ++i) big.check("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                                                    std::to_string(i & 255), "get-session", t0);
    EXPECT_EQ(big.size(), RateLimiter::max_entries);
}

TEST(http_rate_limit, KeyIsTheRouteNotThePath) {
    // the key never holds the request path: any spelling of a path maps to its route first
    RateLimiter limiter(true);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.check("10.0.0.1", "sign-in-email", t0).allowed);
    EXPECT_FALSE(limiter.check("10.0.0.1", "sign-in-email", t0).allowed);
    EXPECT_FALSE(limiter.check("[::ffff:10.0.0.1]", "sign-in-email", t0).allowed);  // same client spelled as IPv4-mapped
    EXPECT_EQ(limiter.size(), 1u);
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

TEST(http_config, ListenParsing) {
    auto a = parse_listen("[::1]:8080");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 8080);
    EXPECT_EQ(parse_listen("127.0.0.1:0").port, 0);
    EXPECT_EQ(parse_listen("localhost:65535").host, "localhost");
    EXPECT_EQ(parse_listen("[2001:db8::1]:443").host, "2001:db8::1");
    EXPECT_EQ(parse_listen("[::]:80").host, "::");
    for (const char* bad : {"", "8080", ":8080", "::1:8080", "[::1]", "[::1]8080", "[::1:8080", "[]:80", "[nope]:80",
                            "[127.0.0.1]:80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                            "127.0.0.1:123456", "a b:80", "host/x:80"})
        EXPECT_THROW(parse_listen(bad), ConfigError) << bad;
    try {
        parse_listen("::1:8080");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("brackets"), std::string::npos) << e.what();
    }
    EXPECT_EQ(bracket_host("::1"), "[::1]");
    EXPECT_EQ(bracket_host("127.0.0.1"), "127.0.0.1");

    std::map<std::string, std::string> env = {{"PGAUTH_DATABASE_URL", "postgresql://x/db"},
                                              {"PGAUTH_SECRET", std::string(32, 's')},
                                              {"PGAUTH_LISTEN", "[::1]:8080"}};
    auto lookup = [&](const char* n) -> const char* { auto it = env.find(n); return it == env.end() ? nullptr : it->second.c_str(); };
    Config c = load_config({}, lookup);
    EXPECT_EQ(c.listen_host, "::1");
    EXPECT_EQ(c.listen_address(), "[::1]:8080");
    EXPECT_EQ(c.base_url, "http://[::1]:8080");
    EXPECT_EQ(c.trusted_origins.at(0), "http://[::1]:8080");
    EXPECT_TRUE(c.metrics_token.empty());
    env["PGAUTH_METRICS_TOKEN"] = "m-token";
    EXPECT_EQ(load_config({}, lookup).metrics_token, "m-token");
    EXPECT_EQ(load_config({"--metrics-token", "other"}, lookup).metrics_token, "other");
    env["PGAUTH_LISTEN"] = "::1:8080";
    EXPECT_THROW(load_config({}, lookup), ConfigError);
}

TEST(http_fields, NulIsRefused) {
    auto ok = text_field_of(R"({"password":"correct-horse-battery"})", "password", true);
    EXPECT_TRUE(ok.error_code.empty());
    EXPECT_EQ(ok.value.value(), "correct-horse-battery");
    for (const char* body : {R"({"password":"correct-horse-battery\u0000WRONG"})", R"({"password":"\u0000"})",
                             R"({"password":"x\u0000"})"}) {
        auto r = text_field_of(body, "password", true);
        EXPECT_EQ(r.error_code, "VALIDATION_ERROR") << body;
        EXPECT_FALSE(r.value) << body;
        EXPECT_NE(r.message.find("NUL"), std::string::npos) << r.message;
    }
    EXPECT_EQ(text_field_of(R"({"password":12})", "password", true).error_code, "VALIDATION_ERROR");
    EXPECT_EQ(text_field_of(R"({})", "password", true).error_code, "VALIDATION_ERROR");
    auto absent = text_field_of(R"({"password":null})", "password", false);
    EXPECT_TRUE(absent.error_code.empty());
    EXPECT_FALSE(absent.value);
    EXPECT_EQ(text_field_of("{", "password", true).error_code, "BAD_REQUEST");
    EXPECT_EQ(text_field_of("[]", "password", true).error_code, "VALIDATION_ERROR");
    EXPECT_EQ(text_field_of(R"({"name":"caf\u00e9"})", "name", true).value.value(), "caf\xc3\xa9");
}

TEST(http_origin, CsrfRule) {
    OriginPolicy policy({"http://127.0.0.1:8080"});
    const std::string_view trusted = "http://127.0.0.1:8080", page = "http://127.0.0.1:8080/login", evil = "https://evil.example";
    auto refusal = [&](bool cookie, bool metadata, std::optional<std::string_view> origin, std::optional<std::string_view> referer) {
        auto r = csrf_refusal(policy, CsrfInput{cookie, metadata, origin, referer});
        return r ? std::string(*r) : std::string("allowed");
    };
    EXPECT_EQ(refusal(false, false, std::nullopt, std::nullopt), "allowed");  // a server-side caller
    EXPECT_EQ(refusal(false, false, evil, std::nullopt), "allowed");
    EXPECT_EQ(refusal(true, false, trusted, std::nullopt), "allowed");
    EXPECT_EQ(refusal(true, false, std::nullopt, page), "allowed");  // Referer only when Origin is absent
    EXPECT_EQ(refusal(true, false, "", page), "allowed");            // ... or empty
    EXPECT_EQ(refusal(true, false, "null", page), "MISSING_OR_NULL_ORIGIN");  // never falls back
    EXPECT_EQ(refusal(false, true, "null", page), "MISSING_OR_NULL_ORIGIN");
    EXPECT_EQ(refusal(true, false, std::nullopt, std::nullopt), "MISSING_OR_NULL_ORIGIN");
    EXPECT_EQ(refusal(true, false, std::nullopt, "null"), "MISSING_OR_NULL_ORIGIN");
    EXPECT_EQ(refusal(true, false, evil, page), "INVALID_ORIGIN");  // Origin wins over a trusted Referer
    EXPECT_EQ(refusal(false, true, std::nullopt, evil), "INVALID_ORIGIN");
}

TEST(http_metrics, Access) {
    for (const char* ip : {"127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]", "::ffff:127.0.0.1"})
        EXPECT_TRUE(is_loopback(ip)) << ip;
    for (const char* ip : {"10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "2001:db8::1", "", "localhost", "127.0.0.1x"})
        EXPECT_FALSE(is_loopback(ip)) << ip;
    using A = MetricsAccess;
    EXPECT_EQ(metrics_access("", std::nullopt, "127.0.0.1"), A::allowed);
    EXPECT_EQ(metrics_access("", std::nullopt, "10.0.0.1"), A::forbidden);
    EXPECT_EQ(metrics_access("", "Bearer x", "10.0.0.1"), A::forbidden);
    EXPECT_EQ(metrics_access("s3cret", "Bearer s3cret", "10.0.0.1"), A::allowed);
    EXPECT_EQ(metrics_access("s3cret", "bearer  s3cret", "10.0.0.1"), A::allowed);
    for (std::optional<std::string_view> bad : {std::optional<std::string_view>{}, std::optional<std::string_view>{"Bearer"},
                                                std::optional<std::string_view>{"Bearer "}, std::optional<std::string_view>{"Bearer s3cre"},
                                                std::optional<std::string_view>{"Bearer s3cret2"}, std::optional<std::string_view>{"Basic s3cret"},
                                                std::optional<std::string_view>{"s3cret"}})
        EXPECT_EQ(metrics_access("s3cret", bad, "127.0.0.1"), A::unauthorized) << bad.value_or("(none)");
}

TEST(http_fields, QueryParamIsPercentDecodedAndChecked) {
    auto code = [](std::optional<std::string> raw, std::size_t max = 128) {
        try {
            query_param(raw, "id", max);
            return std::string();
        } catch (const ApiError& e) {
            return e.code();
        }
    };
    EXPECT_FALSE(query_param(std::nullopt, "id", 128).has_value());
    EXPECT_EQ(query_param(std::string("abc-123"), "id", 128).value(), "abc-123");
    EXPECT_EQ(query_param(std::string("a%2Db%20c+d"), "id", 128).value(), "a-b c d");
    EXPECT_EQ(query_param(std::string("caf%C3%A9"), "id", 128).value(), "caf\xc3\xa9");
    EXPECT_EQ(code(std::string("a%00b")), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string("a%0Ab")), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string("%zz")), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string("ab%4")), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string("ab%")), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string(129, 'a')), "VALIDATION_ERROR");
    EXPECT_EQ(code(std::string(128, 'a')), "");
}

TEST(http_fields, NulAnywhereInAPassedThroughBodyIsRefused) {
    auto code = [](const char* text) {
        try {
            require_no_nul(nlohmann::json::parse(text));
            return std::string();
        } catch (const ApiError& e) {
            return e.code();
        }
    };
    EXPECT_EQ(code(R"({"a":"b","c":[1,{"d":null}]})"), "");
    EXPECT_EQ(code(R"({"a":"b\u0000"})"), "VALIDATION_ERROR");
    EXPECT_EQ(code(R"({"a\u0000":"b"})"), "VALIDATION_ERROR");
    EXPECT_EQ(code(R"({"a":{"b":["x","y\u0000"]}})"), "VALIDATION_ERROR");
    EXPECT_EQ(code(R"({"a":{"b\u0000":1}})"), "VALIDATION_ERROR");
}
