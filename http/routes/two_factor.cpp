// Better-Auth's twoFactor plugin endpoints under /api/auth/two-factor/ (issue 16). The
// extension owns every rule (sealed TOTP secret, hashed single-use backup codes, replay
// window, 5 wrong codes per challenge, the OTP mail through the outbox); each handler
// parses, makes one SQL call and maps the cookies:
// - two_factor: the signed challenge from a 2FA sign-in (routes/auth.cpp sets it);
// - trust_device: the signed trusted-device token a verify with trustDevice returns;
// - the session cookie, set when a verify completes a sign-in.
#include <optional>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

// Better-Auth's trustDeviceMaxAge default: 30 days.
constexpr long trust_device_max_age = 30L * 24 * 3600;

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

// The functions answer NULL when the token names no live session.
Response body_or_401(const pqxx::result& r) {
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

// A required password (Better-Auth requires one unless allowPasswordless).
std::string password_of(const json& body) {
    auto password = text_field(body, "password", true);
    return *password;
}

Response enable(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto password = password_of(body);
    auto issuer = text_field(body, "issuer", false);
    if (auto method = text_field(body, "method", false); method && *method != "totp")
        throw errors::make("VALIDATION_ERROR", "method must be totp");
    std::string token = ctx.require_session(req);
    return body_or_401(ctx.exec("two_factor_enable", token, password, issuer, client_ip(req), req.user_agent()));
}

Response get_totp_uri(Context& ctx, const Request& req) {
    auto password = password_of(req.json());
    std::string token = ctx.require_session(req);
    return body_or_401(ctx.exec("two_factor_get_totp_uri", token, password));
}

// The session, or else the sign-in challenge (Better-Auth tries the session first); 401 when neither.
struct Factor {
    std::optional<std::string> token;
    std::optional<std::string> challenge;
};
Factor factor_of(Context& ctx, const Request& req) {
    Factor f;
    f.token = ctx.session_token(req);
    if (!f.token) f.challenge = read_signed_cookie(ctx, req, "two_factor");
    if (!f.token && !f.challenge) throw errors::make("INVALID_TWO_FACTOR_COOKIE");
    return f;
}

// verify-totp, verify-otp, verify-backup-code: {code, trustDevice?}.
Handler verify(const char* kind) {
    return [kind](Context& ctx, const Request& req) {
        const json& body = req.json();
        auto code = text_field(body, "code", true);
        bool trust = bool_field(body, "trustDevice", false);
        // verify-backup-code's disableSession (check a code without opening a session) is not offered.
        if (bool_field(body, "disableSession", false))
            throw errors::make("VALIDATION_ERROR", "disableSession is not supported");
        Factor f = factor_of(ctx, req);
        auto r = ctx.exec("two_factor_verify", kind, *code, f.token, f.challenge, trust, client_ip(req),
                          req.user_agent());
        const auto row = r.at(0);
        const auto& cfg = ctx.config();
        if (!row["error_code"].is_null()) {
            std::string code_name = row["error_code"].c_str();
            Response res = Response::error(errors::make(code_name));
            // A dead challenge is of no more use: the browser drops it (as Better-Auth).
            if (f.challenge && (code_name == "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE" || code_name == "INVALID_TWO_FACTOR_COOKIE"))
                expire_cookie(ctx, res, cfg.cookie_name("two_factor"));
            return res;
        }
        if (row["body"].is_null()) throw errors::make("UNAUTHORIZED");
        Response res;
        res.header("cache-control", "no-store");
        res.body = row["body"].c_str();
        if (!row["session_token"].is_null()) {
            // rememberMe:false at sign-in left dont_remember; a trusted device drops it (as Better-Auth).
            bool dont_remember = read_signed_cookie(ctx, req, "dont_remember").has_value();
            bool trusted = !row["trust_device_token"].is_null();
            set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(),
                                !dont_remember || trusted);
            if (dont_remember && trusted) expire_cookie(ctx, res, cfg.cookie_name("dont_remember"));
        }
        if (f.challenge) expire_cookie(ctx, res, cfg.cookie_name("two_factor"));
        if (!row["trust_device_token"].is_null())
            set_signed_cookie(ctx, res, "trust_device", row["trust_device_token"].c_str(), trust_device_max_age);
        return res;
    };
}

Response send_otp(Context& ctx, const Request& req) {
    req.json();
    Factor f = factor_of(ctx, req);
    auto r = ctx.exec("two_factor_send_otp", f.token, f.challenge);
    return body_or_401(r);
}

Response generate_backup_codes(Context& ctx, const Request& req) {
    auto password = password_of(req.json());
    std::string token = ctx.require_session(req);
    return body_or_401(ctx.exec("two_factor_generate_backup_codes", token, password));
}

// As Better-Auth: the browser's trusted-device cookie goes too.
Response disable(Context& ctx, const Request& req) {
    auto password = password_of(req.json());
    std::string token = ctx.require_session(req);
    Response res = body_or_401(ctx.exec("two_factor_disable", token, password, client_ip(req), req.user_agent()));
    if (read_signed_cookie(ctx, req, "trust_device")) expire_cookie(ctx, res, ctx.config().cookie_name("trust_device"));
    return res;
}

}  // namespace

void register_two_factor_routes(Server& server) {
    const std::string base = "/api/auth/two-factor";
    server.route(Method::Post, base + "/enable", "two-factor-enable", enable);
    server.route(Method::Post, base + "/get-totp-uri", "two-factor-get-totp-uri", get_totp_uri);
    server.route(Method::Post, base + "/verify-totp", "two-factor-verify-totp", verify("totp"));
    server.route(Method::Post, base + "/send-otp", "two-factor-send-otp", send_otp);
    server.route(Method::Post, base + "/verify-otp", "two-factor-verify-otp", verify("otp"));
    server.route(Method::Post, base + "/generate-backup-codes", "two-factor-generate-backup-codes", generate_backup_codes);
    server.route(Method::Post, base + "/verify-backup-code", "two-factor-verify-backup-code", verify("backup"));
    server.route(Method::Post, base + "/disable", "two-factor-disable", disable);
}

}  // namespace pgauth::http
