// errors::make and errors::from_sql: every status and message from the compiled catalog.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error_codes.hpp"
#include "errors.hpp"

using namespace pgauth::http;

TEST(HttpErrors, MakeTakesStatusAndMessageFromTheCatalog) {
    for (const auto& row : pgauth::error_catalog()) {
        ApiError e = errors::make(row.code);
        EXPECT_EQ(e.status(), row.http_status) << row.code;
        EXPECT_EQ(e.code(), row.code);
        EXPECT_EQ(std::string(e.what()), row.message);
    }
    ApiError e = errors::make("UNAUTHORIZED", "a more precise message");
    EXPECT_EQ(e.status(), 401);
    EXPECT_STREQ(e.what(), "a more precise message");
}

TEST(HttpErrors, UnknownCodeIsInternalError) {
    for (ApiError e : {errors::make("NO_SUCH_CODE"), errors::make("NO_SUCH_CODE", "detail")}) {
        EXPECT_EQ(e.status(), 500);
        EXPECT_EQ(e.code(), "INTERNAL_ERROR");
        EXPECT_STREQ(e.what(), "Internal error");
    }
}

TEST(HttpErrors, SigningKeyUnavailableIs503) {
    EXPECT_EQ(errors::make("SIGNING_KEY_UNAVAILABLE").status(), 503);
}

TEST(HttpErrors, BodyIsCodeAndMessage) {
    auto body = nlohmann::json::parse(errors::make("RATE_LIMITED").body());
    EXPECT_EQ(body, (nlohmann::json{{"code", "RATE_LIMITED"}, {"message", "Too many requests. Please try again later."}}));
}

TEST(HttpErrors, SqlErrorsMapByTheirDetailCode) {
    ApiError e = errors::from_sql("PA401", "Invalid email or password", "INVALID_EMAIL_OR_PASSWORD");
    EXPECT_EQ(e.status(), 401);
    EXPECT_EQ(e.code(), "INVALID_EMAIL_OR_PASSWORD");
    EXPECT_STREQ(e.what(), "Invalid email or password");
    // a 4xx keeps the raised reason
    e = errors::from_sql("PA400", "password must be at least 8 characters", "PASSWORD_TOO_SHORT");
    EXPECT_EQ(e.status(), 400);
    EXPECT_STREQ(e.what(), "password must be at least 8 characters");
    // the catalog's status wins over the SQLSTATE digits
    e = errors::from_sql("PA500", "no key", "SIGNING_KEY_UNAVAILABLE");
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(e.code(), "SIGNING_KEY_UNAVAILABLE");
}

TEST(HttpErrors, ServerErrorsNeverShowTheRaisedText) {
    ApiError e = errors::from_sql("PA503", "cannot open /etc/pgauth/kek: permission denied", "SIGNING_KEY_UNAVAILABLE");
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(std::string(e.what()).find("/etc"), std::string::npos);
    e = errors::from_sql("PA500", "stored hash $argon2id$... is too expensive", "PASSWORD_HASH_UNVERIFIABLE");
    EXPECT_EQ(e.status(), 500);
    EXPECT_EQ(e.code(), "INTERNAL_ERROR");
    EXPECT_STREQ(e.what(), "Internal error");
}

TEST(HttpErrors, CodesNewerThanTheCatalogAndPostgresErrors) {
    ApiError e = errors::from_sql("PA422", "A newer rule", "SOME_NEWER_CODE");
    EXPECT_EQ(e.status(), 422);
    EXPECT_EQ(e.code(), "SOME_NEWER_CODE");
    EXPECT_EQ(errors::from_sql("PA503", "x", "SOME_NEWER_CODE").code(), "INTERNAL_ERROR");
    EXPECT_EQ(errors::from_sql("PA400", "x", "").code(), "INTERNAL_ERROR");
    EXPECT_EQ(errors::from_sql("22P02", "invalid input syntax for type inet", "").code(), "VALIDATION_ERROR");
    EXPECT_EQ(errors::from_sql("22P02", "x", "").status(), 400);
    EXPECT_EQ(errors::from_sql("57014", "canceling statement due to statement timeout", "").status(), 503);
    EXPECT_EQ(errors::from_sql("42883", "function auth.x does not exist", "").status(), 500);
}

// The extension's structured retry: the HINT "Retry-After: <seconds>" of a 429, never the message text.
TEST(http_errors, RetryAfterFromTheHint) {
    EXPECT_EQ(errors::from_sql("PA429", "Too many failed sign-in attempts. Try again in 8 seconds.", "ACCOUNT_LOCKED",
                               "Retry-After: 8")
                  .retry_after(),
              8);
    EXPECT_EQ(errors::from_sql("PA429", "API Key rate limited", "RATE_LIMITED", "Retry-After: 42").retry_after(), 42);
    EXPECT_EQ(errors::from_sql("PA429", "Try again in 8 seconds.", "ACCOUNT_LOCKED").retry_after(), 0);
    EXPECT_EQ(errors::from_sql("PA429", "x", "ACCOUNT_LOCKED", "Retry-After: soon").retry_after(), 0);
    EXPECT_EQ(errors::from_sql("PA429", "x", "ACCOUNT_LOCKED", "Retry-After: 1234567890").retry_after(), 0);
    EXPECT_EQ(errors::from_sql("PA401", "x", "INVALID_API_KEY", "Retry-After: 5").retry_after(), 0);
}

// OAUTH_JWKS_FETCH_REQUIRED names the URL to fetch in its HINT; a server error keeps none.
TEST(http_errors, TheHintIsKeptForTheCaller) {
    auto e = errors::from_sql("PA401", "the client's JWK Set must be fetched from its jwks_uri", "OAUTH_JWKS_FETCH_REQUIRED",
                              "jwks_uri: https://keys.example/jwks");
    EXPECT_EQ(e.status(), 401);
    EXPECT_EQ(e.code(), "OAUTH_JWKS_FETCH_REQUIRED");
    EXPECT_EQ(e.hint(), "jwks_uri: https://keys.example/jwks");
    EXPECT_EQ(errors::from_sql("PA401", "m", "OAUTH_INVALID_CLIENT").hint(), "");
    EXPECT_EQ(errors::from_sql("XX000", "boom", "", "jwks_uri: x").hint(), "");
    EXPECT_EQ(errors::from_sql("PA500", "boom", "INTERNAL_ERROR", "jwks_uri: x").hint(), "");
}
