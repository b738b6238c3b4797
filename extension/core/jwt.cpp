// JWK and JWS primitives; see jwt.hpp.
#include "core/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/error.hpp"

namespace pgauth::jwt {
namespace {

[[noreturn]] void bad_key(std::string reason) { throw AuthError("INVALID_KEY", std::move(reason)); }
[[noreturn]] void bad_token(std::string reason) { throw AuthError("INVALID_TOKEN", std::move(reason)); }

struct BnFree {
    void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct BldFree {
    void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct SigFree {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

std::string b64(Bytes b) { return base64url_encode(b); }

// Token segments are public, so a table decoder will do (libsodium's constant-time
// one cost 4% of a whole verification). Strict: no padding, no other characters,
// and no stray bits in the last character (one encoding per value).
std::optional<std::string> decode_segment(std::string_view text) {
    static constexpr auto table = [] {
        std::array<std::int8_t, 256> t{};
        t.fill(-1);
        for (int i = 0; i < 26; i++) t['A' + i] = static_cast<std::int8_t>(i), t['a' + i] = static_cast<std::int8_t>(26 + i);
        for (int i = 0; i < 10; i++) t['0' + i] = static_cast<std::int8_t>(52 + i);
        t['-'] = 62;
        t['_'] = 63;
        return t;
    }();
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : text) {
        int v = table[c];
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) return std::nullopt;
    return out;
}

// A JWK member: base64url of at most `max` bytes (and exactly `exact` when set).
std::string member(const Json& jwk, const char* name, std::size_t max = 1024, std::size_t exact = 0) {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) bad_key(std::string("JWK member \"") + name + "\" is missing");
    auto decoded = base64url_decode(it->get_ref<const std::string&>());
    if (!decoded || decoded->empty() || decoded->size() > max || (exact && decoded->size() != exact))
        bad_key(std::string("JWK member \"") + name + "\" is not valid base64url of the right size");
    return *decoded;
}

Bn bn_of(std::string_view bytes) {
    Bn bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
    if (!bn) throw std::bad_alloc();
    return bn;
}

std::string bn_bytes(const EVP_PKEY* key, const char* param, int pad = 0) {
    BIGNUM* raw = nullptr;
    if (!EVP_PKEY_get_bn_param(key, param, &raw)) throw std::runtime_error("cannot read key parameter");
    Bn bn(raw);
    int size = pad ? pad : BN_num_bytes(bn.get());
    std::string out(static_cast<std::size_t>(size), '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size)
        throw std::runtime_error("key parameter too large");
    return out;
}

// Builds an EC or RSA key from OSSL params; `selection` is public or keypair.
Pkey from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) <= 0)
        bad_key("the JWK does not describe a valid key");
    Pkey owned(key);
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    bool ok = check && (selection == EVP_PKEY_KEYPAIR ? EVP_PKEY_pairwise_check(check.get())
                                                      : EVP_PKEY_public_check(check.get())) == 1;
    if (!ok) bad_key("the JWK does not describe a valid key");
    return owned;
}

Pkey ec_key(const Json& jwk, bool with_private) {
    if (!jwk.contains("crv") || jwk["crv"] != "P-256") bad_key("only the P-256 curve is supported for EC keys");
    std::string point = "\x04" + member(jwk, "x", 32, 32) + member(jwk, "y", 32, 32);
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    Bn d;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    if (with_private) {
        std::string secret = member(jwk, "d", 32, 32);
        d = bn_of(secret);
        sodium_memzero(secret.data(), secret.size());
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
    }
    return from_params("EC", bld.get(), with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

Pkey rsa_key(const Json& jwk, bool with_private) {
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    std::vector<Bn> numbers;
    auto push = [&](const char* name, const char* param, std::size_t max) {
        std::string bytes = member(jwk, name, max);
        numbers.push_back(bn_of(bytes));
        sodium_memzero(bytes.data(), bytes.size());
        OSSL_PARAM_BLD_push_BN(bld.get(), param, numbers.back().get());
    };
    push("n", OSSL_PKEY_PARAM_RSA_N, 1024);
    push("e", OSSL_PKEY_PARAM_RSA_E, 8);
    if (with_private) {
        push("d", OSSL_PKEY_PARAM_RSA_D, 1024);
        push("p", OSSL_PKEY_PARAM_RSA_FACTOR1, 512);
        push("q", OSSL_PKEY_PARAM_RSA_FACTOR2, 512);
        push("dp", OSSL_PKEY_PARAM_RSA_EXPONENT1, 512);
        push("dq", OSSL_PKEY_PARAM_RSA_EXPONENT2, 512);
        push("qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 512);
    }
    Pkey key = from_params("RSA", bld.get(), with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
    if (EVP_PKEY_get_bits(key.get()) < 2048) bad_key("RSA keys must have at least 2048 bits");
    return key;
}

// The key type a JWK's kty/crv names, checked against its "alg" if present.
Alg jwk_alg(const Json& jwk) {
    if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) bad_key("a JWK must be an object with kty");
    const std::string& kty = jwk["kty"].get_ref<const std::string&>();
    Alg alg;
    if (kty == "OKP") alg = Alg::EdDSA;
    else if (kty == "EC") alg = Alg::ES256;
    else if (kty == "RSA") alg = Alg::RS256;
    else bad_key("unsupported key type \"" + kty.substr(0, 16) + "\"");
    if (jwk.contains("alg")) {
        auto named = jwk["alg"].is_string() ? parse_alg(jwk["alg"].get_ref<const std::string&>()) : std::nullopt;
        if (!named || *named != alg) bad_key("the JWK's alg does not match its key type");
    }
    if (alg == Alg::EdDSA && (!jwk.contains("crv") || jwk["crv"] != "Ed25519"))
        bad_key("only the Ed25519 curve is supported for OKP keys");
    return alg;
}

std::string der_signature_to_jose(const unsigned char* der, std::size_t size) {
    const unsigned char* p = der;
    std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(size)));
    if (!sig) throw std::runtime_error("ECDSA signing failed");
    std::string out(64, '\0');
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(out.data()), 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(out.data()) + 32, 32) != 32)
        throw std::runtime_error("ECDSA signing failed");
    return out;
}

