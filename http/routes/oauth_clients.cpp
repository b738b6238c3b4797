// OAuth clients (issue 13): dynamic registration (RFC 7591), the client configuration
// endpoint (RFC 7592) and the public client lookup that fetches Client ID Metadata
// Documents. Each handler parses, makes one SQL call (the lookup of a URL client_id
// whose cached document is missing or stale adds the fetch and one call to store it),
// and maps the answer; the extension holds every rule. Errors are RFC-shaped
// (oauth_errors.hpp).
#include <algorithm>
#include <atomic>

#include "integrations/cimd/fetcher.hpp"
#include "request_fields.hpp"
#include "routes/oauth_shared.hpp"
#include "routes/routes.hpp"
#include "server.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;

namespace {

const std::string register_path = "/api/auth/oauth2/register";

// Client ID Metadata Document fetches in progress, process-wide; 503 beyond the cap.
std::atomic<int> fetches_in_flight{0};
class FetchSlot {
public:
    explicit FetchSlot(int cap) {
        if (fetches_in_flight.fetch_add(1) >= cap) {
            fetches_in_flight.fetch_sub(1);
            throw errors::make("SERVICE_UNAVAILABLE", "Too many client metadata documents are being fetched. Try again later.");
        }
    }
    ~FetchSlot() { fetches_in_flight.fetch_sub(1); }
    FetchSlot(const FetchSlot&) = delete;
    FetchSlot& operator=(const FetchSlot&) = delete;
};

Response json_answer(const pqxx::result& r, int status = 200) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("INTERNAL_ERROR");
    Response res;
    res.status = status;
    res.body = r[0]["body"].c_str();
    res.header("Cache-Control", "no-store");
    res.header("Pragma", "no-cache");
    return res;
}

// The Bearer registration access token (RFC 6750 2.1); 401 without one.
std::string bearer(const Request& req) {
    auto h = req.header("Authorization");
    if (!h || h->empty()) throw errors::make("UNAUTHORIZED", "a registration access token (Authorization: Bearer) is required");
    std::string_view v = *h;
    if (v.size() < 8 || !iequals(v.substr(0, 7), "Bearer ") || v.size() > 7 + 512)
        throw errors::make("OAUTH_INVALID_TOKEN", "the registration access token is invalid");
    std::string token(v.substr(7));
    token.erase(0, token.find_first_not_of(' '));
    if (token.empty() || token.find_first_of(" \t\r\n") != std::string::npos || token.find('\0') != std::string::npos)
        throw errors::make("OAUTH_INVALID_TOKEN", "the registration access token is invalid");
    return token;
}

// The client_id of /api/auth/oauth2/register/<client_id>: a registered client's id is
// base64url, so anything else names no client (the same 401 as a wrong token).
std::string path_client_id(const Request& req) {
    std::string_view resource = req.raw().resource();
    std::string_view id = resource.substr(std::min(resource.size(), register_path.size() + 1));
    bool ok = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
    });
    if (!ok) throw errors::make("OAUTH_INVALID_TOKEN", "the registration access token is invalid");
    return std::string(id);
}

const nlohmann::json& metadata(const Request& req) {
    const auto& body = req.json();
    require_no_nul(body);
    return body;
}

// POST /api/auth/oauth2/register (RFC 7591): 201 with the client, its secret and its
// registration access token, once.
Response register_client(Context& ctx, const Request& req) {
    return json_answer(ctx.exec("oauth_register_client", metadata(req).dump()), 201);
}

Response read_client(Context& ctx, const Request& req) {
    std::string token = bearer(req);
    return json_answer(ctx.exec("oauth_client_read", path_client_id(req), token));
}

Response update_client(Context& ctx, const Request& req) {
    std::string token = bearer(req);
    std::string id = path_client_id(req);
    return json_answer(ctx.exec("oauth_client_update", id, token, metadata(req).dump()));
}

Response delete_client(Context& ctx, const Request& req) {
    std::string token = bearer(req);
    ctx.exec("oauth_client_delete", path_client_id(req), token);
    Response res{204, "", {}};
    res.header("Cache-Control", "no-store");
    return res;
}

