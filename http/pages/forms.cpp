#include "pages/forms.hpp"

#include <sodium.h>

#include "cookies.hpp"
#include "core/crypto.hpp"
#include "origin.hpp"
#include "text.hpp"

namespace pgauth::http::pages {
namespace {

constexpr std::size_t max_fields = 32;
constexpr std::size_t max_repeated = 256;  // values of the repeatable field (a scope each)
constexpr std::size_t max_oauth_query = 8192;

std::optional<std::string> form_decode(std::string_view s) {
    std::string plus(s);
    for (char& c : plus)
        if (c == '+') c = ' ';
    return url_decode(plus);
}

ApiError bad_form(std::string message) { return errors::make("VALIDATION_ERROR", std::move(message)); }

// The form token: HMAC(secret, purpose | the cookie's random value), base64url.
std::string form_token(const Context& ctx, std::string_view purpose, std::string_view binding) {
    std::string message = "pgauth-page-form:" + std::string(purpose) + ":" + std::string(binding);
    auto mac = hmac_sha256(as_bytes(ctx.config().secret), as_bytes(message));
    std::string out = base64url_encode(mac);
    sodium_memzero(mac.data(), mac.size());
    return out;
}

std::string cookie_name(const Context& ctx) { return ctx.config().cookie_name("csrf_token"); }

// The random value bound to this browser: from the signed CSRF cookie; nullopt when
// absent, duplicated or tampered.
std::optional<std::string> cookie_binding(const Context& ctx, const Request& req) {
    auto header = req.header("Cookie");
    if (!header) return std::nullopt;
    auto found = find_unique_cookie(*header, cookie_name(ctx));
    if (found.state != CookieLookup::State::one) return std::nullopt;
    auto decoded = url_decode(found.value);
    if (!decoded) return std::nullopt;
    return verify_signed_token(*decoded, ctx.config().secret);
}

}  // namespace

std::map<std::string, std::string> parse_form(std::string_view body, std::string_view repeatable) {
    std::map<std::string, std::string> out;
    std::size_t count = 0, repeats = 0;
    for (std::size_t start = 0; start < body.size();) {
        auto end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        std::string_view pair = body.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto key = form_decode(pair.substr(0, eq));
        bool repeated = key && !repeatable.empty() && *key == repeatable;
        if (repeated ? ++repeats > max_repeated : ++count > max_fields) throw bad_form("Too many form fields");
        auto value = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
        if (!key || !value) throw bad_form("Malformed form encoding");
        for (unsigned char c : *value)
            if (c < 0x20 || c == 0x7f) throw bad_form("A form field holds a control character");
        if (repeated) {
            if (value->empty() || value->find(' ') != std::string::npos) throw bad_form("A form field holds a bad value");
            auto [at, added] = out.emplace(std::move(*key), *value);
            if (!added) at->second += " " + *value;
            continue;
        }
        if (!out.emplace(std::move(*key), std::move(*value)).second) throw bad_form("A form field was sent twice");
    }
    return out;
}

std::string checked_oauth_query(std::string_view query) {
    if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    if (query.size() > max_oauth_query) throw bad_form("The authorization request is too long");
    for (unsigned char c : query)
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '#' || c == '\\' ||
            c == '`')
            throw bad_form("The authorization request is malformed");
    return std::string(query);
}

std::string issue_csrf(const Context& ctx, const Request& req, Response& res, std::string_view purpose) {
    auto binding = cookie_binding(ctx, req);
    if (!binding) {
        binding = random_token(32);
        // A browser-session cookie: the forms of one visit share it.
        res.header("Set-Cookie", set_cookie(cookie_name(ctx), url_encode(sign_token(*binding, ctx.config().secret)),
                                            CookieOptions{std::nullopt, ctx.config().secure_cookies()}));
    }
    return form_token(ctx, purpose, *binding);
}

void check_csrf(const Context& ctx, const Request& req, std::string_view purpose, const std::string& token) {
    // Same origin only: the pages post to themselves. Fetch metadata, when the browser
    // sends it, decides; the Origin of a form post from a page with Referrer-Policy:
    // no-referrer is "null" (Fetch, "serializing a request origin"), so "null" passes
    // only with Sec-Fetch-Site: same-origin. Without fetch metadata, Origin (when sent)
    // must be this server's.
    const std::string own = origin_of(ctx.config().base_url).value_or("");
    auto site = req.header("Sec-Fetch-Site");
    bool same_origin_site = site && lower(*site) == "same-origin";
    if (site && !site->empty() && !same_origin_site)
        throw errors::make("INVALID_ORIGIN", "This form can only be sent from this site");
    if (auto origin = req.header("Origin")) {
        bool null_origin = origin->empty() || *origin == "null";
        if (null_origin && !same_origin_site) throw errors::make("MISSING_OR_NULL_ORIGIN");
        if (!null_origin && lower(*origin) != own) throw errors::make("INVALID_ORIGIN");
    }
    auto binding = cookie_binding(ctx, req);
    if (!binding || token.empty())
        throw errors::make("FORBIDDEN", "The form has expired or was not sent from this site. Reload the page and try again.");
    std::string expected = form_token(ctx, purpose, *binding);
    if (!equal_ct(as_bytes(expected), as_bytes(token)))
        throw errors::make("FORBIDDEN", "The form has expired or was not sent from this site. Reload the page and try again.");
}

}  // namespace pgauth::http::pages
