// A small client for the OASIS avatar/wallet API (libcurl), with the admin
// token obtained from /api/avatar/authenticate, cached, and refreshed on 401.
#pragma once
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace pgauth::http {

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

    OasisClient(std::string base_url, std::string admin_username, std::string admin_password);
    bool configured() const { return !base_url_.empty(); }

    // Calls OASIS with the admin token; throws OasisUnavailable on transport errors and 5xx.
    Reply call(const char* method, const std::string& path, const nlohmann::json* body = nullptr);

private:
    Reply send(const char* method, const std::string& path, const nlohmann::json* body, const std::string& token);
    std::string admin_token(bool refresh);

    std::string base_url_, username_, password_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point token_expires_{};
};

}  // namespace pgauth::http
