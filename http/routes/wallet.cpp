// Wallets through OASIS: POST /api/wallet/generate, GET /api/wallet, GET /api/wallet/balance.
// The avatar flow and every OASIS call live in integrations/oasis/; these handlers
// parse, call it and shape the answer.
#include "integrations/oasis/avatars.hpp"
#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

Response generate(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto type = text_field(body, "providerType", true);
    if (*type != "SolanaOASIS" && *type != "EthereumOASIS")
        throw errors::make("VALIDATION_ERROR", "providerType must be SolanaOASIS or EthereumOASIS");
    bool set_default = bool_field(body, "setAsDefault", false);
    std::string token = ctx.require_session(req);
    oasis::require_configured(ctx);
    std::string avatar = oasis::avatar_for_session(ctx, token);
    json wallet = oasis::generate_wallet(ctx, avatar, *type, set_default);
    return Response::json({{"success", true}, {"wallet", wallet}, {"avatarId", avatar}});
}

Response list(Context& ctx, const Request& req) {
    std::string token = ctx.require_session(req);
    oasis::require_configured(ctx);
    auto avatar = oasis::linked_avatar(ctx, token);
    if (!avatar) return Response::json({{"wallets", json::array()}, {"avatarId", nullptr}});
    return Response::json({{"wallets", oasis::wallets(ctx, *avatar)}, {"avatarId", *avatar}});
}

Response balance(Context& ctx, const Request& req) {
    std::string token = ctx.require_session(req);
    oasis::require_configured(ctx);
    auto avatar = oasis::linked_avatar(ctx, token);
    if (!avatar) return Response::json({{"avatarId", nullptr}, {"balances", json::array()}});
    return Response::json({{"avatarId", *avatar}, {"balances", oasis::balances(ctx, *avatar)}});
}

}  // namespace

void register_wallet_routes(Server& server) {
    server.route(Method::Post, "/api/wallet/generate", "wallet-generate", generate);
    server.route(Method::Get, "/api/wallet", "wallet-list", list);
    server.route(Method::Get, "/api/wallet/balance", "wallet-balance", balance);
}

}  // namespace pgauth::http
