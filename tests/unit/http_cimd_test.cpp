// The CIMD fetcher's SSRF address classification and Cache-Control parsing.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include "integrations/cimd/fetcher.hpp"
#include "oauth_errors.hpp"

using namespace pgauth::http;

namespace {

bool is_public(const char* text) {
    sockaddr_in6 v6{};
    sockaddr_in v4{};
    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        return cimd::is_public_address(reinterpret_cast<const sockaddr*>(&v4));
    }
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
    v6.sin6_family = AF_INET6;
    return cimd::is_public_address(reinterpret_cast<const sockaddr*>(&v6));
}

}  // namespace

TEST(CimdAddresses, PrivateLoopbackLinkLocalAndReservedAreRefused) {
    for (const char* a : {"0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "127.9.9.9", "169.254.169.254", "172.16.0.1",
                          "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.51.100.7",
                          "203.0.113.9", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fd12::1",
                          "fe80::1", "fec0::1", "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                          "::ffff:169.254.169.254", "64:ff9b::a00:1", "::127.0.0.1", "100::1"})
        EXPECT_FALSE(is_public(a)) << a;
}

TEST(CimdAddresses, PublicUnicastIsAllowed) {
    for (const char* a : {"1.1.1.1", "8.8.8.8", "93.184.216.34", "172.32.0.1", "192.169.0.1", "2606:4700::1111",
                          "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808"})
        EXPECT_TRUE(is_public(a)) << a;
}

TEST(CimdCacheControl, MaxAge) {
    EXPECT_EQ(cimd::max_age_of("public, max-age=120"), 120);
    EXPECT_EQ(cimd::max_age_of("max-age=\"60\""), 60);
    EXPECT_EQ(cimd::max_age_of("s-maxage=5, max-age=30"), 30);
    EXPECT_EQ(cimd::max_age_of("no-store"), 0);
    EXPECT_EQ(cimd::max_age_of("max-age=600, no-cache"), 0);
    EXPECT_EQ(cimd::max_age_of("max-age=99999999999999"), 0x7fffffff);
    EXPECT_EQ(cimd::max_age_of("public"), std::nullopt);
    EXPECT_EQ(cimd::max_age_of("max-age=abc"), std::nullopt);
    EXPECT_EQ(cimd::max_age_of(""), std::nullopt);
}

TEST(CimdFetch, RefusesBeforeConnecting) {
    cimd::FetchSettings s;
    EXPECT_THROW(cimd::fetch("http://example.com/client.json", s), cimd::FetchError);
    EXPECT_THROW(cimd::fetch("ftp://example.com/client.json", s), cimd::FetchError);
    EXPECT_THROW(cimd::fetch("https://user:pw@example.com/client.json", s), cimd::FetchError);
    EXPECT_THROW(cimd::fetch("not a url", s), cimd::FetchError);
    s.allow_http_loopback = true;
    EXPECT_THROW(cimd::fetch("http://example.com/client.json", s), cimd::FetchError);  // loopback hosts only
}

TEST(OAuthErrors, CatalogCodesMapToRfcErrors) {
    EXPECT_EQ(oauth_error_value("OAUTH_INVALID_REDIRECT_URI", 400), "invalid_redirect_uri");
    EXPECT_EQ(oauth_error_value("OAUTH_INVALID_CLIENT_METADATA", 400), "invalid_client_metadata");
    EXPECT_EQ(oauth_error_value("OAUTH_ACCESS_DENIED", 403), "access_denied");
    EXPECT_EQ(oauth_error_value("PAYLOAD_TOO_LARGE", 413), "invalid_request");
    EXPECT_EQ(oauth_error_value("UNSUPPORTED_MEDIA_TYPE", 415), "invalid_request");
    EXPECT_EQ(oauth_error_value("RATE_LIMITED", 429), "temporarily_unavailable");
    EXPECT_EQ(oauth_error_value("INTERNAL_ERROR", 500), "server_error");
}
