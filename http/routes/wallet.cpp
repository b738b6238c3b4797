// Wallets through OASIS: /api/wallet/generate, /api/wallet, /api/wallet/balance.
// The avatar is created lazily and race-free by the extension's claim protocol
// (auth.claim_avatar / complete_avatar / fail_avatar); this file only speaks HTTP.
#include <algorithm>
#include <cctype>
#include <thread>

#include <sodium.h>

#include "cookies.hpp"
#include "core/crypto.hpp"
#include "request_fields.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

ApiError unavailable(Context& ctx, const std::string& why) {
    ApiError base = ctx.errors().make("AVATAR_PROVIDER_UNAVAILABLE", 503);
    return ApiError(503, base.code(), why);
}

void require_oasis(Context& ctx) {
    if (!ctx.oasis().configured())
        throw unavailable(ctx, "The avatar provider is not configured (set PGAUTH_OASIS_URL)");
}

std::string session_or_401(Context& ctx, const Request& req) {
    auto token = ctx.session_token(req);
    if (!token) throw ctx.errors().make("UNAUTHORIZED", 401);
    return *token;
}

std::string result_id(const json& body) {
    const json& r = body.contains("result") && body["result"].is_object() ? body["result"] : body;
    for (const char* key : {"id", "avatarId", "Id"})
        if (r.contains(key) && r[key].is_string()) return r[key].get<std::string>();
    return {};
}

// Registers the user's avatar at OASIS, or finds it when the email is already in use.
std::string register_avatar(Context& ctx, const std::string& user_id, const std::string& email) {
    std::string password = random_token(24) + "!Aa1";  // strong, random, never stored
    std::string username = "pgauth_" + user_id.substr(0, 8) + "_" + random_token(6);
    json body = {{"username", username},   {"email", email},          {"password", password},
                 {"confirmPassword", password}, {"firstName", "pgauth"}, {"lastName", "user"},
                 {"title", "Mx"},          {"acceptTerms", true},     {"avatarType", "User"}};
    auto reply = ctx.oasis().call("POST", "/api/avatar/register", &body);
    for (const char* key : {"password", "confirmPassword"}) {
        auto& copy = body[key].get_ref<std::string&>();
        sodium_memzero(copy.data(), copy.size());
    }
    sodium_memzero(password.data(), password.size());
    if (!reply.is_error()) {
        std::string id = result_id(reply.body);
        if (!id.empty()) return id;
        throw OasisUnavailable("OASIS registration answered without an avatar id");
    }
    std::string message = reply.message();
    for (auto& c : message) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (message.find("already") != std::string::npos && message.find("email") != std::string::npos) {
        auto found = ctx.oasis().call("GET", "/api/avatar/get-by-email/" + url_encode(email));
        std::string id = found.is_error() ? std::string() : result_id(found.body);
        if (!id.empty()) return id;
    }
    throw OasisUnavailable("OASIS refused the registration: " + reply.message());
}

// The linked avatar id, creating the avatar if this request wins the claim.
std::string avatar_for_session(Context& ctx, const std::string& token) {
    auto r = ctx.exec("claim_avatar", token);
    if (r.empty()) throw ctx.errors().make("UNAUTHORIZED", 401);
    const auto row = r[0];
    std::string state = row["state"].c_str();
    if (state == "linked") return row["avatar_id"].c_str();
    if (state == "claimed") {
        std::string claim = row["claim"].c_str();
        std::string avatar;
        try {
            avatar = register_avatar(ctx, row["user_id"].c_str(), row["email"].c_str());
        } catch (const OasisUnavailable& e) {
            ctx.exec("fail_avatar", claim, std::string(e.what()));
            throw unavailable(ctx, "The avatar provider is unavailable. Try again later.");
        }
        ctx.exec("complete_avatar", claim, avatar);
        return avatar;
    }
    // Another request holds the claim: wait for it, bounded.
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto linked = ctx.exec("avatar_for", token);
        if (linked.empty()) throw ctx.errors().make("UNAUTHORIZED", 401);
        if (!linked[0]["avatar_id"].is_null()) return linked[0]["avatar_id"].c_str();
    }
    throw unavailable(ctx, "The avatar is still being created. Try again shortly.");
}

