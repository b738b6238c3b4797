// The OASIS flow behind /api/wallet: a user's avatar is created lazily and
// race-free through the extension's claim protocol (auth.claim_avatar,
// complete_avatar, fail_avatar): the request that wins the claim registers the
// avatar at OASIS (or finds it when OASIS already knows the email) and links
// it; a concurrent request polls for the link within OasisSettings' bounds.
// Failures are 503 AVATAR_PROVIDER_UNAVAILABLE; no session is 401.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace pgauth::http {
class Context;
}

namespace pgauth::http::oasis {

// 503 unless PGAUTH_OASIS_URL is set.
void require_configured(Context& ctx);

// The session's avatar id, creating and linking the avatar if needed.
std::string avatar_for_session(Context& ctx, const std::string& session_token);

// The session's linked avatar id, or nullopt when none was created yet.
std::optional<std::string> linked_avatar(Context& ctx, const std::string& session_token);

// A new wallet of `provider_type` for the avatar: OASIS's `result`.
nlohmann::json generate_wallet(Context& ctx, const std::string& avatar, const std::string& provider_type,
                               bool set_default);

// The avatar's wallets (an array).
nlohmann::json wallets(Context& ctx, const std::string& avatar);

// [{walletId, balance}] for the avatar's wallets; a wallet whose balance
// cannot be read has balance null and an "error", the others still answer.
nlohmann::json balances(Context& ctx, const std::string& avatar);

}  // namespace pgauth::http::oasis
