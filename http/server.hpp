// pgauth-http's server: the route table and the dispatch pipeline (body
// limit and content type -> origin -> rate limit -> the route's handler, on
// the database executor unless it never blocks -> response, log, metrics),
// and the Context handlers share (configuration, pool, limiter, clients).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include "config.hpp"
#include "db/pool.hpp"
#include "errors.hpp"
#include "executor.hpp"
#include "integrations/mail/worker.hpp"
#include "integrations/oasis/client.hpp"
#include "integrations/oauth/providers.hpp"
#include "jwks_cache.hpp"
#include "metrics.hpp"
#include "origin.hpp"
#include "rate_limit.hpp"
#include "request.hpp"

namespace pgauth::http {

class Context {
public:
    explicit Context(Config config);
    const Config& config() const { return config_; }
    Metrics& metrics() { return metrics_; }
    Pool& pool() { return pool_; }
    RateLimiter& limiter() { return limiter_; }
    const OriginPolicy& origins() const { return origins_; }
    OasisClient& oasis() { return oasis_; }
    JwksCache& jwks() { return jwks_; }
    // The OAuth discovery documents (auth.oauth_discovery), from memory like the JWKS.
    JwksCache& discovery(bool openid) { return openid ? openid_configuration_ : authorization_server_; }
    mail::MailStats& mail_stats() { return mail_stats_; }
    const oauth::Providers& social() const { return social_; }

    // Runs one statement on a pooled connection (one round trip, no BEGIN/COMMIT).
    // SQL errors become ApiError through the error catalog; a broken connection is
    // dropped and answers 503 for this request only. Waiting for a connection is
    // bounded by pool_wait_ms, the call by db_call_timeout_ms; both answer 503
    // as DatabaseUnavailable (whose reason() /health reports).
    template <typename... Args>
    pqxx::result exec(const char* statement, Args&&... args) {
        return run([&](pqxx::nontransaction& tx) { return tx.exec_prepared(statement, std::forward<Args>(args)...); });
    }
    pqxx::result run(const std::function<pqxx::result(pqxx::nontransaction&)>& fn);

    // The session token from the Better-Auth cookie or an Authorization: Bearer header
    // (signed or raw; see cookies.hpp). Tampered or malformed values are simply "no token".
    std::optional<std::string> session_token(const Request& request) const;
    // The credential the extension resolves (auth.session_user_id and every p_token
    // function): the session token, else an x-api-key header as "apikey:<key>" (a
    // cookie or a Bearer token wins, as it names a session); nullopt when neither.
    // The extension checks the key, consumes one use and decides which functions
    // refuse a key (API_KEY_NOT_ALLOWED): pgauth-http has no API-key rule of its own.
    std::optional<std::string> credential(const Request& request) const;
    // The credential, or 401 UNAUTHORIZED when there is none.
    std::string require_session(const Request& request) const;

