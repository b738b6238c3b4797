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
#include "db/statements.hpp"
#include "input_guard.hpp"
#include "text.hpp"

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

std::mutex log_mutex;

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

// One JSON line per request. Never the query string, a body, a cookie or a token.
void log_request(const std::string& method, const std::string& route, std::string_view path, int status,
                 double ms, const std::string& ip, const std::string& error) {
    json line = {{"ts", std::time(nullptr)}, {"method", method}, {"route", route}, {"path", logged_path(path)},
                 {"status", status},        {"ms", ms},          {"ip", ip}};
    if (!error.empty()) line["error"] = error;
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    std::lock_guard lock(log_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace

// ---------------------------------------------------------------- Context

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
      oasis_(config_.oasis_url, config_.oasis_admin_username, config_.oasis_admin_password) {}

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

std::string Context::require_session(const Request& request) const {
    auto token = session_token(request);
    if (!token) throw errors::make("UNAUTHORIZED");
    return *token;
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
    known_.emplace_back(path, method);
    auto info = std::make_shared<const RouteInfo>(RouteInfo{name, std::move(handler), kind});
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

// Runs `fn` and turns what it throws into the JSON answer.
template <typename F>
void answer(Response& res, std::string& failure, F&& fn) {
    try {
        res = fn();
    } catch (const ApiError& e) {
        res = Response::error(e);
        if (e.status() >= 500) failure = e.code();
    } catch (const std::exception& e) {
        failure = e.what();
        res = Response::error(errors::make("INTERNAL_ERROR"));
    }
}

}  // namespace

void Server::dispatch(std::shared_ptr<const RouteInfo> route, const Rest::Request& request, Http::ResponseWriter writer) {
    auto started = std::chrono::steady_clock::now();
    const std::string& name = route->name;
    const RouteKind kind = route->kind;
    Request req(request);
    Outcome out;
    auto& ctx = *context_;
    Ticket ticket{answer_order(writer), 0};
    if (ticket.order) ticket.number = ticket.order->ticket();
    bool admitted = false;
    answer(out.res, out.failure, [&]() -> Response {
        check_body(req, ctx.config().max_body);
        check_origin(ctx.origins(), req);
        if (auto limited = rate_limit(ctx.limiter(), req, name)) return *limited;
        admitted = true;
        if (kind == RouteKind::no_database) return route->handler(ctx, req);
        return Response{};
    });
    if (!admitted || kind == RouteKind::no_database) {
        respond(name, request, std::make_shared<Http::ResponseWriter>(std::move(writer)), out, started, ticket);
        return;
    }

    // Database-bound: hand the request (a copy: Pistache's dies with this call)
    // and the writer to the executor; the reactor thread is free at once.
    struct Pending {
        Rest::Request request;
        std::shared_ptr<Http::ResponseWriter> writer;
    };
    auto pending = std::make_shared<Pending>(Pending{request, std::make_shared<Http::ResponseWriter>(std::move(writer))});
    auto busy = [](Outcome& o) {
        o.res = Response::error(errors::make("SERVICE_UNAVAILABLE", "The server is busy. Try again later."));
        o.failure = "SERVICE_UNAVAILABLE";
    };
    bool queued = executor_->submit([this, route, pending, started, busy, ticket](bool expired) {
        Outcome o;
        if (expired) busy(o);
        else answer(o.res, o.failure, [&] { return route->handler(*context_, Request(pending->request)); });
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
    for (auto& [header, value] : res.headers) {
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
                request.address().host(), out.failure);
}

void Server::not_found(const Rest::Request& request, Http::ResponseWriter writer) {
    bool other_method = std::any_of(known_.begin(), known_.end(), [&](const auto& k) { return k.first == request.resource(); });
    Handler handler = [other_method](Context&, const Request&) -> Response {
        throw errors::make(other_method ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
    };
    // Unknown routes go through the same pipeline (rate limit, logging, keep-alive).
    dispatch(std::make_shared<const RouteInfo>(RouteInfo{other_method ? "method_not_allowed" : "not_found",
                                                         std::move(handler), RouteKind::no_database}),
             request, std::move(writer));
}

void Server::start() {
    // Pistache answers a known path with the wrong method in plain text; answer in JSON instead.
    auto known = known_;
    for (const auto& [path, method] : known) {
        for (auto other : {Http::Method::Get, Http::Method::Post, Http::Method::Put, Http::Method::Delete,
                           Http::Method::Patch, Http::Method::Head, Http::Method::Options}) {
            bool taken = std::any_of(known_.begin(), known_.end(),
                                     [&, &path = path](const auto& k) { return k.first == path && k.second == other; });
            if (!taken)
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
