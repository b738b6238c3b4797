#include "db/watchdog.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pgauth::http {

Watchdog::Watchdog() : thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
    for (auto& [id, entry] : entries_) ::close(entry.fd);
}

Watchdog::Guard Watchdog::watch(int fd, Clock::time_point deadline) {
    if (fd < 0) return {};
    int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return {};
    std::uint64_t id;
    bool sooner;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        entries_.emplace(id, Entry{own, deadline});
        sooner = deadline < wake_;
    }
    if (sooner) changed_.notify_all();  // otherwise the thread wakes in time anyway
    return Guard(this, id);
}

void Watchdog::unwatch(std::uint64_t id) {
    int fd = -1;
    {
        // The watchdog shuts sockets down while holding this mutex, so once the
        // entry is gone here it can no longer touch this socket.
        std::lock_guard lock(mutex_);
        auto it = entries_.find(id);
        if (it == entries_.end()) return;
        fd = it->second.fd;
        entries_.erase(it);
    }
    ::close(fd);
}

bool Watchdog::fired(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.fired;
}

std::size_t Watchdog::watched() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void Watchdog::run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
        auto now = Clock::now();
        auto next = Clock::time_point::max();
        for (auto& [id, entry] : entries_) {
            if (entry.fired) continue;
            if (entry.deadline <= now) {
                ::shutdown(entry.fd, SHUT_RDWR);
                entry.fired = true;
            } else if (entry.deadline < next) {
                next = entry.deadline;
            }
        }
        wake_ = next;
        if (next == Clock::time_point::max()) changed_.wait(lock);
        else changed_.wait_until(lock, next);
        wake_ = Clock::time_point::min();
    }
}

Watchdog::Guard& Watchdog::Guard::operator=(Guard&& other) noexcept {
    if (this != &other) {
        reset();
        dog_ = other.dog_;
        id_ = other.id_;
        other.dog_ = nullptr;
    }
    return *this;
}

void Watchdog::Guard::reset() {
    if (dog_) dog_->unwatch(id_);
    dog_ = nullptr;
}

bool Watchdog::Guard::fired() const { return dog_ && dog_->fired(id_); }

}  // namespace pgauth::http
