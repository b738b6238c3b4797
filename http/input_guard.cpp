#include "input_guard.hpp"
#include "oauth_errors.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include <pistache/cookie.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>
#include <pistache/peer.h>

#include "errors.hpp"
#include "text.hpp"

namespace pgauth::http {
namespace {

bool is_tchar(unsigned char c) {
    if (std::isalnum(c)) return true;
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return c != 0 && extra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// RFC 3986 pchar minus '%' (handled apart): unreserved / sub-delims / ":" / "@"
bool is_path_char(unsigned char c) {
    constexpr std::string_view sub_delims = "!$&'()*+,;=:@";
    return is_unreserved(c) || (c != 0 && sub_delims.find(static_cast<char>(c)) != std::string_view::npos);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A refusal with the catalog's status (and message, unless a more precise one is given).
Refusal refusal(std::string_view code, std::string message = {}) {
    ApiError e = message.empty() ? errors::make(code) : errors::make(code, std::move(message));
    return Refusal{e.status(), e.code(), e.what()};
}

Refusal invalid_path(std::string message) { return refusal("INVALID_PATH", std::move(message)); }
Refusal bad_request(std::string message) { return refusal("BAD_REQUEST", std::move(message)); }

const char* reason_phrase(int status) {
    switch (status) {
        case 400: return "Bad Request";
        case 405: return "Method Not Allowed";
        case 411: return "Length Required";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default: return "Error";
    }
}

}  // namespace

std::optional<Refusal> check_target(std::string_view target) {
    if (target.empty() || target.front() != '/')
        return invalid_path("The request target must be an absolute path starting with /");
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

    for (std::size_t i = 0; i < path.size(); ++i) {
        auto c = static_cast<unsigned char>(path[i]);
        if (c == '/') continue;
        if (c == '%') {
            int hi = i + 2 < path.size() ? hex_value(path[i + 1]) : -1;
            int lo = i + 2 < path.size() ? hex_value(path[i + 2]) : -1;
            if (hi < 0 || lo < 0) return invalid_path("Malformed percent-encoding in the path");
            auto decoded = static_cast<unsigned char>(hi * 16 + lo);
            // An encoded '/', '.', '\' or any unreserved character has a plain
            // spelling: the encoded form would reach the same route under another name.
            if (decoded == '/' || decoded == '\\' || decoded < 0x20 || decoded == 0x7f || is_unreserved(decoded))
                return invalid_path("The path is not canonical: it percent-encodes a character that has a plain form or must not appear");
            i += 2;
            continue;
        }
        if (!is_path_char(c)) return invalid_path("The path holds a character that is not allowed");
    }
    // Segments: no empty segment (//), no dot segments, no trailing slash.
    if (path.size() > 1 && path.back() == '/') return invalid_path("The path is not canonical: trailing slash");
    for (std::size_t start = 1; start <= path.size();) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view segment = path.substr(start, end - start);
        if (segment.empty() && path.size() > 1) return invalid_path("The path is not canonical: empty segment (//)");
        if (segment == "." || segment == "..") return invalid_path("The path is not canonical: dot segment");
        start = end + 1;
    }
    for (char ch : query) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '#') return bad_request("The query string holds a character that is not allowed");
    }
    return std::nullopt;
}

std::string refusal_response(const Refusal& refusal) {
    ApiError e(refusal.status, refusal.code, refusal.message);
    std::string text = refusal.oauth ? oauth_error(e).body : e.body();
    std::string out = "HTTP/1.1 " + std::to_string(refusal.status) + " " + reason_phrase(refusal.status) + "\r\n";
    out += "Content-Type: application/json\r\n";
    if (refusal.oauth) out += "Cache-Control: no-store\r\n";
    out += "Content-Length: " + std::to_string(text.size()) + "\r\n";
    out += "Connection: close\r\n\r\n";
    out += text;
    return out;
}

// ---------------------------------------------------------------- RequestScanner

RequestScanner::RequestScanner(GuardLimits limits, HeaderCheck check) : limits_(limits), check_(std::move(check)) {
    head_.reserve(512);
}

