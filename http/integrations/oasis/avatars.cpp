#include "integrations/oasis/avatars.hpp"

#include <thread>

#include <sodium.h>

#include "cookies.hpp"
#include "core/crypto.hpp"
#include "server.hpp"
#include "text.hpp"

namespace pgauth::http::oasis {

using nlohmann::json;

namespace {

ApiError unavailable(std::string why = "The avatar provider is unavailable. Try again later.") {
    return errors::make("AVATAR_PROVIDER_UNAVAILABLE", std::move(why));
}

// One OASIS call whose failure fails the request.
OasisClient::Reply call(Context& ctx, const char* method, const std::string& path, const json* body = nullptr) {
    try {
        auto reply = ctx.oasis().call(method, path, body);
        if (reply.is_error()) throw OasisUnavailable(reply.message());
        return reply;
    } catch (const OasisUnavailable&) {
        throw unavailable();
    }
}

std::string result_id(const json& body) {
    const json& r = body.contains("result") && body["result"].is_object() ? body["result"] : body;
    for (const char* key : {"id", "avatarId", "Id"})
        if (r.contains(key) && r[key].is_string()) return r[key].get<std::string>();
    return {};
}

// OASIS refuses a second registration of an email with a message only (no code).
bool email_taken(const OasisClient::Reply& reply) {
    std::string message = lower(reply.message());
    return message.find("already") != std::string::npos && message.find("email") != std::string::npos;
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
    if (email_taken(reply)) {
        auto found = ctx.oasis().call("GET", "/api/avatar/get-by-email/" + url_encode(email));
        std::string id = found.is_error() ? std::string() : result_id(found.body);
        if (!id.empty()) return id;
    }
    throw OasisUnavailable("OASIS refused the registration: " + reply.message());
}

}  // namespace

void require_configured(Context& ctx) {
    if (!ctx.oasis().configured()) throw unavailable("The avatar provider is not configured (set PGAUTH_OASIS_URL)");
}

std::string avatar_for_session(Context& ctx, const std::string& session_token) {
    auto r = ctx.exec("claim_avatar", session_token);
    if (r.empty()) throw errors::make("UNAUTHORIZED");
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
            throw unavailable();
        }
        ctx.exec("complete_avatar", claim, avatar);
        return avatar;
    }
    // Another request holds the claim: wait for its link, bounded.
    const auto& settings = ctx.oasis().settings();
    for (int i = 0; i < settings.claim_poll_attempts; ++i) {
        std::this_thread::sleep_for(settings.claim_poll_interval);
        if (auto linked = linked_avatar(ctx, session_token)) return *linked;
    }
    throw unavailable("The avatar is still being created. Try again shortly.");
}

std::optional<std::string> linked_avatar(Context& ctx, const std::string& session_token) {
    auto r = ctx.exec("avatar_for", session_token);
    if (r.empty()) throw errors::make("UNAUTHORIZED");
    if (r[0]["avatar_id"].is_null()) return std::nullopt;
    return std::string(r[0]["avatar_id"].c_str());
}

json generate_wallet(Context& ctx, const std::string& avatar, const std::string& provider_type, bool set_default) {
    json request = {{"providerType", provider_type}, {"setAsDefault", set_default}};
    auto reply = call(ctx, "POST", "/api/wallet/avatar/" + url_encode(avatar) + "/generate", &request);
    return reply.body.value("result", json(nullptr));
}

json wallets(Context& ctx, const std::string& avatar) {
    auto reply = call(ctx, "GET", "/api/wallet/avatar/" + url_encode(avatar) + "/wallets");
    json list = reply.body.value("result", json::array());
    return list.is_array() ? list : json::array();
}

json balances(Context& ctx, const std::string& avatar) {
    json out = json::array();
    for (const auto& w : wallets(ctx, avatar)) {
        std::string id = w.is_object() ? w.value("walletId", w.value("id", std::string())) : std::string();
        json entry = {{"walletId", id}};
        try {  // one failed balance is reported for that wallet, not as a failed request
            auto b = ctx.oasis().call("GET", "/api/wallet/" + url_encode(id) + "/balance");
            if (b.is_error()) throw OasisUnavailable(b.message());
            entry["balance"] = b.body.value("result", json(nullptr));
        } catch (const OasisUnavailable&) {
            entry["balance"] = nullptr;
            entry["error"] = "balance unavailable";
        }
        out.push_back(entry);
    }
    return out;
}

}  // namespace pgauth::http::oasis
