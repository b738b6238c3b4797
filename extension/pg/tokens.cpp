// Tokens: sign_jwt, the hot-path verify_jwt, and session JWTs (the
// Better-Auth jwt-plugin token, with a per-backend memo so that get-session
// does not sign on every request). Keys come from signing_keys.cpp.
#include "pg/tokens.hpp"

#include "pg/datum.hpp"
#include "pg/session.hpp"
#include "pg/settings.hpp"
#include "pg/signing_keys.hpp"

extern "C" {
#include "utils/jsonb.h"
}

#include <algorithm>
#include <unordered_map>
#include <sodium.h>

namespace pgauth {
namespace {

using jwt::OrderedJson;

// Session JWTs recently issued by this backend, by session id (see pgauth_session_jwt).
struct IssuedJwt {
    std::string jwt;
    int64 iat;
    std::string claims, kid;
    int64 lifetime;
    std::string audience, issuer;
};
std::unordered_map<std::string, IssuedJwt> issued_session_jwts;

TimestampTz now_timestamp() { return GetCurrentTimestamp(); }

int64 interval_seconds(const Interval* iv) {
    return iv->time / USECS_PER_SEC + int64(iv->day) * SECS_PER_DAY + int64(iv->month) * DAYS_PER_MONTH * SECS_PER_DAY;
}

// Adds iat, exp, iss (and aud) and signs.
std::string sign_claims(OrderedJson claims, int64 lifetime, std::optional<std::string> audience) {
    const jwt::SigningKey& key = signer();
    auto now = static_cast<int64>(unix_now());
    claims.erase("iat");
    claims.erase("exp");
    claims.erase("iss");
    OrderedJson payload = {{"iat", now}};
    for (auto& [name, value] : claims.items()) payload[name] = value;
    payload["exp"] = now + lifetime;
    payload["iss"] = settings::effective_issuer();
    if (audience) payload["aud"] = *audience;
    return jwt::encode(key, payload.dump());
}

}  // namespace

double unix_now() { return static_cast<double>(now_timestamp()) / USECS_PER_SEC + 946684800.0; }

std::string verify_token(std::string_view token, std::optional<std::string_view> audience) {
    jwt::Parsed parsed = jwt::parse(token);
    const jwt::PublicKey& key = verification_key(parsed.kid, now_timestamp());
    jwt::verify(parsed, key, {unix_now(), double(settings::jwt_leeway), settings::effective_issuer(), audience});
    return parsed.payload;
}

std::string session_jwt_for(const LoadedSession& session) {
    // sid lets jwt_session_init refuse the token once the session is revoked.
    std::string claims = session_payload(session);
    const std::string& sid = session.session.id;
    std::string audience = settings::base_url ? settings::base_url : "";
    // get-session asks for this token on every request: a session whose claims,
    // key, lifetime, issuer and audience are unchanged gets the token it was
    // given less than a minute (or a tenth of the lifetime) ago.
    const jwt::SigningKey& key = signer();
    std::string kid = key.public_key().kid();
    auto now = static_cast<int64>(unix_now());
    int64 reuse = std::min<int64>(60, settings::jwt_expires_in / 10);
    auto hit = issued_session_jwts.find(sid);
    if (hit != issued_session_jwts.end()) {
        const IssuedJwt& was = hit->second;
        if (now - was.iat < reuse && now >= was.iat && was.claims == claims && was.kid == kid &&
            was.lifetime == settings::jwt_expires_in && was.audience == audience &&
            was.issuer == settings::effective_issuer())
            return was.jwt;
    }
    // iat first, then the claims, then exp, iss and aud: the order sign_claims writes
    std::string payload = "{\"iat\":" + std::to_string(now) + ",";
    payload.append(std::string_view(claims).substr(1, claims.size() - 2));
    payload.append(",\"exp\":").append(std::to_string(now + settings::jwt_expires_in));
    payload.append(",\"iss\":").append(jwt::Json(settings::effective_issuer()).dump());
    payload.append(",\"aud\":").append(jwt::Json(audience).dump());
    payload.push_back('}');
    std::string jwt = jwt::encode(key, payload);
    if (issued_session_jwts.size() >= 4096) issued_session_jwts.clear();
    issued_session_jwts[sid] = IssuedJwt{jwt, now, std::move(claims), std::move(kid), settings::jwt_expires_in,
                                         std::move(audience), settings::effective_issuer()};
    return jwt;
}

}  // namespace pgauth

