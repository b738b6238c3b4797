// core/jwt: compact JWS parsing and verification with fixed keys, claim checks,
// JWK import and KEK parsing. The first input byte picks the target (0 token
// text, 1 sign then edit, 2 claims, 3 JWK, 4 KEK, 5 token from header/payload/
// signature parts).
// Properties:
//  - parse, check_claims, verify and PublicKey::from_jwk throw nothing but
//    AuthError (INVALID_TOKEN, resp. INVALID_KEY); parse_kek nothing but
//    std::runtime_error (an uncaught exception aborts the run);
//  - parse accepts only well-formed tokens: at most 8192 bytes, exactly three
//    segments, each canonical base64url of what parse returns (re-encoding a
//    segment gives the segment back), a header object with a string alg other
//    than "none", a string kid and no crit; signing_input is the first two
//    segments of the token;
//  - a token made with encode() by a fixed EdDSA, ES256 or RS256 key parses
//    back to its payload and key id; after any edit, verify accepts it only if
//    it is byte-for-byte the original (no second spelling of a segment, no
//    forgery by editing), and never with a key of another algorithm;
//  - check_claims accepts only a JSON object with a finite numeric exp not
//    past now + leeway, nbf/iat (when present) not in the future, the required
//    iss and aud;
//  - an accepted JWK has kid == thumbprint(canonical) and its published JWK
//    imports back to the same key.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/jwt.hpp"
#include "fuzz_check.hpp"

using namespace pgauth;
using namespace pgauth::jwt;

namespace {

constexpr double now = 1'000'000'000;
const ClaimRules rules{now, 60, "https://issuer.example", std::string_view("api")};

const SigningKey& key(Alg alg) {
    static const SigningKey keys[] = {
        SigningKey::from_private_bytes(Alg::EdDSA, as_bytes(std::string(32, '\x42'))),
        SigningKey::generate(Alg::ES256),
        SigningKey::generate(Alg::RS256),
    };
    return keys[static_cast<int>(alg)];
}

bool canonical_segment(std::string_view segment, const std::string& decoded) {
    return base64url_encode(as_bytes(decoded)) == segment;
}

void check_parsed(std::string_view token, const Parsed& p) {
    FUZZ_CHECK(token.size() <= max_token_size);
    auto first = token.find('.');
    FUZZ_CHECK(first != std::string_view::npos);
    auto second = token.find('.', first + 1);
    FUZZ_CHECK(second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos);
    FUZZ_CHECK(p.signing_input == token.substr(0, second));
    FUZZ_CHECK(p.signing_input.data() == token.data());
    auto header_text = base64url_decode(token.substr(0, first));
    FUZZ_CHECK(header_text && canonical_segment(token.substr(0, first), *header_text));
    FUZZ_CHECK(canonical_segment(token.substr(first + 1, second - first - 1), p.payload));
    FUZZ_CHECK(canonical_segment(token.substr(second + 1), p.signature));
    Json header = Json::parse(*header_text, nullptr, false);
    FUZZ_CHECK(header.is_object());
    FUZZ_CHECK(p.alg != "none");
    FUZZ_CHECK(header.contains("alg") && header["alg"].is_string() && header["alg"] == p.alg);
    FUZZ_CHECK(header.contains("kid") && header["kid"].is_string() && header["kid"] == p.kid);
    FUZZ_CHECK(!header.contains("crit"));
}

void check_claims_ok(const Json& claims) {
    FUZZ_CHECK(claims.is_object());
    FUZZ_CHECK(claims.contains("exp") && claims["exp"].is_number());
    double exp = claims["exp"].get<double>();
    FUZZ_CHECK(std::isfinite(exp) && now <= exp + rules.leeway);
    for (const char* name : {"nbf", "iat"})
        if (claims.contains(name)) FUZZ_CHECK(claims[name].is_number() && claims[name].get<double>() <= now + rules.leeway);
    FUZZ_CHECK(claims.contains("iss") && claims["iss"] == rules.issuer);
    FUZZ_CHECK(claims.contains("aud"));
    const Json& aud = claims["aud"];
    bool aud_ok = aud == "api";
    if (aud.is_array())
        for (const auto& a : aud) aud_ok = aud_ok || a == "api";
    FUZZ_CHECK(aud_ok);
}

template <typename F>
void only_auth_error(const char* code, F&& f) {
    try {
        f();
    } catch (const AuthError& e) {
        FUZZ_CHECK(e.code() == code);
    }
}

void parse_any(std::string_view token) {
    only_auth_error("INVALID_TOKEN", [&] {
        Parsed p = parse(token);
        check_parsed(token, p);
        for (Alg alg : {Alg::EdDSA, Alg::ES256, Alg::RS256}) {
            only_auth_error("INVALID_TOKEN", [&] {
                Json claims = verify(p, key(alg).public_key(), rules);
                // the fuzzer cannot sign; only a seed made with the key verifies
                check_claims_ok(claims);
                FUZZ_CHECK(p.alg == alg_name(alg));
            });
        }
    });
}

void sign_and_edit(FuzzedDataProvider& in) {
    Alg alg = static_cast<Alg>(in.ConsumeIntegralInRange(0, 2));
    const SigningKey& signer = key(alg);
    std::string payload = in.ConsumeRandomLengthString(512);
    std::string token = encode(signer, payload);
    Parsed p = parse(token);
    FUZZ_CHECK(p.payload == payload && p.kid == signer.public_key().kid() && p.alg == alg_name(alg));
    bool original_ok = false;
    only_auth_error("INVALID_TOKEN", [&] {
        check_claims_ok(verify(p, signer.public_key(), rules));
        original_ok = true;
    });
    // the signature is right, so the original fails only on its claims
    if (!original_ok) only_auth_error("INVALID_TOKEN", [&] { check_claims(payload, rules); FUZZ_CHECK(false); });
    for (Alg other : {Alg::EdDSA, Alg::ES256, Alg::RS256})
        if (other != alg)
            only_auth_error("INVALID_TOKEN", [&] { verify(p, key(other).public_key(), rules); FUZZ_CHECK(false); });

    std::string edited = token;
    int edits = in.ConsumeIntegralInRange(1, 3);
    for (int i = 0; i < edits && !edited.empty(); ++i) {
        std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, edited.size() - 1);
        switch (in.ConsumeIntegralInRange(0, 2)) {
            case 0: edited[at] = static_cast<char>(in.ConsumeIntegral<std::uint8_t>()); break;
            case 1: edited.erase(at, 1); break;
            default: edited.insert(at, 1, static_cast<char>(in.ConsumeIntegral<std::uint8_t>())); break;
        }
    }
    only_auth_error("INVALID_TOKEN", [&] {
        Parsed e = parse(edited);
        check_parsed(edited, e);
        verify(e, signer.public_key(), rules);
        FUZZ_CHECK(edited == token);
    });
}

