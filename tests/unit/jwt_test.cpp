// JWK/JWS core: RFC 8032 Ed25519 vectors, the RFC 7638 thumbprint example,
// sealing, and every structural and claim rejection rule.
#include <gtest/gtest.h>

#include <sodium.h>

#include "core/error.hpp"
#include "core/jwt.hpp"

using namespace pgauth;
using namespace pgauth::jwt;

namespace {
std::string unhex(std::string_view h) { return hex_decode(h).value(); }
std::string b64u(std::string_view s) { return base64url_encode(as_bytes(s)); }

std::string rejection(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const AuthError& e) {
        return e.code() + ": " + e.reason();
    }
    return "accepted";
}

ClaimRules rules(double now = 1000) { return {now, 60, "https://issuer.example", std::nullopt}; }
}  // namespace

class jwt : public ::testing::Test {
protected:
    static void SetUpTestSuite() { crypto_init(); }
};

// RFC 8032 §7.1, TEST 1 and TEST 2: the seed gives the public key and signature.
TEST_F(jwt, Ed25519Rfc8032Vectors) {
    struct Vector {
        const char *seed, *pk, *msg, *sig;
    } vectors[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    };
    for (const auto& v : vectors) {
        std::string seed = unhex(v.seed), msg = unhex(v.msg);
        SigningKey key = SigningKey::from_private_bytes(Alg::EdDSA, as_bytes(seed));
        EXPECT_EQ(key.public_key().jwk()["x"], b64u(unhex(v.pk)));
        EXPECT_EQ(hex_encode(as_bytes(key.sign(msg))), v.sig);
        EXPECT_TRUE(key.public_key().verify(msg, as_bytes(unhex(v.sig))));
        std::string tampered = unhex(v.sig);
        tampered[0] ^= 1;
        EXPECT_FALSE(key.public_key().verify(msg, as_bytes(tampered)));
    }
}

