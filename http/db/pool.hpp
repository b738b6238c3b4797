// A fixed-size pool of libpqxx connections (a connection is never shared
// between threads). Connections are opened lazily, every statement is prepared
// when a connection opens, and a broken connection is dropped and reopened by
// the next lease: one failure fails only the request that held it.
//
// Every call is bounded on the client side: connecting by libpq's
// connect_timeout (added to the connection string), a dead peer by TCP
// keepalives and tcp_user_timeout, and the whole lease by a hard deadline
// enforced by a Watchdog that shuts the socket down (a frozen server).
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "db/watchdog.hpp"
#include "errors.hpp"

namespace pgauth::http {

class PoolExhausted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// 503 SERVICE_UNAVAILABLE for one request, with why, for /health:
// "timeout", "busy" or "unreachable: <libpq's reason>".
class DatabaseUnavailable : public ApiError {
public:
    DatabaseUnavailable(std::string message, std::string reason)
        : ApiError(errors::make("SERVICE_UNAVAILABLE", std::move(message))), reason_(std::move(reason)) {}
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string reason_;
};

// The client-side bounds added to the connection string when it does not set them.
struct ClientBounds {
    int connect_timeout_s = 5;
    int keepalives_idle_s = 30;
    int keepalives_interval_s = 10;
    int keepalives_count = 3;
    int tcp_user_timeout_ms = 10000;
};

// `url` (a postgresql:// URI or key=value string) plus every bound it does not
// set itself. An unparsable string is returned as is (libpq reports it on
// connect). `env_connect_timeout` is PGCONNECT_TIMEOUT, which libpq would honour.
std::string with_client_bounds(const std::string& url, const ClientBounds& bounds,
                               const char* env_connect_timeout = nullptr);

// libpq's reason for a failed connection without the "connection to server at
// ... failed:" preamble (no host names, users or other details): e.g.
// "Connection refused", "timeout expired".
std::string connection_failure_reason(std::string_view libpq_message);

class Pool {
public:
    using Prepare = std::function<void(pqxx::connection&)>;
    // `call_timeout`: the hard deadline of one lease, from acquire to release.
    Pool(std::string url, std::size_t size, Prepare prepare,
         std::chrono::milliseconds call_timeout = std::chrono::milliseconds(10000));

    class Lease {
    public:
        Lease(Pool& pool, std::size_t slot, Watchdog::Clock::time_point deadline)
            : pool_(&pool), slot_(slot), deadline_(deadline) {}
        Lease(Lease&& other) noexcept
            : pool_(other.pool_), slot_(other.slot_), deadline_(other.deadline_), guard_(std::move(other.guard_)) {
            other.pool_ = nullptr;
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        pqxx::connection& connection();   // opens (and prepares) it if needed; throws pqxx::broken_connection
        void discard();                   // the connection is broken: close it
        bool timed_out() const { return guard_.fired(); }  // the watchdog cut this lease's connection

    private:
        Pool* pool_;
        std::size_t slot_;
        Watchdog::Clock::time_point deadline_;
        Watchdog::Guard guard_;
    };

    Lease acquire(std::chrono::milliseconds wait);
    std::size_t size() const { return slots_.size(); }
    std::size_t in_use() const;

private:
    void release(std::size_t slot);
    std::string url_;
    Prepare prepare_;
    std::chrono::milliseconds call_timeout_;
    std::vector<std::unique_ptr<pqxx::connection>> slots_;
    std::vector<std::size_t> free_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    Watchdog watchdog_;
};

}  // namespace pgauth::http
