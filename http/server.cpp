#include "server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include <pistache/peer.h>

#include "cookies.hpp"
#include "cors.hpp"
#include "db/statements.hpp"
#include "input_guard.hpp"
#include "text.hpp"
#include "log.hpp"
#include "oauth_errors.hpp"
#include "routes/session_cookies.hpp"
#include "pages/render.hpp"
#include "shared_rate_limit.hpp"

namespace pgauth::http {

using namespace Pistache;
using nlohmann::json;

namespace {

// A response header with a name chosen at run time (Pistache 0.0.5 does not
// serialize raw headers in responses).
class NamedHeader : public Http::Header::Header {
public:
    NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void parse(const std::string& data) override { value_ = data; }
    void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
    uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

private:
    std::string name_;
    std::string value_;
};

}  // namespace

// HTTP/1.1 answers pipelined requests in the order they came. A database-bound
// request is answered from an executor thread, possibly after a later inline
// one (ok, 404, a refusal): each request takes a ticket on arrival (on the
// reactor thread), and a finished answer is sent only after every earlier
// answer on its connection.
class AnswerOrder {
public:
    std::uint64_t ticket() {
        std::lock_guard lock(mutex_);
        return issued_++;
    }
    // Runs `send` now if `ticket` is next, else when the answers before it are sent.
    void complete(std::uint64_t ticket, std::function<void()> send) {
        std::lock_guard lock(mutex_);  // held while sending: sends are queued writes, in ticket order
        waiting_.emplace(ticket, std::move(send));
        while (!waiting_.empty() && waiting_.begin()->first == next_) {
            auto next = std::move(waiting_.begin()->second);
            waiting_.erase(waiting_.begin());
            ++next_;
            next();
        }
    }

private:
    std::mutex mutex_;
    std::uint64_t issued_ = 0, next_ = 0;
    std::map<std::uint64_t, std::function<void()>> waiting_;
};

namespace {

constexpr const char* kAnswerOrder = "pgauth.answer_order";

// The connection's AnswerOrder (reactor thread only: Pistache's peer data is not locked).
std::shared_ptr<AnswerOrder> answer_order(Http::ResponseWriter& writer) {
    try {
        auto peer = writer.peer();
        if (auto found = peer->tryGetData(kAnswerOrder)) return std::static_pointer_cast<AnswerOrder>(found);
        auto order = std::make_shared<AnswerOrder>();
        peer->putData(kAnswerOrder, order);
        return order;
    } catch (const std::exception&) {
        return nullptr;  // the client is gone
    }
}

// A path as logged: at most max_logged_path bytes, then a marker with the full size.
constexpr std::size_t max_logged_path = 256;
std::string logged_path(std::string_view path) {
    if (path.size() <= max_logged_path) return std::string(path);
    return std::string(path.substr(0, max_logged_path)) + "...(truncated, " + std::to_string(path.size()) + " bytes)";
}

// One JSON line per request (log.hpp). Never the query string, a body, a cookie or a token.
void log_request(const std::string& method, const std::string& route, std::string_view path, int status,
                 double ms, const std::string& ip, const std::string& error) {
    json line = {{"method", method}, {"route", route}, {"path", logged_path(path)},
                 {"status", status}, {"ms", log::round_ms(ms)}, {"ip", ip}};
    if (!error.empty()) line["error"] = error;
    log::request(line);
}

// "GET, OPTIONS": what a path answers, for Allow and Access-Control-Allow-Methods.
std::string allowed_methods(const std::vector<std::pair<std::string, Http::Method>>& known, const std::string& path) {
    std::string out;
    for (const auto& [p, m] : known)
        if (p == path) out += std::string(out.empty() ? "" : ", ") + Http::methodString(m);
    return out + (out.empty() ? "" : ", ") + "OPTIONS";
}

// OPTIONS on a known path: a CORS preflight from a trusted Origin answers 204 with
// the CORS headers; from an Origin that is not trusted, 403 INVALID_ORIGIN (the
// browser refuses the call either way; the JSON says why to whoever looks). Without
// an Origin it is a plain OPTIONS: 204 with Allow.
Handler preflight_handler(std::string methods) {
    return [methods](Context& ctx, const Request& req) -> Response {
        Response res{204, "", {}};
        res.cors_done = true;
        auto origin = req.header("Origin");
        if (!origin) {
            res.header("Allow", methods);
            return res;
        }
        auto answer = cors_preflight(ctx.origins(), *origin, methods, req.header("Access-Control-Request-Headers"));
        if (answer.status != 204) {
            res = Response::error(errors::make("INVALID_ORIGIN"));
            res.cors_done = true;
        }
        for (auto& h : answer.headers) res.headers.push_back(std::move(h));
        return res;
    };
}

// OPTIONS on a path answered with Access-Control-Allow-Origin: * (Server::public_cors):
// any Origin may call it, without credentials.
Handler public_preflight_handler(std::string methods) {
    return [methods](Context&, const Request& req) -> Response {
        Response res{204, "", {}};
        res.cors_done = true;
        if (!req.header("Origin")) {
            res.header("Allow", methods);
            return res;
        }
        res.header("Access-Control-Allow-Origin", "*");
        res.header("Access-Control-Allow-Methods", methods);
        auto requested = req.header("Access-Control-Request-Headers");
        std::string allowed = requested ? cors_allowed_request_headers(*requested) : std::string();
        if (!allowed.empty()) res.header("Access-Control-Allow-Headers", allowed);
        res.header("Access-Control-Max-Age", std::to_string(cors_max_age_seconds));
        return res;
    };
}

}  // namespace

// ---------------------------------------------------------------- Context

std::string Context::client_ip(const Pistache::Http::Request& request) const {
    std::string peer = request.address().host();
    if (config_.trusted_proxies.empty()) return peer;
    Request req(request);
    std::vector<std::string> xff, forwarded;
    if (auto v = req.header("X-Forwarded-For")) xff.push_back(*v);
    if (auto v = req.header("Forwarded")) forwarded.push_back(*v);
    return config_.trusted_proxies.resolve(peer, xff, forwarded);
}

Context::Context(Config config)
    : config_(std::move(config)),
      pool_(with_client_bounds(config_.database_url,
                               ClientBounds{.connect_timeout_s = config_.db_connect_timeout_s,
                                            .tcp_user_timeout_ms = config_.db_call_timeout_ms},
                               std::getenv("PGCONNECT_TIMEOUT")),
            static_cast<std::size_t>(config_.pool_size),
            [timeout = config_.statement_timeout_ms](pqxx::connection& c) { prepare_statements(c, timeout); },
            std::chrono::milliseconds(config_.db_call_timeout_ms)),
      limiter_(config_.rate_limit),
      origins_(config_.trusted_origins),
      oasis_(config_.oasis_url, config_.oasis_admin_username, config_.oasis_admin_password),
      social_(config_.social_providers) {}

pqxx::result Context::run(const std::function<pqxx::result(pqxx::nontransaction&)>& fn) {
    auto lease = [&] {
        try {
            return pool_.acquire(std::chrono::milliseconds(config_.pool_wait_ms));
        } catch (const PoolExhausted&) {
            throw DatabaseUnavailable("The database is busy. Try again later.", "busy");
        }
    }();
    auto timed_out = [&] {
        lease.discard();
        return DatabaseUnavailable("The database did not answer in time. Try again later.", "timeout");
    };
    try {
        pqxx::nontransaction tx(lease.connection());
        return fn(tx);
    } catch (const pqxx::broken_connection& e) {
        if (lease.timed_out()) throw timed_out();
        lease.discard();
        std::string reason = connection_failure_reason(e.what());
        if (reason == "timeout expired") reason = "timeout";  // connect_timeout
        else reason = "unreachable: " + reason;
        throw DatabaseUnavailable("The database is unavailable. Try again later.", reason);
    } catch (const pqxx::sql_error& e) {
        if (lease.timed_out()) throw timed_out();
        throw errors::from_sql(e);
    } catch (const pqxx::failure&) {
        if (lease.timed_out()) throw timed_out();
        throw;
    }
}

std::optional<std::string> Context::session_token(const Request& request) const {
    return http::session_token(request, config_.cookie_name(), config_.secret);
}

std::optional<std::string> Context::credential(const Request& request) const {
    if (auto token = session_token(request)) return token;
    auto key = request.header("x-api-key");
    if (!key || key->empty()) return std::nullopt;
    return "apikey:" + *key;
}

std::string Context::require_session(const Request& request) const {
    if (auto credential = this->credential(request)) return *credential;
    throw errors::make("UNAUTHORIZED");
}

// ---------------------------------------------------------------- Server

Server::Server(Config config) : context_(std::make_unique<Context>(std::move(config))) {
    const auto& cfg = context_->config();
    // One executor thread per pooled connection: a thread never waits for
    // another's connection, and a hung database holds at most pool_size threads.
    executor_ = std::make_unique<Executor>(static_cast<std::size_t>(cfg.pool_size), static_cast<std::size_t>(cfg.db_queue),
                                           std::chrono::milliseconds(cfg.pool_wait_ms));
    Rest::Routes::NotFound(router_, [this](const Rest::Request& request, Http::ResponseWriter writer) {
        not_found(request, std::move(writer));
        return Rest::Route::Result::Ok;
    });
}

Server::~Server() { shutdown(); }

void Server::route(Http::Method method, const std::string& path, const std::string& name, Handler handler,
                   RouteKind kind) {
    add_route(method, path, std::make_shared<const RouteInfo>(RouteInfo{name, std::move(handler), kind, {}}));
}

void Server::route(Http::Method method, const std::string& path, const std::string& name, FastPath fast,
                   Handler handler) {
    add_route(method, path,
              std::make_shared<const RouteInfo>(RouteInfo{name, std::move(handler), RouteKind::database, std::move(fast)}));
}

void Server::form_route(Http::Method method, const std::string& path, const std::string& name, Handler handler) {
    add_route(method, path,
              std::make_shared<const RouteInfo>(RouteInfo{name, std::move(handler), RouteKind::database, {}, true, false}));
}

void Server::oauth_route(Http::Method method, const std::string& path, const std::string& name, Handler handler,
                         OAuthRouteOptions options) {
    if (options.public_cors) public_cors(path);
    add_route(method, path, std::make_shared<const RouteInfo>(
                                RouteInfo{name, std::move(handler), RouteKind::database, {}, false, true, options}));
}

void Server::page_route(Http::Method method, const std::string& path, const std::string& name, Handler handler) {
    RouteInfo info{name, std::move(handler), RouteKind::database, {}, false, false};
    info.page = true;
    add_route(method, path, std::make_shared<const RouteInfo>(std::move(info)));
}

void Server::add_route(Http::Method method, const std::string& path, std::shared_ptr<const RouteInfo> info) {
    known_.emplace_back(path, method);
    router_.addRoute(method, path, [this, info](const Rest::Request& request, Http::ResponseWriter writer) {
        dispatch(info, request, std::move(writer));
        return Rest::Route::Result::Ok;
    });
}

struct Server::Outcome {
    Response res;
    std::string failure;  // for the log: the code or what() of a 5xx
};

namespace {

// How a route answers errors: pgauth's JSON, RFC 6749's JSON, or an HTML page.
enum class ErrorStyle { json, oauth, page };

ErrorStyle style_of(bool oauth, bool page) { return page ? ErrorStyle::page : oauth ? ErrorStyle::oauth : ErrorStyle::json; }

Response error_answer(const ApiError& e, ErrorStyle style) {
    switch (style) {
        case ErrorStyle::oauth: return oauth_error(e);
        case ErrorStyle::page: return pages::error_page(e);
        default: return Response::error(e);
    }
}

// Runs `fn` and turns what it throws into the error answer.
template <typename F>
void answer(Response& res, std::string& failure, F&& fn, ErrorStyle style = ErrorStyle::json) {
    try {
        res = fn();
    } catch (const ApiError& e) {
        res = error_answer(e, style);
        if (e.status() >= 500) failure = e.code();
        if (e.retry_after() > 0) {  // structured: the extension's HINT (errors::from_sql)
            res.header("Retry-After", std::to_string(e.retry_after()));
            res.header("X-Retry-After", std::to_string(e.retry_after()));
        }
    } catch (const std::exception& e) {
        failure = e.what();
        res = error_answer(errors::make("INTERNAL_ERROR"), style);
    }
}

// A rate-limit refusal on an OAuth or page route: the same status and Retry-After, in the route's shape.
Response limited_answer(Response limited, ErrorStyle style) {
    if (style == ErrorStyle::json) return limited;
    Response res = error_answer(errors::make("RATE_LIMITED"), style);
    for (auto& h : limited.headers)
        if (iequals(h.first, "Retry-After") || iequals(h.first, "X-Retry-After")) res.headers.push_back(std::move(h));
    return res;
}

}  // namespace

void Server::dispatch(std::shared_ptr<const RouteInfo> route, const Rest::Request& request, Http::ResponseWriter writer) {
    auto started = std::chrono::steady_clock::now();
    const std::string& name = route->name;
    const RouteKind kind = route->kind;
    auto& ctx = *context_;
    const std::string ip = ctx.client_ip(request);
    Request req(request, ip);
    std::optional<std::string> query;  // an OAuth route's or page's query string as sent (input_guard.hpp)
    if (route->oauth || route->page) {
        std::string target;
        try {
            target = oauth_request_target(writer.peer());
        } catch (const std::exception&) {
        }
        auto question = target.find('?');
        if (target.substr(0, question) == request.resource())
            query = question == std::string::npos ? std::string() : target.substr(question + 1);
        if (query) req.set_query_string(*query);
    }
    Outcome out;
    Ticket ticket{answer_order(writer), 0};
    if (ticket.order) ticket.number = ticket.order->ticket();
    bool admitted = false, from_memory = false;
    const ErrorStyle style = style_of(route->oauth, route->page);
    answer(out.res, out.failure, [&]() -> Response {
        if (route->page) {
            // A page form: its own content type; the handler checks origin and token.
            if (req.body().size() > ctx.config().max_body) throw errors::make("PAYLOAD_TOO_LARGE");
            if (!req.reads_only() && !req.body().empty()) {
                auto type = req.header("Content-Type");
                if (!type || !istarts_with(*type, "application/x-www-form-urlencoded"))
                    throw errors::make("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/x-www-form-urlencoded");
            }
        } else if (route->cross_site_form) {
            if (req.body().size() > ctx.config().max_body) throw errors::make("PAYLOAD_TOO_LARGE");
        } else {
            if (route->oauth_options.form) check_form_body(req, ctx.config().max_body);
            else check_body(req, ctx.config().max_body);
            // OAuth routes authenticate by what they carry (a registration access token, client
            // credentials), never by a cookie: there is no cross-site request to forge, and
            // OAuth clients (MCP clients among them) call them from any origin. The few that
            // act on the session cookie (consent) say so and are checked like any other.
            if (!route->oauth || route->oauth_options.origin_check) check_origin(ctx.origins(), req);
        }
        // Strict routes with the shared store are limited on the executor (one SQL call).
        if (!uses_shared_limit(ctx.config(), name))
            if (auto limited = rate_limit(ctx.limiter(), req, name)) return limited_answer(std::move(*limited), style);
        admitted = true;
        if (kind == RouteKind::no_database) return route->handler(ctx, req);
        if (route->fast)
            if (auto answer = route->fast(ctx, req)) {
                from_memory = true;
                return *answer;
            }
        return Response{};
    }, style);
    if (!admitted || kind == RouteKind::no_database || from_memory) {
        respond(name, request, std::make_shared<Http::ResponseWriter>(std::move(writer)), out, started, ticket);
        return;
    }

    // Database-bound: hand the request (a copy: Pistache's dies with this call)
    // and the writer to the executor; the reactor thread is free at once.
    struct Pending {
        Rest::Request request;
        std::shared_ptr<Http::ResponseWriter> writer;
        std::optional<std::string> query;
    };
    auto pending = std::make_shared<Pending>(
        Pending{request, std::make_shared<Http::ResponseWriter>(std::move(writer)), std::move(query)});
    auto busy = [style](Outcome& o) {
        auto e = errors::make("SERVICE_UNAVAILABLE", "The server is busy. Try again later.");
        o.res = error_answer(e, style);
        o.failure = "SERVICE_UNAVAILABLE";
    };
    bool queued = executor_->submit([this, route, pending, started, busy, ticket, ip, style](bool expired) {
        Outcome o;
        if (expired) busy(o);
        else answer(o.res, o.failure, [&] {
            if (auto limited = shared_rate_limit(*context_, ip, route->name))
                return limited_answer(std::move(*limited), style);
            Request executor_req(pending->request, ip);
            if (pending->query) executor_req.set_query_string(*pending->query);
            return route->handler(*context_, executor_req);
        }, style);
        respond(route->name, pending->request, pending->writer, o, started, ticket);
    });
    if (!queued) {
        busy(out);
        respond(name, pending->request, pending->writer, out, started, ticket);
    }
}

void Server::respond(const std::string& name, const Rest::Request& request,
                     std::shared_ptr<Http::ResponseWriter> writer, Outcome& out,
                     std::chrono::steady_clock::time_point started, const Ticket& ticket) {
    auto& ctx = *context_;
    Response& res = out.res;
    if (!res.cors_done && public_cors_.count(request.resource())) {
        Request req(request);
        if (req.header("Origin")) {
            res.header("Access-Control-Allow-Origin", "*");
            res.header("Access-Control-Expose-Headers", "WWW-Authenticate");
        }
    } else if (!res.cors_done) {  // CORS headers for a trusted Origin (a preflight sets its own)
        Request req(request);
        // A route that names the headers it exposes (as Better-Auth does) keeps its list.
        for (auto& h : cors_response_headers(ctx.origins(), req.header("Origin"))) {
            bool had = std::any_of(res.headers.begin(), res.headers.end(), [&](const auto& o) { return iequals(o.first, h.first); });
            if (!had) res.headers.push_back(std::move(h));
        }
    }
    // multiSession (Better-Auth's after-hook): a new session cookie also gets its per-session copy.
    add_multi_session_cookie(ctx, Request(request), res, ctx.config().multi_session_maximum);
    for (auto& [header, value] : res.headers) {
        if (iequals(header, "Set-Cookie") && ctx.config().cross_site_cookies) value = cross_site_cookie(value);
        if (iequals(header, "Set-Cookie")) writer->cookies().add(Http::Cookie::fromString(value));
        else writer->headers().add(std::make_shared<NamedHeader>(header, value));
    }
    writer->headers().add<Http::Header::ContentType>(Http::Mime::MediaType::fromString(res.content_type));
    // HTTP/1.1 is persistent unless the client says otherwise; Pistache 0.0.5
    // answers "Connection: Close" to any request without a Connection header.
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    if (!connection && request.version() == Http::Version::Http11) {
        writer->headers().remove<Http::Header::Connection>();
        writer->headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    // A HEAD answer has no body (Pistache 0.0.5 would send it, and break the framing of the next response).
    if (request.method() == Http::Method::Head) res.body.clear();
    // Counted before the answer leaves: a client that reads /metrics right
    // after its answer must see it counted.
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ctx.metrics().observe(name, res.status, seconds);

    // Sent from any thread, maybe after this call (see AnswerOrder): hold the peer while
    // sending (Pistache checks, then uses it; it throws once the client went away), and
    // count the answer until the reactor has written it, so a drain can wait for it.
    auto gone = std::make_shared<bool>(false);
    auto send = [writer, gone, unsent = unsent_, status = res.status, body = std::move(res.body)] {
        try {
            auto peer = writer->peer();
            ++*unsent;
            writer->send(static_cast<Http::Code>(status), body)
                .then([unsent](ssize_t) { --*unsent; }, [unsent](std::exception_ptr&) { --*unsent; });
        } catch (const std::exception&) {
            *gone = true;
        }
    };
    if (ticket.order) ticket.order->complete(ticket.number, std::move(send));
    else send();
    if (*gone) out.failure += out.failure.empty() ? "client went away" : "; client went away";

    log_request(Http::methodString(request.method()), name, request.resource(), res.status, seconds * 1000,
                ctx.client_ip(request), out.failure);
}

void Server::not_found(const Rest::Request& request, Http::ResponseWriter writer) {
    bool other_method = std::any_of(known_.begin(), known_.end(), [&](const auto& k) { return k.first == request.resource(); });
    Handler handler = [other_method](Context&, const Request&) -> Response {
        throw errors::make(other_method ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
    };
    // Unknown routes go through the same pipeline (rate limit, logging, keep-alive).
    dispatch(std::make_shared<const RouteInfo>(RouteInfo{other_method ? "method_not_allowed" : "not_found",
                                                         std::move(handler), RouteKind::no_database, {}}),
             request, std::move(writer));
}

void Server::start() {
    // Pistache answers a known path with the wrong method in plain text; answer in JSON instead.
    // OPTIONS answers CORS preflights (cors.hpp).
    auto known = known_;
    for (const auto& [path, method] : known) {
        for (auto other : {Http::Method::Get, Http::Method::Post, Http::Method::Put, Http::Method::Delete,
                           Http::Method::Patch, Http::Method::Head, Http::Method::Options}) {
            bool taken = std::any_of(known_.begin(), known_.end(),
                                     [&, &path = path](const auto& k) { return k.first == path && k.second == other; });
            if (!taken && other == Http::Method::Options)
                route(other, path, "preflight",
                      public_cors_.count(path) ? public_preflight_handler(allowed_methods(known, path))
                                               : preflight_handler(allowed_methods(known, path)),
                      RouteKind::no_database);
            else if (!taken)
                route(other, path, "method_not_allowed", [](Context&, const Request&) -> Response {
                    throw errors::make("METHOD_NOT_ALLOWED");
                }, RouteKind::no_database);
        }
    }
    const auto& cfg = context_->config();
    Address address(cfg.listen_address());  // IPv6 in brackets, which Pistache's parser needs
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(cfg.threads)
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(cfg.max_body + 64 * 1024)
                       .maxResponseSize(4 * 1024 * 1024)
                       .headerTimeout(std::chrono::seconds(10))
                       .bodyTimeout(std::chrono::seconds(30));
    endpoint_->init(options);
    // Every byte passes the input guard before Pistache's parser (input_guard.hpp).
    auto inner = router_.handler();
    inner->setMaxRequestSize(cfg.max_body + 64 * 1024);
    inner->setMaxResponseSize(4 * 1024 * 1024);
    GuardLimits limits;
    limits.max_body = cfg.max_body;
    // Descriptors kept back from client connections: the pool, and per worker its epoll, event and timer fds.
    std::size_t reserve = 64 + static_cast<std::size_t>(cfg.pool_size) + 8 * static_cast<std::size_t>(cfg.threads);
    endpoint_->setHandler(make_guarded_handler(inner, limits, cfg.max_connections_per_ip, connection_budget(reserve)));
    endpoint_->serveThreaded();
}

std::uint16_t Server::port() const { return endpoint_ ? static_cast<std::uint16_t>(endpoint_->getPort()) : 0; }

void Server::shutdown() {
    // Queued and in-flight database requests finish first (each bounded by the
    // call deadline; new ones meanwhile answer 503), then their answers are
    // written by the still-running reactor, then the endpoint stops.
    if (executor_) executor_->drain();
    auto flush_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (*unsent_ > 0 && std::chrono::steady_clock::now() < flush_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (endpoint_) {
        endpoint_->shutdown();
        endpoint_.reset();
    }
}

}  // namespace pgauth::http
