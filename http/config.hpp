// pgauth-http configuration: flags with PGAUTH_* environment fallbacks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "client_address.hpp"
#include "integrations/oauth/providers.hpp"

namespace pgauth::http {

struct Config {
    std::string database_url;
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::string secret;
    std::string base_url;                      // default http://<listen>
    std::vector<std::string> trusted_origins;  // normalized; always includes base_url's origin
    bool rate_limit = true;
    int threads = 0;                           // 0: derive from the core count
    int pool_size = 0;                         // 0: = threads
    std::size_t max_body = 1 << 20;
    std::size_t max_connections_per_ip = 256;  // open connections per client address
    int statement_timeout_ms = 5000;
    int db_connect_timeout_s = 5;              // libpq connect_timeout unless the URL sets one
    int db_call_timeout_ms = 7000;             // hard deadline of one database call (watchdog)
    int pool_wait_ms = 2000;                   // longest wait for a pooled connection or an executor thread
    int db_queue = 0;                          // queued database-bound requests; 0: 16 x pool_size
    int multi_session_maximum = 5;             // multiSession: signed-in accounts one browser keeps (0: plugin off)
    std::string oasis_url;
    std::string oasis_admin_username;
    std::string oasis_admin_password;
    std::string metrics_token;                 // empty: /metrics answers loopback clients only
    TrustedProxies trusted_proxies;            // peers whose X-Forwarded-For / Forwarded are believed
    bool cross_site_cookies = false;           // SameSite=None; Secure session cookies
    bool shared_rate_limit = false;            // PGAUTH_RATE_LIMIT_STORE=postgres: strict routes via auth.rate_limit_hit
    // Mail (docs/email.md): the outbox worker and how it delivers.
    std::string smtp_url;                      // smtp://user:pass@host:587 or smtps://...; never logged
    std::string email_from;                    // default "pgauth <no-reply@<base URL host>>"
    std::string email_webhook_url;
    std::string email_webhook_secret;          // never logged
    std::string email_templates;               // a directory of template overrides
    int email_workers = 2;                     // delivery threads in this copy; 0: no worker
    int outbox_batch = 20;                     // rows per claim
    int outbox_lease_s = 60;                   // a claimed row returns to the queue after this
    int outbox_poll_ms = 5000;                 // poll when no NOTIFY comes
    int email_send_timeout_ms = 15000;         // one SMTP or webhook delivery
    std::vector<oauth::ProviderConfig> social_providers;  // PGAUTH_GOOGLE_*, PGAUTH_GITHUB_*, PGAUTH_OIDC_* (docs/social.md)
    bool cimd_allow_http_loopback = false;     // dev only: http Client ID Metadata Documents on a loopback host
    bool cimd_allow_private = false;           // CIMD fetches may reach private/loopback/link-local addresses
    std::string login_page;                    // OAuth provider sign-in page, absolute (PGAUTH_LOGIN_PAGE)
    std::string consent_page;                  // OAuth provider consent page, absolute (PGAUTH_CONSENT_PAGE)
    std::string mcp_scopes = "profile";        // scopes a token needs at /mcp (space-separated)

    // "host:port", with an IPv6 host in brackets ("[::1]:8080"), as Pistache and URLs want it.
    std::string listen_address() const;
    // The host of base_url (for Message-IDs and the default sender address).
    std::string base_host() const;
    bool secure_cookies() const { return cross_site_cookies || base_url.rfind("https://", 0) == 0; }
    std::string cookie_name() const {
        return std::string(secure_cookies() ? "__Secure-" : "") + "better-auth.session_token";
    }
    std::string cookie_name(const char* suffix) const {
        return std::string(secure_cookies() ? "__Secure-" : "") + "better-auth." + suffix;
    }
};

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HelpRequested {};
struct VersionRequested {};

// This build's version, and the pgauth extension version it needs (auth's SQL API).
inline constexpr const char* pgauth_http_version = "0.7.0";
inline constexpr const char* required_extension_version = "0.7.0";

struct ListenAddress {
    std::string host;  // an IPv4 address, a host name, or an IPv6 address without brackets
    std::uint16_t port = 0;
};
// "127.0.0.1:8080", "localhost:8080" or "[::1]:8080"; throws ConfigError with the reason.
ListenAddress parse_listen(std::string_view value);
// The host as it appears in a URL or an address: IPv6 in brackets.
std::string bracket_host(std::string_view host);

using Environment = std::function<const char*(const char*)>;

// Parses argv then the environment; throws ConfigError with a clear message, or HelpRequested.
Config load_config(const std::vector<std::string>& args, const Environment& env);
std::string help_text();

}  // namespace pgauth::http
