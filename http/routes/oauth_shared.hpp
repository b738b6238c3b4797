// What the OAuth routes share across files: the client lookup that fetches Client ID
// Metadata Documents (routes/oauth_clients.cpp) and the continuation of an
// authorization request after sign-in (routes/oauth_provider.cpp, used by
// POST /sign-in/email with oauth_query).
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server.hpp"

namespace pgauth::http {

// True for a client_id that names a Client ID Metadata Document (an http(s) URL).
bool is_url_client_id(std::string_view id);

// auth.oauth_client_get's row for `id`; for a URL client_id not cached or stale, the
// document is fetched (SSRF-guarded) and stored first (auth.oauth_cimd_store).
// 404 NOT_FOUND for an unknown non-URL client; OAUTH_INVALID_CLIENT_METADATA when the
// document cannot be fetched or is refused.
pqxx::result oauth_client_lookup(Context& ctx, const std::string& id);

// Asked by the extension (OAUTH_JWKS_FETCH_REQUIRED, whose HINT names the URL): fetches a
// private_key_jwt client's JWK Set from its jwks_uri (SSRF-guarded, as a Client ID
// Metadata Document) and stores it, or the failure, with auth.oauth_client_jwks_store.
void fetch_client_jwks(Context& ctx, const std::string& client_id, const ApiError& request);

// Runs `call` (a SQL call that authenticates a client: token, introspection, revocation);
// when the extension asks for the client's JWK Set first, fetches and stores it, then runs
// `call` once more. A second request for a fetch is answered 401 invalid_client.
template <class Call>
auto with_client_jwks(Context& ctx, const nlohmann::json& client_auth, Call&& call) -> decltype(call()) {
    try {
        return call();
    } catch (const ApiError& e) {
        if (e.code() != "OAUTH_JWKS_FETCH_REQUIRED") throw;
        auto id = client_auth.find("client_id");
        fetch_client_jwks(ctx, id != client_auth.end() && id->is_string() ? id->get<std::string>() : std::string(), e);
    }
    try {
        return call();
    } catch (const ApiError& e) {
        if (e.code() != "OAUTH_JWKS_FETCH_REQUIRED") throw;
        throw errors::make("OAUTH_INVALID_CLIENT", "the client's JWK Set could not be fetched");
    }
}

// The authorization request carried by a sign-in page (Better-Auth's oauth_query: the
// query the page received, signed by pgauth-http when it sent the browser there), as
// parameters; 400 OAUTH_INVALID_REQUEST when it was altered or has expired.
nlohmann::json verify_oauth_query(const Context& ctx, std::string_view oauth_query);

// Runs the authorization request `params` again for the session `session_token` (just
// signed in) and answers where the browser goes next: the client's redirect_uri (a code
// or an error) or the consent page. An error to show is thrown as an OAuth ApiError.
std::string continue_authorization(Context& ctx, const Request& req, const std::string& session_token,
                                   const nlohmann::json& params);

}  // namespace pgauth::http
