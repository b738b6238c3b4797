// http/origin: origin_of, the trusted-origin (CSRF) check and the redirect
// (open-redirect) check. Properties, checked against an independent reading of
// the input rather than by calling the code under test twice:
//  - origin_of(u), when it succeeds, is "http(s)://host[:port]" in lower case
//    with a host of [a-z0-9.-] or a bracketed literal and a port of 1-5 digits
//    other than the scheme's default; it is a fixed point (origin_of of it is
//    itself); and u, lower-cased, starts with it (after dropping a default
//    port) followed by the end, '/', '?' or '#';
//  - trusted_origin(h) implies h, lower-cased, is a trusted origin, optionally
//    with the default port, optionally followed by a path/query/fragment;
//  - safe_redirect(t) implies t is either a same-site path that no browser
//    reads as another host ("/x": not "//", not "/\", no control characters,
//    spaces or backslashes anywhere), or an absolute URL on a trusted origin as
//    above;
//  - nothing throws.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "origin.hpp"

using namespace pgauth::http;

namespace {

const std::vector<std::string> trusted = {"https://app.example.com", "http://localhost:3000", "http://[::1]:8080"};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

bool clean(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '\\'; });
}

// `url` (lower-cased) is `origin`, maybe with the scheme's default port spelled
// out, then nothing or a path, query or fragment.
bool is_on(std::string_view url, std::string_view origin) {
    std::string u = lower(url);
    if (u.rfind(origin, 0) != 0) return false;
    std::string_view rest = std::string_view(u).substr(origin.size());
    bool has_port = origin.find(':', origin.find("://") + 3) != std::string_view::npos && origin.back() != ']';
    if (!has_port) {
        std::string_view dflt = origin.rfind("https", 0) == 0 ? ":443" : ":80";
        if (rest.rfind(dflt, 0) == 0) rest.remove_prefix(dflt.size());
    }
    return rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#';
}

void check_origin_of(std::string_view url) {
    auto origin = origin_of(url);
    if (!origin) return;
    std::string_view o = *origin;
    FUZZ_CHECK(o.rfind("http://", 0) == 0 || o.rfind("https://", 0) == 0);
    FUZZ_CHECK(lower(o) == o);
    FUZZ_CHECK(clean(o) && o.find('@') == std::string_view::npos);
    std::string_view authority = o.substr(o.find("://") + 3);
    FUZZ_CHECK(!authority.empty() && authority.find_first_of("/?#") == std::string_view::npos);
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        FUZZ_CHECK(close != std::string_view::npos);
        host = authority.substr(0, close + 1);
        port = authority.substr(close + 1);
    } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon);
        FUZZ_CHECK(std::all_of(host.begin(), host.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        }));
    }
    FUZZ_CHECK(!host.empty());
    if (!port.empty()) {
        FUZZ_CHECK(port.front() == ':' && port.size() >= 2 && port.size() <= 6);
        FUZZ_CHECK(std::all_of(port.begin() + 1, port.end(), [](char c) { return c >= '0' && c <= '9'; }));
        FUZZ_CHECK(std::stoi(std::string(port.substr(1))) <= 65535);
        FUZZ_CHECK(!(o.rfind("https:", 0) == 0 && port == ":443") && !(o.rfind("http:", 0) == 0 && port == ":80"));
    }
    auto again = origin_of(o);
    FUZZ_CHECK(again && *again == o);
    FUZZ_CHECK(is_on(url, o));
}

void check_policy(std::string_view input) {
    OriginPolicy policy(trusted);
    if (policy.trusted_origin(input)) {
        FUZZ_CHECK(std::any_of(trusted.begin(), trusted.end(), [&](const std::string& t) { return is_on(input, t); }));
    }
    if (policy.safe_redirect(input)) {
        FUZZ_CHECK(!input.empty() && clean(input));
        if (input.front() == '/') {
            FUZZ_CHECK(input.size() == 1 || (input[1] != '/' && input[1] != '\\'));
        } else {
            FUZZ_CHECK(std::any_of(trusted.begin(), trusted.end(), [&](const std::string& t) { return is_on(input, t); }));
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_origin_of(input);
    check_policy(input);
    // The same input behind each trusted origin's prefix reaches the deeper branches.
    FuzzedDataProvider in(data, size);
    const std::string& base = trusted[in.ConsumeIntegralInRange<std::size_t>(0, trusted.size() - 1)];
    std::string joined = base + in.ConsumeRemainingBytesAsString();
    check_origin_of(joined);
    check_policy(joined);
    return 0;
}
