#include "db/pool.hpp"

#include <libpq-fe.h>

#include <set>

namespace pgauth::http {

std::string with_client_bounds(const std::string& url, const ClientBounds& bounds, const char* env_connect_timeout) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
        if (error) PQfreemem(error);
        return url;
    }
    std::set<std::string, std::less<>> set_by_user;
    for (PQconninfoOption* o = options; o->keyword; ++o)
        if (o->val && *o->val) set_by_user.insert(o->keyword);
    PQconninfoFree(options);
    if (env_connect_timeout && *env_connect_timeout) set_by_user.insert("connect_timeout");

    const std::pair<const char*, int> wanted[] = {
        {"connect_timeout", bounds.connect_timeout_s},
        {"keepalives", 1},
        {"keepalives_idle", bounds.keepalives_idle_s},
        {"keepalives_interval", bounds.keepalives_interval_s},
        {"keepalives_count", bounds.keepalives_count},
        {"tcp_user_timeout", bounds.tcp_user_timeout_ms},
    };
    bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    std::string out = url;
    for (const auto& [key, value] : wanted) {
        if (set_by_user.count(key)) continue;
        std::string item = std::string(key) + "=" + std::to_string(value);
        if (uri) {
            char last = out.back();
            if (out.find('?') == std::string::npos) out += '?';
            else if (last != '?' && last != '&') out += '&';
            out += item;
        } else {
            if (!out.empty() && out.back() != ' ') out += ' ';
            out += item;
        }
    }
    return out;
}

std::string connection_failure_reason(std::string_view message) {
    std::string_view line = message.substr(0, message.find('\n'));
    // "connection to server at "h" (1.2.3.4), port 5432 failed: Connection refused"
    if (auto at = line.rfind(" failed: "); at != std::string_view::npos) line = line.substr(at + 9);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) return "connection lost";
    return std::string(line);
}

Pool::Pool(std::string url, std::size_t size, Prepare prepare, std::chrono::milliseconds call_timeout)
    : url_(std::move(url)), prepare_(std::move(prepare)), call_timeout_(call_timeout), slots_(size) {
    for (std::size_t i = size; i > 0; --i) free_.push_back(i - 1);
}

Pool::Lease Pool::acquire(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait, [&] { return !free_.empty(); }))
        throw PoolExhausted("no database connection became free in time");
    std::size_t slot = free_.back();
    free_.pop_back();
    return Lease(*this, slot, Watchdog::Clock::now() + call_timeout_);
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

Pool::Lease::~Lease() {
    if (!pool_) return;
    // A deadline that fired just as the call finished left a shut-down socket
    // that libpq does not know about yet: drop it rather than fail the next call.
    if (guard_.fired()) pool_->slots_[slot_].reset();
    guard_.reset();  // before the connection can go to another thread
    pool_->release(slot_);
}

pqxx::connection& Pool::Lease::connection() {
    auto& conn = pool_->slots_[slot_];
    if (conn && !conn->is_open()) {
        guard_.reset();
        conn.reset();
    }
    if (!conn) {
        // Connecting is bounded by connect_timeout; from here on the deadline applies.
        auto fresh = std::make_unique<pqxx::connection>(pool_->url_);
        guard_ = pool_->watchdog_.watch(fresh->sock(), deadline_);
        pool_->prepare_(*fresh);
        conn = std::move(fresh);
    } else if (!guard_) {
        guard_ = pool_->watchdog_.watch(conn->sock(), deadline_);
    }
    return *conn;
}

void Pool::Lease::discard() {
    guard_.reset();
    pool_->slots_[slot_].reset();
}

}  // namespace pgauth::http
