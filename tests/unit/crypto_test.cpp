// Known-answer tests of the crypto core: FIPS 180-2 SHA-256, RFC 4231
// HMAC-SHA256, RFC 7914 scrypt, RFC 4648 base64; hex; tokens.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/crypto.hpp"
#include "core/password.hpp"

using namespace pgauth;

namespace {
std::string hex(const Digest& d) { return hex_encode(d); }
std::string unhex(std::string_view h) { return hex_decode(h).value(); }
}  // namespace

// Lower-case suite name so that `ctest -R crypto` selects these tests.
class crypto : public ::testing::Test {
protected:
    static void SetUpTestSuite() { crypto_init(); }
};

TEST_F(crypto, Sha256Fips180) {
    EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

struct HmacCase { std::string key, data, mac; };

TEST_F(crypto, HmacSha256Rfc4231) {
    const HmacCase cases[] = {
        {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {std::string(131, '\xaa'),
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
         "be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const auto& c : cases) EXPECT_EQ(hex(hmac_sha256(as_bytes(c.key), as_bytes(c.data))), c.mac) << c.data;
}

TEST_F(crypto, HmacSha256EmptyKeyAndMessage) {
    // HMAC-SHA256("", ""): an empty key must not be mistaken for "no key".
    EXPECT_EQ(hex(hmac_sha256(Bytes{}, Bytes{})), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    EXPECT_EQ(hex(hmac_sha256(as_bytes(""), as_bytes(""))),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_F(crypto, ScryptRfc7914) {
    EXPECT_EQ(hex_encode(as_bytes(scrypt_raw("", "", 16, 1, 1, 64))),
              "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
              "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
    EXPECT_EQ(hex_encode(as_bytes(scrypt_raw("password", "NaCl", 1024, 8, 16, 64))),
              "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
              "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST_F(crypto, Base64Rfc4648) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
        EXPECT_EQ(base64_decode(encoded).value(), plain);
        std::string url = encoded.substr(0, encoded.find('='));
        EXPECT_EQ(base64url_encode(as_bytes(plain)), url);
        EXPECT_EQ(base64url_decode(url).value(), plain);
    }
    EXPECT_EQ(base64url_encode(as_bytes(std::string("\xfb\xff", 2))), "-_8");
    EXPECT_EQ(base64_encode(as_bytes(std::string("\xfb\xff", 2))), "+/8=");
}

TEST_F(crypto, Base64Rejections) {
    // missing/extra/misplaced padding, bad characters, non-zero trailing bits
    for (std::string_view bad : {"Zg", "Zg=", "Z===", "Zm9v!", "Zm 9v", "Zm9v\n", "-_8=", "Zh==", "Zm9=", "Zg=a",
                                 "Zg==Zg==", "====", "Z", " Zg=="})
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    for (std::string_view bad : {"Zg==", "Zg=", "+/8", "-/8", "Zm9v=", "Zm 9v", "Zm9v\n", "A", "Zh", "Zm9", "Zg."})
        EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
}

TEST_F(crypto, Base64RejectsBytesOutsideTheAlphabet) {
    // libsodium 1.0.18 alone decodes any byte >= 0x80 as '/' (resp. '_')
    ASSERT_EQ(base64_decode("Zm9v//8=").value(), "foo\xff\xff");
    for (int c = 0x80; c <= 0xff; ++c) {
        std::string std64 = "Zm9v" + std::string(1, static_cast<char>(c)) + "/8=";
        EXPECT_FALSE(base64_decode(std64).has_value()) << c;
        std::string url = "Zm9v" + std::string(1, static_cast<char>(c)) + "_8";
        EXPECT_FALSE(base64url_decode(url).has_value()) << c;
    }
}

TEST_F(crypto, Hex) {
    EXPECT_EQ(hex_encode(as_bytes(std::string("\x00\x7f\xff", 3))), "007fff");
    EXPECT_EQ(hex_decode("007FfF").value(), std::string("\x00\x7f\xff", 3));
    EXPECT_FALSE(hex_decode("abc").has_value());
    EXPECT_FALSE(hex_decode("zz").has_value());
    EXPECT_FALSE(hex_decode("0x00").has_value());
}

TEST_F(crypto, EqualCt) {
    EXPECT_TRUE(equal_ct(as_bytes("abc"), as_bytes("abc")));
    EXPECT_FALSE(equal_ct(as_bytes("abc"), as_bytes("abd")));
    EXPECT_FALSE(equal_ct(as_bytes("abc"), as_bytes("abcd")));
    EXPECT_TRUE(equal_ct(as_bytes(""), as_bytes("")));
}

TEST_F(crypto, RandomTokens) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string t = random_token();
        ASSERT_EQ(t.size(), 43u);
        ASSERT_EQ(base64url_decode(t).value().size(), 32u);
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 1000u);
}