// r||s -> DER; empty when the signature has the wrong size.
std::vector<unsigned char> jose_signature_to_der(Bytes jose) {
    if (jose.size() != 64) return {};
    std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(jose.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(jose.data() + 32, 32, nullptr);
    if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
        BN_free(r);
        BN_free(s);
        throw std::bad_alloc();
    }
    int size = i2d_ECDSA_SIG(sig.get(), nullptr);
    std::vector<unsigned char> der(static_cast<std::size_t>(size > 0 ? size : 0));
    unsigned char* out = der.data();
    if (size <= 0 || i2d_ECDSA_SIG(sig.get(), &out) != size) return {};
    return der;
}

const Json* find(const Json& object, const char* name) {
    auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

}  // namespace

std::optional<Alg> parse_alg(std::string_view name) {
    if (name == "EdDSA") return Alg::EdDSA;
    if (name == "ES256") return Alg::ES256;
    if (name == "RS256") return Alg::RS256;
    return std::nullopt;
}

std::string_view alg_name(Alg alg) {
    switch (alg) {
        case Alg::EdDSA: return "EdDSA";
        case Alg::ES256: return "ES256";
        case Alg::RS256: return "RS256";
    }
    return "";
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        if (!data_.empty()) sodium_memzero(data_.data(), data_.size());
        data_ = std::move(other.data_);
    }
    return *this;
}

SecretBytes::~SecretBytes() {
    if (!data_.empty()) sodium_memzero(data_.data(), data_.size());
}

void PkeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

// ---------------------------------------------------------------- public keys

