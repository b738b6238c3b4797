#include "metrics.hpp"

#include <sstream>

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

}  // namespace pgauth::http
