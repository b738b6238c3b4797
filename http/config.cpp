#include "config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <thread>

#include "integrations/mail/message.hpp"
#include "origin.hpp"

namespace pgauth::http {
namespace {

struct Setting {
    const char* flag;
    const char* env;
    const char* help;
};

const Setting settings[] = {
    {"--database-url", "PGAUTH_DATABASE_URL", "libpq connection string or URL of the database with the pgauth extension (required)"},
    {"--listen", "PGAUTH_LISTEN", "address:port to listen on, IPv6 in brackets (default 127.0.0.1:8080, e.g. [::1]:8080; port 0 picks a free port)"},
    {"--secret", "PGAUTH_SECRET", "cookie-signing secret, at least 32 bytes (required)"},
    {"--base-url", "PGAUTH_BASE_URL", "public base URL, e.g. https://auth.example.com (default http://<listen>); https turns on Secure cookies"},
    {"--trusted-origins", "PGAUTH_TRUSTED_ORIGINS", "comma-separated origins allowed to call state-changing endpoints (the base URL's origin always is)"},
    {"--rate-limit", "PGAUTH_RATE_LIMIT", "on|off (default on): 100 requests/10 s per IP, 3/10 s on sign-in, sign-up, change-password"},
    {"--threads", "PGAUTH_THREADS", "HTTP worker threads (default 4 per core)"},
    {"--pool-size", "PGAUTH_POOL_SIZE", "database connections, and threads running database-bound requests (default = threads)"},
    {"--db-connect-timeout", "PGAUTH_DB_CONNECT_TIMEOUT", "seconds to open a database connection (default 5; libpq connect_timeout, unless the URL or PGCONNECT_TIMEOUT sets it)"},
    {"--db-call-timeout-ms", "PGAUTH_DB_CALL_TIMEOUT_MS", "hard deadline of one database call in ms, enforced even when the database is frozen (default 7000; keep it above the 5 s statement_timeout)"},
    {"--pool-wait-ms", "PGAUTH_POOL_WAIT_MS", "longest wait in ms for a free connection or database thread before answering 503 (default 2000)"},
    {"--multi-session-maximum", "PGAUTH_MULTI_SESSION_MAXIMUM", "signed-in accounts one browser keeps (multiSession cookies; keep it equal to pgauth.multi_session_maximum; 0 turns the cookies off; default 5)"},
    {"--db-queue", "PGAUTH_DB_QUEUE", "database-bound requests that may wait for a thread; more answer 503 at once (default 16 x pool size)"},
    {"--max-connections-per-ip", "PGAUTH_MAX_CONNECTIONS_PER_IP", "open connections allowed from one client address (default 256); more get 503 TOO_MANY_CONNECTIONS"},
    {"--oasis-url", "PGAUTH_OASIS_URL", "OASIS API base URL (wallet endpoints; unset = 503 AVATAR_PROVIDER_UNAVAILABLE)"},
    {"--oasis-admin-username", "PGAUTH_OASIS_ADMIN_USERNAME", "OASIS admin username"},
    {"--oasis-admin-password", "PGAUTH_OASIS_ADMIN_PASSWORD", "OASIS admin password"},
    {"--cimd-allow-http-loopback", "PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK", "development only: fetch Client ID Metadata Documents over plain http from 127.0.0.1, [::1] or localhost (on|off, default off)"},
    {"--cimd-allow-private", "PGAUTH_CIMD_ALLOW_PRIVATE", "fetch Client ID Metadata Documents from private, loopback and link-local addresses (on|off, default off: refused, SSRF guard)"},
    {"--login-page", "PGAUTH_LOGIN_PAGE", "the OAuth provider's sign-in page, a path or URL (default <base URL>/sign-in); it receives the authorization request's query"},
    {"--consent-page", "PGAUTH_CONSENT_PAGE", "the OAuth provider's consent page, a path or URL (default <base URL>/consent); it receives consent_code, client_id and scope"},
    {"--mcp-scopes", "PGAUTH_MCP_SCOPES", "space-separated scopes a token needs at /mcp (default profile)"},
    {"--metrics-token", "PGAUTH_METRICS_TOKEN", "bearer token required by /metrics (unset: /metrics answers loopback clients only)"},
    {"--trusted-proxies", "PGAUTH_TRUSTED_PROXIES", "comma-separated CIDRs (IPv4, IPv6) of reverse proxies whose X-Forwarded-For/Forwarded give the client address (default none)"},
    {"--cross-site-cookies", "PGAUTH_CROSS_SITE_COOKIES", "on|off (default off): SameSite=None; Secure session cookies, for a frontend on another site (needs an https base URL, or http://localhost)"},
    {"--rate-limit-store", "PGAUTH_RATE_LIMIT_STORE", "memory|postgres (default memory): postgres keeps the sign-in/sign-up/change-password limits in the database, shared by every copy"},
    {"--smtp-url", "PGAUTH_SMTP_URL", "SMTP server for mail: smtp://user:pass@host:587 (STARTTLS, required with credentials to another host) or smtps://user:pass@host:465 (unset, and no webhook: mails are written to the log)"},
    {"--email-from", "PGAUTH_EMAIL_FROM", "From: of mails (default pgauth <no-reply@<base URL host>>)"},
    {"--email-webhook-url", "PGAUTH_EMAIL_WEBHOOK_URL", "instead of SMTP, POST each mail as signed JSON to this URL (see docs/email.md)"},
    {"--email-webhook-secret", "PGAUTH_EMAIL_WEBHOOK_SECRET", "HMAC-SHA256 key of the webhook signature, at least 32 bytes (required with the webhook URL)"},
    {"--email-templates", "PGAUTH_EMAIL_TEMPLATES", "directory of mail template overrides: <name>.subject, <name>.txt, <name>.html"},
    {"--email-workers", "PGAUTH_EMAIL_WORKERS", "outbox delivery threads in this copy, each with its own database connection (default 2; 0: this copy sends no mail)"},
    {"--outbox-batch", "PGAUTH_OUTBOX_BATCH", "mails claimed at once by one delivery thread (default 20)"},
    {"--outbox-lease-seconds", "PGAUTH_OUTBOX_LEASE_SECONDS", "a claimed mail not marked sent within this returns to the queue (default 60; more than the send timeout + 1 s)"},
    {"--outbox-poll-ms", "PGAUTH_OUTBOX_POLL_MS", "look for due mails at least this often, besides NOTIFY (default 5000)"},
    {"--email-send-timeout-ms", "PGAUTH_EMAIL_SEND_TIMEOUT_MS", "longest SMTP or webhook delivery of one mail (default 15000)"},
    // Social sign-in (docs/social.md). Secrets are never logged.
    {"--google-client-id", "PGAUTH_GOOGLE_CLIENT_ID", "Google OAuth client id (set: Google sign-in is on)"},
    {"--google-client-secret", "PGAUTH_GOOGLE_CLIENT_SECRET", "Google OAuth client secret"},
    {"--google-issuer", "PGAUTH_GOOGLE_ISSUER", "Google's issuer, found by discovery (default https://accounts.google.com)"},
    {"--github-client-id", "PGAUTH_GITHUB_CLIENT_ID", "GitHub OAuth app client id (set: GitHub sign-in is on)"},
    {"--github-client-secret", "PGAUTH_GITHUB_CLIENT_SECRET", "GitHub OAuth app client secret"},
    {"--github-url", "PGAUTH_GITHUB_URL", "GitHub's web URL (default https://github.com; GitHub Enterprise: its server)"},
    {"--github-api-url", "PGAUTH_GITHUB_API_URL", "GitHub's API URL (default https://api.github.com)"},
    {"--oidc-providers", "PGAUTH_OIDC_PROVIDERS", "comma-separated ids of OpenID Connect providers, each set by --oidc-<id>-discovery-url, -client-id, -client-secret and -scopes (PGAUTH_OIDC_<ID>_DISCOVERY_URL, ...)"},
};

// --oidc-<id>-<field> for a generic OpenID Connect provider: its PGAUTH_OIDC_<ID>_<FIELD> name, or "".
std::string oidc_flag_env(std::string_view flag) {
    if (flag.rfind("--oidc-", 0) != 0) return "";
    flag.remove_prefix(7);
    for (const char* field : {"-discovery-url", "-client-id", "-client-secret", "-scopes"}) {
        std::string_view f(field);
        if (flag.size() > f.size() && flag.substr(flag.size() - f.size()) == f) {
            std::string env = "PGAUTH_OIDC_";
            for (char c : flag.substr(0, flag.size() - f.size()))
                env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            for (char c : f) env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return env;
        }
    }
    return "";
}

int parse_int(const std::string& name, const std::string& value, int min, int max) {
    try {
        std::size_t used = 0;
        int n = std::stoi(value, &used);
        if (used == value.size() && n >= min && n <= max) return n;
    } catch (const std::exception&) {
    }
    throw ConfigError(name + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
}

}  // namespace

ListenAddress parse_listen(std::string_view value) {
    const std::string shown(value);
    auto fail = [&](const std::string& why) {
        return ConfigError("PGAUTH_LISTEN=" + shown + ": " + why +
                           " (expected address:port, e.g. 127.0.0.1:8080 or [::1]:8080)");
    };
    ListenAddress out;
    std::string_view port;
    if (!value.empty() && value.front() == '[') {
        auto close = value.find(']');
        if (close == std::string_view::npos) throw fail("missing ] after the IPv6 address");
        out.host = std::string(value.substr(1, close - 1));
        std::string_view rest = value.substr(close + 1);
        if (rest.empty() || rest.front() != ':') throw fail("missing :port after ]");
        port = rest.substr(1);
        unsigned char v6[16];
        if (out.host.empty() || inet_pton(AF_INET6, out.host.c_str(), v6) != 1) throw fail("not an IPv6 address");
    } else {
        auto colon = value.rfind(':');
        if (colon == std::string_view::npos) throw fail("missing :port");
        out.host = std::string(value.substr(0, colon));
        port = value.substr(colon + 1);
        if (out.host.find(':') != std::string::npos) throw fail("an IPv6 address must be written in brackets");
        if (out.host.empty()) throw fail("missing address");
        if (!std::all_of(out.host.begin(), out.host.end(),
                         [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
            throw fail("not an address or host name");
    }
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoi(std::string(port)) > 65535)
        throw fail("the port must be a number from 0 to 65535");
    out.port = static_cast<std::uint16_t>(std::stoi(std::string(port)));
    return out;
}

std::string bracket_host(std::string_view host) {
    if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]";
    return std::string(host);
}

std::string Config::base_host() const {
    auto origin = origin_of(base_url).value_or("http://localhost");
    auto host = origin.substr(origin.find("://") + 3);
    if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
    return host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
}

std::string Config::listen_address() const { return bracket_host(listen_host) + ":" + std::to_string(listen_port); }

std::string help_text() {
    std::string text =
        "pgauth-http: the Better-Auth-compatible HTTP API over the pgauth PostgreSQL extension.\n\n"
        "usage: pgauth-http [--flag value | --flag=value]...\n\n"
        "Each flag falls back to its environment variable:\n";
    for (const auto& s : settings) {
        std::string left = std::string("  ") + s.flag + " / " + s.env;
        text += left + "\n      " + s.help + "\n";
    }
    text += "  --oidc-<id>-discovery-url, --oidc-<id>-client-id, --oidc-<id>-client-secret, --oidc-<id>-scopes\n"
            "      / PGAUTH_OIDC_<ID>_DISCOVERY_URL, _CLIENT_ID, _CLIENT_SECRET, _SCOPES (default openid email profile)\n";
    text += "  --version\n      print the version and exit\n";
    text += "  --help\n      this text\n";
    return text;
}

Config load_config(const std::vector<std::string>& args, const Environment& env) {
    std::map<std::string, std::string> values;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg == "--help" || arg == "-h") throw HelpRequested{};
        if (arg == "--version" || arg == "-V") throw VersionRequested{};
        bool is_flag = std::any_of(std::begin(settings), std::end(settings), [&](const Setting& s) {
            return arg == s.flag || arg.rfind(std::string(s.flag) + "=", 0) == 0;
        });
        if (!is_flag) {
            if (auto env = oidc_flag_env(arg.substr(0, arg.find('='))); !env.empty()) {
                auto eq = arg.find('=');
                if (eq != std::string::npos) values[env] = arg.substr(eq + 1);
                else if (i + 1 < args.size()) values[env] = args[++i];
                else throw ConfigError("missing value for " + arg);
                continue;
            }
            std::string valid;
            for (const auto& s : settings) valid += std::string(" ") + s.flag;
            throw ConfigError("unknown option " + arg.substr(0, arg.find('=')) + "; valid options:" + valid +
                              " --version --help");
        }
        std::string value;
        auto eq = arg.find('=');
        if (eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            throw ConfigError("missing value for " + arg);
        }
        auto known = std::find_if(std::begin(settings), std::end(settings),
                                  [&](const Setting& s) { return arg == s.flag; });
        if (known == std::end(settings)) throw ConfigError("unknown option " + arg + " (see --help)");
        values[known->env] = value;
    }
    auto get = [&](const char* name) -> std::string {
        if (auto it = values.find(name); it != values.end()) return it->second;
        const char* v = env(name);
        return v ? std::string(v) : std::string();
    };

