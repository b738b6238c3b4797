#include "integrations/cimd/fetcher.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace pgauth::http::cimd {
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

bool v4_public(std::uint32_t a) {  // host order
    auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
    return !(in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
             in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0000200, 24) ||
             in(0xC0A80000, 16) || in(0xC6120000, 15) || in(0xC6336400, 24) || in(0xCB007100, 24) ||
             in(0xE0000000, 4) || in(0xF0000000, 4));
}

// The IPv4 address an IPv6 one stands for (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d).
std::optional<std::uint32_t> embedded_v4(const in6_addr& a) {
    static constexpr std::array<std::uint8_t, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static constexpr std::array<std::uint8_t, 12> nat64{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (std::memcmp(a.s6_addr, mapped.data(), 12) == 0 || std::memcmp(a.s6_addr, nat64.data(), 12) == 0)
        return (std::uint32_t(a.s6_addr[12]) << 24) | (std::uint32_t(a.s6_addr[13]) << 16) |
               (std::uint32_t(a.s6_addr[14]) << 8) | std::uint32_t(a.s6_addr[15]);
    return std::nullopt;
}

bool v6_public(const in6_addr& a) {
    if (auto v4 = embedded_v4(a)) return v4_public(*v4);
    const std::uint8_t* b = a.s6_addr;
    bool zero_prefix = std::all_of(b, b + 15, [](std::uint8_t x) { return x == 0; });
    if (zero_prefix && (b[15] == 0 || b[15] == 1)) return false;           // :: and ::1
    if ((b[0] & 0xfe) == 0xfc) return false;                                // fc00::/7 unique local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;                // fe80::/10 link-local
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;                // fec0::/10 site-local (deprecated)
    if (b[0] == 0xff) return false;                                         // multicast
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // 2001:db8::/32 documentation
    if (b[0] == 0x01 && std::all_of(b + 1, b + 8, [](std::uint8_t x) { return x == 0; })) return false;  // 100::/64 discard
    if (zero_prefix || std::all_of(b, b + 12, [](std::uint8_t x) { return x == 0; })) return false;  // IPv4-compatible
    return true;
}

struct Transfer {
    const FetchSettings* settings = nullptr;
    bool loopback_dev = false;  // http dev mode to a loopback host: loopback addresses allowed
    std::string body;
    bool too_large = false;
    std::string refused;  // why a connection was refused
    std::string cache_control;
};

curl_socket_t open_socket(void* data, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(data);
    const auto* sa = &address->addr;
    bool allowed = t->settings->allow_private || is_public_address(sa) || (t->loopback_dev && is_loopback_address(sa));
    if (purpose != CURLSOCKTYPE_IPCXN || !allowed) {
        t->refused = t->settings->body_name + "'s host resolves to a private, loopback or reserved address";
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t n = size * count;
    if (t->body.size() + n > t->settings->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer
    }
    t->body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * count);
    constexpr std::string_view name = "cache-control:";
    if (line.size() > name.size() && std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
        })) {
        std::string_view value = line.substr(name.size());
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.remove_suffix(1);
        if (t->cache_control.size() < 1024) t->cache_control += std::string(value) + ",";
    }
    return size * count;
}

std::string url_part(CURLU* u, CURLUPart part) {
    char* out = nullptr;
    if (curl_url_get(u, part, &out, 0) != CURLUE_OK || !out) return {};
    std::string s(out);
    curl_free(out);
    return s;
}

}  // namespace

bool is_public_address(const sockaddr* address) {
    if (address->sa_family == AF_INET)
        return v4_public(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
    if (address->sa_family == AF_INET6) return v6_public(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
    return false;
}

bool is_loopback_address(const sockaddr* address) {
    if (address->sa_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr) >> 24) == 127;
    if (address->sa_family == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr;
        if (auto v4 = embedded_v4(a)) return (*v4 >> 24) == 127;
        return IN6_IS_ADDR_LOOPBACK(&a);
    }
    return false;
}

std::optional<int> max_age_of(std::string_view cc) {
    std::string lower;
    for (char c : cc) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("no-store") != std::string::npos || lower.find("no-cache") != std::string::npos) return 0;
    auto at = lower.find("max-age");
    while (at != std::string::npos && at > 0 && lower[at - 1] == '-') at = lower.find("max-age", at + 1);  // s-maxage is another word
    if (at == std::string::npos) return std::nullopt;
    std::size_t i = at + 7;
    while (i < lower.size() && lower[i] == ' ') ++i;
    if (i >= lower.size() || lower[i] != '=') return std::nullopt;
    ++i;
    while (i < lower.size() && lower[i] == ' ') ++i;
    if (i < lower.size() && lower[i] == '"') ++i;
    long long v = 0;
    std::size_t digits = 0;
    for (; i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])); ++i, ++digits)
        v = std::min<long long>(v * 10 + (lower[i] - '0'), 1LL << 31);
    if (digits == 0) return std::nullopt;
    return static_cast<int>(std::min<long long>(v, 0x7fffffff));
}

Document fetch(const std::string& url, const FetchSettings& settings) {
    static CurlGlobal global;
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
    if (!parsed || url.size() > 2048 || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
        throw FetchError(settings.url_name + " is not a valid URL");
    std::string scheme = url_part(parsed.get(), CURLUPART_SCHEME);
    std::string host = url_part(parsed.get(), CURLUPART_HOST);
    if (!url_part(parsed.get(), CURLUPART_USER).empty() || !url_part(parsed.get(), CURLUPART_FRAGMENT).empty())
        throw FetchError(settings.url_name + " URL must not have credentials or a fragment");
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    bool loopback_host = host == "127.0.0.1" || host == "[::1]" || host == "localhost";
    Transfer t;
    t.settings = &settings;
    if (scheme == "http") {
        if (!settings.allow_http_loopback || !loopback_host)
            throw FetchError(settings.url_name + " must be an https URL");
        t.loopback_dev = true;
    } else if (scheme != "https") {
        throw FetchError(settings.url_name + " must be an https URL");
    }

    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw FetchError(settings.body_name + " could not be fetched");
    CURL* c = curl.get();
    std::string accept = "Accept: " + settings.accept;
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(curl_slist_append(nullptr, accept.c_str()),
                                                                        curl_slist_free_all);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, t.loopback_dev ? "http" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through a proxy from the environment
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.total_timeout.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(settings.max_bytes));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pgauth-cimd/0.5");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // identity or compressed; the cap applies to decoded bytes
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    CURLcode rc = curl_easy_perform(c);
    if (!t.refused.empty()) throw FetchError(t.refused);
    if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED)
        throw FetchError(settings.body_name + " is larger than " + std::to_string(settings.max_bytes) + " bytes");
    if (rc == CURLE_OPERATION_TIMEDOUT) throw FetchError("fetching " + settings.body_name + " timed out");
    if (rc != CURLE_OK) throw FetchError(settings.body_name + " could not be fetched");
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 && status < 400) throw FetchError(settings.body_name + "'s URL redirects; redirects are not followed");
    if (status != 200) throw FetchError(settings.body_name + "'s URL answered HTTP " + std::to_string(status));
    Document doc;
    doc.body = nlohmann::json::parse(t.body, nullptr, false);
    if (doc.body.is_discarded() || !doc.body.is_object()) throw FetchError(settings.body_name + " is not a JSON object");
    doc.max_age = max_age_of(t.cache_control);
    return doc;
}

}  // namespace pgauth::http::cimd
