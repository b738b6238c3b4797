// A hard deadline for one database call that holds even when the server is
// frozen (a SIGSTOPped or hung postmaster on a host whose kernel still ACKs,
// where neither TCP keepalives nor tcp_user_timeout fire). A call registers its
// connection's socket with a deadline; past it, one watchdog thread
// shutdown(2)s the socket, so the blocked libpq call returns a broken
// connection at once. The watchdog works on its own dup(2) of the socket,
// closed only when the call unregisters, so a descriptor number reused by
// another thread can never be shut down by mistake.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace pgauth::http {

class Watchdog {
public:
    using Clock = std::chrono::steady_clock;

    Watchdog();
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Unregisters on destruction. An empty guard (dup failed) watches nothing.
    class Guard {
    public:
        Guard() = default;
        Guard(Guard&& other) noexcept : dog_(other.dog_), id_(other.id_) { other.dog_ = nullptr; }
        Guard& operator=(Guard&& other) noexcept;
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        ~Guard() { reset(); }
        void reset();
        bool fired() const;  // the deadline passed and the socket was shut down
        explicit operator bool() const { return dog_ != nullptr; }

    private:
        friend class Watchdog;
        Guard(Watchdog* dog, std::uint64_t id) : dog_(dog), id_(id) {}
        Watchdog* dog_ = nullptr;
        std::uint64_t id_ = 0;
    };

    // Watches socket `fd` until the guard goes away; shuts it down at `deadline`.
    Guard watch(int fd, Clock::time_point deadline);
    std::size_t watched() const;

private:
    struct Entry {
        int fd;  // our own dup
        Clock::time_point deadline;
        bool fired = false;
    };
    void run();
    void unwatch(std::uint64_t id);
    bool fired(std::uint64_t id) const;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::uint64_t, Entry> entries_;
    std::uint64_t next_id_ = 1;
    Clock::time_point wake_ = Clock::time_point::max();  // when the thread next looks
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace pgauth::http
