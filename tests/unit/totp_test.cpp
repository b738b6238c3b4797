// RFC 6238 appendix B (SHA-1 rows, 8 digits) and RFC 4226 appendix D vectors; RFC 4648 base32 vectors.
#include "core/totp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Totp, Rfc6238Sha1Vectors) {
    const std::string key = "12345678901234567890";
    EXPECT_EQ(pgauth::hotp(bytes(key), 59 / 30, 8), "94287082");
    EXPECT_EQ(pgauth::hotp(bytes(key), 1111111109 / 30, 8), "07081804");
    EXPECT_EQ(pgauth::hotp(bytes(key), 1111111111 / 30, 8), "14050471");
    EXPECT_EQ(pgauth::hotp(bytes(key), 1234567890 / 30, 8), "89005924");
    EXPECT_EQ(pgauth::hotp(bytes(key), 2000000000 / 30, 8), "69279037");
    EXPECT_EQ(pgauth::hotp(bytes(key), 20000000000ULL / 30, 8), "65353130");
}

TEST(Totp, Rfc4226SixDigits) {
    const std::string key = "12345678901234567890";
    EXPECT_EQ(pgauth::hotp(bytes(key), 0), "755224");
    EXPECT_EQ(pgauth::hotp(bytes(key), 1), "287082");
    EXPECT_EQ(pgauth::hotp(bytes(key), 9), "520489");
    EXPECT_THROW(pgauth::hotp(bytes(key), 0, 5), std::invalid_argument);
}

TEST(Base32, Rfc4648Vectors) {
    EXPECT_EQ(pgauth::base32_encode(bytes("")), "");
    EXPECT_EQ(pgauth::base32_encode(bytes("f")), "MY");
    EXPECT_EQ(pgauth::base32_encode(bytes("foob")), "MZXW6YQ");
    EXPECT_EQ(pgauth::base32_encode(bytes("foobar")), "MZXW6YTBOI");
    EXPECT_EQ(pgauth::base32_decode("MZXW6YTBOI======"), "foobar");
    EXPECT_EQ(pgauth::base32_decode("mzxw6ytboi"), "foobar");
    EXPECT_FALSE(pgauth::base32_decode("MZXW1").has_value());
    const std::string key = "12345678901234567890";
    EXPECT_EQ(pgauth::base32_decode(pgauth::base32_encode(bytes(key))), key);
}

}  // namespace
