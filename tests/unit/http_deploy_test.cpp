// Deployment pieces of pgauth-http: client addresses behind proxies, CORS,
// log lines, start-up checks and their configuration.
#include <gtest/gtest.h>

#include <map>

#include "client_address.hpp"
#include "config.hpp"
#include "cors.hpp"
#include "log.hpp"
#include "rate_limit.hpp"
#include "shared_rate_limit.hpp"
#include "startup.hpp"

using namespace pgauth::http;

namespace {
Environment env_of(std::map<std::string, std::string> vars) {
    auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [held](const char* name) -> const char* {
        auto it = held->find(name);
        return it == held->end() ? nullptr : it->second.c_str();
    };
}
const std::map<std::string, std::string> base_env = {{"PGAUTH_DATABASE_URL", "postgresql:///x"},
                                                     {"PGAUTH_SECRET", "0123456789abcdef0123456789abcdef"}};
}  // namespace

TEST(http_client_address, Cidrs) {
    auto c = parse_cidr("10.0.0.0/8");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->contains("10.1.2.3"));
    EXPECT_FALSE(c->contains("11.0.0.1"));
    EXPECT_FALSE(c->contains("::1"));
    EXPECT_TRUE(parse_cidr("127.0.0.1")->contains("127.0.0.1"));
    EXPECT_FALSE(parse_cidr("127.0.0.1")->contains("127.0.0.2"));
    EXPECT_TRUE(parse_cidr("fd00::/8")->contains("fd12:3456::1"));
    EXPECT_TRUE(parse_cidr("::1")->contains("[::1]"));
    EXPECT_TRUE(parse_cidr("192.168.1.0/25")->contains("::ffff:192.168.1.100"));
    EXPECT_FALSE(parse_cidr("192.168.1.0/25")->contains("192.168.1.200"));
    EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
    EXPECT_FALSE(parse_cidr("nonsense"));
    EXPECT_FALSE(parse_cidr("10.0.0.0/"));
    EXPECT_THROW(TrustedProxies::parse("127.0.0.1/32, bad"), std::invalid_argument);
}

TEST(http_client_address, ForwardedForOnlyFromTrustedProxies) {
    auto proxies = TrustedProxies::parse("127.0.0.1/32, 10.0.0.0/8, ::1");
    // not from a proxy: the header is ignored
    EXPECT_EQ(proxies.resolve("203.0.113.9", {"198.51.100.1"}, {}), "203.0.113.9");
    // from a proxy: the right-most untrusted hop
    EXPECT_EQ(proxies.resolve("127.0.0.1", {"198.51.100.1"}, {}), "198.51.100.1");
    EXPECT_EQ(proxies.resolve("127.0.0.1", {"6.6.6.6, 198.51.100.1, 10.0.0.5"}, {}), "198.51.100.1");
    // all trusted: the left-most
    EXPECT_EQ(proxies.resolve("127.0.0.1", {"10.0.0.7, 10.0.0.5"}, {}), "10.0.0.7");
    // no header: the proxy itself
    EXPECT_EQ(proxies.resolve("127.0.0.1", {}, {}), "127.0.0.1");
    // garbage hop: the last trusted address
    EXPECT_EQ(proxies.resolve("127.0.0.1", {"198.51.100.1, junk"}, {}), "127.0.0.1");
    EXPECT_EQ(proxies.resolve("[::1]", {"2001:db8::1"}, {}), "2001:db8::1");
    // Forwarded (RFC 7239) wins over X-Forwarded-For
    EXPECT_EQ(proxies.resolve("127.0.0.1", {"1.1.1.1"}, {"for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\""}),
              "2001:db8:cafe::17");
    EXPECT_EQ(proxies.resolve("127.0.0.1", {}, {"For=\"192.0.2.60:8080\";by=10.0.0.1"}), "192.0.2.60");
    // no proxies configured: always the peer
    EXPECT_EQ(TrustedProxies{}.resolve("127.0.0.1", {"198.51.100.1"}, {}), "127.0.0.1");
}

TEST(http_client_address, Ipv6ClientsShareTheirSlash64Bucket) {
    EXPECT_EQ(rate_limit_key("2001:db8:1:2::1"), rate_limit_key("2001:db8:1:2:ffff:eeee:dddd:cccc"));
    EXPECT_NE(rate_limit_key("2001:db8:1:2::1"), rate_limit_key("2001:db8:1:3::1"));
    auto proxies = TrustedProxies::parse("127.0.0.1");
    EXPECT_EQ(rate_limit_key(proxies.resolve("127.0.0.1", {"2001:db8:1:2::1"}, {})),
              rate_limit_key(proxies.resolve("127.0.0.1", {"2001:db8:1:2::99"}, {})));
}

