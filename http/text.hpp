// Small string helpers shared by pgauth-http (ASCII only: header names, schemes, addresses).
#pragma once
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace pgauth::http {

inline char lower_char(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

inline std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower_char);
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// "[::1]" -> "::1"; anything else unchanged. Pistache reports IPv6 peers in brackets.
inline std::string_view strip_brackets(std::string_view ip) {
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') return ip.substr(1, ip.size() - 2);
    return ip;
}

}  // namespace pgauth::http
