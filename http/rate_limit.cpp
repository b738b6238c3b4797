#include "rate_limit.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace pgauth::http {
namespace {

constexpr auto window = std::chrono::seconds(10);

bool strict_path(std::string_view path) {
    for (std::string_view p : {"/sign-in", "/sign-up", "/change-password", "/change-email"})
        if (path.find(p) != std::string_view::npos) return true;
    return false;
}

}  // namespace

std::string rate_limit_key(std::string_view ip) {
    std::string text(ip);
    if (text.size() > 2 && text.front() == '[') text = text.substr(1, text.size() - 2);
    std::array<unsigned char, 16> v6{};
    if (text.find(':') != std::string::npos && inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
        // IPv4-mapped addresses count as the IPv4 address
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::equal(mapped, mapped + 12, v6.begin())) {
            char buf[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, v6.data() + 12, buf, sizeof buf);
            return buf;
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", v6[0], v6[1], v6[2], v6[3], v6[4],
                      v6[5], v6[6], v6[7]);
        return buf;
    }
    return text;
}

RateLimiter::Decision RateLimiter::check(std::string_view ip, std::string_view path,
                                         std::chrono::steady_clock::time_point now) {
    if (!enabled_) return {true, 0};
    bool strict = strict_path(path);
    int limit = strict ? 3 : 100;
    std::string key = rate_limit_key(ip) + (strict ? std::string("|") + std::string(path) : std::string("|*"));
    std::lock_guard lock(mutex_);
    if (now - last_sweep_ > window * 6) {  // forget idle clients so memory stays bounded
        for (auto it = windows_.begin(); it != windows_.end();)
            it = now - it->second.start > window ? windows_.erase(it) : std::next(it);
        last_sweep_ = now;
    }
    auto& w = windows_[key];
    if (w.count == 0 || now - w.start >= window) w = {now, 0};
    if (w.count >= limit) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(w.start + window - now).count();
        return {false, left < 1 ? 1 : left};
    }
    ++w.count;
    return {true, 0};
}

}  // namespace pgauth::http