TEST(http_cors, PreflightAndResponseHeaders) {
    OriginPolicy policy({"http://localhost:3000"});
    auto ok = cors_preflight(policy, "http://localhost:3000", "POST, OPTIONS", "Content-Type, authorization, x-evil");
    EXPECT_EQ(ok.status, 204);
    std::map<std::string, std::string> h(ok.headers.begin(), ok.headers.end());
    EXPECT_EQ(h["Access-Control-Allow-Origin"], "http://localhost:3000");
    EXPECT_EQ(h["Access-Control-Allow-Credentials"], "true");
    EXPECT_EQ(h["Access-Control-Allow-Headers"], "content-type, authorization");
    EXPECT_EQ(h["Access-Control-Max-Age"], "600");
    auto refused = cors_preflight(policy, "https://evil.example", "POST", std::nullopt);
    EXPECT_EQ(refused.status, 403);
    for (const auto& [name, value] : refused.headers) EXPECT_NE(name, "Access-Control-Allow-Origin");
    auto actual = cors_response_headers(policy, std::string_view("http://localhost:3000"));
    std::map<std::string, std::string> a(actual.begin(), actual.end());
    EXPECT_EQ(a["Access-Control-Expose-Headers"], "set-auth-token, set-auth-jwt");
    EXPECT_EQ(a["Vary"], "Origin");
    EXPECT_EQ(cors_response_headers(policy, std::nullopt).size(), 1u);  // Vary only
    EXPECT_EQ(cross_site_cookie("n=v; Path=/; HttpOnly; SameSite=Lax"), "n=v; Path=/; HttpOnly; SameSite=None; Secure");
    EXPECT_EQ(cross_site_cookie("n=v; Path=/; HttpOnly; SameSite=Lax; Secure"), "n=v; Path=/; HttpOnly; SameSite=None; Secure");
}

TEST(http_log, LinesAreJsonWithIsoTimestampAndLevel) {
    using namespace std::chrono;
    auto at = system_clock::time_point(milliseconds(1795622063081));
    auto line = nlohmann::json::parse(log::format(log::Level::warn, "hello", {{"k", 1}}, at));
    EXPECT_EQ(line["ts"], "2026-11-25T15:54:23.081Z");
    EXPECT_EQ(line["level"], "warn");
    EXPECT_EQ(line["msg"], "hello");
    EXPECT_EQ(line["k"], 1);
    EXPECT_EQ(nlohmann::json(log::round_ms(0.08146099999999999)).dump(), "0.081");
    EXPECT_EQ(nlohmann::json(log::round_ms(12.3456)).dump(), "12.346");
}

TEST(http_startup, VersionsAndConnectionFailures) {
    EXPECT_EQ(compare_versions("0.4.0", "0.4.0"), 0);
    EXPECT_LT(compare_versions("0.3.0", "0.4.0"), 0);
    EXPECT_GT(compare_versions("0.10.0", "0.4.0"), 0);
    EXPECT_TRUE(transient_connection_failure("connection to server at \"127.0.0.1\", port 1 failed: Connection refused"));
    EXPECT_FALSE(transient_connection_failure("connection to server failed: FATAL:  database \"nope\" does not exist"));
    EXPECT_FALSE(transient_connection_failure("invalid URI query parameter: \"x\""));
}

TEST(http_config, DeploymentSettings) {
    auto env = base_env;
    env["PGAUTH_TRUSTED_PROXIES"] = "127.0.0.1/32,::1";
    env["PGAUTH_RATE_LIMIT_STORE"] = "postgres";
    Config c = load_config({}, env_of(env));
    EXPECT_TRUE(c.trusted_proxies.trusted("127.0.0.1"));
    EXPECT_TRUE(c.shared_rate_limit);
    EXPECT_FALSE(c.cross_site_cookies);
    env["PGAUTH_TRUSTED_PROXIES"] = "localhost";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);
    env.erase("PGAUTH_TRUSTED_PROXIES");
    env["PGAUTH_RATE_LIMIT_STORE"] = "redis";
    EXPECT_THROW(load_config({}, env_of(env)), ConfigError);
    env.erase("PGAUTH_RATE_LIMIT_STORE");
    // cross-site cookies: https, or http on localhost only
    EXPECT_TRUE(load_config({"--cross-site-cookies", "on", "--base-url", "https://auth.example.com"}, env_of(env)).secure_cookies());
    EXPECT_NO_THROW(load_config({"--cross-site-cookies=on", "--base-url=http://localhost:8080"}, env_of(env)));
    EXPECT_THROW(load_config({"--cross-site-cookies=on", "--base-url=http://auth.example.com"}, env_of(env)), ConfigError);
    EXPECT_THROW(load_config({"--version"}, env_of(env)), VersionRequested);
    try {
        load_config({"--lisen", "x"}, env_of(env));
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("valid options: --database-url --listen"), std::string::npos) << e.what();
    }
}

