#include "jwks_cache.hpp"

#include <nlohmann/json.hpp>

#include "core/jwt.hpp"

namespace pgauth::http {

std::shared_ptr<const std::string> JwksCache::get(const std::function<std::string()>& fetch) {
    {
        std::lock_guard lock(mutex_);
        bool fresh = document_ && Clock::now() - fetched_ < ttl_;
        if (fresh || (document_ && refreshing_)) return document_;
        if (document_) refreshing_ = true;  // this request refreshes; the others serve the stale copy
    }
    try {
        auto document = std::make_shared<const std::string>(nlohmann::json::parse(fetch()).dump());
        std::lock_guard lock(mutex_);
        document_ = document;
        fetched_ = Clock::now();
        refreshing_ = false;
        return document_;
    } catch (...) {
        std::lock_guard lock(mutex_);
        refreshing_ = false;
        if (!document_) throw;
        fetched_ = Clock::now() - ttl_ / 2;  // retry after half a period, serving the stale copy meanwhile
        return document_;
    }
}

std::shared_ptr<const std::string> JwksCache::peek() {
    std::lock_guard lock(mutex_);
    bool fresh = document_ && Clock::now() - fetched_ < ttl_;
    return fresh || (document_ && refreshing_) ? document_ : nullptr;
}

void JwksCache::saw_token(std::string_view token) {
    std::string_view header = token.substr(0, token.find('.'));
    {
        std::lock_guard lock(mutex_);
        if (!document_ || header == listed_header_) return;
    }
    std::string kid;
    try {
        kid = jwt::parse(token).kid;
    } catch (...) {
        return;
    }
    std::string needle = "\"kid\":\"" + kid + "\"";
    std::lock_guard lock(mutex_);
    if (!document_) return;
    if (document_->find(needle) == std::string::npos) {
        fetched_ = Clock::time_point{};  // stale: the next /jwks request refreshes
        listed_header_.clear();
    } else {
        listed_header_ = header;
    }
}

}  // namespace pgauth::http
