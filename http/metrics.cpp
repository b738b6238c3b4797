#include "metrics.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/crypto.hpp"
#include "text.hpp"

namespace pgauth::http {

void Metrics::observe(const std::string& route, int status, double seconds) {
    std::size_t bucket = 0;
    while (bucket < bounds.size() && seconds > bounds[bucket]) ++bucket;
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
    ++buckets_[bucket];
    sum_ += seconds;
    ++count_;
}

std::string Metrics::render(std::size_t pool_size, std::size_t pool_in_use) const {
    std::ostringstream out;
    std::lock_guard lock(mutex_);
    out << "# HELP pgauth_http_requests_total HTTP requests by route and status.\n"
           "# TYPE pgauth_http_requests_total counter\n";
    for (const auto& [key, n] : requests_)
        out << "pgauth_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    out << "# HELP pgauth_http_request_duration_seconds Request latency.\n"
           "# TYPE pgauth_http_request_duration_seconds histogram\n";
    unsigned long cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += buckets_[i];
        out << "pgauth_http_request_duration_seconds_bucket{le=\"" << bounds[i] << "\"} " << cumulative << "\n";
    }
    cumulative += buckets_[bounds.size()];
    out << "pgauth_http_request_duration_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n"
        << "pgauth_http_request_duration_seconds_sum " << sum_ << "\n"
        << "pgauth_http_request_duration_seconds_count " << count_ << "\n"
        << "# HELP pgauth_db_pool_connections Database pool connections by state.\n"
           "# TYPE pgauth_db_pool_connections gauge\n"
        << "pgauth_db_pool_connections{state=\"in_use\"} " << pool_in_use << "\n"
        << "pgauth_db_pool_connections{state=\"idle\"} " << (pool_size - pool_in_use) << "\n";
    return out.str();
}

bool is_loopback(std::string_view ip) {
    std::string text(strip_brackets(ip));
    unsigned char v4[4];
    if (inet_pton(AF_INET, text.c_str(), v4) == 1) return v4[0] == 127;
    unsigned char v6[16];
    if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return false;
    static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v6, v6 + 16, loopback)) return true;
    return std::equal(v6, v6 + 12, mapped) && v6[12] == 127;
}

MetricsAccess metrics_access(std::string_view configured_token, std::optional<std::string_view> authorization,
                             std::string_view client_ip) {
    if (configured_token.empty()) return is_loopback(client_ip) ? MetricsAccess::allowed : MetricsAccess::forbidden;
    if (!authorization) return MetricsAccess::unauthorized;
    std::string_view value = *authorization;
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !istarts_with(value, scheme)) return MetricsAccess::unauthorized;
    std::string_view given = value.substr(scheme.size());
    while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
    while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
    // Digests of equal size, so neither the length nor a prefix of the token leaks through timing.
    auto expected = sha256(configured_token), presented = sha256(given);
    return equal_ct(expected, presented) ? MetricsAccess::allowed : MetricsAccess::unauthorized;
}

}  // namespace pgauth::http