void RequestScanner::reset_head() {
    head_.clear();
    scan_ = 0;
    line_start_ = 0;
    lines_ = 0;
    have_request_line_ = false;
    oauth_target_ = false;
    head_done_ = false;
    content_length_.reset();
}

RequestScanner::Step RequestScanner::refuse(Refusal refusal) {
    state_ = State::Refused;
    refusal_ = std::move(refusal);
    // Before the request line is whole (a target too long), its start still names the route.
    auto space = head_.find(' ');
    refusal_.oauth = oauth_target_ ||
                     (!have_request_line_ && space != std::string::npos && head_.compare(space + 1, 17, "/api/auth/oauth2/") == 0);
    head_.clear();
    head_.shrink_to_fit();
    Step step;
    step.kind = Step::Kind::Refuse;
    step.refusal = refusal_;
    return step;
}

RequestScanner::Step RequestScanner::next(std::string_view input) {
    Step step;
    if (state_ == State::Refused) {
        step.kind = Step::Kind::Refuse;
        step.consumed = input.size();
        step.refusal = refusal_;
        return step;
    }
    if (state_ == State::Body) {
        if (input.empty()) return step;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
        remaining_ -= n;
        step.kind = Step::Kind::Forward;
        step.consumed = n;
        step.bytes = input.substr(0, n);
        step.request_end = remaining_ == 0;
        if (remaining_ == 0) state_ = State::Head;
        return step;
    }
    // State::Head. A head handed on by the previous call is done with now.
    if (head_done_) reset_head();
    if (input.empty()) return step;

    std::size_t room = limits_.max_header_bytes + 1 - head_.size();
    std::size_t take = std::min(input.size(), room);
    head_.append(input.data(), take);

    for (std::size_t i = scan_; i < head_.size(); ++i) {
        auto c = static_cast<unsigned char>(head_[i]);
        if (i > 0 && head_[i - 1] == '\r' && c != '\n') return refuse(refusal("BAD_REQUEST", "Bare CR in the request head"));
        if (c == '\n') {
            if (i == 0 || head_[i - 1] != '\r') return refuse(refusal("BAD_REQUEST", "Bare LF in the request head"));
            std::string_view line(head_.data() + line_start_, i - 1 - line_start_);
            line_start_ = i + 1;
            if (!have_request_line_) {
                if (auto r = request_line(line)) return refuse(std::move(*r));
                have_request_line_ = true;
                continue;
            }
            if (!line.empty()) {
                if (auto r = header_line(line)) return refuse(std::move(*r));
                continue;
            }
            // The empty line: the head is complete.
            std::size_t end = i + 1;
            std::size_t after = head_.size() - end;  // input bytes past the head (body, next request)
            head_.resize(end);
            scan_ = end;
            remaining_ = content_length_.value_or(0);
            state_ = remaining_ > 0 ? State::Body : State::Head;
            head_done_ = true;
            step.kind = Step::Kind::Forward;
            step.consumed = take - after;
            step.bytes = head_;
            step.request_end = remaining_ == 0;
            return step;
        }
        if (c == '\r') continue;
        if (c == 0) return refuse(refusal("BAD_REQUEST", "NUL byte in the request head"));
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return refuse(refusal("BAD_REQUEST", "Control character in the request head"));
        if (!have_request_line_ && i - line_start_ > limits_.max_target + 32)
            return refuse(refusal("URI_TOO_LONG", "The request target is longer than " + std::to_string(limits_.max_target) + " bytes"));
    }
    scan_ = head_.size();
    if (head_.size() > limits_.max_header_bytes) {
        if (!have_request_line_)
            return refuse(refusal("URI_TOO_LONG", "The request target is longer than " + std::to_string(limits_.max_target) + " bytes"));
        return refuse(refusal("REQUEST_HEADER_FIELDS_TOO_LARGE",
                              "The request head is larger than " + std::to_string(limits_.max_header_bytes) + " bytes"));
    }
    step.kind = Step::Kind::NeedMore;
    step.consumed = take;
    return step;
}

