#include "db/pool.hpp"

namespace pgauth::http {

Pool::Pool(std::string url, std::size_t size, Prepare prepare)
    : url_(std::move(url)), prepare_(std::move(prepare)), slots_(size) {
    for (std::size_t i = size; i > 0; --i) free_.push_back(i - 1);
}

Pool::Lease Pool::acquire(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait, [&] { return !free_.empty(); }))
        throw PoolExhausted("no database connection became free in time");
    std::size_t slot = free_.back();
    free_.pop_back();
    return Lease(*this, slot);
}

void Pool::release(std::size_t slot) {
    {
        std::lock_guard lock(mutex_);
        free_.push_back(slot);
    }
    available_.notify_one();
}

std::size_t Pool::in_use() const {
    std::lock_guard lock(mutex_);
    return slots_.size() - free_.size();
}

pqxx::connection& Pool::Lease::connection() {
    auto& conn = pool_->slots_[slot_];
    if (conn && !conn->is_open()) conn.reset();
    if (!conn) {
        auto fresh = std::make_unique<pqxx::connection>(pool_->url_);
        pool_->prepare_(*fresh);
        conn = std::move(fresh);
    }
    return *conn;
}

void Pool::Lease::discard() { pool_->slots_[slot_].reset(); }

}  // namespace pgauth::http