// The fuzzer writes the header and payload JSON and the signature bytes; the
// harness encodes them, so mutations reach the header checks directly.
void parse_structured(FuzzedDataProvider& in) {
    std::string header = in.ConsumeRandomLengthString(256);
    std::string payload = in.ConsumeRandomLengthString(512);
    std::string signature = in.ConsumeRemainingBytesAsString();
    std::string token = base64url_encode(as_bytes(header)) + "." + base64url_encode(as_bytes(payload)) + "." +
                        base64url_encode(as_bytes(signature));
    parse_any(token);
}

void claims_any(std::string_view payload) {
    only_auth_error("INVALID_TOKEN", [&] { check_claims_ok(check_claims(payload, rules)); });
}

void jwk_any(std::string_view text) {
    Json jwk = Json::parse(text, nullptr, false);
    if (jwk.is_discarded()) return;
    only_auth_error("INVALID_KEY", [&] {
        PublicKey k = PublicKey::from_jwk(jwk);
        FUZZ_CHECK(k.kid() == thumbprint(k.canonical()));
        PublicKey again = PublicKey::from_jwk(Json::parse(k.jwk().dump()));
        FUZZ_CHECK(again.canonical() == k.canonical() && again.alg() == k.alg());
    });
    only_auth_error("INVALID_KEY", [&] {
        SigningKey k = SigningKey::from_jwk(jwk);
        FUZZ_CHECK(k.public_key().kid() == thumbprint(k.public_key().canonical()));
    });
}

void kek_any(std::string_view text) {
    try {
        SecretBytes kek = parse_kek(text);
        FUZZ_CHECK(kek.size() == kek_size);
    } catch (const AuthError&) {
        FUZZ_CHECK(false);
    } catch (const std::runtime_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool ready = (crypto_init(), true);
    (void)ready;
    if (size == 0) return 0;
    FuzzedDataProvider in(data + 1, size - 1);  // data[0] picks the target
    switch (data[0] % 6) {
        case 0: parse_any(in.ConsumeRemainingBytesAsString()); break;
        case 1: sign_and_edit(in); break;
        case 2: claims_any(in.ConsumeRemainingBytesAsString()); break;
        case 3: jwk_any(in.ConsumeRemainingBytesAsString()); break;
        case 4: kek_any(in.ConsumeRemainingBytesAsString()); break;
        default: parse_structured(in); break;
    }
    return 0;
}