// RFC 7638 §3.1: the example RSA key's thumbprint.
TEST_F(jwt, Rfc7638ThumbprintExample) {
    Json jwk = {
        {"kty", "RSA"},
        {"n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
        {"e", "AQAB"},
        {"alg", "RS256"},
        {"kid", "2011-04-29"}};
    PublicKey key = PublicKey::from_jwk(jwk);
    EXPECT_EQ(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EXPECT_EQ(thumbprint(key.canonical()), key.kid());
}

TEST_F(jwt, EveryAlgorithmSignsVerifiesAndRoundTripsItsStorageForm) {
    for (Alg alg : {Alg::EdDSA, Alg::ES256, Alg::RS256}) {
        SigningKey key = SigningKey::generate(alg);
        std::string token = encode(key, R"({"sub":"u","exp":2000,"iss":"https://issuer.example"})");
        Parsed parsed = parse(token);
        EXPECT_EQ(parsed.alg, alg_name(alg));
        EXPECT_EQ(parsed.kid, key.public_key().kid());
        Json claims = verify(parsed, key.public_key(), rules());
        EXPECT_EQ(claims["sub"], "u");

        // The sealed storage form gives back the same key.
        SecretBytes stored = key.private_bytes();
        SigningKey again = SigningKey::from_private_bytes(alg, stored.bytes());
        EXPECT_EQ(again.public_key().kid(), key.public_key().kid());
        EXPECT_NO_THROW(verify(parse(encode(again, R"({"exp":2000,"iss":"https://issuer.example"})")),
                               key.public_key(), rules()));

        // The published JWK imports to the same key and thumbprint.
        Json published = Json::parse(key.public_key().jwk().dump());
        EXPECT_EQ(PublicKey::from_jwk(published).kid(), key.public_key().kid());
        EXPECT_EQ(published["alg"], alg_name(alg));
        EXPECT_FALSE(published.contains("d"));
    }
}

TEST_F(jwt, SealedKeysOpenOnlyWithTheirKekAndKid) {
    SecretBytes kek(kek_size), other(kek_size);
    randombytes_buf(kek.data(), kek.size());
    randombytes_buf(other.data(), other.size());
    std::string secret = "private key bytes";
    auto sealed = seal(kek.bytes(), as_bytes(secret), "kid-1");
    EXPECT_EQ(std::string(sealed.begin(), sealed.end()).find(secret), std::string::npos);
    SecretBytes opened = unseal(kek.bytes(), {sealed.data(), sealed.size()}, "kid-1");
    EXPECT_EQ(std::string(opened.data(), opened.data() + opened.size()), secret);
    EXPECT_THROW(unseal(other.bytes(), {sealed.data(), sealed.size()}, "kid-1"), std::runtime_error);
    EXPECT_THROW(unseal(kek.bytes(), {sealed.data(), sealed.size()}, "kid-2"), std::runtime_error);
    sealed.back() ^= 1;
    EXPECT_THROW(unseal(kek.bytes(), {sealed.data(), sealed.size()}, "kid-1"), std::runtime_error);
}

TEST_F(jwt, KekFileFormats) {
    std::string raw(32, '\x07');
    EXPECT_EQ(parse_kek(raw).size(), 32u);
    EXPECT_EQ(parse_kek(std::string(64, 'a') + "\n").size(), 32u);
    EXPECT_EQ(parse_kek(base64_encode(as_bytes(raw)) + "\n").size(), 32u);
    EXPECT_THROW(parse_kek("short"), std::runtime_error);
    EXPECT_THROW(parse_kek(std::string(64, 'z')), std::runtime_error);
    EXPECT_THROW(parse_kek(""), std::runtime_error);
}

TEST_F(jwt, StructuralRejections) {
    SigningKey key = SigningKey::generate(Alg::EdDSA);
    std::string good = encode(key, R"({"exp":2000})");
    std::string header = good.substr(0, good.find('.'));
    std::string rest = good.substr(good.find('.'));
    auto with_header = [&](std::string_view json) { return b64u(json) + rest; };

    EXPECT_EQ(rejection([&] { parse(std::string(8193, 'a')); }), "INVALID_TOKEN: token is longer than 8192 bytes");
    EXPECT_EQ(rejection([&] { parse("a.b"); }), "INVALID_TOKEN: a JWT must have three segments");
    EXPECT_EQ(rejection([&] { parse(good + ".x"); }), "INVALID_TOKEN: a JWT must have three segments");
    EXPECT_EQ(rejection([&] { parse("a+b.c.d"); }), "INVALID_TOKEN: a segment is not valid base64url");
    EXPECT_EQ(rejection([&] { parse(header + "=" + rest); }), "INVALID_TOKEN: a segment is not valid base64url");
    EXPECT_EQ(rejection([&] { parse("abcde.e30.AA"); }), "INVALID_TOKEN: a segment is not valid base64url");
    // 64 signature bytes leave 4 unused bits in the last character: set one, and the encoding is not canonical
    std::string stray = good;
    stray.back() = std::string_view("BRhx")[std::string_view("AQgw").find(stray.back())];
    EXPECT_EQ(rejection([&] { parse(stray); }), "INVALID_TOKEN: a segment is not valid base64url");
    EXPECT_NO_THROW(parse(good));
    EXPECT_EQ(rejection([&] { parse(with_header("[1]")); }), "INVALID_TOKEN: the header is not a JSON object");
    EXPECT_EQ(rejection([&] { parse(with_header("{\"kid\":\"k\"}")); }), "INVALID_TOKEN: the header has no alg");
    EXPECT_EQ(rejection([&] { parse(with_header(R"({"alg":"none","kid":"k"})")); }),
              "INVALID_TOKEN: alg \"none\" is not accepted");
    EXPECT_EQ(rejection([&] { parse(with_header(R"({"alg":"EdDSA"})")); }), "INVALID_TOKEN: the header has no kid");
    EXPECT_EQ(rejection([&] { parse(with_header(R"({"alg":"EdDSA","kid":"k","crit":["b64"]})")); }),
              "INVALID_TOKEN: critical header extensions are not supported");

    // The key pins the algorithm: a header naming another one is refused before any signature check.
    Parsed mixed = parse(with_header(R"({"alg":"HS256","kid":"k"})"));
    EXPECT_EQ(rejection([&] { verify(mixed, key.public_key(), rules()); }), "INVALID_TOKEN: alg does not match the key");
    // A signature by another key of the same type.
    SigningKey other = SigningKey::generate(Alg::EdDSA);
    EXPECT_EQ(rejection([&] { verify(parse(encode(other, R"({"exp":2000})")), key.public_key(), rules()); }),
              "INVALID_TOKEN: bad signature");
}

// The OAuth provider's forms: a typ header (RFC 9068 at+jwt), and client assertions
// (RFC 7523) that may carry no kid.
TEST_F(jwt, TypedTokensAndOptionalKid) {
    SigningKey key = SigningKey::generate(Alg::RS256);
    std::string typed = encode(key, R"({"exp":2000,"iss":"https://issuer.example"})", "at+jwt");
    std::string header = *base64url_decode(typed.substr(0, typed.find('.')));
    EXPECT_EQ(Json::parse(header), Json::parse(R"({"alg":"RS256","kid":")" + key.public_key().kid() + R"(","typ":"at+jwt"})"));
    EXPECT_NO_THROW(verify(parse(typed), key.public_key(), rules()));

    std::string rest = typed.substr(typed.find('.'));
    std::string no_kid = b64u(R"({"alg":"RS256"})") + rest;
    EXPECT_EQ(rejection([&] { parse(no_kid); }), "INVALID_TOKEN: the header has no kid");
    Parsed optional = parse(no_kid, false);
    EXPECT_EQ(optional.kid, "");
    EXPECT_EQ(rejection([&] { parse(b64u(R"({"alg":"RS256","kid":7})") + rest, false); }),
              "INVALID_TOKEN: the header has no kid");
    EXPECT_EQ(rejection([&] { parse(b64u(R"({"alg":"none"})") + rest, false); }),
              "INVALID_TOKEN: alg \"none\" is not accepted");
}

TEST_F(jwt, ClaimRejections) {
    auto check = [](std::string_view payload, ClaimRules r = rules()) {
        return rejection([&] { check_claims(payload, r); });
    };
    const char* iss = R"("iss":"https://issuer.example")";
    auto claims = [&](std::string body) { return "{" + body + "," + iss + "}"; };
    EXPECT_EQ(check("[]"), "INVALID_TOKEN: the payload is not a JSON object");
    EXPECT_EQ(check("not json"), "INVALID_TOKEN: the payload is not a JSON object");
    EXPECT_EQ(check(R"({"iss":"https://issuer.example"})"), "INVALID_TOKEN: the token has no exp");
    EXPECT_EQ(check(claims(R"("exp":"2000")")), "INVALID_TOKEN: exp is not a number");
    EXPECT_EQ(check(claims(R"("exp":939)")), "INVALID_TOKEN: the token has expired");
    EXPECT_EQ(check(claims(R"("exp":940)")), "accepted");  // within the leeway
    EXPECT_EQ(check(claims(R"("exp":2000,"nbf":1061)")), "INVALID_TOKEN: the token is not yet valid");
    EXPECT_EQ(check(claims(R"("exp":2000,"nbf":1060)")), "accepted");
    EXPECT_EQ(check(claims(R"("exp":2000,"iat":1100)")), "INVALID_TOKEN: the token was issued in the future");
    EXPECT_EQ(check(R"({"exp":2000,"iss":"https://evil.example"})"), "INVALID_TOKEN: wrong issuer");
    EXPECT_EQ(check(R"({"exp":2000})"), "INVALID_TOKEN: wrong issuer");
    ClaimRules with_aud = rules();
    with_aud.audience = "api";
    EXPECT_EQ(check(claims(R"("exp":2000)"), with_aud), "INVALID_TOKEN: wrong audience");
    EXPECT_EQ(check(claims(R"("exp":2000,"aud":"web")"), with_aud), "INVALID_TOKEN: wrong audience");
    EXPECT_EQ(check(claims(R"("exp":2000,"aud":"api")"), with_aud), "accepted");
    EXPECT_EQ(check(claims(R"("exp":2000,"aud":["web","api"])"), with_aud), "accepted");
}

TEST_F(jwt, KeyImportRejections) {
    EXPECT_EQ(rejection([] { PublicKey::from_jwk(Json::array()); }), "INVALID_KEY: a JWK must be an object with kty");
    EXPECT_EQ(rejection([] { PublicKey::from_jwk({{"kty", "oct"}, {"k", "AAAA"}}); }),
              "INVALID_KEY: unsupported key type \"oct\"");
    EXPECT_EQ(rejection([] { PublicKey::from_jwk({{"kty", "OKP"}, {"crv", "X25519"}, {"x", "AAAA"}}); }),
              "INVALID_KEY: only the Ed25519 curve is supported for OKP keys");
    EXPECT_EQ(rejection([] { PublicKey::from_jwk({{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}); }),
              "INVALID_KEY: JWK member \"x\" is not valid base64url of the right size");
    SigningKey ed = SigningKey::generate(Alg::EdDSA);
    Json jwk = Json::parse(ed.public_key().jwk().dump());
    jwk["alg"] = "RS256";
    EXPECT_EQ(rejection([&] { PublicKey::from_jwk(jwk); }), "INVALID_KEY: the JWK's alg does not match its key type");
    // An EC point that is not on the curve.
    SigningKey ec = SigningKey::generate(Alg::ES256);
    Json point = Json::parse(ec.public_key().jwk().dump());
    point["y"] = b64u(std::string(32, '\x01'));
    EXPECT_EQ(rejection([&] { PublicKey::from_jwk(point); }), "INVALID_KEY: the JWK does not describe a valid key");
}