    // The client address of a request (PGAUTH_TRUSTED_PROXIES decides whether forwarding headers count).
    std::string client_ip(const Pistache::Http::Request& request) const;

private:
    Config config_;
    Pool pool_;
    RateLimiter limiter_;
    OriginPolicy origins_;
    Metrics metrics_;
    OasisClient oasis_;
    JwksCache jwks_{std::chrono::seconds(5)};
    JwksCache openid_configuration_{std::chrono::seconds(5)};
    JwksCache authorization_server_{std::chrono::seconds(5)};
    mail::MailStats mail_stats_;
    oauth::Providers social_;
};

using Handler = std::function<Response(Context&, const Request&)>;

class AnswerOrder;  // server.cpp

// Where a route's handler runs: on the database executor (the default: anything
// that may call the database), or inline on Pistache's reactor thread (only
// handlers that never block: no database, no outbound HTTP).
enum class RouteKind { database, no_database };

// An answer from memory when one is at hand (a cached document), tried inline
// before a database-bound route goes to the executor.
using FastPath = std::function<std::optional<Response>(Context&, const Request&)>;

// How an OAuth route reads its request (see Server::oauth_route).
struct OAuthRouteOptions {
    bool form = false;          // a body must be application/x-www-form-urlencoded (not JSON)
    bool origin_check = false;  // authenticated by the session cookie: the usual Origin check applies
    bool public_cors = false;   // Access-Control-Allow-Origin: * (no credentials), preflight from any origin
};

class Server {
public:
    explicit Server(Config config);
    ~Server();
    // Registers a route under the full path (e.g. "/api/auth/get-session").
    void route(Pistache::Http::Method method, const std::string& path, const std::string& name, Handler handler,
               RouteKind kind = RouteKind::database);
    // A database-bound route whose answer is often in memory: `fast` runs inline first.
    void route(Pistache::Http::Method method, const std::string& path, const std::string& name, FastPath fast,
               Handler handler);
    // A database-bound route that a provider's cross-site form post reaches (OAuth
    // response_mode=form_post): any content type, no origin check. Its handler must
    // change nothing (the callback's POST only redirects to its GET).
    void form_route(Pistache::Http::Method method, const std::string& path, const std::string& name, Handler handler);
    // A database-bound OAuth route: its errors, the pipeline's refusals included, are
    // answered as {"error","error_description"} (oauth_errors.hpp).
    void oauth_route(Pistache::Http::Method method, const std::string& path, const std::string& name, Handler handler,
                     OAuthRouteOptions options = {});
    // Answers on `path` carry Access-Control-Allow-Origin: * without credentials, and its
    // preflights succeed from any origin: for endpoints OAuth clients call from any page
    // with no cookie (token, userinfo, register, discovery, jwks, introspect, revoke).
    void public_cors(const std::string& path) { public_cors_.insert(path); }
    // A database-bound route of a server-rendered page (pages/): a POST carries an
    // application/x-www-form-urlencoded body and is checked by the handler itself
    // (pages/forms.hpp: same origin and a per-form token); every error, the pipeline's
    // refusals included, is answered as an HTML page (pages/render.hpp).
    void page_route(Pistache::Http::Method method, const std::string& path, const std::string& name, Handler handler);
    void start();            // binds and serves in background threads (adds 405 handlers first)
    std::uint16_t port() const;
    void shutdown();         // finishes queued and in-flight database requests, then stops
    Context& context() { return *context_; }

private:
    struct RouteInfo {
        std::string name;
        Handler handler;
        RouteKind kind;
        FastPath fast;  // may answer from memory on Pistache's thread; empty or nullopt: the handler runs
        bool cross_site_form = false;  // form_route: no content-type or origin check
        bool oauth = false;  // errors as {"error","error_description"}
        OAuthRouteOptions oauth_options{};
        bool page = false;   // errors as an HTML page; form bodies; CSRF checked by the handler
    };
    // `route` is shared with the executor task (Pistache copies its router and handlers).
    void add_route(Pistache::Http::Method method, const std::string& path, std::shared_ptr<const RouteInfo> info);
    void dispatch(std::shared_ptr<const RouteInfo> route, const Pistache::Rest::Request& request,
                  Pistache::Http::ResponseWriter writer);
    struct Outcome;
    // The place of a request's answer among its connection's answers (see AnswerOrder in server.cpp).
    struct Ticket {
        std::shared_ptr<AnswerOrder> order;
        std::uint64_t number = 0;
    };
    void respond(const std::string& name, const Pistache::Rest::Request& request,
                 std::shared_ptr<Pistache::Http::ResponseWriter> writer, Outcome& outcome,
                 std::chrono::steady_clock::time_point started, const Ticket& ticket);
    void not_found(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter writer);
    std::unique_ptr<Context> context_;
    std::unique_ptr<Executor> executor_;
    std::shared_ptr<std::atomic<long>> unsent_ = std::make_shared<std::atomic<long>>(0);  // executor answers not yet written
    Pistache::Rest::Router router_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
    std::vector<std::pair<std::string, Pistache::Http::Method>> known_;
    std::unordered_set<std::string> public_cors_;
};

}  // namespace pgauth::http
