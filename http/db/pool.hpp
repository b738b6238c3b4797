// A fixed-size pool of libpqxx connections (a connection is never shared
// between threads). Connections are opened lazily, every statement is prepared
// when a connection opens, and a broken connection is dropped and reopened by
// the next lease: one failure fails only the request that held it.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace pgauth::http {

class PoolExhausted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Pool {
public:
    using Prepare = std::function<void(pqxx::connection&)>;
    Pool(std::string url, std::size_t size, Prepare prepare);

    class Lease {
    public:
        Lease(Pool& pool, std::size_t slot) : pool_(&pool), slot_(slot) {}
        Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) { other.pool_ = nullptr; }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { if (pool_) pool_->release(slot_); }
        pqxx::connection& connection();   // opens (and prepares) it if needed; throws pqxx::broken_connection
        void discard();                   // the connection is broken: close it

    private:
        Pool* pool_;
        std::size_t slot_;
    };

    Lease acquire(std::chrono::milliseconds wait);
    std::size_t size() const { return slots_.size(); }
    std::size_t in_use() const;

private:
    void release(std::size_t slot);
    std::string url_;
    Prepare prepare_;
    std::vector<std::unique_ptr<pqxx::connection>> slots_;
    std::vector<std::size_t> free_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
};

}  // namespace pgauth::http
