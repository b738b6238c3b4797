#include "server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cookies.hpp"
#include "cors.hpp"
#include "db/statements.hpp"
#include "input_guard.hpp"
#include "log.hpp"
#include "shared_rate_limit.hpp"

namespace pgauth::http {

using namespace Pistache;
using nlohmann::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

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

// The headers Better-Auth's CSRF rule looks at (see csrf_refusal in origin.hpp).
struct CsrfHeaders {
    bool has_cookie = false, fetch_metadata = false;
    std::optional<std::string> origin, referer;
    CsrfInput input() const { return {has_cookie, fetch_metadata, origin, referer}; }
};
CsrfHeaders csrf_headers(const Request& req) {
    auto present = [&](const char* header) {
        auto v = req.header(header);
        return v && v->find_first_not_of(" \t") != std::string::npos;
    };
    const auto& jar = req.raw().cookies();
    return {req.header("Cookie").has_value() || jar.begin() != jar.end(),
            present("Sec-Fetch-Site") || present("Sec-Fetch-Mode") || present("Sec-Fetch-Dest"),
            req.header("Origin"), req.header("Referer")};
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
            ApiError refused = ctx.errors().make("INVALID_ORIGIN", 403);
            res = Response::json({{"code", refused.code()}, {"message", refused.what()}}, 403);
            res.cors_done = true;
        }
        for (auto& h : answer.headers) res.headers.push_back(std::move(h));
        return res;
    };
}

}  // namespace

// ---------------------------------------------------------------- Request

std::optional<std::string> Request::header(std::string_view name) const {
    for (const auto& h : raw_.headers().list()) {
        if (iequals(h->name(), name)) {
            std::ostringstream out;
            h->write(out);
            return out.str();
        }
    }
    for (const auto& [key, raw] : raw_.headers().rawList())
        if (iequals(key, name)) return raw.value();
    return std::nullopt;
}

std::optional<std::string> Request::query(const std::string& name) const {
    auto v = raw_.query().get(name);
    if (!v) return std::nullopt;
    return *v;
}

const json& Request::json() const {
    if (!json_) {
        nlohmann::json parsed;
        const std::string& text = body();
        if (text.empty()) {
            parsed = nlohmann::json::object();
        } else {
            parsed = nlohmann::json::parse(text, nullptr, false);
            if (parsed.is_discarded()) throw ApiError(400, "BAD_REQUEST", "Invalid JSON body");
            if (!parsed.is_object()) throw ApiError(400, "VALIDATION_ERROR", "The body must be a JSON object");
        }
        json_ = std::move(parsed);
    }
    return *json_;
}

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
        pqxx::connection& conn = lease.connection();
        if (!errors_.loaded()) errors_.load(conn);
        pqxx::nontransaction tx(conn);
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
        throw errors_.from_sql(e);
    } catch (const pqxx::failure&) {
        if (lease.timed_out()) throw timed_out();
        throw;
    }
}