    Config c;
    c.database_url = get("PGAUTH_DATABASE_URL");
    if (c.database_url.empty()) throw ConfigError("PGAUTH_DATABASE_URL (--database-url) is required");

    c.secret = get("PGAUTH_SECRET");
    if (c.secret.empty())
        throw ConfigError("PGAUTH_SECRET (--secret) is required: at least 32 random bytes, e.g. `openssl rand -base64 32`");
    if (c.secret.size() < 32)
        throw ConfigError("PGAUTH_SECRET is too short (" + std::to_string(c.secret.size()) +
                          " bytes): it signs session cookies and must be at least 32 bytes");

    if (std::string listen = get("PGAUTH_LISTEN"); !listen.empty()) {
        auto parsed = parse_listen(listen);
        c.listen_host = std::move(parsed.host);
        c.listen_port = parsed.port;
    }

    c.base_url = get("PGAUTH_BASE_URL");
    if (c.base_url.empty()) c.base_url = "http://" + c.listen_address();
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    auto base_origin = origin_of(c.base_url);
    if (!base_origin) throw ConfigError("PGAUTH_BASE_URL must be an absolute http(s) URL");
    c.trusted_origins.push_back(*base_origin);
    std::string trusted = get("PGAUTH_TRUSTED_ORIGINS");
    for (std::size_t start = 0; start <= trusted.size();) {
        auto end = trusted.find(',', start);
        if (end == std::string::npos) end = trusted.size();
        std::string item = trusted.substr(start, end - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) {
            auto o = origin_of(item);
            if (!o) throw ConfigError("PGAUTH_TRUSTED_ORIGINS: not an origin: " + item);
            c.trusted_origins.push_back(*o);
        }
        start = end + 1;
    }

