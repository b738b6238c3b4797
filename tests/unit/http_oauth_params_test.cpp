// The OAuth provider's request parsing (http/oauth_params.hpp): form and query
// parameters, client credentials and Bearer tokens.
#include <gtest/gtest.h>

#include "core/crypto.hpp"
#include "oauth_params.hpp"

using namespace pgauth;
using namespace pgauth::http;
namespace op = pgauth::http::oauth_params;
using nlohmann::json;

namespace {

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const ApiError& e) {
        return e.code() + "/" + std::to_string(e.status());
    }
    return "none";
}

}  // namespace

TEST(OAuthParams, DecodesPlusAndPercent) {
    auto p = op::parse("scope=openid+profile%20email&state=a%2Bb&redirect_uri=https%3A%2F%2Fa.example%2Fcb");
    EXPECT_EQ(p["scope"], "openid profile email");
    EXPECT_EQ(p["state"], "a+b");
    EXPECT_EQ(p["redirect_uri"], "https://a.example/cb");
}

TEST(OAuthParams, RefusesRepeatedParameters) {
    EXPECT_EQ(error_of([] { op::parse("client_id=a&client_id=b"); }), "OAUTH_INVALID_REQUEST/400");
    // an empty value counts as sent
    EXPECT_EQ(error_of([] { op::parse("state=&state=x"); }), "OAUTH_INVALID_REQUEST/400");
}

TEST(OAuthParams, ResourceMayRepeatAndIsAnArray) {
    auto p = op::parse("resource=https%3A%2F%2Fa.example%2Fmcp&resource=https%3A%2F%2Fb.example");
    ASSERT_TRUE(p["resource"].is_array());
    EXPECT_EQ(p["resource"], json::array({"https://a.example/mcp", "https://b.example"}));
    EXPECT_EQ(op::parse("resource=x")["resource"], json::array({"x"}));
}

TEST(OAuthParams, EmptyValuesAreOmitted) {
    auto p = op::parse("a=&b=1&&c");
    EXPECT_FALSE(p.contains("a"));
    EXPECT_FALSE(p.contains("c"));
    EXPECT_EQ(p["b"], "1");
}

TEST(OAuthParams, RefusesHostileInput) {
    EXPECT_EQ(error_of([] { op::parse("a=%zz"); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(error_of([] { op::parse("a=%4"); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(error_of([] { op::parse("a=x%00y"); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(error_of([] { op::parse("a=x%0Ay"); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(error_of([] { op::parse("a=%C0%AF"); }), "OAUTH_INVALID_REQUEST/400");  // overlong
    EXPECT_EQ(error_of([] { op::parse("a=%FF"); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(error_of([] { op::parse("a=" + std::string(op::max_value_bytes + 1, 'x')); }), "OAUTH_INVALID_REQUEST/400");
    std::string many;
    for (int i = 0; i < 70; ++i) many += "p" + std::to_string(i) + "=1&";
    EXPECT_EQ(error_of([&] { op::parse(many); }), "OAUTH_INVALID_REQUEST/400");
    EXPECT_EQ(op::parse("name=%C3%A9")["name"], "\xC3\xA9");
}

TEST(OAuthParams, BasicCredentialsAreFormDecoded) {
    // RFC 6749 2.3.1: id and secret are form-urlencoded, then joined with ':'.
    json params = json::object();
    auto auth = op::client_auth("Basic " + base64_encode(as_bytes(std::string("my%3Aclient:s%2Bcr+t"))), params);
    EXPECT_TRUE(auth.basic);
    EXPECT_EQ(auth.json["method"], "client_secret_basic");
    EXPECT_EQ(auth.json["client_id"], "my:client");
    EXPECT_EQ(auth.json["client_secret"], "s+cr t");
}

TEST(OAuthParams, ClientAuthMethods) {
    json post = op::parse("client_id=c&client_secret=s&grant_type=x");
    auto a = op::client_auth(std::nullopt, post);
    EXPECT_EQ(a.json["method"], "client_secret_post");
    EXPECT_FALSE(post.contains("client_secret"));
    EXPECT_EQ(post["grant_type"], "x");

    json none = op::parse("client_id=c");
    EXPECT_EQ(op::client_auth(std::nullopt, none).json["method"], "none");

    std::string payload = base64url_encode(as_bytes(std::string(R"({"sub":"cid","iss":"cid"})")));
    json jwt = op::parse("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                         "&client_assertion=eyJ." + payload + ".sig");
    auto j = op::client_auth(std::nullopt, jwt);
    EXPECT_EQ(j.json["method"], "private_key_jwt");
    EXPECT_EQ(j.json["client_id"], "cid");
}

TEST(OAuthParams, ClientAuthRefusals) {
    json two = op::parse("client_id=c&client_secret=s");
    EXPECT_EQ(error_of([&] { op::client_auth("Basic " + base64_encode(as_bytes(std::string("c:s"))), two); }),
              "OAUTH_INVALID_REQUEST/400");
    json other = op::parse("client_id=d");
    EXPECT_EQ(error_of([&] { op::client_auth("Basic " + base64_encode(as_bytes(std::string("c:s"))), other); }),
              "OAUTH_INVALID_REQUEST/400");
    json empty = json::object();
    EXPECT_EQ(error_of([&] { op::client_auth("Basic !!!", empty); }), "OAUTH_INVALID_CLIENT/401");
    EXPECT_EQ(error_of([&] { op::client_auth("Basic " + base64_encode(as_bytes(std::string("nocolon"))), empty); }),
              "OAUTH_INVALID_CLIENT/401");
    json wrong_type = op::parse("client_assertion_type=x&client_assertion=a.b.c");
    EXPECT_EQ(error_of([&] { op::client_auth(std::nullopt, wrong_type); }), "OAUTH_INVALID_REQUEST/400");
}

TEST(OAuthParams, BearerToken) {
    EXPECT_EQ(op::bearer_token(std::nullopt), std::nullopt);
    EXPECT_EQ(op::bearer_token("Basic abc"), std::nullopt);
    EXPECT_EQ(op::bearer_token("Bearer abc.def-_~+/=="), "abc.def-_~+/==");
    EXPECT_EQ(error_of([] { op::bearer_token("Bearer a b"); }), "OAUTH_INVALID_TOKEN/401");
    EXPECT_EQ(error_of([] { op::bearer_token("Bearer "); }), "OAUTH_INVALID_TOKEN/401");
    EXPECT_EQ(error_of([] { op::bearer_token("Bearer a=b"); }), "OAUTH_INVALID_TOKEN/401");
}

TEST(OAuthParams, WantsJson) {
    EXPECT_TRUE(op::wants_json("cors", std::nullopt));
    EXPECT_TRUE(op::wants_json(std::nullopt, "application/json"));
    EXPECT_FALSE(op::wants_json("navigate", "text/html,application/xhtml+xml,application/json;q=0.9"));
    EXPECT_FALSE(op::wants_json(std::nullopt, std::nullopt));
}
