// The HTTP side of account security (issue 16): the text[] literal the multiSession routes
// send, the PGAUTH_MULTI_SESSION_MAXIMUM setting, and the two-factor routes' strict rate limit.
#include <gtest/gtest.h>

#include <map>

#include "config.hpp"
#include "rate_limit.hpp"
#include "request_fields.hpp"

using namespace pgauth::http;

TEST(http_account_security, TextArrayQuotesAndEscapes) {
    EXPECT_EQ(text_array({}), "{}");
    EXPECT_EQ(text_array({"a", "b-_c"}), R"({"a","b-_c"})");
    // a quote or a backslash cannot end the element or the array early
    EXPECT_EQ(text_array({R"(x","y)", R"(a\)"}), R"({"x\",\"y","a\\"})");
    EXPECT_EQ(text_array({"NULL", ""}), R"({"NULL",""})");  // quoted: the string, not SQL NULL
}

TEST(http_account_security, MultiSessionMaximumSetting) {
    std::map<std::string, std::string> env = {{"PGAUTH_DATABASE_URL", "postgresql://h/db"},
                                              {"PGAUTH_SECRET", std::string(32, 's')}};
    auto from = [&](const char* n) -> const char* {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    EXPECT_EQ(load_config({}, from).multi_session_maximum, 5);
    EXPECT_EQ(load_config({"--multi-session-maximum", "0"}, from).multi_session_maximum, 0);
    env["PGAUTH_MULTI_SESSION_MAXIMUM"] = "2";
    EXPECT_EQ(load_config({}, from).multi_session_maximum, 2);
    for (const char* bad : {"-1", "101", "five"}) {
        env["PGAUTH_MULTI_SESSION_MAXIMUM"] = bad;
        EXPECT_THROW(load_config({}, from), ConfigError) << bad;
    }
    EXPECT_NE(help_text().find("PGAUTH_MULTI_SESSION_MAXIMUM"), std::string::npos);
}

TEST(http_account_security, TwoFactorRoutesAreStrict) {
    for (const char* route : {"two-factor-verify-totp", "two-factor-verify-otp", "two-factor-verify-backup-code",
                              "two-factor-send-otp", "two-factor-enable"})
        EXPECT_TRUE(strict_route(route)) << route;
    EXPECT_FALSE(strict_route("admin-list-users"));
    EXPECT_FALSE(strict_route("multi-session-list-device-sessions"));
}
