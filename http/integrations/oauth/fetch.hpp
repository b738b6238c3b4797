// Outbound HTTP for the OAuth client (libcurl): every call bounded in time and
// in reply size, and answered whole or not at all.
#pragma once
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pgauth::http::oauth {

// The bounds of every call to an identity provider.
struct FetchLimits {
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds total_timeout{10000};  // transfer included
    std::size_t max_reply_bytes = 1 << 20;           // a larger reply is a failure, never a truncated one
};

// The provider could not be reached, timed out, or sent more than max_reply_bytes.
// Its message names the URL's host and the reason, never a secret.
class UpstreamError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FetchRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;                  // sent when not empty (or when method is POST)
};

struct FetchReply {
    long status = 0;
    std::string body;
    std::string content_type;
};

FetchReply fetch(const FetchRequest& request, const FetchLimits& limits);

// application/x-www-form-urlencoded of key/value pairs (RFC 6749 token requests).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);
// Percent-encoding of one query or form component (unreserved characters kept).
std::string component_encode(std::string_view s);

}  // namespace pgauth::http::oauth
