// base64url (RFC 4648 §5, unpadded), base64 (§4, padded) and hex from core/crypto.
// Properties:
//  - decode(encode(x)) == x for any bytes x;
//  - encode output uses only the variant's alphabet and has the exact length;
//  - decoding is canonical: whenever decode(s) succeeds, encode(decode(s)) == s
//    (no padding bits set, no padding in base64url, no ignored characters), so
//    one value has one accepted spelling;
//  - no exception escapes (the API promises an optional, not a throw).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto.hpp"
#include "fuzz_check.hpp"

using namespace pgauth;

namespace {

bool only(std::string_view s, std::string_view alphabet) {
    return s.find_first_not_of(alphabet) == std::string_view::npos;
}

constexpr std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view std_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes bytes(data, size);
    std::string_view text(reinterpret_cast<const char*>(data), size);

    // Round trips from bytes.
    std::string url = base64url_encode(bytes);
    FUZZ_CHECK(url.size() == (size * 4 + 2) / 3);
    FUZZ_CHECK(only(url, url_alphabet));
    auto url_back = base64url_decode(url);
    FUZZ_CHECK(url_back && *url_back == text);

    std::string std64 = base64_encode(bytes);
    FUZZ_CHECK(std64.size() == (size + 2) / 3 * 4);
    FUZZ_CHECK(only(std64, std_alphabet));
    auto std_back = base64_decode(std64);
    FUZZ_CHECK(std_back && *std_back == text);

    std::string hex = hex_encode(bytes);
    FUZZ_CHECK(hex.size() == size * 2);
    auto hex_back = hex_decode(hex);
    FUZZ_CHECK(hex_back && *hex_back == text);

    // Canonical decoding of arbitrary text.
    if (auto decoded = base64url_decode(text)) FUZZ_CHECK(base64url_encode(as_bytes(*decoded)) == text);
    if (auto decoded = base64_decode(text)) FUZZ_CHECK(base64_encode(as_bytes(*decoded)) == text);
    if (auto decoded = hex_decode(text)) {
        // hex accepts either case; the value must still be what the digits say
        FUZZ_CHECK(decoded->size() * 2 == size);
        std::string lower(text);
        for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
        FUZZ_CHECK(hex_encode(as_bytes(*decoded)) == lower);
    }
    return 0;
}