std::optional<Refusal> RequestScanner::request_line(std::string_view line) {
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return bad_request("Malformed request line");
    std::string_view method = line.substr(0, sp1);
    std::string_view rest = line.substr(sp1 + 1);
    auto sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos) return bad_request("Malformed request line");
    std::string_view target = rest.substr(0, sp2);
    std::string_view version = rest.substr(sp2 + 1);
    oauth_target_ = target.starts_with("/api/auth/oauth2/");
    // The OAuth routes and the flow's pages (/sign-in, /consent) read their query as sent
    // (a signed authorization request: its order and encoding are what the signature covers).
    if (oauth_target_ || target.starts_with("/sign-in") || target.starts_with("/consent"))
        oauth_request_target_.assign(target);
    else oauth_request_target_.clear();
    if (!is_token(method) || target.empty()) return bad_request("Malformed request line");
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad_request("Unsupported HTTP version");
    static constexpr std::array<std::string_view, 7> allowed = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    if (std::find(allowed.begin(), allowed.end(), method) == allowed.end())
        return refusal("METHOD_NOT_ALLOWED");
    if (target.size() > limits_.max_target)
        return refusal("URI_TOO_LONG", "The request target is longer than " + std::to_string(limits_.max_target) + " bytes");
    return check_target(target);
}

std::optional<Refusal> RequestScanner::header_line(std::string_view line) {
    if (++lines_ > limits_.max_header_lines)
        return refusal("REQUEST_HEADER_FIELDS_TOO_LARGE",
                       "More than " + std::to_string(limits_.max_header_lines) + " header lines");
    if (line.front() == ' ' || line.front() == '\t') return bad_request("Folded header lines are not supported");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return bad_request("Malformed header line");
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Transfer-Encoding"))
        return refusal("LENGTH_REQUIRED",
                       "Transfer-Encoding is not supported: send the body with a Content-Length header");
    if (iequals(name, "Content-Length")) {
        if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return bad_request("Content-Length must be a non-negative decimal number");
        std::uint64_t n = 0;
        for (char c : value) {
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
            if (n > limits_.max_body) {  // saturate: anything past the cap is just "too large"
                n = static_cast<std::uint64_t>(limits_.max_body) + 1;
                break;
            }
        }
        if (content_length_ && *content_length_ != n) return bad_request("Conflicting Content-Length headers");
        content_length_ = n;
        if (n > limits_.max_body)
            return refusal("PAYLOAD_TOO_LARGE",
                           "Request body is too large (limit " + std::to_string(limits_.max_body) + " bytes)");
        return std::nullopt;
    }
    if (check_) return check_(name, value);
    return std::nullopt;
}

// ---------------------------------------------------------------- ConnectionLimiter

ConnectionLimiter::Verdict ConnectionLimiter::acquire(const std::string& ip) {
    std::lock_guard lock(mutex_);
    if (open_total_ >= total_) return Verdict::ServerFull;
    auto it = open_.find(ip);
    if (it != open_.end() && it->second >= per_ip_) return Verdict::AddressFull;
    if (it == open_.end()) {
        if (per_ip_ == 0) return Verdict::AddressFull;
        it = open_.emplace(ip, 0).first;
    }
    ++it->second;
    ++open_total_;
    return Verdict::Accepted;
}

void ConnectionLimiter::release(const std::string& ip) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(ip);
    if (it == open_.end()) return;
    --open_total_;
    if (--it->second == 0) open_.erase(it);
}

std::size_t ConnectionLimiter::total() const {
    std::lock_guard lock(mutex_);
    return open_total_;
}

std::size_t connection_budget(std::size_t reserve) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    auto files = static_cast<std::size_t>(limit.rlim_cur);
    return files > reserve + 16 ? files - reserve : 16;
}

std::size_t ConnectionLimiter::count(const std::string& ip) const {
    std::lock_guard lock(mutex_);
    auto it = open_.find(ip);
    return it == open_.end() ? 0 : it->second;
}

// ---------------------------------------------------------------- Pistache glue