std::optional<std::string> Context::session_token(const Request& request) const {
    // Read from the raw header: Pistache's jar keeps one of several same-name cookies,
    // and a duplicated session cookie (cookie tossing) must count as no cookie. With
    // two Cookie headers the raw one is the first and the jar holds the last: they
    // must agree too.
    const std::string name = config_.cookie_name();
    auto header = request.header("Cookie");
    auto found = header ? find_unique_cookie(*header, name) : CookieLookup{};
    const auto& jar = request.raw().cookies();
    std::vector<std::string> in_jar;  // as "name=value", to unquote it like the raw one
    for (const auto& c : jar)
        if (c.name == name) in_jar.push_back(name + "=" + c.value);
    bool jar_agrees = in_jar.empty() || (in_jar.size() == 1 && find_unique_cookie(in_jar[0], name).value == found.value);
    if (found.state == CookieLookup::State::one && jar_agrees) {
        auto decoded = url_decode(found.value);
        if (decoded) {
            if (auto token = verify_signed_token(*decoded, config_.secret)) return token;
        }
    }
    if (auto auth = request.header("Authorization")) {
        std::string_view value = *auth;
        if (value.size() > 7 && iequals(value.substr(0, 7), "Bearer ")) {
            std::string_view credential = value.substr(7);
            while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
            if (credential.find('.') != std::string_view::npos) {
                auto decoded = url_decode(credential);
                if (decoded) return verify_signed_token(*decoded, config_.secret);
                return std::nullopt;
            }
            if (!credential.empty() && credential.size() <= 256) return std::string(credential);
        }
    }
    return std::nullopt;
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
void answer(Context& ctx, Response& res, std::string& failure, F&& fn) {
    try {
        res = fn();
    } catch (const ApiError& e) {
        res = Response::json({{"code", e.code()}, {"message", e.what()}}, e.status());
        if (e.status() >= 500) failure = e.code();
        if (e.status() == 429)  // e.g. ACCOUNT_LOCKED: "Try again in N seconds."
            if (auto retry = retry_after_in_message(e.what())) {
                res.header("Retry-After", std::to_string(*retry));
                res.header("X-Retry-After", std::to_string(*retry));
            }
    } catch (const std::exception& e) {
        failure = e.what();
        ApiError internal = ctx.errors().make("INTERNAL_ERROR", 500);
        res = Response::json({{"code", internal.code()}, {"message", internal.what()}}, 500);
    }
}

}  // namespace

void Server::dispatch(std::shared_ptr<const RouteInfo> route, const Rest::Request& request, Http::ResponseWriter writer) {
    auto started = std::chrono::steady_clock::now();
    const std::string& name = route->name;
    const Handler& handler = route->handler;
    const RouteKind kind = route->kind;
    auto& ctx = *context_;
    const std::string ip = ctx.client_ip(request);
    Request req(request, ip);
    Outcome out;
    bool admitted = false;
    answer(ctx, out.res, out.failure, [&]() -> Response {
        const auto& cfg = ctx.config();
        if (req.body().size() > cfg.max_body) throw ctx.errors().make("PAYLOAD_TOO_LARGE", 413);
        if (request.method() != Http::Method::Get && request.method() != Http::Method::Head &&
            request.method() != Http::Method::Options) {
            if (!req.body().empty()) {
                auto type = req.header("Content-Type");
                if (!type || lower(*type).rfind("application/json", 0) != 0)
                    throw ctx.errors().make("UNSUPPORTED_MEDIA_TYPE", 415);
            }
            auto csrf = csrf_headers(req);
            if (auto refusal = csrf_refusal(ctx.origins(), csrf.input())) throw ctx.errors().make(*refusal, 403);
        }
        auto decision = uses_shared_limit(ctx.config(), name) ? RateLimiter::Decision{true, 0}  // on the executor
                                                              : ctx.limiter().check(req.ip(), name);
        if (!decision.allowed) {
            ApiError limited = ctx.errors().make("RATE_LIMITED", 429);
            Response res = Response::json({{"code", limited.code()}, {"message", limited.what()}}, 429);
            res.header("X-Retry-After", std::to_string(decision.retry_after_seconds));
            res.header("Retry-After", std::to_string(decision.retry_after_seconds));
            return res;
        }
        admitted = true;
        if (kind == RouteKind::no_database) return handler(ctx, req);
        return Response{};
    });
    if (!admitted || kind == RouteKind::no_database) {
        respond(name, request, writer, out, started, false);
        return;
    }

    // Database-bound: hand the request (a copy: Pistache's dies with this call)
    // and the writer to the executor; the reactor thread is free at once.
    struct Pending {
        Rest::Request request;
        Http::ResponseWriter writer;
    };
    auto pending = std::make_shared<Pending>(Pending{request, std::move(writer)});
    auto busy = [](Outcome& o) {
        o.res = Response::json({{"code", "SERVICE_UNAVAILABLE"}, {"message", "The server is busy. Try again later."}}, 503);
        o.failure = "SERVICE_UNAVAILABLE";
    };
    bool queued = executor_->submit([this, route, pending, started, busy, ip](bool expired) {
        Outcome o;
        if (expired) busy(o);
        else answer(*context_, o.res, o.failure, [&] {
            if (auto limited = shared_rate_limit(*context_, ip, route->name)) return *limited;
            return route->handler(*context_, Request(pending->request, ip));
        });
        respond(route->name, pending->request, pending->writer, o, started, true);
    });
    if (!queued) {
        busy(out);
        respond(name, pending->request, pending->writer, out, started, false);
    }
}

