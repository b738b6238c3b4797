// RFC 6238 TOTP (HMAC-SHA1) and the RFC 4648 base32 its secrets travel in.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgauth {

// RFC 4648 §6 base32, upper case, without padding (as otpauth:// URIs carry it).
std::string base32_encode(std::span<const std::uint8_t> data);
// Accepts upper or lower case and optional '=' padding; nullopt on any other character.
std::optional<std::string> base32_decode(std::string_view text);

// RFC 4226 HOTP of `counter` (RFC 6238: counter = unix time / period), `digits` 6 to 8.
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, int digits = 6);

}  // namespace pgauth