using namespace pgauth;

// auth.sign_jwt(claims jsonb, expires_in interval DEFAULT NULL, audience text DEFAULT NULL) -> text
PGAUTH_FUNCTION(pgauth_sign_jwt)
Datum pgauth_sign_jwt_impl(FunctionCallInfo fcinfo) {
    int64 lifetime = arg_is_null(fcinfo, 1) ? settings::jwt_expires_in
                                            // noexcept callback: detoasting an argument
                                            : interval_seconds(pg_call([&]() noexcept { return PG_GETARG_INTERVAL_P(1); }));
    std::optional<std::string> audience;
    if (!arg_is_null(fcinfo, 2)) audience = text_arg(fcinfo, 2);
    if (arg_is_null(fcinfo, 0)) return text_datum(sign_claims(OrderedJson::object(), lifetime, audience));
    // noexcept: detoasting an argument
    Jsonb* claims = pg_call([&]() noexcept { return PG_GETARG_JSONB_P(0); });
    if (!JB_ROOT_IS_OBJECT(claims) || JB_ROOT_IS_SCALAR(claims))
        throw AuthError("VALIDATION_ERROR", "claims must be a JSON object");
    // Usually none of the claims we set is among them: splice jsonb's own text
    // between ours instead of parsing and re-serializing it (a quarter of the cost).
    // noexcept: jsonb key lookups over string literals
    bool ours = pg_call([&]() noexcept {
        for (const char* name : {"iat", "exp", "iss", "aud"}) {
            if (name[0] == 'a' && !audience) continue;
            if (getKeyJsonValueFromContainer(&claims->root, name, 3, nullptr)) return true;
        }
        return false;
    });
    std::string text = jsonb_text(PointerGetDatum(claims));
    if (ours) return text_datum(sign_claims(OrderedJson::parse(text), lifetime, audience));
    const jwt::SigningKey& key = signer();
    auto now = static_cast<int64>(unix_now());
    std::string_view inner(text);
    inner.remove_prefix(1);  // jsonb writes an object as {...} with nothing around it
    inner.remove_suffix(1);
    std::string payload = "{\"iat\":" + std::to_string(now);
    if (!inner.empty()) payload.append(",").append(inner);
    payload.append(",\"exp\":").append(std::to_string(now + lifetime));
    payload.append(",\"iss\":").append(jwt::Json(settings::effective_issuer()).dump());
    if (audience) payload.append(",\"aud\":").append(jwt::Json(*audience).dump());
    payload.push_back('}');
    return text_datum(jwt::encode(key, payload));
}

// auth.session_jwt(session_token text) -> text: the Better-Auth jwt-plugin token for a live session.
PGAUTH_FUNCTION(pgauth_session_jwt)
Datum pgauth_session_jwt_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("UNAUTHORIZED");
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> session = load_session(token, false);
    sodium_memzero(token.data(), token.size());
    if (!session) throw AuthError("UNAUTHORIZED");
    return text_datum(session_jwt_for(*session));
}

// auth.verify_jwt(token text, audience text DEFAULT NULL) -> jsonb claims, or INVALID_TOKEN.
PGAUTH_FUNCTION(pgauth_verify_jwt)
Datum pgauth_verify_jwt_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("INVALID_TOKEN", "the token is NULL");
    // noexcept: detoasting an argument
    text* t = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    std::string_view token(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    std::optional<std::string> audience;
    if (!arg_is_null(fcinfo, 1)) audience = text_arg(fcinfo, 1);
    return jsonb_datum(verify_token(token, audience));
}
