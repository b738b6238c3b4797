// Better-Auth's user endpoints: update-user, change-password, delete-user, and
// link-para-wallet. Each handler makes one SQL call keyed by the session; no
// row means no (valid) session: 401.
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "routes/session_cookies.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

void require_row(const pqxx::result& r) {
    if (r.empty()) throw errors::make("UNAUTHORIZED");
}

Response update_user(Context& ctx, const Request& req) {
    const json& body = req.json();
    if (body.contains("email")) throw errors::make("EMAIL_CAN_NOT_BE_UPDATED");
    auto name = text_field(body, "name", false);
    auto image = text_field(body, "image", false);
    require_row(ctx.exec("update_user", ctx.require_session(req), name, image));
    return Response::json({{"status", true}});
}

Response change_password(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto current = text_field(body, "currentPassword", true);
    auto next = text_field(body, "newPassword", true);
    bool revoke_others = bool_field(body, "revokeOtherSessions", false);
    auto r = ctx.exec("change_password", ctx.require_session(req), *current, *next, revoke_others);
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.body = r[0]["body"].c_str();
    return res;
}

Response delete_user(Context& ctx, const Request& req) {
    auto password = text_field(req.json(), "password", true);
    require_row(ctx.exec("delete_user", ctx.require_session(req), *password));
    Response res = Response::json({{"success", true}, {"message", "User deleted"}});
    clear_session_cookies(ctx, res);
    return res;
}

Response link_para_wallet(Context& ctx, const Request& req) {
    auto wallet = text_field(req.json(), "walletId", true);
    require_row(ctx.exec("link_para_wallet", ctx.require_session(req), *wallet));
    return Response::json({{"status", true}, {"walletId", *wallet}});
}

}  // namespace

void register_user_routes(Server& server) {
    const std::string base = "/api/auth";
    server.route(Method::Post, base + "/update-user", "update-user", update_user);
    server.route(Method::Post, base + "/change-password", "change-password", change_password);
    server.route(Method::Post, base + "/delete-user", "delete-user", delete_user);
    server.route(Method::Post, base + "/link-para-wallet", "link-para-wallet", link_para_wallet);
}

}  // namespace pgauth::http
