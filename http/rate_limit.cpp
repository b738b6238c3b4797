#include "rate_limit.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "request.hpp"
#include "text.hpp"

namespace pgauth::http {

bool strict_route(std::string_view route) {
    if (route.starts_with("sign-in") || route.starts_with("sign-up") || route == "change-password" ||
        route == "change-email" ||
        route == "oauth2-register")  // oauth2-register: each call stores a new client
        return true;
    // twoFactor: Better-Auth limits /two-factor/* to 3 per 10 s (codes are guessable one by one).
    if (route.starts_with("two-factor-")) return true;
    // The routes that send mail (Better-Auth counts them 3 per 60 s; here 3 per 10 s, and the
    // extension also limits each address: pgauth.email_max_per_address).
    for (std::string_view mail : {"send-verification-email", "request-password-reset", "forget-password-email-otp",
                                  "email-otp-send-verification-otp", "email-otp-request-password-reset"})
        if (route == mail) return true;
    return false;
}

std::string rate_limit_key(std::string_view ip) {
    std::string text(strip_brackets(ip));
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

RateLimiter::Decision RateLimiter::check(std::string_view ip, std::string_view route,
                                         std::chrono::steady_clock::time_point now) {
    if (!enabled_) return {true, 0};
    const int limit = strict_route(route) ? 3 : 100;
    std::string key = rate_limit_key(ip);
    key += '|';
    key += route;

    std::lock_guard lock(mutex_);
    // Windows are kept in order of their start: expired ones are at the front.
    while (!order_.empty() && now - order_.front().start >= window) {
        index_.erase(order_.front().key);
        order_.pop_front();
    }
    auto found = index_.find(key);
    if (found == index_.end()) {
        while (order_.size() >= capacity_) {  // full of live windows: drop the oldest
            index_.erase(order_.front().key);
            order_.pop_front();
        }
        order_.push_back(Window{std::move(key), now, 1});
        index_.emplace(order_.back().key, std::prev(order_.end()));
        return {true, 0};
    }
    Window& w = *found->second;
    if (now - w.start >= window) {  // expired but not yet at the front (threads race on `now`)
        w.start = now;
        w.count = 1;
        order_.splice(order_.end(), order_, found->second);
        return {true, 0};
    }
    if (w.count >= limit) {
        auto left = std::chrono::ceil<std::chrono::seconds>(w.start + window - now).count();
        return {false, left < 1 ? 1 : static_cast<long>(left)};
    }
    ++w.count;
    return {true, 0};
}

std::size_t RateLimiter::size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
}

std::optional<Response> rate_limit(RateLimiter& limiter, const Request& request, std::string_view route) {
    auto decision = limiter.check(request.ip(), route);
    if (decision.allowed) return std::nullopt;
    Response res = Response::error(errors::make("RATE_LIMITED"));
    res.header("X-Retry-After", std::to_string(decision.retry_after_seconds));
    res.header("Retry-After", std::to_string(decision.retry_after_seconds));
    return res;
}

}  // namespace pgauth::http
