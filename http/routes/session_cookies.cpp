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