namespace {

using namespace Pistache;

// Pistache 0.0.5 parses these request headers into typed headers while it reads
// the head, and its parsers throw on values they dislike; the exception becomes
// a plain-text 415/400/500. Run the same parsers first and refuse in JSON.
std::optional<Refusal> pistache_header_check(std::string_view name, std::string_view value) {
    std::string text(value);
    try {
        if (iequals(name, "Content-Type")) {
            try {
                Http::Header::ContentType header;
                header.parseRaw(text.data(), text.size());
            } catch (const std::exception&) {
                return refusal("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
            }
        } else if (iequals(name, "Accept")) {
            Http::Header::Accept header;
            header.parseRaw(text.data(), text.size());
        } else if (iequals(name, "Cache-Control")) {
            Http::Header::CacheControl header;
            header.parseRaw(text.data(), text.size());
        } else if (iequals(name, "Date")) {
            Http::Header::Date header;
            header.parseRaw(text.data(), text.size());
        } else if (iequals(name, "Host")) {
            Http::Header::Host header;
            header.parseRaw(text.data(), text.size());
        } else if (iequals(name, "Cookie")) {
            Http::CookieJar jar;
            jar.addFromRaw(text.data(), text.size());
        }
    } catch (const std::exception&) {
        return bad_request("Malformed " + std::string(name) + " header");
    }
    return std::nullopt;
}

constexpr const char* kPeerData = "pgauth.input_guard";

// One connection's guard state; lives in the Peer's data map, so it dies with
// the Peer whether the connection ended through onDisconnection or a timeout.
struct PeerState {
    PeerState(GuardLimits limits, std::shared_ptr<ConnectionLimiter> limiter, std::string ip)
        : scanner(limits, pistache_header_check), limiter(std::move(limiter)), ip(std::move(ip)) {}
    ~PeerState() { release(); }
    PeerState(const PeerState&) = delete;
    PeerState& operator=(const PeerState&) = delete;

    void release() {
        if (counted) limiter->release(ip);
        counted = false;
    }

    RequestScanner scanner;
    std::shared_ptr<ConnectionLimiter> limiter;
    std::string ip;
    bool counted = false;
    bool closing = false;       // a refusal was sent: drop further input
    bool disconnected = false;  // the transport is done with this peer
    std::size_t dropped = 0;    // input dropped since the refusal
};

// Input read (and thrown away) after a refusal before the connection is cut
// outright. A client still sending (an upload refused on its Content-Length)
// must be read to the end: closing with unread input sends a reset, which can
// destroy the answer before the client reads it. Pistache's header timeout
// (10 s) ends a refused connection that neither closes nor stops sending.
constexpr std::size_t kDrainBytes = 64 * 1024 * 1024;

class GuardedHandler final : public Http::Handler, public std::enable_shared_from_this<GuardedHandler> {
public:
    GuardedHandler(std::shared_ptr<Http::Handler> inner, GuardLimits limits, std::shared_ptr<ConnectionLimiter> limiter)
        : inner_(std::move(inner)), limits_(limits), limiter_(std::move(limiter)) {}

    // Each reactor worker gets its own copy, with its own copy of the router's handler.
    std::shared_ptr<Tcp::Handler> clone() const override {
        auto inner = std::static_pointer_cast<Http::Handler>(inner_->clone());
        auto copy = std::make_shared<GuardedHandler>(std::move(inner), limits_, limiter_);
        copy->setMaxRequestSize(getMaxRequestSize());
        copy->setMaxResponseSize(getMaxResponseSize());
        return copy;
    }

    void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        associate_inner();
        inner().onConnection(peer);  // the inner parser's state, which Pistache's idle-peer timer reads
        auto state = std::make_shared<PeerState>(limits_, limiter_, peer->address().host());
        peer->putData(kPeerData, state);
        switch (limiter_->acquire(state->ip)) {
            case ConnectionLimiter::Verdict::Accepted:
                state->counted = true;
                break;
            case ConnectionLimiter::Verdict::AddressFull:
                refuse(peer, *state, refusal("TOO_MANY_CONNECTIONS", "Too many open connections from this address"),
                       /*cut=*/true);
                break;
            case ConnectionLimiter::Verdict::ServerFull:
                refuse(peer, *state, refusal("TOO_MANY_CONNECTIONS", "The server has too many open connections"),
                       /*cut=*/true);
                break;
        }
    }

    void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
        if (auto state = state_of(peer)) {
            state->disconnected = true;
            state->release();
        }
        inner().onDisconnection(peer);
    }