std::string linked_avatar(Context& ctx, const std::string& token) {
    auto r = ctx.exec("avatar_for", token);
    if (r.empty()) throw ctx.errors().make("UNAUTHORIZED", 401);
    return r[0]["avatar_id"].is_null() ? std::string() : std::string(r[0]["avatar_id"].c_str());
}

Response generate(Context& ctx, const Request& req) {
    const json& body = req.json();
    auto type = text_field(body, "providerType", true);
    if (*type != "SolanaOASIS" && *type != "EthereumOASIS")
        throw ApiError(400, "VALIDATION_ERROR", "providerType must be SolanaOASIS or EthereumOASIS");
    bool set_default = bool_field(body, "setAsDefault", false);
    std::string token = session_or_401(ctx, req);
    require_oasis(ctx);
    std::string avatar = avatar_for_session(ctx, token);
    json request = {{"providerType", *type}, {"setAsDefault", set_default}};
    try {
        auto reply = ctx.oasis().call("POST", "/api/wallet/avatar/" + url_encode(avatar) + "/generate", &request);
        if (reply.is_error()) throw OasisUnavailable(reply.message());
        return Response::json({{"success", true}, {"wallet", reply.body.value("result", json(nullptr))}, {"avatarId", avatar}});
    } catch (const OasisUnavailable&) {
        throw unavailable(ctx, "The avatar provider is unavailable. Try again later.");
    }
}

Response list(Context& ctx, const Request& req) {
    std::string token = session_or_401(ctx, req);
    require_oasis(ctx);
    std::string avatar = linked_avatar(ctx, token);
    if (avatar.empty()) return Response::json({{"wallets", json::array()}, {"avatarId", nullptr}});
    try {
        auto reply = ctx.oasis().call("GET", "/api/wallet/avatar/" + url_encode(avatar) + "/wallets");
        if (reply.is_error()) throw OasisUnavailable(reply.message());
        json wallets = reply.body.value("result", json::array());
        return Response::json({{"wallets", wallets.is_array() ? wallets : json::array()}, {"avatarId", avatar}});
    } catch (const OasisUnavailable&) {
        throw unavailable(ctx, "The avatar provider is unavailable. Try again later.");
    }
}

Response balance(Context& ctx, const Request& req) {
    std::string token = session_or_401(ctx, req);
    require_oasis(ctx);
    std::string avatar = linked_avatar(ctx, token);
    json out = json::array();
    if (!avatar.empty()) {
        json wallets;
        try {
            auto reply = ctx.oasis().call("GET", "/api/wallet/avatar/" + url_encode(avatar) + "/wallets");
            if (reply.is_error()) throw OasisUnavailable(reply.message());
            wallets = reply.body.value("result", json::array());
        } catch (const OasisUnavailable&) {
            throw unavailable(ctx, "The avatar provider is unavailable. Try again later.");
        }
        for (const auto& w : wallets.is_array() ? wallets : json::array()) {
            std::string id = w.is_object() ? w.value("walletId", w.value("id", std::string())) : std::string();
            json entry = {{"walletId", id}};
            try {  // one failed balance is reported for that wallet, not as a failed request
                auto b = ctx.oasis().call("GET", "/api/wallet/" + url_encode(id) + "/balance");
                if (b.is_error()) throw OasisUnavailable(b.message());
                entry["balance"] = b.body.value("result", json(nullptr));
            } catch (const OasisUnavailable& e) {
                entry["balance"] = nullptr;
                entry["error"] = "balance unavailable";
            }
            out.push_back(entry);
        }
    }
    return Response::json({{"avatarId", avatar.empty() ? json(nullptr) : json(avatar)}, {"balances", out}});
}

}  // namespace

void register_wallet_routes(Server& server) {
    server.route(Method::Post, "/api/wallet/generate", "wallet-generate", generate);
    server.route(Method::Get, "/api/wallet", "wallet-list", list);
    server.route(Method::Get, "/api/wallet/balance", "wallet-balance", balance);
}

}  // namespace pgauth::http
