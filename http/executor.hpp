// A fixed pool of threads with a bounded queue for the handlers that call the
// database, so that a slow or hung database never blocks Pistache's reactor
// threads (and with them routes such as /api/auth/ok and /metrics).
//
// A task is told whether it expired: it waited in the queue longer than
// `max_wait` before a thread took it. A separate reaper thread hands expired
// tasks their answer at once even while every worker is stuck in a call, so a
// queued request never waits much longer than `max_wait` for its 503.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pgauth::http {

class Executor {
public:
    using Clock = std::chrono::steady_clock;
    using Task = std::function<void(bool expired)>;

    Executor(std::size_t threads, std::size_t capacity, std::chrono::milliseconds max_wait);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // false (and the task is not run) when the queue is full or the executor drains.
    bool submit(Task task);
    // Stops taking tasks, runs every queued one, and waits for all of them.
    void drain();
    std::size_t queued() const;
    std::size_t threads() const { return workers_.size(); }
    std::size_t capacity() const { return capacity_; }

private:
    struct Item {
        Task task;
        Clock::time_point enqueued;
    };
    void work();
    void reap();
    static void run(Task& task, bool expired) noexcept;

    const std::size_t capacity_;
    const std::chrono::milliseconds max_wait_;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable reaper_wake_;
    std::deque<Item> queue_;
    std::atomic<std::size_t> pending_{0};  // queue_.size(), readable without the lock
    bool stopping_ = false;
    std::vector<std::thread> workers_;
    std::thread reaper_;
};

}  // namespace pgauth::http