void Server::respond(const std::string& name, const Rest::Request& request, Http::ResponseWriter& writer, Outcome& out,
                     std::chrono::steady_clock::time_point started, bool other_thread) {
    auto& ctx = *context_;
    Response& res = out.res;
    if (!res.cors_done) {  // CORS headers for a trusted Origin (a preflight sets its own)
        Request req(request);
        // A route that names the headers it exposes (as Better-Auth does) keeps its list.
        for (auto& h : cors_response_headers(ctx.origins(), req.header("Origin"))) {
            bool had = std::any_of(res.headers.begin(), res.headers.end(), [&](const auto& o) { return iequals(o.first, h.first); });
            if (!had) res.headers.push_back(std::move(h));
        }
    }
    for (auto& [header, value] : res.headers) {
        if (iequals(header, "Set-Cookie") && ctx.config().cross_site_cookies) value = cross_site_cookie(value);
        if (iequals(header, "Set-Cookie")) writer.cookies().add(Http::Cookie::fromString(value));
        else writer.headers().add(std::make_shared<NamedHeader>(header, value));
    }
    writer.headers().add<Http::Header::ContentType>(Http::Mime::MediaType::fromString(res.content_type));
    // HTTP/1.1 is persistent unless the client says otherwise; Pistache 0.0.5
    // answers "Connection: Close" to any request without a Connection header.
    auto connection = request.headers().tryGet<Http::Header::Connection>();
    if (!connection && request.version() == Http::Version::Http11) {
        writer.headers().remove<Http::Header::Connection>();
        writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
    }
    // A HEAD answer has no body (Pistache 0.0.5 would send it, and break the framing of the next response).
    if (request.method() == Http::Method::Head) res.body.clear();
    if (!other_thread) {
        writer.send(static_cast<Http::Code>(res.status), res.body);
    } else {
        // From an executor thread the client may be gone: hold the peer while
        // sending (Pistache checks, then uses it), and count the answer until
        // the reactor has written it, so a drain can wait for it.
        try {
            auto peer = writer.peer();  // throws once the peer went away
            ++*unsent_;
            auto unsent = unsent_;
            writer.send(static_cast<Http::Code>(res.status), res.body)
                .then([unsent](ssize_t) { --*unsent; }, [unsent](std::exception_ptr&) { --*unsent; });
        } catch (const std::exception&) {
            out.failure += out.failure.empty() ? "client went away" : "; client went away";
        }
    }

    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ctx.metrics().observe(name, res.status, seconds);
    log_request(Http::methodString(request.method()), name, request.resource(), res.status, seconds * 1000,
                ctx.client_ip(request), out.failure);
}

void Server::not_found(const Rest::Request& request, Http::ResponseWriter writer) {
    bool other_method = std::any_of(known_.begin(), known_.end(), [&](const auto& k) { return k.first == request.resource(); });
    Handler handler = [other_method](Context& ctx, const Request&) -> Response {
        if (other_method) throw ctx.errors().make("METHOD_NOT_ALLOWED", 405);
        throw ctx.errors().make("NOT_FOUND", 404);
    };
    // Unknown routes go through the same pipeline (rate limit, logging, keep-alive).
    dispatch(std::make_shared<const RouteInfo>(RouteInfo{other_method ? "method_not_allowed" : "not_found",
                                                         std::move(handler), RouteKind::no_database}),
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
                                     [&](const auto& k) { return k.first == path && k.second == other; });
            if (!taken && other == Http::Method::Options)
                route(other, path, "preflight", preflight_handler(allowed_methods(known, path)), RouteKind::no_database);
            else if (!taken)
                route(other, path, "method_not_allowed", [](Context& ctx, const Request&) -> Response {
                    throw ctx.errors().make("METHOD_NOT_ALLOWED", 405);
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