    void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
        auto state = state_of(peer);
        if (!state) return;
        if (state->closing) {
            state->dropped += len;
            if (state->dropped > kDrainBytes) ::shutdown(peer->fd(), SHUT_RDWR);
            return;
        }
        std::string_view input(buffer, len);
        for (;;) {
            auto step = state->scanner.next(input);
            input.remove_prefix(step.consumed);
            switch (step.kind) {
                case RequestScanner::Step::Kind::NeedMore:
                    return;
                case RequestScanner::Step::Kind::Forward:
                    // Pistache's parser completes at most one request per call and
                    // drops what follows, so it gets one request's bytes at a time.
                    inner().onInput(step.bytes.data(), step.bytes.size(), peer);
                    break;
                case RequestScanner::Step::Kind::Refuse:
                    refuse(peer, *state, step.refusal, /*cut=*/false);
                    return;
            }
        }
    }

    void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
        inner_->onRequest(request, std::move(response));
    }
    void onTimeout(const Http::Request& request, Http::ResponseWriter response) override {
        inner_->onTimeout(request, std::move(response));
    }

private:
    // Http::Handler overrides onInput/onConnection privately; they are public in Tcp::Handler.
    Tcp::Handler& inner() { return *inner_; }

    static std::shared_ptr<PeerState> state_of(const std::shared_ptr<Tcp::Peer>& peer) {
        return std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerData));
    }

    // The inner handler builds its ResponseWriters with its own transport(), which
    // only Transport::init sets (associateTransport is private). Pistache gives the
    // transport only to the handler it was built with (this one). So, once per
    // transport, on its own worker thread: init(inner) associates the inner handler
    // and init(self) puts this handler back as the one the transport calls. `self`
    // keeps this object alive while the transport briefly holds only `inner_`.
    void associate_inner() {
        Tcp::Transport* t = transport();
        if (associated_ == t) return;
        auto self = shared_from_this();
        t->init(inner_);
        t->init(self);
        associated_ = t;
    }

    void refuse(const std::shared_ptr<Tcp::Peer>& peer, PeerState& state, const Refusal& refusal, bool cut) {
        state.closing = true;
        std::string text = refusal_response(refusal);
        std::weak_ptr<PeerState> weak = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerData));
        int fd = peer->fd();
        // After the answer is written: end our side. A refusal mid-request keeps
        // reading (and dropping) what the client still sends so that it reads
        // the answer rather than a reset; a refused connection is cut at once.
        auto done = [weak, fd, cut] {
            auto s = weak.lock();
            if (!s || s->disconnected) return;
            ::shutdown(fd, cut ? SHUT_RDWR : SHUT_WR);
        };
        const std::size_t size = text.size();
        peer->send(RawBuffer(std::move(text), size)).then([done](ssize_t) { done(); },
                                                                 [done](std::exception_ptr) { done(); });
    }

    std::shared_ptr<Http::Handler> inner_;
    GuardLimits limits_;
    std::shared_ptr<ConnectionLimiter> limiter_;
    Tcp::Transport* associated_ = nullptr;
};

}  // namespace

std::string oauth_request_target(const std::shared_ptr<Tcp::Peer>& peer) {
    if (!peer) return {};
    auto state = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerData));
    return state ? state->scanner.oauth_request_target() : std::string();
}

std::shared_ptr<Http::Handler> make_guarded_handler(std::shared_ptr<Http::Handler> inner, GuardLimits limits,
                                                    std::size_t max_connections_per_ip, std::size_t max_connections) {
    auto limiter = std::make_shared<ConnectionLimiter>(max_connections_per_ip, max_connections);
    return std::make_shared<GuardedHandler>(std::move(inner), limits, std::move(limiter));
}

}  // namespace pgauth::http
