// Social sign-in configuration (flags, environment fallbacks, clear refusals that
// never show a secret) and the OAuth client's outbound bounds.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "config.hpp"
#include "integrations/oauth/fetch.hpp"
#include "integrations/oauth/providers.hpp"

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

std::string refusal(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    try {
        load_config(args, env_of(env));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(http_social, ProvidersFromTheEnvironment) {
    auto env = base_env;
    EXPECT_TRUE(load_config({}, env_of(env)).social_providers.empty());
    env["PGAUTH_GOOGLE_CLIENT_ID"] = "g-id";
    env["PGAUTH_GOOGLE_CLIENT_SECRET"] = "g-secret";
    env["PGAUTH_GITHUB_CLIENT_ID"] = "gh-id";
    env["PGAUTH_GITHUB_CLIENT_SECRET"] = "gh-secret";
    env["PGAUTH_GITHUB_URL"] = "https://github.example.com/";
    env["PGAUTH_OIDC_PROVIDERS"] = " acme , corp-sso";
    for (const char* p : {"ACME", "CORP_SSO"}) {
        std::string prefix = std::string("PGAUTH_OIDC_") + p;
        env[prefix + "_DISCOVERY_URL"] = "https://idp.example/.well-known/openid-configuration";
        env[prefix + "_CLIENT_ID"] = "id";
        env[prefix + "_CLIENT_SECRET"] = "secret";
    }
    env["PGAUTH_OIDC_CORP_SSO_SCOPES"] = "openid email groups";
    Config c = load_config({}, env_of(env));
    ASSERT_EQ(c.social_providers.size(), 4u);
    const auto& google = c.social_providers[0];
    EXPECT_EQ(google.id, "google");
    EXPECT_EQ(google.issuer, "https://accounts.google.com");
    EXPECT_EQ(google.discovery_url, "https://accounts.google.com/.well-known/openid-configuration");
    const auto& github = c.social_providers[1];
    EXPECT_EQ(github.kind, oauth::Kind::github);
    EXPECT_EQ(github.github_url, "https://github.example.com");
    EXPECT_EQ(github.github_api_url, "https://api.github.com");
    EXPECT_EQ(c.social_providers[2].id, "acme");
    EXPECT_EQ(c.social_providers[2].scopes, "openid email profile");
    EXPECT_EQ(c.social_providers[3].id, "corp-sso");
    EXPECT_EQ(c.social_providers[3].scopes, "openid email groups");
}

TEST(http_social, FlagsOverrideTheEnvironment) {
    auto env = base_env;
    env["PGAUTH_GOOGLE_CLIENT_ID"] = "from-env";
    env["PGAUTH_GOOGLE_CLIENT_SECRET"] = "s";
    Config c = load_config({"--google-client-id", "from-flag", "--google-issuer=http://127.0.0.1:9/",
                            "--oidc-providers", "acme", "--oidc-acme-discovery-url=https://idp.example/d",
                            "--oidc-acme-client-id", "a", "--oidc-acme-client-secret", "b"},
                           env_of(env));
    ASSERT_EQ(c.social_providers.size(), 2u);
    EXPECT_EQ(c.social_providers[0].client_id, "from-flag");
    EXPECT_EQ(c.social_providers[0].issuer, "http://127.0.0.1:9");
    EXPECT_EQ(c.social_providers[1].discovery_url, "https://idp.example/d");
}

TEST(http_social, MisconfigurationIsRefusedWithoutShowingSecrets) {
    auto env = base_env;
    env["PGAUTH_GITHUB_CLIENT_ID"] = "gh-id";
    EXPECT_NE(refusal({}, env).find("PGAUTH_GITHUB_CLIENT_SECRET is required"), std::string::npos);
    env["PGAUTH_GITHUB_CLIENT_SECRET"] = "very-secret-value";
    env["PGAUTH_GITHUB_API_URL"] = "ftp://x";
    std::string why = refusal({}, env);
    EXPECT_NE(why.find("PGAUTH_GITHUB_API_URL"), std::string::npos) << why;
    EXPECT_EQ(why.find("very-secret-value"), std::string::npos) << why;
    env.erase("PGAUTH_GITHUB_API_URL");
    env["PGAUTH_OIDC_PROVIDERS"] = "Acme!";
    EXPECT_NE(refusal({}, env).find("not a provider id"), std::string::npos);
    env["PGAUTH_OIDC_PROVIDERS"] = "github";
    EXPECT_NE(refusal({}, env).find("configured twice"), std::string::npos);
    env["PGAUTH_OIDC_PROVIDERS"] = "acme";
    EXPECT_NE(refusal({}, env).find("PGAUTH_OIDC_ACME_DISCOVERY_URL is required"), std::string::npos);
    EXPECT_NE(refusal({"--oidc-acme-client-id"}, env).find("missing value"), std::string::npos);
}

TEST(http_social, FetchIsBoundedAndFailsWhole) {
    oauth::FetchLimits limits;
    limits.connect_timeout = std::chrono::milliseconds(500);
    limits.total_timeout = std::chrono::milliseconds(1000);
    // Nothing listens on port 1: an UpstreamError naming the host, never a hang.
    try {
        oauth::fetch({"GET", "http://127.0.0.1:1/x?code=secret-code", {}, ""}, limits);
        FAIL();
    } catch (const oauth::UpstreamError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("http://127.0.0.1:1"), std::string::npos) << what;
        EXPECT_EQ(what.find("secret-code"), std::string::npos) << what;
    }
    // Only http and https.
    EXPECT_THROW(oauth::fetch({"GET", "file:///etc/passwd", {}, ""}, limits), oauth::UpstreamError);
    EXPECT_EQ(oauth::form_encode({{"redirect_uri", "http://a/b?c=d e"}, {"x", "~._-"}}),
              "redirect_uri=http%3A%2F%2Fa%2Fb%3Fc%3Dd%20e&x=~._-");
}
