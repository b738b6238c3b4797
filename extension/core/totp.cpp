// RFC 6238 TOTP with HMAC-SHA1 (RFC 4226 dynamic truncation) and RFC 4648 base32.
#include "core/totp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <limits>
#include <stdexcept>

namespace pgauth {
namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}

std::string base32_encode(std::span<const std::uint8_t> data) {
    std::string out;
    out.reserve((data.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::uint8_t byte : data) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a';
        else if (c >= '2' && c <= '7') v = c - '2' + 26;
        else return std::nullopt;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
            bits -= 8;
        }
    }
    return out;
}

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, int digits) {
    if (digits < 6 || digits > 8) throw std::invalid_argument("HOTP digits must be 6 to 8");
    if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw std::invalid_argument("HOTP key too long");
    std::array<std::uint8_t, 8> message{};
    for (int i = 7; i >= 0; i--) {
        message[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
        counter >>= 8;
    }
    static constexpr std::uint8_t empty = 0;
    std::array<std::uint8_t, 20> mac{};
    unsigned int length = 0;
    if (!HMAC(EVP_sha1(), key.empty() ? &empty : key.data(), static_cast<int>(key.size()), message.data(),
              message.size(), mac.data(), &length) ||
        length != mac.size())
        throw std::runtime_error("HMAC-SHA1 failed");
    unsigned offset = mac[19] & 0x0f;
    std::uint32_t binary = (std::uint32_t(mac[offset] & 0x7f) << 24) | (std::uint32_t(mac[offset + 1]) << 16) |
                           (std::uint32_t(mac[offset + 2]) << 8) | std::uint32_t(mac[offset + 3]);
    sodium_memzero(mac.data(), mac.size());
    std::uint32_t modulo = 1;
    for (int i = 0; i < digits; i++) modulo *= 10;
    std::string code = std::to_string(binary % modulo);
    return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

}  // namespace pgauth
