// The client's address behind reverse proxies: X-Forwarded-For / Forwarded are
// believed only when the peer is one of PGAUTH_TRUSTED_PROXIES.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgauth::http {

struct Cidr {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
    int prefix = 0;
    bool contains(std::string_view ip) const;
};

// "10.0.0.0/8", "127.0.0.1" (= /32), "::1", "fd00::/8"; nullopt if malformed.
std::optional<Cidr> parse_cidr(std::string_view text);

// An address as written in a header hop: "1.2.3.4", "1.2.3.4:80", "2001:db8::1",
// "[2001:db8::1]:443", optionally quoted. Returns the canonical address text
// (IPv4-mapped IPv6 as IPv4), or nullopt for anything else ("unknown", "_hidden").
std::optional<std::string> parse_hop(std::string_view text);

class TrustedProxies {
public:
    TrustedProxies() = default;
    explicit TrustedProxies(std::vector<Cidr> ranges) : ranges_(std::move(ranges)) {}
    // Comma-separated CIDRs; throws std::invalid_argument naming the bad item.
    static TrustedProxies parse(std::string_view list);
    bool empty() const { return ranges_.empty(); }
    bool trusted(std::string_view ip) const;

    // The client address of a request from `peer`. When the peer is a trusted
    // proxy, the hops of `forwarded` (every Forwarded header, in order) or, when
    // there is none, of `x_forwarded_for` are walked from the right: trusted hops
    // are skipped and the first untrusted one is the client. A hop that is not an
    // address ends the walk at the last trusted address. All hops trusted: the left-most.
    std::string resolve(std::string_view peer, const std::vector<std::string>& x_forwarded_for,
                        const std::vector<std::string>& forwarded) const;

private:
    std::vector<Cidr> ranges_;
};

}  // namespace pgauth::http
