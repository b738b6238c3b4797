// Fetches the JSON documents a client names by URL: Client ID Metadata Documents (MCP
// 2026-07-28, draft-ietf-oauth-client-id-metadata-document: the document at a client_id
// that is an https URL, validated and cached by auth.oauth_cimd_store) and the JWK Set
// at a private_key_jwt client's jwks_uri (RFC 7591; stored by auth.oauth_client_jwks_store).
// The extension validates and caches what comes back; this only fetches, with the
// guards an outbound request on behalf of an unauthenticated caller needs:
//   - https only; plain http only to a loopback host, and only with the development
//     flag PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK;
//   - no redirects, no proxies, a size cap and a total timeout;
//   - every address actually connected to is checked (so DNS rebinding does not help):
//     private, loopback, link-local, shared, multicast and reserved ranges are refused
//     unless PGAUTH_CIMD_ALLOW_PRIVATE (loopback is also allowed in the http dev mode);
//   - Cache-Control max-age is honoured (no-store / no-cache: 0), bounded again by the
//     extension's pgauth.oauth_cimd_max_age.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

struct sockaddr;

namespace pgauth::http::cimd {

struct FetchSettings {
    bool allow_http_loopback = false;  // PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK
    bool allow_private = false;        // PGAUTH_CIMD_ALLOW_PRIVATE
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds total_timeout{5000};
    std::size_t max_bytes = 16 * 1024;
    // What is fetched, for the error messages ("the client_id" URL, "the document") and
    // the Accept header.
    std::string url_name = "the client_id";
    std::string body_name = "the document";
    std::string accept = "application/json";
};

struct Document {
    nlohmann::json body;              // a JSON object
    std::optional<int> max_age;       // seconds from Cache-Control; nullopt when it says nothing
};

// The document could not be fetched, or is not a JSON object; what() says why (for
// error_description: no addresses of the server's own network, only the rule).
class FetchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

Document fetch(const std::string& url, const FetchSettings& settings);

// True for an address a fetch may reach without PGAUTH_CIMD_ALLOW_PRIVATE (public
// unicast). IPv4-mapped and NAT64 IPv6 addresses are judged by their IPv4 address.
bool is_public_address(const sockaddr* address);
bool is_loopback_address(const sockaddr* address);

// Cache-Control: the max-age in seconds (no-store / no-cache: 0); nullopt when absent.
std::optional<int> max_age_of(std::string_view cache_control);

}  // namespace pgauth::http::cimd
