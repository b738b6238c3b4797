#include "server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

#include "cookies.hpp"
#include "db/statements.hpp"

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

std::mutex log_mutex;

// One JSON line per request. Never the query string, a body, a cookie or a token.
void log_request(const std::string& method, const std::string& route, const std::string& path, int status,
                 double ms, const std::string& ip, const std::string& error) {
    json line = {{"ts", std::time(nullptr)}, {"method", method}, {"route", route}, {"path", path},
                 {"status", status},        {"ms", ms},          {"ip", ip}};
    if (!error.empty()) line["error"] = error;
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    std::lock_guard lock(log_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
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

Context::Context(Config config)
    : config_(std::move(config)),
      pool_(config_.database_url, static_cast<std::size_t>(config_.pool_size),
            [timeout = config_.statement_timeout_ms](pqxx::connection& c) { prepare_statements(c, timeout); }),
      limiter_(config_.rate_limit),
      origins_(config_.trusted_origins),
      oasis_(config_.oasis_url, config_.oasis_admin_username, config_.oasis_admin_password) {}

pqxx::result Context::run(const std::function<pqxx::result(pqxx::nontransaction&)>& fn) {
    auto lease = [&] {
        try {
            return pool_.acquire(std::chrono::milliseconds(config_.statement_timeout_ms));
        } catch (const PoolExhausted&) {
            throw ApiError(503, "SERVICE_UNAVAILABLE", "The database is busy. Try again later.");
        }
    }();
    try {
        pqxx::connection& conn = lease.connection();
        if (!errors_.loaded()) errors_.load(conn);
        pqxx::nontransaction tx(conn);
        return fn(tx);
    } catch (const pqxx::broken_connection&) {
        lease.discard();
        throw ApiError(503, "SERVICE_UNAVAILABLE", "The database is unavailable. Try again later.");
    } catch (const pqxx::sql_error& e) {
        throw errors_.from_sql(e);
    }
}

std::optional<std::string> Context::session_token(const Request& request) const {
    const auto& cookies = request.raw().cookies();
    const std::string name = config_.cookie_name();
    if (cookies.has(name)) {
        auto decoded = url_decode(cookies.get(name).value);
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
    Rest::Routes::NotFound(router_, [this](const Rest::Request& request, Http::ResponseWriter writer) {
        not_found(request, std::move(writer));
        return Rest::Route::Result::Ok;
    });
}

Server::~Server() { shutdown(); }

void Server::route(Http::Method method, const std::string& path, const std::string& name, Handler handler) {
    known_.emplace_back(path, method);
    router_.addRoute(method, path, [this, name, handler = std::move(handler)](const Rest::Request& request,
                                                                             Http::ResponseWriter writer) {
        dispatch(name, handler, request, std::move(writer));
        return Rest::Route::Result::Ok;
    });
}

void Server::dispatch(const std::string& name, const Handler& handler, const Rest::Request& request,
                      Http::ResponseWriter writer) {
    auto started = std::chrono::steady_clock::now();
    Request req(request);
    Response res;
    std::string failure;
    auto& ctx = *context_;
    try {
        const auto& cfg = ctx.config();
        if (req.body().size() > cfg.max_body) throw ctx.errors().make("PAYLOAD_TOO_LARGE", 413);
        if (request.method() != Http::Method::Get && request.method() != Http::Method::Head) {
            if (!req.body().empty()) {
                auto type = req.header("Content-Type");
                if (!type || lower(*type).rfind("application/json", 0) != 0)
                    throw ctx.errors().make("UNSUPPORTED_MEDIA_TYPE", 415);
            }
            // Better-Auth's CSRF rule: a request that carries cookies or browser
            // fetch metadata must come from a trusted origin.
            bool has_cookies = request.cookies().begin() != request.cookies().end();
            bool fetch_metadata = req.header("Sec-Fetch-Site") || req.header("Sec-Fetch-Mode") || req.header("Sec-Fetch-Dest");
            if (has_cookies || fetch_metadata) {
                auto origin = req.header("Origin");
                if (!origin || origin->empty() || *origin == "null") origin = req.header("Referer");
                if (!origin || origin->empty() || *origin == "null")
                    throw ctx.errors().make("MISSING_OR_NULL_ORIGIN", 403);
                if (!ctx.origins().trusted_origin(*origin)) throw ctx.errors().make("INVALID_ORIGIN", 403);
            }
        }
        auto decision = ctx.limiter().check(req.ip(), request.resource());
        if (!decision.allowed) {
            ApiError limited = ctx.errors().make("RATE_LIMITED", 429);
            res = Response::json({{"code", limited.code()}, {"message", limited.what()}}, 429);
            res.header("X-Retry-After", std::to_string(decision.retry_after_seconds));
        } else {
            res = handler(ctx, req);
        }
    } catch (const ApiError& e) {
        res = Response::json({{"code", e.code()}, {"message", e.what()}}, e.status());
        if (e.status() >= 500) failure = e.code();
    } catch (const std::exception& e) {
        failure = e.what();
        ApiError internal = ctx.errors().make("INTERNAL_ERROR", 500);
        res = Response::json({{"code", internal.code()}, {"message", internal.what()}}, 500);
    }

    for (auto& [header, value] : res.headers) {
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
    writer.send(static_cast<Http::Code>(res.status), res.body);

    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ctx.metrics().observe(name, res.status, seconds);
    log_request(Http::methodString(request.method()), name, request.resource(), res.status, seconds * 1000, req.ip(), failure);
}

void Server::not_found(const Rest::Request& request, Http::ResponseWriter writer) {
    bool other_method = std::any_of(known_.begin(), known_.end(), [&](const auto& k) { return k.first == request.resource(); });
    Handler handler = [other_method](Context& ctx, const Request&) -> Response {
        if (other_method) throw ctx.errors().make("METHOD_NOT_ALLOWED", 405);
        throw ctx.errors().make("NOT_FOUND", 404);
    };
    // Unknown routes go through the same pipeline (rate limit, logging, keep-alive).
    dispatch(other_method ? "method_not_allowed" : "not_found", handler, request, std::move(writer));
}

void Server::start() {
    // Pistache answers a known path with the wrong method in plain text; answer in JSON instead.
    auto known = known_;
    for (const auto& [path, method] : known) {
        for (auto other : {Http::Method::Get, Http::Method::Post, Http::Method::Put, Http::Method::Delete,
                           Http::Method::Patch}) {
            bool taken = std::any_of(known_.begin(), known_.end(),
                                     [&, &path = path](const auto& k) { return k.first == path && k.second == other; });
            if (!taken)
                route(other, path, "method_not_allowed", [](Context& ctx, const Request&) -> Response {
                    throw ctx.errors().make("METHOD_NOT_ALLOWED", 405);
                });
        }
    }
    const auto& cfg = context_->config();
    Address address(cfg.listen_host, Port(cfg.listen_port));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto options = Http::Endpoint::options()
                       .threads(cfg.threads)
                       .flags(Tcp::Options::ReuseAddr)
                       .maxRequestSize(cfg.max_body + 64 * 1024)
                       .maxResponseSize(4 * 1024 * 1024)
                       .headerTimeout(std::chrono::seconds(10))
                       .bodyTimeout(std::chrono::seconds(30));
    endpoint_->init(options);
    endpoint_->setHandler(router_.handler());
    endpoint_->serveThreaded();
}

std::uint16_t Server::port() const { return endpoint_ ? static_cast<std::uint16_t>(endpoint_->getPort()) : 0; }

void Server::shutdown() {
    if (endpoint_) {
        endpoint_->shutdown();
        endpoint_.reset();
    }
}

}  // namespace pgauth::http
