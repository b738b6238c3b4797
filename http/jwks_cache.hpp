// The JWKS document, served from memory. It changes only when a key is
// rotated, imported or retired, so a request never queries for it: a copy is
// refreshed at most once per `ttl`, by one request while the others keep
// serving the previous copy, and at once when a token is issued under a kid
// the copy does not list (a rotation reached the database).
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace pgauth::http {

class JwksCache {
public:
    using Clock = std::chrono::steady_clock;
    explicit JwksCache(Clock::duration ttl) : ttl_(ttl) {}

    // The current document (compact JSON). `fetch` loads a fresh one; it runs
    // when there is no copy yet, or when the copy is stale and no other request
    // is already refreshing it. A failed refresh keeps serving the stale copy.
    std::shared_ptr<const std::string> get(const std::function<std::string()>& fetch);

    // The copy when `get` would answer without fetching (fresh, or stale while
    // another request refreshes it); null when a fetch is due.
    std::shared_ptr<const std::string> peek();

    // Marks the copy stale unless it lists the kid of `token` (a compact JWS we
    // issued). Tokens signed by one key share their header, so a header already
    // found in the copy costs one comparison.
    void saw_token(std::string_view token);

private:
    std::mutex mutex_;
    std::shared_ptr<const std::string> document_;
    Clock::time_point fetched_{};
    bool refreshing_ = false;
    std::string listed_header_;  // a header segment whose kid the copy lists
    Clock::duration ttl_;
};

}  // namespace pgauth::http
