#include "executor.hpp"

#include "log.hpp"

#include <cstdio>

namespace pgauth::http {

Executor::Executor(std::size_t threads, std::size_t capacity, std::chrono::milliseconds max_wait)
    : capacity_(capacity), max_wait_(max_wait) {
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    reaper_ = std::thread([this] { reap(); });
}

Executor::~Executor() { drain(); }

bool Executor::submit(Task task) {
    bool was_empty;
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= capacity_) return false;
        was_empty = queue_.empty();
        queue_.push_back({std::move(task), Clock::now()});
        pending_.store(queue_.size(), std::memory_order_relaxed);
    }
    ready_.notify_one();
    if (was_empty) reaper_wake_.notify_one();  // otherwise it already waits for an older task
    return true;
}

void Executor::drain() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    reaper_wake_.notify_all();
    for (auto& t : workers_)
        if (t.joinable()) t.join();
    if (reaper_.joinable()) reaper_.join();
}

std::size_t Executor::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void Executor::run(Task& task, bool expired) noexcept {
    try {
        task(expired);
    } catch (const std::exception& e) {
        log::error("executor task failed", {{"error", e.what()}});
    } catch (...) {
        log::error("executor task failed");
    }
}

void Executor::work() {
    for (;;) {
        // Under load the next task arrives within microseconds: a worker that looks for it a
        // little while before it sleeps takes it without being woken (a futex wake and a
        // context switch per request, on a machine that also runs the database).
        for (int i = 0; i < 2000 && pending_.load(std::memory_order_relaxed) == 0; ++i) __builtin_ia32_pause();
        Item item;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and nothing left
            item = std::move(queue_.front());
            queue_.pop_front();
            pending_.store(queue_.size(), std::memory_order_relaxed);
            if (stopping_ && queue_.empty()) reaper_wake_.notify_one();  // nothing left for it to wait for
        }
        run(item.task, Clock::now() - item.enqueued > max_wait_);
    }
}

void Executor::reap() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (queue_.empty()) {
            if (stopping_) return;
            reaper_wake_.wait(lock);
            continue;
        }
        // The queue is in arrival order: the front is the oldest.
        auto due = queue_.front().enqueued + max_wait_;
        if (Clock::now() <= due) {
            reaper_wake_.wait_until(lock, due);
            continue;
        }
        Item item = std::move(queue_.front());
        queue_.pop_front();
        pending_.store(queue_.size(), std::memory_order_relaxed);
        lock.unlock();
        run(item.task, true);
        lock.lock();
    }
}

}  // namespace pgauth::http
