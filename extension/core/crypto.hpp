// Hashing, MACs, encodings and randomness shared by every area. PG-free.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgauth {

using Bytes = std::span<const std::uint8_t>;
using Digest = std::array<std::uint8_t, 32>;

inline Bytes as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Initializes libsodium once; throws std::runtime_error if it cannot.
void crypto_init();

Digest sha256(Bytes data);
inline Digest sha256(std::string_view s) { return sha256(as_bytes(s)); }
Digest hmac_sha256(Bytes key, Bytes message);

// Constant-time comparison; false when sizes differ.
bool equal_ct(Bytes a, Bytes b);

std::string hex_encode(Bytes data);
std::optional<std::string> hex_decode(std::string_view hex);

// RFC 4648 §4 (standard, padded) and §5 (url-safe, unpadded).
std::string base64_encode(Bytes data);
std::optional<std::string> base64_decode(std::string_view text);
std::string base64url_encode(Bytes data);
std::optional<std::string> base64url_decode(std::string_view text);  // rejects padding and bad chars

// A new opaque token: `bytes` random bytes, base64url (32 bytes -> 43 chars).
std::string random_token(std::size_t bytes = 32);

}  // namespace pgauth
