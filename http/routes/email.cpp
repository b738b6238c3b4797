// Better-Auth's email flows (issue 14): email verification, password reset,
// change email (core), and the magicLink and emailOTP plugins. Each handler
// parses, makes one SQL call (the extension decides, builds the body and queues
// the mail in the same transaction) and maps the answer: JSON, cookies, or a
// redirect where Better-Auth redirects. Every callback URL must be a same-site
// path or on a trusted origin (403 INVALID_CALLBACKURL otherwise).
#include <cctype>
#include <optional>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

constexpr std::size_t max_query_bytes = 4096;
const std::string base = "/api/auth";

std::optional<std::string> client_ip(const Request& req) {
    std::string ip = req.ip();
    if (ip.empty()) return std::nullopt;
    return std::string(strip_brackets(ip));
}

// A callback URL from the body: absent, or checked against the trusted origins.
std::optional<std::string> body_callback(Context& ctx, const json& body, const char* key) {
    auto url = text_field(body, key, false);
    if (!url || url->empty()) return std::nullopt;
    if (!ctx.origins().safe_redirect(*url)) throw errors::make("INVALID_CALLBACKURL", std::string("Invalid ") + key);
    return url;
}

std::optional<std::string> query(const Request& req, const char* key) {
    return query_param(req.raw().query().get(key), key, max_query_bytes);
}

std::optional<std::string> query_callback(Context& ctx, const Request& req, const char* key) {
    auto url = query(req, key);
    if (!url || url->empty()) return std::nullopt;
    if (!ctx.origins().safe_redirect(*url)) throw errors::make("INVALID_CALLBACKURL", std::string("Invalid ") + key);
    return url;
}

std::string required_query(const Request& req, const char* key) {
    auto v = query(req, key);
    if (!v || v->empty()) throw errors::make("VALIDATION_ERROR", std::string(key) + " is required");
    return *v;
}

// A same-site path made absolute on the base URL's origin, as Better-Auth's new URL(path, baseURL).
std::string absolute(const Context& ctx, const std::string& url) {
    if (!url.empty() && url.front() == '/' && (url.size() < 2 || url[1] != '/')) {
        const std::string& b = ctx.config().base_url;
        auto scheme = b.find("://");
        auto slash = b.find('/', scheme == std::string::npos ? 0 : scheme + 3);
        return b.substr(0, slash) + url;
    }
    return url;
}

// url with one more query parameter (before any #fragment).
std::string with_param(std::string url, std::string_view key, std::string_view value) {
    std::string fragment;
    if (auto hash = url.find('#'); hash != std::string::npos) {
        fragment = url.substr(hash);
        url.resize(hash);
    }
    std::string encoded;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') encoded += static_cast<char>(c);
        else {
            static const char* hex = "0123456789ABCDEF";
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 15];
        }
    }
    url += (url.find('?') == std::string::npos ? "?" : "&") + std::string(key) + "=" + encoded;
    return url + fragment;
}

Response redirect(std::string location) {
    Response res{302, "", {}};
    res.header("Location", std::move(location));
    return res;
}

bool has_token(const pqxx::row& row) { return !row["session_token"].is_null(); }

void add_session(Context& ctx, Response& res, const pqxx::row& row) {
    if (has_token(row)) set_session_cookies(ctx, res, row["session_token"].c_str(), row["max_age"].as<long>(), true);
}

Response body_answer(const pqxx::result& r) {
    Response res;
    res.body = r.at(0)["body"].c_str();
    return res;
}

// An error the extension returned as a value (so that its write, e.g. an attempt count, commits).
void raise_error_value(const pqxx::row& row) {
    if (!row["error_code"].is_null()) throw errors::make(row["error_code"].c_str());
}

// ---------------------------------------------------------------- core

Response send_verification_email(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto callback = body_callback(ctx, body, "callbackURL");
    return body_answer(ctx.exec("email_send_verification", ctx.session_token(req), *email, callback));
}

// GET /verify-email?token&callbackURL: Better-Auth redirects to callbackURL (with
// ?error=CODE on failure) when one is given; otherwise it answers JSON (401 on failure).
Response verify_email(Context& ctx, const Request& req) {
    auto callback = query_callback(ctx, req, "callbackURL");
    auto token = required_query(req, "token");
    auto r = ctx.exec("email_verify", token, client_ip(req), req.user_agent());
    const auto& row = r.at(0);
    if (!row["error_code"].is_null()) {
        std::string code = row["error_code"].c_str();
        if (callback) return redirect(with_param(*callback, "error", code));
        auto e = errors::make(code);
        throw ApiError(401, e.code(), e.what());
    }
    Response res = callback ? redirect(*callback) : Response{200, row["body"].c_str(), {}};
    add_session(ctx, res, row);
    return res;
}

Response request_password_reset(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto redirect_to = body_callback(ctx, body, "redirectTo");
    return body_answer(ctx.exec("email_request_password_reset", *email, redirect_to));
}

// GET /reset-password/:token?callbackURL: to callbackURL?token=<t>, or ?error=INVALID_TOKEN.
Response reset_password_callback(Context& ctx, const Request& req) {
    std::string path = req.raw().resource();
    const std::string prefix = base + "/reset-password/";
    std::string token = path.size() > prefix.size() ? path.substr(prefix.size()) : std::string();
    token = query_param(token, "token", max_query_bytes).value_or("");
    auto callback = query_callback(ctx, req, "callbackURL");
    if (!callback) throw errors::make("VALIDATION_ERROR", "callbackURL is required");
    std::string target = absolute(ctx, *callback);
    if (token.empty() || token.find('/') != std::string::npos) return redirect(with_param(target, "error", "INVALID_TOKEN"));
    auto r = ctx.exec("email_check_reset_token", token);
    bool live = !r.empty() && !r[0][0].is_null() && r[0][0].as<bool>();
    return redirect(live ? with_param(target, "token", token) : with_param(target, "error", "INVALID_TOKEN"));
}

