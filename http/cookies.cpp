#include "cookies.hpp"

#include <cctype>

#include <vector>

#include "core/crypto.hpp"
#include "request.hpp"
#include "text.hpp"

namespace pgauth::http {

std::string sign_token(std::string_view token, std::string_view secret) {
    return std::string(token) + "." + base64_encode(hmac_sha256(as_bytes(secret), as_bytes(token)));
}

std::optional<std::string> verify_signed_token(std::string_view value, std::string_view secret) {
    auto dot = value.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || value.size() > 1024) return std::nullopt;
    std::string_view token = value.substr(0, dot), signature = value.substr(dot + 1);
    auto given = base64_decode(signature);
    if (!given || given->size() != 32) return std::nullopt;
    auto expected = hmac_sha256(as_bytes(secret), as_bytes(token));
    if (!equal_ct(as_bytes(*given), expected)) return std::nullopt;
    return std::string(token);
}

std::string url_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::optional<std::string> url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        auto digit = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = digit(s[i + 1]), lo = digit(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

CookieLookup find_unique_cookie(std::string_view header, std::string_view name) {
    auto trim = [](std::string_view v) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        return v;
    };
    CookieLookup found;
    if (name.empty()) return found;
    std::size_t pos = 0;
    while (pos <= header.size()) {
        auto end = header.find(';', pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view pair = header.substr(pos, end - pos);
        pos = end + 1;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
        if (found.state != CookieLookup::State::absent) return {CookieLookup::State::duplicate, {}};
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        found = {CookieLookup::State::one, value};
    }
    return found;
}

std::string set_cookie(std::string_view name, std::string_view value, const CookieOptions& options) {
    std::string out = std::string(name) + "=" + std::string(value);
    if (options.max_age) out += "; Max-Age=" + std::to_string(*options.max_age);
    out += "; Path=/; HttpOnly; SameSite=Lax";
    if (options.secure) out += "; Secure";
    return out;
}

std::optional<std::string> session_token(const Request& request, std::string_view cookie_name,
                                         std::string_view secret) {
    // Read from the raw header: Pistache's jar keeps one of several same-name cookies,
    // and a duplicated session cookie (cookie tossing) must count as no cookie. With
    // two Cookie headers the raw one is the first and the jar holds the last: they
    // must agree too.
    const std::string name(cookie_name);
    auto header = request.header("Cookie");
    auto found = header ? find_unique_cookie(*header, name) : CookieLookup{};
    std::vector<std::string> in_jar;  // as "name=value", to unquote it like the raw one
    for (const auto& c : request.raw().cookies())
        if (c.name == name) in_jar.push_back(name + "=" + c.value);
    bool jar_agrees = in_jar.empty() || (in_jar.size() == 1 && find_unique_cookie(in_jar[0], name).value == found.value);
    if (found.state == CookieLookup::State::one && jar_agrees) {
        if (auto decoded = url_decode(found.value))
            if (auto token = verify_signed_token(*decoded, secret)) return token;
    }
    if (auto auth = request.header("Authorization")) {
        std::string_view value = *auth;
        if (value.size() > 7 && istarts_with(value, "Bearer ")) {
            std::string_view credential = value.substr(7);
            while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
            if (credential.find('.') != std::string_view::npos) {
                auto decoded = url_decode(credential);
                if (decoded) return verify_signed_token(*decoded, secret);
                return std::nullopt;
            }
            if (!credential.empty() && credential.size() <= 256) return std::string(credential);
        }
    }
    return std::nullopt;
}

}  // namespace pgauth::http
