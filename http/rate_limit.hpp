// In-memory fixed-window rate limiting with Better-Auth's defaults.
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pgauth::http {

// The key an address is limited under: IPv4 as is, IPv6 grouped by its /64.
std::string rate_limit_key(std::string_view ip);

class RateLimiter {
public:
    struct Decision {
        bool allowed;
        long retry_after_seconds;
    };
    explicit RateLimiter(bool enabled) : enabled_(enabled) {}
    // 3 per 10 s on sign-in, sign-up and change-password paths, 100 per 10 s elsewhere.
    Decision check(std::string_view ip, std::string_view path, std::chrono::steady_clock::time_point now);
    Decision check(std::string_view ip, std::string_view path) { return check(ip, path, std::chrono::steady_clock::now()); }
    bool enabled() const { return enabled_; }

private:
    struct Window {
        std::chrono::steady_clock::time_point start;
        int count;
    };
    bool enabled_;
    std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
    std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace pgauth::http
