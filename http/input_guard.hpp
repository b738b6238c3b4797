// The input guard: every byte a client sends passes through RequestScanner
// before Pistache's HTTP parser sees it. The scanner finds request boundaries
// (head end + Content-Length), refuses what Pistache 0.0.5 would mishandle
// (chunked bodies, huge or negative Content-Length, oversized heads and targets,
// non-canonical paths, unknown methods, header values its typed parsers throw
// on) with a JSON answer, and hands on one request at a time. This header is
// free of Pistache and PostgreSQL so it can be unit-tested and fuzzed; the thin
// Pistache glue is make_guarded_handler (input_guard.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace Pistache::Http {
class Handler;
}
namespace Pistache::Tcp {
class Peer;
}

namespace pgauth::http {

// Caps on what a request head may hold. The header cap includes the request line.
inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaderLines = 100;
inline constexpr std::size_t kMaxTargetBytes = 4 * 1024;

struct GuardLimits {
    std::size_t max_header_bytes = kMaxHeaderBytes;  // request line + header lines + final CRLF
    std::size_t max_header_lines = kMaxHeaderLines;  // header lines, not counting the request line
    std::size_t max_target = kMaxTargetBytes;        // request target (path + query)
    std::size_t max_body = 1 << 20;                  // Content-Length cap (config.max_body)
};

// A refusal: status, error code and message of the JSON body {"code","message"}.
struct Refusal {
    int status = 400;
    std::string code;
    std::string message;
    bool oauth = false;  // for an OAuth route (/api/auth/oauth2/...): {"error","error_description"}
};

// Extra vetting of one header (name as sent, value without surrounding
// whitespace); returns a refusal for a value the downstream parser cannot take.
using HeaderCheck = std::function<std::optional<Refusal>(std::string_view name, std::string_view value)>;

// Why a request target is not acceptable (non-canonical path, bad characters);
// nullopt when it is. Length is not checked here (see GuardLimits::max_target).
std::optional<Refusal> check_target(std::string_view target);

// The complete HTTP/1.1 response for a refusal (JSON body, Connection: close).
std::string refusal_response(const Refusal& refusal);

// Incremental, linear scanner of one connection's byte stream. Feed input with
// next() until it reports NeedMore (all input consumed) or Refuse (terminal).
class RequestScanner {
public:
    struct Step {
        enum class Kind { NeedMore, Forward, Refuse };
        Kind kind = Kind::NeedMore;
        std::size_t consumed = 0;  // input bytes this step used
        std::string_view bytes;    // Forward: bytes of ONE request, valid until the next call
        bool request_end = false;  // Forward: these bytes complete the request
        Refusal refusal;           // Refuse
    };

    explicit RequestScanner(GuardLimits limits = {}, HeaderCheck check = {});
    Step next(std::string_view input);
    bool refused() const { return state_ == State::Refused; }
    // Bytes held back (an incomplete request head).
    std::size_t buffered() const { return head_.size(); }
    // The target (path and query, as sent) of the latest request line when it names an
    // OAuth route (/api/auth/oauth2/...); empty otherwise. Pistache keeps only one value
    // per query parameter, and OAuth must see every one (RFC 6749 3.1, RFC 8707).
    const std::string& oauth_request_target() const { return oauth_request_target_; }

private:
    enum class State { Head, Body, Refused };
    Step refuse(Refusal refusal);
    std::optional<Refusal> request_line(std::string_view line);
    std::optional<Refusal> header_line(std::string_view line);
    void reset_head();

    GuardLimits limits_;
    HeaderCheck check_;
    State state_ = State::Head;
    std::string head_;          // the request head so far
    std::size_t scan_ = 0;      // head_[0, scan_) is scanned; never rescanned
    std::size_t line_start_ = 0;
    std::size_t lines_ = 0;     // header lines seen (after the request line)
    bool have_request_line_ = false;
    bool oauth_target_ = false;  // the request line names an OAuth route
    std::string oauth_request_target_;  // kept until the next request line
    bool head_done_ = false;    // head_ was handed on; cleared on the next call
    std::optional<std::uint64_t> content_length_;
    std::uint64_t remaining_ = 0;  // body bytes still to hand on
    Refusal refusal_;
};

// Open connections per client address and in all, shared by all reactor workers.
class ConnectionLimiter {
public:
    enum class Verdict { Accepted, AddressFull, ServerFull };
    ConnectionLimiter(std::size_t per_ip, std::size_t total) : per_ip_(per_ip), total_(total) {}
    Verdict acquire(const std::string& ip);  // nothing is counted unless Accepted
    void release(const std::string& ip);
    std::size_t count(const std::string& ip) const;
    std::size_t total() const;

private:
    std::size_t per_ip_;
    std::size_t total_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> open_;
    std::size_t open_total_ = 0;
};

// How many client connections fit in the open-files limit once `reserve`
// descriptors are kept for everything else (database pool, epoll, timers, logs).
// Refusing (and closing) past it keeps accept() from ever failing with EMFILE,
// on which Pistache 0.0.5's accept loop spins.
std::size_t connection_budget(std::size_t reserve);

// The OAuth request target of the request Pistache is dispatching on `peer` (its reactor
// thread only: the guard hands Pistache one request at a time, so the scanner's latest
// request line is that request's); empty when unknown or not an OAuth route.
std::string oauth_request_target(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

// Wraps Pistache's request handler (the router's) so that every onInput passes
// the scanner first. Returns the Http::Handler to give Endpoint::setHandler.
std::shared_ptr<Pistache::Http::Handler> make_guarded_handler(std::shared_ptr<Pistache::Http::Handler> inner,
                                                              GuardLimits limits, std::size_t max_connections_per_ip,
                                                              std::size_t max_connections);

}  // namespace pgauth::http
