// Hashing, MACs, encodings and randomness (libsodium + OpenSSL HMAC).
#include "core/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <limits>
#include <mutex>
#include <stdexcept>

namespace pgauth {

void crypto_init() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] { ok = sodium_init() >= 0; });
    if (!ok) throw std::runtime_error("libsodium failed to initialize");
}

Digest sha256(Bytes data) {
    Digest out{};
    crypto_hash_sha256(out.data(), data.data(), data.size());
    return out;
}

Digest hmac_sha256(Bytes key, Bytes message) {
    // OpenSSL treats a NULL key as "reuse the previous key" and fails on a fresh
    // context, so an empty key or message must still point somewhere.
    static constexpr std::uint8_t empty = 0;
    const std::uint8_t* key_ptr = key.empty() ? &empty : key.data();
    const std::uint8_t* msg_ptr = message.empty() ? &empty : message.data();
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::invalid_argument("HMAC key too long");
    Digest out{};
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), msg_ptr, message.size(), out.data(), &length) ||
        length != out.size())
        throw std::runtime_error("HMAC-SHA256 failed");
    return out;
}

bool equal_ct(Bytes a, Bytes b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hex_encode(Bytes data) {
    std::string out(data.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
    out.pop_back();
    return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out(hex.size() / 2, '\0');
    size_t written = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(), hex.size(), nullptr,
                       &written, &end) != 0 ||
        written != out.size() || end != hex.data() + hex.size())
        return std::nullopt;
    return out;
}

namespace {

std::string encode(Bytes data, int variant) {
    std::string out(sodium_base64_ENCODED_LEN(data.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
    out.resize(out.size() - 1);  // drop the terminating NUL
    return out;
}

// libsodium 1.0.18 reads every byte >= 0x80 as the alphabet's last character
// ('/' or '_'), so "Zm9v\xff" would decode like "Zm9v/": check the alphabet
// here so that one value has one accepted spelling.
bool in_alphabet(std::string_view text, int variant) {
    const bool url = variant == sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    for (unsigned char c : text) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (url ? c == '-' || c == '_' : c == '+' || c == '/' || c == '=');
        if (!ok) return false;
    }
    return true;
}

std::optional<std::string> decode(std::string_view text, int variant) {
    if (!in_alphabet(text, variant)) return std::nullopt;
    std::string out(text.size() / 4 * 3 + 3, '\0');
    size_t written = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &written, &end, variant) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(written);
    return out;
}

}  // namespace

std::string base64_encode(Bytes data) { return encode(data, sodium_base64_VARIANT_ORIGINAL); }
std::optional<std::string> base64_decode(std::string_view text) {
    return decode(text, sodium_base64_VARIANT_ORIGINAL);
}
std::string base64url_encode(Bytes data) { return encode(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING); }
std::optional<std::string> base64url_decode(std::string_view text) {
    return decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}


std::string random_token(std::size_t bytes) {
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string token = base64url_encode(as_bytes(raw));
    sodium_memzero(raw.data(), raw.size());
    return token;
}

}  // namespace pgauth
