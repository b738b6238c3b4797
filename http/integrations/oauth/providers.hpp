// The social sign-in providers (issue 15): their configuration, and the OAuth
// client pgauth-http runs against each (discovery, the code exchange with PKCE,
// the JWKS, id_token checks, userinfo, GitHub's /user and /user/emails).
// Rules about users and accounts stay in the extension: this only proves who
// the provider says the user is.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jwt.hpp"
#include "integrations/oauth/fetch.hpp"

namespace pgauth::http::oauth {

enum class Kind { oidc, github };

struct ProviderConfig {
    std::string id;  // google, github, or a PGAUTH_OIDC_PROVIDERS id
    Kind kind = Kind::oidc;
    std::string client_id;
    std::string client_secret;
    std::string issuer;         // oidc: the issuer the discovery document must name (empty: whatever it names)
    std::string discovery_url;  // oidc
    std::string scopes;         // space-separated
    std::string github_url;     // github: https://github.com or a GitHub Enterprise server
    std::string github_api_url;
};

// The providers configured by the PGAUTH_GOOGLE_*, PGAUTH_GITHUB_* and PGAUTH_OIDC_*
// settings (`get` returns "" for an unset one). Throws std::invalid_argument with
// a message naming the setting (never its value when it is a secret).
std::vector<ProviderConfig> providers_from(const std::function<std::string(const std::string&)>& get);

// The provider refused what we sent (a bad or replayed code, a forged or foreign
// id_token, a wrong nonce): `code` is the error for the browser's error URL.
class Rejected : public std::runtime_error {
public:
    Rejected(std::string code, const std::string& why) : std::runtime_error(why), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

// Who the provider says the user is: p_claims for auth.social_sign_in
// ({sub, email, email_verified, name, picture}) and the provider's own profile.
struct Identity {
    nlohmann::json claims;
    nlohmann::json profile;
};

struct ProviderTimings {
    std::chrono::seconds discovery_ttl{3600};    // a good discovery document is re-read after this
    std::chrono::seconds jwks_ttl{3600};         // the key set, likewise
    std::chrono::seconds jwks_min_refresh{10};   // an unknown kid refreshes the key set at most this often
    std::chrono::seconds leeway{60};             // on exp, nbf and iat
};

class Provider {
public:
    Provider(ProviderConfig config, FetchLimits limits = {}, ProviderTimings timings = {});
    const ProviderConfig& config() const { return config_; }
    const std::string& id() const { return config_.id; }

    // Reads discovery if it is missing, failed or stale. Throws UpstreamError.
    void ensure_ready();
    // The issuer callbacks are checked against (RFC 9207 iss); empty for GitHub.
    std::string issuer();
    // The provider advertises authorization_response_iss_parameter_supported: a callback
    // without iss is refused (RFC 9207 section 2.4).
    bool requires_iss();

    std::string authorization_url(const std::string& redirect_uri, const std::string& state,
                                  const std::string& code_challenge, const std::string& nonce,
                                  const std::vector<std::string>& extra_scopes, const std::string& login_hint);
    // The token endpoint's answer (access_token, refresh_token, id_token, expires_in, scope...).
    // Throws Rejected("invalid_code") when the provider refuses the code, UpstreamError when it fails.
    nlohmann::json exchange_code(const std::string& code, const std::string& code_verifier,
                                 const std::string& redirect_uri);
    nlohmann::json refresh(const std::string& refresh_token);
    bool supports_id_token() const { return config_.kind == Kind::oidc; }

    // Checks an id_token: signature against the JWKS (refreshed on an unknown kid),
    // iss, aud = our client id, exp/nbf/iat, and the nonce when one is expected.
    // Returns its claims; throws Rejected("invalid_id_token").
    nlohmann::json verify_id_token(const std::string& id_token, const std::optional<std::string>& nonce);
    // The identity after a code exchange (nonce: the flow's), or from an id_token alone.
    Identity identity(const nlohmann::json& tokens, const std::optional<std::string>& nonce);
    // The provider's current profile for an access token (GET /account-info).
    Identity profile(const std::string& access_token);

private:
    struct Discovery {
        std::string issuer, authorization_endpoint, token_endpoint, jwks_uri, userinfo_endpoint;
        bool basic_auth = true;  // client_secret_basic, else client_secret_post
        bool iss_in_response = false;  // authorization_response_iss_parameter_supported
    };
    Discovery discovery();
    nlohmann::json token_request(std::vector<std::pair<std::string, std::string>> fields, const char* rejected_code);
    nlohmann::json get_json(const std::string& url, const std::string& bearer, const char* what);
    std::optional<jwt::PublicKey> key_for(const std::string& kid);
    void load_keys(const std::string& jwks_uri);
    Identity github_identity(const std::string& access_token);
    Identity userinfo_identity(const std::string& access_token, const nlohmann::json& base);

    ProviderConfig config_;
    FetchLimits limits_;
    ProviderTimings timings_;
    std::mutex mutex_;
    std::optional<Discovery> discovery_;
    std::chrono::steady_clock::time_point discovered_at_{};
    std::map<std::string, jwt::PublicKey> keys_;
    std::chrono::steady_clock::time_point keys_at_{};
    bool keys_loaded_ = false;
};

// The configured providers by id.
class Providers {
public:
    Providers() = default;
    explicit Providers(const std::vector<ProviderConfig>& configs, FetchLimits limits = {});
    // nullptr when `id` is not configured.
    Provider* find(std::string_view id) const;
    std::vector<std::string> ids() const;
    // Reads every discovery document once in the background, logging (not failing on) a provider that is down.
    void warm_up() const;

private:
    std::map<std::string, std::shared_ptr<Provider>, std::less<>> by_id_;
};

}  // namespace pgauth::http::oauth
