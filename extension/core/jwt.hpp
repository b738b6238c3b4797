// JSON Web Keys and compact JWS: key generation and import (Ed25519 with
// libsodium, P-256 and RSA with OpenSSL EVP), RFC 7638 thumbprints, sealing
// private keys under the KEK, signing, parsing and claim checks. PG-free.
//
// Rejections throw AuthError("INVALID_TOKEN", reason) for tokens and
// AuthError("INVALID_KEY", reason) for keys; reasons never contain secrets.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace pgauth::jwt {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

enum class Alg { EdDSA, ES256, RS256 };
std::optional<Alg> parse_alg(std::string_view name);
std::string_view alg_name(Alg alg);

// Bytes wiped with sodium_memzero when they go away.
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::size_t size) : data_(size) {}
    SecretBytes(Bytes bytes) : data_(bytes.begin(), bytes.end()) {}
    SecretBytes(SecretBytes&&) noexcept = default;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    ~SecretBytes();
    std::uint8_t* data() { return data_.data(); }
    const std::uint8_t* data() const { return data_.data(); }
    std::size_t size() const { return data_.size(); }
    Bytes bytes() const { return {data_.data(), data_.size()}; }
    void resize(std::size_t size) { data_.resize(size); }

private:
    std::vector<std::uint8_t> data_;
};

struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A verification key: what auth.jwks publishes.
class PublicKey {
public:
    // From a public JWK (kty/crv/x/y/n/e; "alg" when present must match the
    // key type; "d" is ignored). Throws INVALID_KEY.
    static PublicKey from_jwk(const Json& jwk);

    Alg alg() const { return alg_; }
    const std::string& kid() const { return kid_; }  // RFC 7638 thumbprint
    // The published JWK: key members, then alg, use and kid.
    OrderedJson jwk() const;
    // The RFC 7638 members in lexicographic order, no whitespace.
    const std::string& canonical() const { return canonical_; }
    // `signature` in JOSE form (Ed25519: 64 bytes; ES256: r||s; RS256: PKCS#1 v1.5).
    bool verify(std::string_view signing_input, Bytes signature) const;

private:
    friend class SigningKey;
    Alg alg_ = Alg::EdDSA;
    std::string kid_;
    std::string canonical_;
    std::array<std::uint8_t, 32> ed25519_{};  // EdDSA
    std::shared_ptr<EVP_PKEY> pkey_;           // ES256, RS256
    void finish();                             // computes canonical_ and kid_
};

// A signing key. Its storage form (private_bytes) is the 32-byte Ed25519
// seed or the DER private key; that is what gets sealed.
class SigningKey {
public:
    static SigningKey generate(Alg alg);
    static SigningKey from_private_bytes(Alg alg, Bytes stored);
    // From a private JWK (with "d", and for RSA the CRT members). INVALID_KEY.
    static SigningKey from_jwk(const Json& jwk);

    const PublicKey& public_key() const { return public_; }
    SecretBytes private_bytes() const;
    std::string sign(std::string_view signing_input) const;  // JOSE signature bytes

private:
    PublicKey public_;
    SecretBytes ed25519_secret_;  // libsodium's 64-byte secret key (seed || pk)
    Pkey pkey_;
    void adopt(EVP_PKEY* owned);  // ES256/RS256: owns `owned`, shares it with the public key
};

// RFC 7638 thumbprint of a canonical JWK string: base64url(SHA-256).
std::string thumbprint(std::string_view canonical_jwk);

// XChaCha20-Poly1305 with a random nonce: nonce || ciphertext || tag.
// `aad` binds the sealed blob to its row (the kid).
constexpr std::size_t kek_size = 32;
std::vector<std::uint8_t> seal(Bytes kek, Bytes plaintext, std::string_view aad);
SecretBytes unseal(Bytes kek, Bytes sealed, std::string_view aad);  // throws std::runtime_error

// A KEK file's contents: 32 raw bytes, or 64 hex digits, or 44 base64
// characters, optionally followed by a newline. Throws std::runtime_error.
SecretBytes parse_kek(std::string_view contents);

// Compact JWS with header {"alg","kid"} (Better-Auth's jwt plugin has no typ).
std::string encode(const SigningKey& key, std::string_view payload_json);
// The same with a typ header member (RFC 9068 "at+jwt", "JWT" for id_tokens).
std::string encode(const SigningKey& key, std::string_view payload_json, std::string_view typ);

constexpr std::size_t max_token_size = 8192;

// A token taken apart; nothing is trusted yet.
struct Parsed {
    std::string alg;
    std::string kid;
    std::string_view signing_input;  // header.payload, points into the token
    std::string payload;             // decoded JSON text
    std::string signature;
};
// Structure only: size, three segments, base64url, a JSON object header with
// a string alg other than "none", a string kid, no "crit". INVALID_TOKEN.
Parsed parse(std::string_view token);
// The same, with the kid optional (empty when absent): a client's assertion
// (RFC 7523) may carry none.
Parsed parse(std::string_view token, bool require_kid);

struct ClaimRules {
    double now;                    // seconds since the epoch
    double leeway;                 // seconds
    std::string_view issuer;       // required iss when not empty
    std::optional<std::string_view> audience;
};
// `payload` must be a JSON object with a numeric exp; checks exp, nbf, iat,
// iss and aud. Returns the parsed claims. INVALID_TOKEN.
Json check_claims(std::string_view payload, const ClaimRules& rules);

// Full verification against a key already chosen by kid.
// Throws INVALID_TOKEN: "alg does not match the key", "bad signature", claims.
Json verify(const Parsed& token, const PublicKey& key, const ClaimRules& rules);

}  // namespace pgauth::jwt
