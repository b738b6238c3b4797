// What a handler sees of a request and what it answers, and the request-level
// pipeline steps: the body size limit and the content type.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pistache/http.h>

#include "errors.hpp"

namespace pgauth::http {

struct Response {
    int status = 200;
    std::string body;  // JSON text
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_type = "application/json";
    bool cors_done = false;  // the handler set the CORS headers itself (a preflight)
    void header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
    static Response json(const nlohmann::json& j, int status = 200) { return Response{status, j.dump(), {}}; }
    // The answer for an error: its status and {"code","message"}.
    static Response error(const ApiError& e) { return Response{e.status(), e.body(), {}}; }
};

class Request {
public:
    explicit Request(const Pistache::Http::Request& raw, std::string client_ip = {})
        : raw_(raw), client_ip_(std::move(client_ip)) {}
    std::optional<std::string> header(std::string_view name) const;  // case-insensitive, typed or raw
    const std::string& body() const { return raw_.body(); }
    // The client's address: the peer (IPv6 in brackets, as Pistache reports it), or behind
    // a trusted proxy the forwarded one (client_address.hpp).
    std::string ip() const { return client_ip_.empty() ? raw_.address().host() : client_ip_; }
    std::string user_agent() const { return header("User-Agent").value_or(""); }
    bool reads_only() const;  // GET, HEAD or OPTIONS: changes no state
    const Pistache::Http::Request& raw() const { return raw_; }
    // The parsed JSON object body; 400 BAD_REQUEST if malformed, VALIDATION_ERROR if not an object.
    const nlohmann::json& json() const;
    // The query string as sent (after '?', not decoded, every repeated parameter kept) on
    // OAuth routes; elsewhere rebuilt from Pistache's map (one value per name).
    std::string query_string() const;
    void set_query_string(std::string query) { query_ = std::move(query); }

private:
    const Pistache::Http::Request& raw_;
    std::string client_ip_;
    std::optional<std::string> query_;
    mutable std::optional<nlohmann::json> json_;
};

// Pipeline step: a body larger than `max_body` is 413 PAYLOAD_TOO_LARGE; a
// non-empty body of a state-changing request must be application/json (415).
void check_body(const Request& request, std::size_t max_body);
// The same for a route that reads an HTML form or an OAuth request body: a non-empty
// body must be application/x-www-form-urlencoded (415 otherwise).
void check_form_body(const Request& request, std::size_t max_body);

}  // namespace pgauth::http
