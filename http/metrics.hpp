// Prometheus metrics: requests by route and status, a latency histogram, pool gauges.
#pragma once
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
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

}  // namespace pgauth::http
