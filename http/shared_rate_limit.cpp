#include "shared_rate_limit.hpp"

#include <string>

namespace pgauth::http {

bool uses_shared_limit(const Config& config, std::string_view route) {
    return config.rate_limit && config.shared_rate_limit && strict_route(route);
}

std::optional<Response> shared_rate_limit(Context& ctx, std::string_view ip, std::string_view route) {
    if (!uses_shared_limit(ctx.config(), route)) return std::nullopt;
    std::string key = rate_limit_key(ip) + "|" + std::string(route);
    auto r = ctx.run([&](pqxx::nontransaction& tx) {
        return tx.exec_prepared("rate_limit_hit", key, shared_strict_limit, shared_window_seconds);
    });
    if (r.empty() || r[0][0].as<bool>()) return std::nullopt;
    long retry = r[0][1].is_null() ? 1 : std::max(1L, r[0][1].as<long>());
    Response res = Response::error(errors::make("RATE_LIMITED"));
    res.header("X-Retry-After", std::to_string(retry));
    res.header("Retry-After", std::to_string(retry));
    return res;
}

}  // namespace pgauth::http