    std::string rate = get("PGAUTH_RATE_LIMIT");
    if (rate.empty() || rate == "on" || rate == "true" || rate == "1") c.rate_limit = true;
    else if (rate == "off" || rate == "false" || rate == "0") c.rate_limit = false;
    else throw ConfigError("PGAUTH_RATE_LIMIT must be on or off");

    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::string threads = get("PGAUTH_THREADS");
    c.threads = threads.empty() ? static_cast<int>(4 * cores) : parse_int("PGAUTH_THREADS", threads, 1, 256);
    std::string pool = get("PGAUTH_POOL_SIZE");
    c.pool_size = pool.empty() ? c.threads : parse_int("PGAUTH_POOL_SIZE", pool, 1, 1000);
    auto optional_int = [&](const char* name, int fallback, int min, int max) {
        std::string v = get(name);
        return v.empty() ? fallback : parse_int(name, v, min, max);
    };
    c.db_connect_timeout_s = optional_int("PGAUTH_DB_CONNECT_TIMEOUT", c.db_connect_timeout_s, 1, 600);
    c.db_call_timeout_ms = optional_int("PGAUTH_DB_CALL_TIMEOUT_MS", c.db_call_timeout_ms, 100, 600000);
    c.pool_wait_ms = optional_int("PGAUTH_POOL_WAIT_MS", c.pool_wait_ms, 1, 600000);
    c.db_queue = optional_int("PGAUTH_DB_QUEUE", 16 * c.pool_size, 1, 1000000);
    c.multi_session_maximum = optional_int("PGAUTH_MULTI_SESSION_MAXIMUM", c.multi_session_maximum, 0, 100);
    if (std::string per_ip = get("PGAUTH_MAX_CONNECTIONS_PER_IP"); !per_ip.empty())
        c.max_connections_per_ip = static_cast<std::size_t>(parse_int("PGAUTH_MAX_CONNECTIONS_PER_IP", per_ip, 1, 1000000));

