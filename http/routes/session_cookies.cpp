#include "routes/session_cookies.hpp"

#include <optional>

#include "cookies.hpp"

namespace pgauth::http {
namespace {

std::string cookie_value(const Context& ctx, std::string_view token) {
    return url_encode(sign_token(token, ctx.config().secret));
}

}  // namespace

void set_session_cookies(const Context& ctx, Response& res, std::string_view token, long max_age, bool remember_me) {
    const auto& cfg = ctx.config();
    CookieOptions options{remember_me ? std::optional<long>(max_age) : std::nullopt, cfg.secure_cookies()};
    res.header("Set-Cookie", set_cookie(cfg.cookie_name(), cookie_value(ctx, token), options));
    if (!remember_me)
        res.header("Set-Cookie", set_cookie(cfg.cookie_name("dont_remember"), cookie_value(ctx, "true"),
                                            CookieOptions{std::nullopt, cfg.secure_cookies()}));
    res.header("set-auth-token", sign_token(token, cfg.secret));
    res.header("access-control-expose-headers", "set-auth-token");
}

void refresh_session_cookie(const Context& ctx, Response& res, std::string_view token, long max_age) {
    const auto& cfg = ctx.config();
    res.header("Set-Cookie",
               set_cookie(cfg.cookie_name(), cookie_value(ctx, token), CookieOptions{max_age, cfg.secure_cookies()}));
}

void clear_session_cookies(const Context& ctx, Response& res) {
    const auto& cfg = ctx.config();
    for (const char* name : {"session_token", "session_data", "dont_remember"})
        res.header("Set-Cookie", set_cookie(cfg.cookie_name(name), "", CookieOptions{0, cfg.secure_cookies()}));
}

}  // namespace pgauth::http

namespace pgauth::http {
namespace {

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

// The verified token of the cookie `name` in a Cookie header (unique, signed with our secret).
std::optional<std::string> verified(std::string_view header, std::string_view name, std::string_view secret) {
    auto found = find_unique_cookie(header, name);
    if (found.state != CookieLookup::State::one) return std::nullopt;
    auto decoded = url_decode(found.value);
    if (!decoded) return std::nullopt;
    return verify_signed_token(*decoded, secret);
}

}  // namespace

std::optional<std::string> read_signed_cookie(const Context& ctx, const Request& req, const char* suffix) {
    auto header = req.header("Cookie");
    if (!header) return std::nullopt;
    return verified(*header, ctx.config().cookie_name(suffix), ctx.config().secret);
}

void set_signed_cookie(const Context& ctx, Response& res, const char* suffix, std::string_view value,
                       std::optional<long> max_age) {
    const auto& cfg = ctx.config();
    res.header("Set-Cookie", set_cookie(cfg.cookie_name(suffix), cookie_value(ctx, value),
                                        CookieOptions{max_age, cfg.secure_cookies()}));
}

void expire_cookie(const Context& ctx, Response& res, std::string_view name) {
    res.header("Set-Cookie", set_cookie(name, "", CookieOptions{0, ctx.config().secure_cookies()}));
}

std::string multi_session_cookie_name(const Context& ctx, std::string_view token) {
    std::string name = ctx.config().cookie_name() + "_multi-";
    for (char c : token) name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return name;
}

std::vector<MultiSessionCookie> multi_session_cookies(const Context& ctx, const Request& req) {
    std::vector<MultiSessionCookie> out;
    auto header = req.header("Cookie");
    if (!header) return out;
    const std::string prefix = ctx.config().cookie_name() + "_multi-";
    std::string_view h = *header;
    std::size_t pos = 0;
    while (pos <= h.size() && out.size() < 64) {  // a browser holds a handful; bound the work anyway
        auto end = h.find(';', pos);
        if (end == std::string_view::npos) end = h.size();
        std::string_view pair = h.substr(pos, end - pos);
        pos = end + 1;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(trim(pair.substr(0, eq)));
        if (!name.starts_with(prefix)) continue;
        bool seen = false;
        for (const auto& c : out) seen = seen || c.name == name;
        if (seen) continue;
        auto token = verified(h, name, ctx.config().secret);
        // The name must be the token's own: a valid cookie copied under another name is not one of ours.
        if (token && multi_session_cookie_name(ctx, *token) == name) out.push_back({name, std::move(*token)});
    }
    return out;
}

void add_multi_session_cookie(const Context& ctx, const Request& req, Response& res, int maximum) {
    if (res.status >= 400 || maximum <= 0) return;
    const std::string session_prefix = ctx.config().cookie_name() + "=";
    std::optional<std::string> line;
    for (const auto& [name, value] : res.headers)
        if (name == "Set-Cookie" && value.starts_with(session_prefix) && value.size() > session_prefix.size() &&
            value[session_prefix.size()] != ';')
            line = value;
    if (!line) return;
    auto end = line->find(';');
    auto decoded = url_decode(std::string_view(*line).substr(session_prefix.size(), end - session_prefix.size()));
    if (!decoded) return;
    auto token = verify_signed_token(*decoded, ctx.config().secret);
    if (!token) return;
    std::string name = multi_session_cookie_name(ctx, *token);
    auto held = multi_session_cookies(ctx, req);
    for (const auto& c : held)
        if (c.name == name) return;
    if (static_cast<int>(held.size()) + 1 > maximum) return;
    res.header("Set-Cookie", name + line->substr(ctx.config().cookie_name().size()));
}

}  // namespace pgauth::http