void PublicKey::finish() {
    switch (alg_) {
        case Alg::EdDSA:
            canonical_ = R"({"crv":"Ed25519","kty":"OKP","x":")" + b64(ed25519_) + "\"}";
            break;
        case Alg::ES256:
            canonical_ = R"({"crv":"P-256","kty":"EC","x":")" + b64(as_bytes(bn_bytes(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))) +
                         R"(","y":")" + b64(as_bytes(bn_bytes(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))) + "\"}";
            break;
        case Alg::RS256:
            canonical_ = R"({"e":")" + b64(as_bytes(bn_bytes(pkey_.get(), OSSL_PKEY_PARAM_RSA_E))) +
                         R"(","kty":"RSA","n":")" + b64(as_bytes(bn_bytes(pkey_.get(), OSSL_PKEY_PARAM_RSA_N))) + "\"}";
            break;
    }
    kid_ = thumbprint(canonical_);
}

PublicKey PublicKey::from_jwk(const Json& jwk) {
    PublicKey key;
    key.alg_ = jwk_alg(jwk);
    if (key.alg_ == Alg::EdDSA) {
        std::string x = member(jwk, "x", 32, 32);
        std::memcpy(key.ed25519_.data(), x.data(), 32);
    } else {
        key.pkey_ = key.alg_ == Alg::ES256 ? ec_key(jwk, false) : rsa_key(jwk, false);
    }
    key.finish();
    return key;
}

OrderedJson PublicKey::jwk() const {
    OrderedJson out = OrderedJson::parse(canonical_);
    out["alg"] = alg_name(alg_);
    out["use"] = "sig";
    out["kid"] = kid_;
    return out;
}

bool PublicKey::verify(std::string_view signing_input, Bytes signature) const {
    auto input = as_bytes(signing_input);
    if (alg_ == Alg::EdDSA)
        return signature.size() == crypto_sign_BYTES &&
               crypto_sign_verify_detached(signature.data(), input.data(), input.size(), ed25519_.data()) == 0;
    std::vector<unsigned char> der;
    if (alg_ == Alg::ES256) {
        der = jose_signature_to_der(signature);
        if (der.empty()) return false;
        signature = Bytes(der.data(), der.size());
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), input.data(), input.size()) == 1;
}

// ---------------------------------------------------------------- signing keys

SigningKey SigningKey::generate(Alg alg) {
    SigningKey key;
    key.public_.alg_ = alg;
    if (alg == Alg::EdDSA) {
        key.ed25519_secret_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
        crypto_sign_keypair(key.public_.ed25519_.data(), key.ed25519_secret_.data());
    } else {
        EVP_PKEY* raw = alg == Alg::ES256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                          : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
        if (!raw) throw std::runtime_error("key generation failed");
        key.adopt(raw);
    }
    key.public_.finish();
    return key;
}

void SigningKey::adopt(EVP_PKEY* owned) {
    pkey_.reset(owned);
    EVP_PKEY_up_ref(owned);
    public_.pkey_ = std::shared_ptr<EVP_PKEY>(owned, PkeyFree{});
}

SigningKey SigningKey::from_private_bytes(Alg alg, Bytes stored) {
    SigningKey key;
    key.public_.alg_ = alg;
    if (alg == Alg::EdDSA) {
        if (stored.size() != crypto_sign_SEEDBYTES) throw std::runtime_error("stored Ed25519 key has the wrong size");
        key.ed25519_secret_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
        crypto_sign_seed_keypair(key.public_.ed25519_.data(), key.ed25519_secret_.data(), stored.data());
    } else {
        const unsigned char* p = stored.data();
        EVP_PKEY* raw = d2i_PrivateKey(alg == Alg::ES256 ? EVP_PKEY_EC : EVP_PKEY_RSA, nullptr, &p,
                                       static_cast<long>(stored.size()));
        if (!raw) throw std::runtime_error("stored private key cannot be read");
        key.adopt(raw);
    }
    key.public_.finish();
    return key;
}

