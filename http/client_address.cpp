#include "client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace pgauth::http {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Parses a bare address (no port, no brackets) into 16 bytes; v6 says which family.
bool parse_address(std::string_view text, bool& v6, std::array<std::uint8_t, 16>& out) {
    if (text.empty() || text.size() > 45) return false;
    std::string s(text);
    out.fill(0);
    if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
        v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
        static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(mapped, mapped + 12, out.begin())) {  // ::ffff:a.b.c.d is the IPv4 address
            std::copy(out.begin() + 12, out.end(), out.begin());
            std::fill(out.begin() + 4, out.end(), 0);
            v6 = false;
        } else {
            v6 = true;
        }
        return true;
    }
    return false;
}

std::string unbracket(std::string_view ip) {
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    return std::string(ip);
}

// Splits on commas (header lists); empty items are kept out.
std::vector<std::string_view> split_commas(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        auto end = s.find(',', start);
        if (end == std::string_view::npos) end = s.size();
        auto item = trim(s.substr(start, end - start));
        if (!item.empty()) out.push_back(item);
        start = end + 1;
    }
    return out;
}

}  // namespace

bool Cidr::contains(std::string_view ip) const {
    bool is_v6 = false;
    std::array<std::uint8_t, 16> addr{};
    if (!parse_address(unbracket(ip), is_v6, addr) || is_v6 != v6) return false;
    int full = prefix / 8, rest = prefix % 8;
    if (!std::equal(bytes.begin(), bytes.begin() + full, addr.begin())) return false;
    if (rest == 0) return true;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (bytes[full] & mask) == (addr[full] & mask);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
    text = trim(text);
    Cidr c;
    auto slash = text.find('/');
    if (!parse_address(text.substr(0, slash), c.v6, c.bytes)) return std::nullopt;
    int max = c.v6 ? 128 : 32;
    c.prefix = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(), [](unsigned char d) { return std::isdigit(d); }))
            return std::nullopt;
        c.prefix = std::stoi(std::string(digits));
        if (c.prefix > max) return std::nullopt;
    }
    return c;
}

std::optional<std::string> parse_hop(std::string_view text) {
    text = trim(text);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 64) return std::nullopt;
    std::string_view host = text;
    if (host.front() == '[') {  // [v6] or [v6]:port
        auto close = host.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = host.substr(1, close - 1);
    } else if (std::count(host.begin(), host.end(), ':') == 1) {  // v4:port
        host = host.substr(0, host.find(':'));
    }
    bool v6 = false;
    std::array<std::uint8_t, 16> addr{};
    if (!parse_address(host, v6, addr)) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
    return std::string(buf);
}

TrustedProxies TrustedProxies::parse(std::string_view list) {
    std::vector<Cidr> ranges;
    for (auto item : split_commas(list)) {
        auto c = parse_cidr(item);
        if (!c) throw std::invalid_argument("not an address or CIDR: " + std::string(item));
        ranges.push_back(*c);
    }
    return TrustedProxies(std::move(ranges));
}

bool TrustedProxies::trusted(std::string_view ip) const {
    return std::any_of(ranges_.begin(), ranges_.end(), [&](const Cidr& c) { return c.contains(ip); });
}

std::string TrustedProxies::resolve(std::string_view peer, const std::vector<std::string>& x_forwarded_for,
                                    const std::vector<std::string>& forwarded) const {
    std::string client = unbracket(peer);
    if (ranges_.empty() || !trusted(client)) return client;
    std::vector<std::string_view> hops;
    if (!forwarded.empty()) {
        for (const auto& header : forwarded)
            for (auto element : split_commas(header)) {
                std::string_view hop = "unknown";  // an element without for= says nothing of the client
                std::size_t start = 0;
                while (start <= element.size()) {
                    auto end = element.find(';', start);
                    if (end == std::string_view::npos) end = element.size();
                    auto pair = trim(element.substr(start, end - start));
                    if (pair.size() > 4 && (pair[0] == 'f' || pair[0] == 'F') && (pair[1] == 'o' || pair[1] == 'O') &&
                        (pair[2] == 'r' || pair[2] == 'R') && pair[3] == '=')
                        hop = pair.substr(4);
                    start = end + 1;
                }
                hops.push_back(hop);
            }
    } else {
        for (const auto& header : x_forwarded_for)
            for (auto hop : split_commas(header)) hops.push_back(hop);
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto address = parse_hop(*it);
        if (!address) return client;  // garbage: the last trusted address is all we know
        client = *address;
        if (!trusted(client)) return client;
    }
    return client;
}

}  // namespace pgauth::http