    c.oasis_url = get("PGAUTH_OASIS_URL");
    c.oasis_admin_username = get("PGAUTH_OASIS_ADMIN_USERNAME");
    c.oasis_admin_password = get("PGAUTH_OASIS_ADMIN_PASSWORD");
    c.metrics_token = get("PGAUTH_METRICS_TOKEN");

    try {
        c.trusted_proxies = TrustedProxies::parse(get("PGAUTH_TRUSTED_PROXIES"));
    } catch (const std::invalid_argument& e) {
        throw ConfigError(std::string("PGAUTH_TRUSTED_PROXIES: ") + e.what() + " (expected e.g. 127.0.0.1/32,10.0.0.0/8,::1)");
    }

    std::string cross = get("PGAUTH_CROSS_SITE_COOKIES");
    if (cross.empty() || cross == "off" || cross == "false" || cross == "0") c.cross_site_cookies = false;
    else if (cross == "on" || cross == "true" || cross == "1") c.cross_site_cookies = true;
    else throw ConfigError("PGAUTH_CROSS_SITE_COOKIES must be on or off");
    if (c.cross_site_cookies) {
        // Browsers drop Secure cookies set over plain http, except on localhost.
        bool local = *base_origin == "http://localhost" || base_origin->rfind("http://localhost:", 0) == 0 ||
                     base_origin->rfind("http://127.0.0.1", 0) == 0 || base_origin->rfind("http://[::1]", 0) == 0;
        if (base_origin->rfind("https://", 0) != 0 && !local)
            throw ConfigError("PGAUTH_CROSS_SITE_COOKIES=on needs an https PGAUTH_BASE_URL (SameSite=None cookies are "
                              "Secure, and browsers drop Secure cookies over http except on localhost); got " +
                              c.base_url);
    }