SigningKey SigningKey::from_jwk(const Json& jwk) {
    Alg alg = jwk_alg(jwk);
    if (alg == Alg::EdDSA) {
        SecretBytes seed(as_bytes(member(jwk, "d", 32, 32)));
        SigningKey key = from_private_bytes(alg, seed.bytes());
        if (key.public_.canonical_ != PublicKey::from_jwk(jwk).canonical_)
            bad_key("the JWK's x does not belong to its d");
        return key;
    }
    Pkey pkey = alg == Alg::ES256 ? ec_key(jwk, true) : rsa_key(jwk, true);
    SigningKey key;
    key.public_.alg_ = alg;
    key.adopt(pkey.release());
    key.public_.finish();
    return key;
}

SecretBytes SigningKey::private_bytes() const {
    if (public_.alg_ == Alg::EdDSA) return SecretBytes(Bytes(ed25519_secret_.data(), crypto_sign_SEEDBYTES));
    int size = i2d_PrivateKey(pkey_.get(), nullptr);
    if (size <= 0) throw std::runtime_error("cannot serialize the private key");
    SecretBytes out(static_cast<std::size_t>(size));
    unsigned char* p = out.data();
    if (i2d_PrivateKey(pkey_.get(), &p) != size) throw std::runtime_error("cannot serialize the private key");
    return out;
}

std::string SigningKey::sign(std::string_view signing_input) const {
    auto input = as_bytes(signing_input);
    if (public_.alg_ == Alg::EdDSA) {
        std::string sig(crypto_sign_BYTES, '\0');
        crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, input.data(), input.size(),
                             ed25519_secret_.data());
        return sig;
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    std::size_t size = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &size, input.data(), input.size()) != 1)
        throw std::runtime_error("signing failed");
    std::vector<unsigned char> sig(size);
    if (EVP_DigestSign(ctx.get(), sig.data(), &size, input.data(), input.size()) != 1)
        throw std::runtime_error("signing failed");
    if (public_.alg_ == Alg::ES256) return der_signature_to_jose(sig.data(), size);
    return std::string(reinterpret_cast<const char*>(sig.data()), size);
}

std::string thumbprint(std::string_view canonical_jwk) { return b64(sha256(canonical_jwk)); }

// ---------------------------------------------------------------- sealing

std::vector<std::uint8_t> seal(Bytes kek, Bytes plaintext, std::string_view aad) {
    if (kek.size() != kek_size) throw std::invalid_argument("the KEK must be 32 bytes");
    constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::vector<std::uint8_t> out(nonce_size + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    randombytes_buf(out.data(), nonce_size);
    unsigned long long length = 0;
    auto ad = as_bytes(aad);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + nonce_size, &length, plaintext.data(), plaintext.size(),
                                               ad.data(), ad.size(), nullptr, out.data(), kek.data());
    out.resize(nonce_size + length);
    return out;
}

SecretBytes unseal(Bytes kek, Bytes sealed, std::string_view aad) {
    constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr std::size_t overhead = nonce_size + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (kek.size() != kek_size || sealed.size() < overhead) throw std::runtime_error("sealed key is malformed");
    SecretBytes out(sealed.size() - overhead);
    unsigned long long length = 0;
    auto ad = as_bytes(aad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &length, nullptr, sealed.data() + nonce_size,
                                                   sealed.size() - nonce_size, ad.data(), ad.size(), sealed.data(),
                                                   kek.data()) != 0)
        throw std::runtime_error("the sealed key does not open with this KEK");
    out.resize(length);
    return out;
}

SecretBytes parse_kek(std::string_view contents) {
    if (contents.size() == kek_size) return SecretBytes(as_bytes(contents));
    std::string_view text = contents;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    std::optional<std::string> decoded;
    if (text.size() == 2 * kek_size) decoded = hex_decode(text);
    else if (text.size() == 44) decoded = base64_decode(text);
    if (!decoded || decoded->size() != kek_size)
        throw std::runtime_error("must hold 32 bytes: raw, 64 hex digits or base64");
    SecretBytes out(as_bytes(*decoded));
    sodium_memzero(decoded->data(), decoded->size());
    return out;
}

// ---------------------------------------------------------------- tokens

