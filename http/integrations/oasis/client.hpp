// A small client for the OASIS avatar/wallet API (libcurl), with the admin
// token obtained from /api/avatar/authenticate, cached, and refreshed on 401.
// The claim/register/link flow built on it is in avatar.hpp.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace pgauth::http {

// Every bound of the OASIS integration, in one place.
struct OasisSettings {
    std::chrono::milliseconds connect_timeout{2000};  // per call
    std::chrono::milliseconds total_timeout{10000};   // per call, transfer included
    std::chrono::minutes admin_token_lifetime{10};    // then re-authenticate (also on any 401)
    std::size_t max_reply_bytes = 4 * 1024 * 1024;
    // A request that finds another one creating the user's avatar polls for it:
    // at most claim_poll_attempts times, claim_poll_interval apart (5 s), then 503.
    int claim_poll_attempts = 50;
    std::chrono::milliseconds claim_poll_interval{100};
};

// OASIS could not be reached, timed out, or answered with a server error.
class OasisUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class OasisClient {
public:
    struct Reply {
        long status = 0;
        nlohmann::json body;  // OASIS's envelope: {result, isError, message}
        bool is_error() const { return status >= 400 || body.value("isError", false); }
        std::string message() const { return body.value("message", std::string()); }
    };

    OasisClient(std::string base_url, std::string admin_username, std::string admin_password,
                OasisSettings settings = {});
    bool configured() const { return !base_url_.empty(); }
    const OasisSettings& settings() const { return settings_; }

    // Calls OASIS with the admin token; throws OasisUnavailable on transport errors and 5xx.
    Reply call(const char* method, const std::string& path, const nlohmann::json* body = nullptr);

private:
    Reply send(const char* method, const std::string& path, const nlohmann::json* body, const std::string& token);
    std::string admin_token(bool refresh);

    std::string base_url_, username_, password_;
    OasisSettings settings_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point token_expires_{};
};

}  // namespace pgauth::http