    auto on_off = [&](const char* name) {
        std::string v = get(name);
        if (v.empty() || v == "off" || v == "false" || v == "0") return false;
        if (v == "on" || v == "true" || v == "1") return true;
        throw ConfigError(std::string(name) + " must be on or off");
    };
    c.cimd_allow_http_loopback = on_off("PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK");
    c.cimd_allow_private = on_off("PGAUTH_CIMD_ALLOW_PRIVATE");
    // The OAuth provider's pages: a path is on the base URL; an absolute URL is the app's own page.
    auto page = [&](const char* name, const char* fallback) {
        std::string v = get(name);
        if (v.empty()) v = fallback;
        if (v.find_first_of(" \t\r\n?#") != std::string::npos)
            throw ConfigError(std::string(name) + " must be a path or an http(s) URL without query or fragment");
        if (v.front() == '/') return c.base_url + v;
        if (!origin_of(v)) throw ConfigError(std::string(name) + " must be a path or an http(s) URL");
        return v;
    };
    c.login_page = page("PGAUTH_LOGIN_PAGE", "/sign-in");
    c.consent_page = page("PGAUTH_CONSENT_PAGE", "/consent");

    c.mcp_scopes = get("PGAUTH_MCP_SCOPES");
    if (c.mcp_scopes.empty()) c.mcp_scopes = "profile";
    for (unsigned char ch : c.mcp_scopes)
        if ((ch < 0x21 && ch != ' ') || ch == '"' || ch == '\\' || ch >= 0x7f)
            throw ConfigError("PGAUTH_MCP_SCOPES must be space-separated scope names");

