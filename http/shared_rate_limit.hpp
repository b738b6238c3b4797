// PGAUTH_RATE_LIMIT_STORE=postgres: the strict limits (sign-in, sign-up,
// change-password) kept in the database by auth.rate_limit_hit, so every copy
// of pgauth-http behind a load balancer enforces one limit. Other routes keep
// the in-memory limiter (get-session never waits on this).
#pragma once
#include <optional>
#include <string_view>

#include "server.hpp"

namespace pgauth::http {

inline constexpr int shared_strict_limit = 3;            // per window, as the in-memory strict limit
inline constexpr int shared_window_seconds = 10;

// Whether this route's limit lives in the shared store under this configuration.
bool uses_shared_limit(const Config& config, std::string_view route);

// Counts one hit for (client, route); a 429 RATE_LIMITED answer with
// X-Retry-After/Retry-After when over the limit, nullopt to go on. Runs on an
// executor thread (one statement on a pooled connection).
std::optional<Response> shared_rate_limit(Context& ctx, std::string_view ip, std::string_view route);

}  // namespace pgauth::http