std::string encode(const SigningKey& key, std::string_view payload_json) {
    OrderedJson header = {{"alg", alg_name(key.public_key().alg())}, {"kid", key.public_key().kid()}};
    std::string input = b64(as_bytes(header.dump())) + "." + b64(as_bytes(payload_json));
    std::string signature = key.sign(input);
    return input + "." + b64(as_bytes(signature));
}

std::string encode(const SigningKey& key, std::string_view payload_json, std::string_view typ) {
    OrderedJson header = {{"alg", alg_name(key.public_key().alg())},
                          {"kid", key.public_key().kid()},
                          {"typ", std::string(typ)}};
    std::string input = b64(as_bytes(header.dump())) + "." + b64(as_bytes(payload_json));
    std::string signature = key.sign(input);
    return input + "." + b64(as_bytes(signature));
}

Parsed parse(std::string_view token) { return parse(token, true); }

Parsed parse(std::string_view token, bool require_kid) {
    if (token.size() > max_token_size) bad_token("token is longer than 8192 bytes");
    std::size_t first = token.find('.');
    std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        bad_token("a JWT must have three segments");
    auto header_text = decode_segment(token.substr(0, first));
    auto payload = decode_segment(token.substr(first + 1, second - first - 1));
    auto signature = decode_segment(token.substr(second + 1));
    if (!header_text || !payload || !signature) bad_token("a segment is not valid base64url");
    Json header = Json::parse(*header_text, nullptr, false);
    if (header.is_discarded() || !header.is_object()) bad_token("the header is not a JSON object");
    const Json* alg = find(header, "alg");
    if (!alg || !alg->is_string()) bad_token("the header has no alg");
    if (*alg == "none") bad_token("alg \"none\" is not accepted");
    if (find(header, "crit")) bad_token("critical header extensions are not supported");
    const Json* kid = find(header, "kid");
    if (require_kid ? (!kid || !kid->is_string()) : (kid && !kid->is_string())) bad_token("the header has no kid");
    Parsed out;
    out.alg = alg->get<std::string>();
    if (kid) out.kid = kid->get<std::string>();
    out.signing_input = token.substr(0, second);
    out.payload = std::move(*payload);
    out.signature = std::move(*signature);
    return out;
}

Json check_claims(std::string_view payload, const ClaimRules& rules) {
    Json claims = Json::parse(payload, nullptr, false);
    if (claims.is_discarded() || !claims.is_object()) bad_token("the payload is not a JSON object");
    auto number = [&](const char* name) -> std::optional<double> {
        const Json* value = find(claims, name);
        if (!value) return std::nullopt;
        if (!value->is_number() || !std::isfinite(value->get<double>()))
            bad_token(std::string(name) + " is not a number");
        return value->get<double>();
    };
    auto exp = number("exp");
    if (!exp) bad_token("the token has no exp");
    if (rules.now > *exp + rules.leeway) bad_token("the token has expired");
    if (auto nbf = number("nbf"); nbf && rules.now + rules.leeway < *nbf) bad_token("the token is not yet valid");
    if (auto iat = number("iat"); iat && rules.now + rules.leeway < *iat) bad_token("the token was issued in the future");
    if (!rules.issuer.empty()) {
        const Json* iss = find(claims, "iss");
        if (!iss || !iss->is_string() || iss->get_ref<const std::string&>() != rules.issuer)
            bad_token("wrong issuer");
    }
    if (rules.audience) {
        const Json* aud = find(claims, "aud");
        bool ok = false;
        if (aud && aud->is_string()) ok = aud->get_ref<const std::string&>() == *rules.audience;
        if (aud && aud->is_array())
            for (const auto& a : *aud) ok = ok || (a.is_string() && a.get_ref<const std::string&>() == *rules.audience);
        if (!ok) bad_token("wrong audience");
    }
    return claims;
}

Json verify(const Parsed& token, const PublicKey& key, const ClaimRules& rules) {
    if (token.alg != alg_name(key.alg())) bad_token("alg does not match the key");
    if (!key.verify(token.signing_input, as_bytes(token.signature))) bad_token("bad signature");
    return check_claims(token.payload, rules);
}

}  // namespace pgauth::jwt