    std::string store = get("PGAUTH_RATE_LIMIT_STORE");
    if (store.empty() || store == "memory") c.shared_rate_limit = false;
    else if (store == "postgres") c.shared_rate_limit = true;
    else throw ConfigError("PGAUTH_RATE_LIMIT_STORE must be memory or postgres");

    c.smtp_url = get("PGAUTH_SMTP_URL");
    if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 && c.smtp_url.rfind("smtps://", 0) != 0)
        throw ConfigError("PGAUTH_SMTP_URL must start with smtp:// or smtps://");
    c.email_webhook_url = get("PGAUTH_EMAIL_WEBHOOK_URL");
    c.email_webhook_secret = get("PGAUTH_EMAIL_WEBHOOK_SECRET");
    if (!c.email_webhook_url.empty()) {
        if (!c.smtp_url.empty())
            throw ConfigError("set PGAUTH_SMTP_URL or PGAUTH_EMAIL_WEBHOOK_URL, not both");
        if (!origin_of(c.email_webhook_url))
            throw ConfigError("PGAUTH_EMAIL_WEBHOOK_URL must be an absolute http(s) URL");
        if (c.email_webhook_secret.size() < 32)
            throw ConfigError("PGAUTH_EMAIL_WEBHOOK_SECRET is required with the webhook URL: at least 32 bytes");
    }
    c.email_from = get("PGAUTH_EMAIL_FROM");
    if (c.email_from.empty()) c.email_from = "pgauth <no-reply@" + c.base_host() + ">";
    if (c.email_from.find_first_of("\r\n") != std::string::npos ||
        !mail::safe_address(mail::bare_address(c.email_from)))
        throw ConfigError("PGAUTH_EMAIL_FROM must be one address, e.g. no-reply@example.com or \"Example <no-reply@example.com>\"");
    c.email_templates = get("PGAUTH_EMAIL_TEMPLATES");
    c.email_workers = optional_int("PGAUTH_EMAIL_WORKERS", c.email_workers, 0, 64);
    c.outbox_batch = optional_int("PGAUTH_OUTBOX_BATCH", c.outbox_batch, 1, 1000);
    c.email_send_timeout_ms = optional_int("PGAUTH_EMAIL_SEND_TIMEOUT_MS", c.email_send_timeout_ms, 100, 600000);
    c.outbox_lease_s = optional_int("PGAUTH_OUTBOX_LEASE_SECONDS", c.outbox_lease_s, 2, 86400);
    c.outbox_poll_ms = optional_int("PGAUTH_OUTBOX_POLL_MS", c.outbox_poll_ms, 50, 3600000);
    if (c.outbox_lease_s * 1000 <= c.email_send_timeout_ms + 1000)
        throw ConfigError("PGAUTH_OUTBOX_LEASE_SECONDS must exceed the send timeout (PGAUTH_EMAIL_SEND_TIMEOUT_MS) by more "
                          "than a second, or a slow mail could be sent twice");
    try {
        c.social_providers = oauth::providers_from([&](const std::string& name) { return get(name.c_str()); });
    } catch (const std::invalid_argument& e) {
        throw ConfigError(e.what());
    }
    return c;
}

}  // namespace pgauth::http
