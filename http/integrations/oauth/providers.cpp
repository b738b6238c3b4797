#include "integrations/oauth/providers.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <thread>

#include "core/crypto.hpp"
#include "log.hpp"

namespace pgauth::http::oauth {

using nlohmann::json;

namespace {

std::string upper_id(std::string_view id) {
    std::string out;
    for (char c : id) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string s) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
    return s;
}

std::string without_slash(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

bool http_url(std::string_view url) { return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0; }

// A provider id: what appears in /callback/<id> and in auth.accounts.provider_id.
bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::isalpha(static_cast<unsigned char>(id[0])) &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-' || c == '_'; });
}

const json* member(const json& j, const char* key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string string_member(const json& j, const char* key) {
    const json* v = member(j, key);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

json parse_object(const FetchReply& reply, const std::string& what) {
    json body = json::parse(reply.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) throw UpstreamError(what + " did not answer a JSON object");
    return body;
}

// An OIDC email_verified claim: true, or the string "true" some providers send.
bool truthy(const json* v) { return v && ((v->is_boolean() && v->get<bool>()) || (v->is_string() && *v == "true")); }

}  // namespace

std::vector<ProviderConfig> providers_from(const std::function<std::string(const std::string&)>& get) {
    std::vector<ProviderConfig> out;
    auto need_secret = [&](const ProviderConfig& p, const std::string& prefix) {
        if (p.client_secret.empty()) throw std::invalid_argument(prefix + "_CLIENT_SECRET is required with " + prefix + "_CLIENT_ID");
    };
    if (std::string id = get("PGAUTH_GOOGLE_CLIENT_ID"); !id.empty()) {
        ProviderConfig p;
        p.id = "google";
        p.client_id = id;
        p.client_secret = get("PGAUTH_GOOGLE_CLIENT_SECRET");
        need_secret(p, "PGAUTH_GOOGLE");
        p.issuer = without_slash(get("PGAUTH_GOOGLE_ISSUER"));
        if (p.issuer.empty()) p.issuer = "https://accounts.google.com";
        if (!http_url(p.issuer)) throw std::invalid_argument("PGAUTH_GOOGLE_ISSUER must be an http(s) URL");
        p.discovery_url = p.issuer + "/.well-known/openid-configuration";
        p.scopes = "openid email profile";
        out.push_back(std::move(p));
    }
    if (std::string id = get("PGAUTH_GITHUB_CLIENT_ID"); !id.empty()) {
        ProviderConfig p;
        p.id = "github";
        p.kind = Kind::github;
        p.client_id = id;
        p.client_secret = get("PGAUTH_GITHUB_CLIENT_SECRET");
        need_secret(p, "PGAUTH_GITHUB");
        p.github_url = without_slash(get("PGAUTH_GITHUB_URL"));
        if (p.github_url.empty()) p.github_url = "https://github.com";
        p.github_api_url = without_slash(get("PGAUTH_GITHUB_API_URL"));
        if (p.github_api_url.empty()) p.github_api_url = "https://api.github.com";
        if (!http_url(p.github_url)) throw std::invalid_argument("PGAUTH_GITHUB_URL must be an http(s) URL");
        if (!http_url(p.github_api_url)) throw std::invalid_argument("PGAUTH_GITHUB_API_URL must be an http(s) URL");
        p.scopes = "read:user user:email";
        out.push_back(std::move(p));
    }
    std::string list = get("PGAUTH_OIDC_PROVIDERS");
    for (std::size_t start = 0; start <= list.size();) {
        auto end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        std::string id = trim(list.substr(start, end - start));
        start = end + 1;
        if (id.empty()) continue;
        if (!valid_id(id))
            throw std::invalid_argument("PGAUTH_OIDC_PROVIDERS: \"" + id +
                                        "\" is not a provider id (a lower-case letter, then letters, digits, - or _)");
        if (std::any_of(out.begin(), out.end(), [&](const ProviderConfig& p) { return p.id == id; }))
            throw std::invalid_argument("PGAUTH_OIDC_PROVIDERS: \"" + id + "\" is configured twice");
        std::string prefix = "PGAUTH_OIDC_" + upper_id(id);
        ProviderConfig p;
        p.id = id;
        p.discovery_url = get(prefix + "_DISCOVERY_URL");
        p.client_id = get(prefix + "_CLIENT_ID");
        p.client_secret = get(prefix + "_CLIENT_SECRET");
        p.scopes = trim(get(prefix + "_SCOPES"));
        if (p.scopes.empty()) p.scopes = "openid email profile";
        if (p.discovery_url.empty() || !http_url(p.discovery_url))
            throw std::invalid_argument(prefix + "_DISCOVERY_URL is required: the provider's http(s) discovery URL");
        if (p.client_id.empty()) throw std::invalid_argument(prefix + "_CLIENT_ID is required");
        need_secret(p, prefix);
        out.push_back(std::move(p));
    }
    return out;
}

// ---------------------------------------------------------------- Provider

Provider::Provider(ProviderConfig config, FetchLimits limits, ProviderTimings timings)
    : config_(std::move(config)), limits_(limits), timings_(timings) {}

Provider::Discovery Provider::discovery() {
    if (config_.kind == Kind::github) {
        return Discovery{"", config_.github_url + "/login/oauth/authorize", config_.github_url + "/login/oauth/access_token",
                         "", config_.github_api_url + "/user", false};
    }
    {
        std::lock_guard lock(mutex_);
        if (discovery_ && std::chrono::steady_clock::now() - discovered_at_ < timings_.discovery_ttl) return *discovery_;
    }
    // Fetched without the lock: a slow provider delays its own callers only by the fetch bounds.
    FetchReply reply = fetch({"GET", config_.discovery_url, {"Accept: application/json"}, ""}, limits_);
    std::string what = config_.id + " discovery";
    if (reply.status != 200) throw UpstreamError(what + " answered " + std::to_string(reply.status));
    json doc = parse_object(reply, what);
    Discovery d{string_member(doc, "issuer"), string_member(doc, "authorization_endpoint"),
                string_member(doc, "token_endpoint"), string_member(doc, "jwks_uri"),
                string_member(doc, "userinfo_endpoint"), true};
    if (d.issuer.empty() || !http_url(d.authorization_endpoint) || !http_url(d.token_endpoint) || !http_url(d.jwks_uri))
        throw UpstreamError(what + " lacks issuer, authorization_endpoint, token_endpoint or jwks_uri");
    if (!config_.issuer.empty() && without_slash(d.issuer) != config_.issuer)
        throw UpstreamError(what + " names issuer " + d.issuer + ", not the configured " + config_.issuer);
    if (const json* v = member(doc, "authorization_response_iss_parameter_supported"); v && v->is_boolean())
        d.iss_in_response = v->get<bool>();
    if (const json* methods = member(doc, "token_endpoint_auth_methods_supported"); methods && methods->is_array()) {
        bool basic = std::find(methods->begin(), methods->end(), "client_secret_basic") != methods->end();
        bool post = std::find(methods->begin(), methods->end(), "client_secret_post") != methods->end();
        d.basic_auth = basic || !post;
    }
    std::lock_guard lock(mutex_);
    discovery_ = d;
    discovered_at_ = std::chrono::steady_clock::now();
    return d;
}

void Provider::ensure_ready() { discovery(); }

std::string Provider::issuer() { return config_.kind == Kind::github ? std::string() : discovery().issuer; }

bool Provider::requires_iss() { return config_.kind == Kind::oidc && discovery().iss_in_response; }

std::string Provider::authorization_url(const std::string& redirect_uri, const std::string& state,
                                        const std::string& code_challenge, const std::string& nonce,
                                        const std::vector<std::string>& extra_scopes, const std::string& login_hint) {
    Discovery d = discovery();
    std::string scopes = config_.scopes;
    for (const auto& s : extra_scopes)
        if (!s.empty() && (" " + scopes + " ").find(" " + s + " ") == std::string::npos) scopes += " " + s;
    std::vector<std::pair<std::string, std::string>> q = {
        {"response_type", "code"}, {"client_id", config_.client_id}, {"redirect_uri", redirect_uri},
        {"scope", scopes},         {"state", state},                 {"code_challenge", code_challenge},
        {"code_challenge_method", "S256"}};
    if (config_.kind == Kind::oidc && !nonce.empty()) q.emplace_back("nonce", nonce);
    if (!login_hint.empty()) q.emplace_back("login_hint", login_hint);
    std::string url = d.authorization_endpoint;
    return url + (url.find('?') == std::string::npos ? "?" : "&") + form_encode(q);
}

json Provider::token_request(std::vector<std::pair<std::string, std::string>> fields, const char* rejected_code) {
    Discovery d = discovery();
    FetchRequest req{"POST", d.token_endpoint,
                     {"Accept: application/json", "Content-Type: application/x-www-form-urlencoded"}, ""};
    if (d.basic_auth) {
        std::string pair = component_encode(config_.client_id) + ":" + component_encode(config_.client_secret);
        req.headers.push_back("Authorization: Basic " + base64_encode(as_bytes(pair)));
    } else {
        fields.emplace_back("client_id", config_.client_id);
        fields.emplace_back("client_secret", config_.client_secret);
    }
    req.body = form_encode(fields);
    FetchReply reply = fetch(req, limits_);
    std::string what = config_.id + " token endpoint";
    if (reply.status >= 500) throw UpstreamError(what + " answered " + std::to_string(reply.status));
    json body = json::parse(reply.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        if (reply.status >= 400) throw Rejected(rejected_code, what + " refused the request (" + std::to_string(reply.status) + ")");
        throw UpstreamError(what + " did not answer a JSON object");
    }
    // GitHub answers 200 with {"error": ...}; others a 400 with it.
    if (std::string error = string_member(body, "error"); !error.empty() || reply.status >= 400)
        throw Rejected(rejected_code, what + " refused the request: " + (error.empty() ? std::to_string(reply.status) : error));
    if (string_member(body, "access_token").empty()) throw UpstreamError(what + " answered no access_token");
    return body;
}

json Provider::exchange_code(const std::string& code, const std::string& code_verifier, const std::string& redirect_uri) {
    return token_request({{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect_uri},
                          {"code_verifier", code_verifier}},
                         "invalid_code");
}

json Provider::refresh(const std::string& refresh_token) {
    return token_request({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}}, "invalid_refresh_token");
}

void Provider::load_keys(const std::string& jwks_uri) {
    FetchReply reply = fetch({"GET", jwks_uri, {"Accept: application/json"}, ""}, limits_);
    std::string what = config_.id + " JWKS";
    if (reply.status != 200) throw UpstreamError(what + " answered " + std::to_string(reply.status));
    json doc = parse_object(reply, what);
    const json* keys = member(doc, "keys");
    if (!keys || !keys->is_array()) throw UpstreamError(what + " has no keys array");
    std::map<std::string, jwt::PublicKey> loaded;
    for (const auto& jwk : *keys) {
        std::string kid = string_member(jwk, "kid");
        if (kid.empty() || string_member(jwk, "use") == "enc") continue;
        try {
            loaded.insert_or_assign(kid, jwt::PublicKey::from_jwk(jwk));
        } catch (const std::exception&) {
            // a key type or algorithm we do not verify with: never chosen
        }
    }
    std::lock_guard lock(mutex_);
    keys_ = std::move(loaded);
    keys_at_ = std::chrono::steady_clock::now();
    keys_loaded_ = true;
}

std::optional<jwt::PublicKey> Provider::key_for(const std::string& kid) {
    std::string jwks_uri = discovery().jwks_uri;
    bool refresh;
    {
        std::lock_guard lock(mutex_);
        auto age = std::chrono::steady_clock::now() - keys_at_;
        if (keys_loaded_ && age < timings_.jwks_ttl)
            if (auto it = keys_.find(kid); it != keys_.end()) return it->second;
        // Unknown kid: the provider may have rotated; refresh, but not more often than jwks_min_refresh.
        refresh = !keys_loaded_ || age >= timings_.jwks_min_refresh;
    }
    if (refresh) load_keys(jwks_uri);
    std::lock_guard lock(mutex_);
    if (auto it = keys_.find(kid); it != keys_.end()) return it->second;
    return std::nullopt;
}

json Provider::verify_id_token(const std::string& id_token, const std::optional<std::string>& nonce) {
    if (config_.kind != Kind::oidc) throw Rejected("invalid_id_token", "this provider has no id_token");
    Discovery d = discovery();
    auto reject = [](const std::string& why) { return Rejected("invalid_id_token", "id_token: " + why); };
    jwt::Parsed parsed;
    try {
        parsed = jwt::parse(id_token);
    } catch (const std::exception& e) {
        throw reject(e.what());
    }
    auto key = key_for(parsed.kid);
    if (!key) throw reject("no key with this kid in the provider's JWKS");
    json claims;
    try {
        claims = jwt::verify(parsed, *key,
                             jwt::ClaimRules{static_cast<double>(std::time(nullptr)),
                                             static_cast<double>(timings_.leeway.count()), "",
                                             std::string_view(config_.client_id)});
    } catch (const std::exception& e) {
        throw reject(e.what());
    }
    std::string iss = string_member(claims, "iss");
    // Google's tokens may name its issuer without the scheme.
    bool google_alias = config_.id == "google" && d.issuer == "https://accounts.google.com" && iss == "accounts.google.com";
    if (iss != d.issuer && !google_alias) throw reject("wrong issuer");
    if (const json* aud = member(claims, "aud"); aud && aud->is_array() && aud->size() > 1 &&
                                                 string_member(claims, "azp") != config_.client_id)
        throw reject("several audiences and azp is not this client");
    if (nonce && string_member(claims, "nonce") != *nonce) throw reject("wrong nonce");
    if (string_member(claims, "sub").empty()) throw reject("no sub");
    return claims;
}

Identity Provider::userinfo_identity(const std::string& access_token, const json& base) {
    Discovery d = discovery();
    json claims = base;
    json profile = base;
    if (!d.userinfo_endpoint.empty() && !access_token.empty()) {
        json info = get_json(d.userinfo_endpoint, access_token, "userinfo");
        // OpenID Connect Core 5.3.2: the userinfo sub must be the id_token's.
        if (claims.contains("sub") && string_member(info, "sub") != string_member(claims, "sub"))
            throw Rejected("unable_to_get_user_info", "userinfo names another sub");
        for (auto& [k, v] : info.items()) {
            profile[k] = v;
            if (!claims.contains(k) || claims[k].is_null()) claims[k] = v;
        }
    }
    json out = {{"sub", string_member(claims, "sub")},
                {"email_verified", truthy(member(claims, "email_verified"))}};
    if (auto email = string_member(claims, "email"); !email.empty()) out["email"] = email;
    if (auto name = string_member(claims, "name"); !name.empty()) out["name"] = name;
    if (auto picture = string_member(claims, "picture"); !picture.empty()) out["picture"] = picture;
    if (string_member(out, "sub").empty()) throw Rejected("unable_to_get_user_info", "no sub");
    return {out, profile};
}

json Provider::get_json(const std::string& url, const std::string& bearer, const char* what) {
    FetchRequest req{"GET", url, {"Accept: application/json", "Authorization: Bearer " + bearer}, ""};
    if (config_.kind == Kind::github) req.headers[0] = "Accept: application/vnd.github+json";
    FetchReply reply = fetch(req, limits_);
    std::string name = config_.id + " " + what;
    if (reply.status >= 500) throw UpstreamError(name + " answered " + std::to_string(reply.status));
    if (reply.status >= 400) throw Rejected("unable_to_get_user_info", name + " answered " + std::to_string(reply.status));
    json body = json::parse(reply.body, nullptr, false);
    if (body.is_discarded()) throw UpstreamError(name + " did not answer JSON");
    return body;
}

Identity Provider::github_identity(const std::string& access_token) {
    json user = get_json(config_.github_api_url + "/user", access_token, "/user");
    if (!user.is_object()) throw UpstreamError("github /user did not answer an object");
    const json* id = member(user, "id");
    if (!id || !id->is_number_integer()) throw Rejected("unable_to_get_user_info", "github /user has no numeric id");
    json claims = {{"sub", std::to_string(id->get<long long>())}, {"email_verified", false}};
    std::string name = string_member(user, "name");
    if (name.empty()) name = string_member(user, "login");
    if (!name.empty()) claims["name"] = name;
    if (auto avatar = string_member(user, "avatar_url"); !avatar.empty()) claims["picture"] = avatar;
    // The primary address and whether GitHub verified it (the /user email is only the public one).
    json emails;
    try {
        emails = get_json(config_.github_api_url + "/user/emails", access_token, "/user/emails");
    } catch (const Rejected&) {
        emails = json::array();  // no user:email scope: fall back to the public address, unverified
    }
    bool found = false;
    if (emails.is_array())
        for (const auto& e : emails)
            if (e.is_object() && truthy(member(e, "primary")) && !string_member(e, "email").empty()) {
                claims["email"] = string_member(e, "email");
                claims["email_verified"] = truthy(member(e, "verified"));
                found = true;
                break;
            }
    if (!found && !string_member(user, "email").empty()) claims["email"] = string_member(user, "email");
    json profile = user;
    profile["emails"] = emails;
    return {claims, profile};
}

Identity Provider::identity(const json& tokens, const std::optional<std::string>& nonce) {
    std::string access_token = string_member(tokens, "access_token");
    if (config_.kind == Kind::github) return github_identity(access_token);
    std::string id_token = string_member(tokens, "id_token");
    if (id_token.empty()) throw Rejected("invalid_id_token", config_.id + " sent no id_token");
    json claims = verify_id_token(id_token, nonce);
    // Claims the id_token leaves to userinfo (email, name...): only for a code exchange.
    if (string_member(claims, "email").empty() && !access_token.empty()) return userinfo_identity(access_token, claims);
    return userinfo_identity("", claims);
}

Identity Provider::profile(const std::string& access_token) {
    if (config_.kind == Kind::github) return github_identity(access_token);
    Discovery d = discovery();
    if (d.userinfo_endpoint.empty()) throw Rejected("unable_to_get_user_info", config_.id + " has no userinfo endpoint");
    json info = get_json(d.userinfo_endpoint, access_token, "userinfo");
    if (!info.is_object()) throw UpstreamError(config_.id + " userinfo did not answer an object");
    return userinfo_identity("", info);
}

// ---------------------------------------------------------------- Providers

Providers::Providers(const std::vector<ProviderConfig>& configs, FetchLimits limits) {
    for (const auto& c : configs) by_id_.emplace(c.id, std::make_shared<Provider>(c, limits));
}

Provider* Providers::find(std::string_view id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Providers::ids() const {
    std::vector<std::string> out;
    for (const auto& [id, p] : by_id_) out.push_back(id);
    return out;
}

void Providers::warm_up() const {
    std::vector<std::shared_ptr<Provider>> all;
    for (const auto& [id, p] : by_id_) all.push_back(p);
    if (all.empty()) return;
    // In the background: a provider that is down never delays (or stops) the start.
    std::thread([all = std::move(all)] {
        for (const auto& p : all) {
            try {
                p->ensure_ready();
            } catch (const std::exception& e) {
                log::warn("social provider not ready; its sign-in answers 502 until discovery succeeds",
                          {{"provider", p->id()}, {"reason", e.what()}});
            }
        }
    }).detach();
}

}  // namespace pgauth::http::oauth