// GET /api/auth/oauth2/public-client?client_id=: what a sign-in or consent page may show.
Response public_client(Context& ctx, const Request& req) {
    auto id = query_param(req.raw().query().get("client_id"), "client_id", 2048);
    if (!id || id->empty()) throw errors::make("VALIDATION_ERROR", "client_id is required");
    return json_answer(oauth_client_lookup(ctx, *id));
}

}  // namespace

bool is_url_client_id(std::string_view id) { return istarts_with(id, "https://") || istarts_with(id, "http://"); }

// A client_id that is a URL is a Client ID Metadata Document: fetched when not cached or
// stale, then validated and cached by the extension.
pqxx::result oauth_client_lookup(Context& ctx, const std::string& id) {
    auto r = ctx.exec("oauth_client_get", id);
    bool url = is_url_client_id(id);
    if (!r.empty() && !r[0]["body"].is_null()) {
        auto cached = nlohmann::json::parse(r[0]["body"].c_str(), nullptr, false);
        if (!url || !cached.value("cimd_stale", false)) return r;
    }
    if (!url) throw errors::make("NOT_FOUND", "unknown client");
    // A fetch holds a database thread for up to its timeout: a quarter of them at most,
    // so slow document hosts cannot starve every other route.
    FetchSlot slot(std::max(1, ctx.config().pool_size / 4));
    cimd::FetchSettings settings;
    settings.allow_http_loopback = ctx.config().cimd_allow_http_loopback;
    settings.allow_private = ctx.config().cimd_allow_private;
    cimd::Document doc;
    try {
        doc = cimd::fetch(id, settings);
    } catch (const cimd::FetchError& e) {
        throw errors::make("OAUTH_INVALID_CLIENT_METADATA", std::string("client metadata document: ") + e.what());
    }
    require_no_nul(doc.body);
    if (doc.max_age) return ctx.exec("oauth_cimd_store", id, doc.body.dump(), *doc.max_age);
    return ctx.exec("oauth_cimd_store_default", id, doc.body.dump());
}

// The JWK Set at a private_key_jwt client's jwks_uri, after the extension asked for it
// (OAUTH_JWKS_FETCH_REQUIRED, HINT "jwks_uri: <url>"): fetched with the same guards and the
// same cap as a Client ID Metadata Document, and stored (keys or the failure) with one call.
// The extension decides what the set is good for; a failure is stored too, so the next
// fetch waits pgauth.oauth_jwks_min_refresh.
void fetch_client_jwks(Context& ctx, const std::string& client_id, const ApiError& request) {
    constexpr std::string_view label = "jwks_uri: ";
    std::string_view hint = request.hint();
    if (client_id.empty() || !hint.starts_with(label))
        throw errors::make("OAUTH_INVALID_CLIENT", "the client's JWK Set could not be fetched");
    std::string url(hint.substr(label.size()));
    cimd::FetchSettings settings;
    settings.allow_http_loopback = ctx.config().cimd_allow_http_loopback;
    settings.allow_private = ctx.config().cimd_allow_private;
    settings.url_name = "the jwks_uri";
    settings.body_name = "the JWK Set";
    settings.accept = "application/jwk-set+json, application/json";
    std::optional<cimd::Document> doc;
    std::optional<std::string> failure;
    {
        FetchSlot slot(std::max(1, ctx.config().pool_size / 4));
        try {
            doc = cimd::fetch(url, settings);
            require_no_nul(doc->body);
        } catch (const cimd::FetchError& e) {
            failure = e.what();
        } catch (const ApiError&) {
            failure = "the JWK Set holds U+0000";
        }
    }
    std::optional<std::string> body = doc ? std::optional<std::string>(doc->body.dump()) : std::nullopt;
    std::optional<int> max_age = doc ? doc->max_age : std::nullopt;
    ctx.exec("oauth_client_jwks_store", client_id, url, body, max_age, failure);
}

void register_oauth_client_routes(Server& server) {
    server.oauth_route(Method::Post, register_path, "oauth2-register", register_client, {.public_cors = true});
    server.oauth_route(Method::Get, register_path + "/:client_id", "oauth2-client-read", read_client);
    server.oauth_route(Method::Put, register_path + "/:client_id", "oauth2-client-update", update_client);
    server.oauth_route(Method::Delete, register_path + "/:client_id", "oauth2-client-delete", delete_client);
    server.oauth_route(Method::Get, "/api/auth/oauth2/public-client", "oauth2-public-client", public_client);
}

}  // namespace pgauth::http
