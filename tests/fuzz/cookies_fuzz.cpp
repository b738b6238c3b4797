// http/cookies: the signed session cookie, url encoding and Cookie-header lookup.
// Properties:
//  - url_decode(url_encode(x)) == x; url_encode emits only unreserved
//    characters and %XX; whenever url_decode(s) succeeds, re-encoding and
//    decoding gives the same bytes and the result is never longer than s;
//  - a cookie signed with sign_token verifies to its token, and any edit of
//    the signed value (the signature or the token) is rejected: acceptance
//    implies the value is exactly sign_token(token, secret), so the signature
//    has one accepted spelling;
//  - verify_signed_token on arbitrary text never accepts a value that is not
//    sign_token(token, secret) of what it returns;
//  - find_unique_cookie returns a view into the header, with no ';' in it, and
//    says `duplicate` exactly when the name occurs twice;
//  - none of these throws.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <cstdint>
#include <string>

#include "cookies.hpp"
#include "core/crypto.hpp"
#include "fuzz_check.hpp"

using namespace pgauth::http;

namespace {

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

void url_coding(std::string_view s) {
    std::string encoded = url_encode(s);
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        unsigned char c = encoded[i];
        if (c == '%') {
            FUZZ_CHECK(i + 2 < encoded.size());
            FUZZ_CHECK(std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
                       std::isxdigit(static_cast<unsigned char>(encoded[i + 2])));
            i += 2;
        } else {
            FUZZ_CHECK(unreserved(c));
        }
    }
    auto back = url_decode(encoded);
    FUZZ_CHECK(back && *back == s);

    if (auto decoded = url_decode(s)) {
        FUZZ_CHECK(decoded->size() <= s.size());
        auto again = url_decode(url_encode(*decoded));
        FUZZ_CHECK(again && *again == *decoded);
    }
}

void signed_cookie(FuzzedDataProvider& in) {
    std::string secret = in.ConsumeRandomLengthString(64);
    std::string token = in.ConsumeRandomLengthString(128);
    std::string value = sign_token(token, secret);
    auto verified = verify_signed_token(value, secret);
    if (!token.empty()) {
        FUZZ_CHECK(verified && *verified == token);
        // the cookie as the browser sends it: urlencoded, then decoded by us
        auto decoded = url_decode(url_encode(value));
        FUZZ_CHECK(decoded && verify_signed_token(*decoded, secret) == token);
    } else {
        FUZZ_CHECK(!verified);  // ".sig" has no token
    }

    // Edit the signed value at fuzzer-chosen places; only the original verifies.
    std::string edited = value;
    int edits = in.ConsumeIntegralInRange(1, 4);
    for (int i = 0; i < edits && !edited.empty(); ++i) {
        std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, edited.size() - 1);
        switch (in.ConsumeIntegralInRange(0, 2)) {
            case 0: edited[at] = static_cast<char>(in.ConsumeIntegral<std::uint8_t>()); break;
            case 1: edited.erase(at, 1); break;
            default: edited.insert(at, 1, static_cast<char>(in.ConsumeIntegral<std::uint8_t>())); break;
        }
    }
    if (auto result = verify_signed_token(edited, secret)) FUZZ_CHECK(edited == sign_token(*result, secret));

    // Arbitrary text: acceptance implies the canonical form.
    std::string raw = in.ConsumeRemainingBytesAsString();
    if (auto result = verify_signed_token(raw, secret)) FUZZ_CHECK(raw == sign_token(*result, secret));
}

void cookie_header(FuzzedDataProvider& in) {
    std::string name = in.ConsumeRandomLengthString(32);
    std::string header = in.ConsumeRemainingBytesAsString();
    CookieLookup found = find_unique_cookie(header, name);
    if (found.state == CookieLookup::State::one) {
        FUZZ_CHECK(found.value.empty() || (found.value.data() >= header.data() &&
                                           found.value.data() + found.value.size() <= header.data() + header.size()));
        FUZZ_CHECK(found.value.find(';') == std::string_view::npos);
        // The same cookie sent twice is never a single value.
        std::string twice = header + "; " + header;
        FUZZ_CHECK(find_unique_cookie(twice, name).state == CookieLookup::State::duplicate);
    }
    CookieOptions options;
    options.secure = !name.empty() && (name[0] & 1);
    std::string set = set_cookie(name, url_encode(header), options);
    FUZZ_CHECK(set.rfind(name + "=", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool ready = (pgauth::crypto_init(), true);
    (void)ready;
    if (size == 0) return 0;
    FuzzedDataProvider in(data + 1, size - 1);  // data[0] picks the target
    switch (data[0] % 3) {
        case 0: url_coding(in.ConsumeRemainingBytesAsString()); break;
        case 1: signed_cookie(in); break;
        default: cookie_header(in); break;
    }
    return 0;
}
