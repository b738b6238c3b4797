// In-memory fixed-window rate limiting with Better-Auth's defaults.
#pragma once
#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pgauth::http {

class Request;
struct Response;

// The key an address is limited under: IPv4 as is, IPv6 grouped by its /64.
std::string rate_limit_key(std::string_view ip);

// Whether a route (its name at registration, e.g. "sign-in-email") gets the strict
// limit: sign-in, sign-up, change-password, change-email and the routes that send mail, as in Better-Auth.
bool strict_route(std::string_view route);

class RateLimiter {
public:
    // The most client/route windows held at once. A full table drops expired
    // windows first, then the oldest, so no stream of clients grows memory.
    static constexpr std::size_t max_entries = 100'000;
    static constexpr auto window = std::chrono::seconds(10);

    struct Decision {
        bool allowed;
        long retry_after_seconds;
    };
    explicit RateLimiter(bool enabled, std::size_t capacity = max_entries)
        : enabled_(enabled), capacity_(capacity == 0 ? 1 : capacity) {}
    // Keyed by the client and the matched route's name, never the raw path:
    // 3 per 10 s on strict routes, 100 per 10 s on each other route.
    Decision check(std::string_view ip, std::string_view route, std::chrono::steady_clock::time_point now);
    Decision check(std::string_view ip, std::string_view route) {
        return check(ip, route, std::chrono::steady_clock::now());
    }
    std::size_t size() const;

private:
    struct Window {
        std::string key;
        std::chrono::steady_clock::time_point start;
        int count;
    };
    using Order = std::list<Window>;  // by window start, oldest first
    bool enabled_;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    Order order_;
    std::unordered_map<std::string_view, Order::iterator> index_;  // views into order_'s keys
};

// Pipeline step: the 429 RATE_LIMITED answer (with X-Retry-After) when the
// client has used up the route's window, nullopt to let the request through.
std::optional<Response> rate_limit(RateLimiter& limiter, const Request& request, std::string_view route);

}  // namespace pgauth::http