Response reset_password(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto password = text_field(body, "newPassword", true);
    auto token = text_field(body, "token", false);
    if (!token) token = query(req, "token");
    // Better-Auth answers 400 here (the catalog's INVALID_TOKEN is 401, as verify-email's).
    auto invalid = [] { auto e = errors::make("INVALID_TOKEN"); return ApiError(400, e.code(), e.what()); };
    if (!token || token->empty()) throw invalid();
    try {
        return body_answer(ctx.exec("email_reset_password", *token, *password));
    } catch (const ApiError& e) {
        if (e.code() == "INVALID_TOKEN") throw invalid();
        throw;
    }
}

Response change_email(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto session = ctx.require_session(req);
    auto email = text_field(body, "newEmail", true);
    auto callback = body_callback(ctx, body, "callbackURL");
    return body_answer(ctx.exec("email_change_request", session, *email, callback));
}

// ---------------------------------------------------------------- magicLink

Response sign_in_magic_link(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto name = text_field(body, "name", false);
    auto callback = body_callback(ctx, body, "callbackURL");
    auto new_user = body_callback(ctx, body, "newUserCallbackURL");
    auto on_error = body_callback(ctx, body, "errorCallbackURL");
    return body_answer(ctx.exec("magic_link_request", *email, name, callback, new_user, on_error));
}

// GET /magic-link/verify: a session and a redirect (to newUserCallbackURL for a new
// user), or errorCallbackURL?error=CODE; without callbackURL, JSON {token,user,session}.
Response magic_link_verify(Context& ctx, const Request& req) {
    auto callback = query_callback(ctx, req, "callbackURL");
    auto new_user = query_callback(ctx, req, "newUserCallbackURL");
    auto on_error = query_callback(ctx, req, "errorCallbackURL");
    std::string done = absolute(ctx, callback.value_or("/"));
    std::string failed = on_error ? absolute(ctx, *on_error) : done;
    auto token = query(req, "token");
    if (!token || token->empty()) return redirect(with_param(failed, "error", "INVALID_TOKEN"));
    auto r = ctx.exec("magic_link_verify", *token, client_ip(req), req.user_agent());
    const auto& row = r.at(0);
    if (!row["error_code"].is_null()) return redirect(with_param(failed, "error", row["error_code"].c_str()));
    bool is_new = !row["new_user"].is_null() && row["new_user"].as<bool>();
    Response res = !callback ? Response{200, row["body"].c_str(), {}}
                             : redirect(is_new && new_user ? absolute(ctx, *new_user) : done);
    add_session(ctx, res, row);
    return res;
}

// ---------------------------------------------------------------- emailOTP

Response send_verification_otp(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto type = text_field(body, "type", true);
    return body_answer(ctx.exec("email_otp_send", *email, *type));
}

Response forget_password_otp(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    return body_answer(ctx.exec("email_otp_send", *email, std::string("forget-password")));
}

Response sign_in_email_otp(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto otp = text_field(body, "otp", true);
    auto r = ctx.exec("email_otp_sign_in", *email, *otp, client_ip(req), req.user_agent());
    raise_error_value(r.at(0));
    Response res{200, r[0]["body"].c_str(), {}};
    add_session(ctx, res, r[0]);
    return res;
}

Response verify_email_otp(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto otp = text_field(body, "otp", true);
    auto r = ctx.exec("email_otp_verify_email", *email, *otp, client_ip(req), req.user_agent());
    raise_error_value(r.at(0));
    Response res{200, r[0]["body"].c_str(), {}};
    add_session(ctx, res, r[0]);
    return res;
}

Response reset_password_otp(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto email = text_field(body, "email", true);
    auto otp = text_field(body, "otp", true);
    auto password = text_field(body, "password", true);
    auto r = ctx.exec("email_otp_reset_password", *email, *otp, *password);
    raise_error_value(r.at(0));
    return Response{200, r[0]["body"].c_str(), {}};
}

}  // namespace

void register_email_routes(Server& server) {
    server.route(Method::Post, base + "/send-verification-email", "send-verification-email", send_verification_email);
    server.route(Method::Get, base + "/verify-email", "verify-email", verify_email);
    server.route(Method::Post, base + "/request-password-reset", "request-password-reset", request_password_reset);
    server.route(Method::Get, base + "/reset-password/:token", "reset-password-callback", reset_password_callback);
    server.route(Method::Post, base + "/reset-password", "reset-password", reset_password);
    server.route(Method::Post, base + "/change-email", "change-email", change_email);
    server.route(Method::Post, base + "/sign-in/magic-link", "sign-in-magic-link", sign_in_magic_link);
    server.route(Method::Get, base + "/magic-link/verify", "magic-link-verify", magic_link_verify);
    server.route(Method::Post, base + "/email-otp/send-verification-otp", "email-otp-send-verification-otp",
                 send_verification_otp);
    server.route(Method::Post, base + "/sign-in/email-otp", "sign-in-email-otp", sign_in_email_otp);
    server.route(Method::Post, base + "/email-otp/verify-email", "email-otp-verify-email", verify_email_otp);
    server.route(Method::Post, base + "/forget-password/email-otp", "forget-password-email-otp", forget_password_otp);
    server.route(Method::Post, base + "/email-otp/request-password-reset", "email-otp-request-password-reset",
                 forget_password_otp);
    server.route(Method::Post, base + "/email-otp/reset-password", "email-otp-reset-password", reset_password_otp);
}

}  // namespace pgauth::http
