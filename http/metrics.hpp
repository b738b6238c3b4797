// Prometheus metrics: requests by route and status, a latency histogram, pool gauges.
#pragma once
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgauth::http {

class Metrics {
public:
    void observe(const std::string& route, int status, double seconds);
    std::string render(std::size_t pool_size, std::size_t pool_in_use) const;

private:
    static constexpr std::array<double, 12> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, unsigned long> requests_;
    std::array<unsigned long, bounds.size() + 1> buckets_{};
    double sum_ = 0;
    unsigned long count_ = 0;
};

// An address in 127.0.0.0/8, ::1, or IPv4-mapped 127.0.0.0/8 (brackets allowed).
bool is_loopback(std::string_view ip);

// Who may read /metrics. With a token configured: only a request with
// "Authorization: Bearer <token>" (compared in constant time), from anywhere;
// otherwise `unauthorized`. Without one: loopback clients only; otherwise `forbidden`.
enum class MetricsAccess { allowed, unauthorized, forbidden };
MetricsAccess metrics_access(std::string_view configured_token, std::optional<std::string_view> authorization,
                             std::string_view client_ip);

}  // namespace pgauth::http
