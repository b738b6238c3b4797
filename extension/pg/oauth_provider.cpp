// OAuth 2.1 / OpenID Connect provider (issue 13): the primitives the plpgsql
// rules in the install script need from C++ (signing id_tokens and JWT access
// tokens, HMAC under a KEK subkey, verifying JWS with a client's or our own
// keys) and the resource servers' hot path, auth.verify_access_token.
#include "core/crypto.hpp"
#include "pg/datum.hpp"
#include "pg/settings.hpp"
#include "pg/signing_keys.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <sodium.h>

#include <array>
#include <cmath>

using namespace pgauth;

namespace {

std::optional<jwt::Alg> alg_arg(FunctionCallInfo fcinfo, int n) {
    if (arg_is_null(fcinfo, n)) return std::nullopt;
    auto alg = jwt::parse_alg(text_arg(fcinfo, n));
    if (!alg) throw AuthError("VALIDATION_ERROR", "alg must be EdDSA, ES256 or RS256");
    return alg;
}

}  // namespace

// auth.oauth_sign(p_claims jsonb, p_alg text, p_typ text) -> text: a compact JWS
// of the claims exactly as given (the caller sets iss, iat, exp, aud), with the
// header {"alg","kid","typ"}. p_alg NULL: the session signing key; otherwise the
// current key of that algorithm, created on first use (signing_keys.cpp).
PGAUTH_FUNCTION(pgauth_oauth_sign)
Datum pgauth_oauth_sign_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("VALIDATION_ERROR", "claims are required");
    std::optional<jwt::Alg> alg = alg_arg(fcinfo, 1);
    std::string typ = arg_is_null(fcinfo, 2) ? std::string("JWT") : text_arg(fcinfo, 2);
    std::string payload = jsonb_text(PG_GETARG_DATUM(0));
    if (payload.empty() || payload.front() != '{') throw AuthError("VALIDATION_ERROR", "claims must be a JSON object");
    const jwt::SigningKey& key = alg ? signer_for(*alg) : signer();
    return text_datum(jwt::encode(key, payload, typ));
}

// auth.oauth_hmac(p_purpose text, p_value text) -> text: base64url(HMAC-SHA256(
// subkey, value)) where subkey = HMAC-SHA256(KEK, "pgauth oauth " || purpose).
// Deterministic and useless without the KEK: the successor of a rotated refresh
// token is derived with it, so a retried refresh gets the same successor while
// only digests are stored.
PGAUTH_FUNCTION(pgauth_oauth_hmac)
Datum pgauth_oauth_hmac_impl(FunctionCallInfo fcinfo) {
    std::string purpose = text_arg(fcinfo, 0);
    std::string value = text_arg(fcinfo, 1);
    jwt::SecretBytes kek = read_kek();
    std::string label = "pgauth oauth " + purpose;
    Digest subkey = hmac_sha256(kek.bytes(), as_bytes(label));
    Digest mac = hmac_sha256(Bytes(subkey.data(), subkey.size()), as_bytes(value));
    sodium_memzero(subkey.data(), subkey.size());
    sodium_memzero(value.data(), value.size());
    std::string out = base64url_encode(Bytes(mac.data(), mac.size()));
    sodium_memzero(mac.data(), mac.size());
    Datum d = text_datum(out);
    sodium_memzero(out.data(), out.size());
    return d;
}

// auth.oauth_verify_jws(p_jwt text, p_jwks jsonb) -> jsonb: the payload of a
// compact JWS whose signature verifies, NULL otherwise (never raises for a bad
// token). p_jwks NULL: our own published keys, by kid (an id_token_hint);
// otherwise a client's JWKS {"keys": [...]} (a private_key_jwt assertion): the key
// named by kid, or without a kid each key of the header's algorithm. The key pins
// the algorithm. Claims are not checked here: the caller checks them.
PGAUTH_FUNCTION(pgauth_oauth_verify_jws)
Datum pgauth_oauth_verify_jws_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    std::string token = text_arg(fcinfo, 0);
    try {
        jwt::Parsed parsed = jwt::parse(token, !arg_is_null(fcinfo, 1) ? false : true);
        Bytes signature = as_bytes(parsed.signature);
        bool ok = false;
        if (arg_is_null(fcinfo, 1)) {
            const jwt::PublicKey& key = verification_key(parsed.kid, GetCurrentTimestamp());
            ok = jwt::alg_name(key.alg()) == parsed.alg && key.verify(parsed.signing_input, signature);
        } else {
            jwt::Json jwks = jwt::Json::parse(jsonb_text(PG_GETARG_DATUM(1)), nullptr, false);
            if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) PG_RETURN_NULL();
            for (const jwt::Json& jwk : jwks["keys"]) {
                if (!jwk.is_object()) continue;
                if (!parsed.kid.empty() && !(jwk.contains("kid") && jwk["kid"] == parsed.kid)) continue;
                std::optional<jwt::PublicKey> key;
                try {
                    key = jwt::PublicKey::from_jwk(jwk);
                } catch (const AuthError&) {
                    continue;
                }
                if (jwt::alg_name(key->alg()) != parsed.alg) continue;
                if (key->verify(parsed.signing_input, signature)) {
                    ok = true;
                    break;
                }
            }
        }
        if (!ok) PG_RETURN_NULL();
        jwt::Json payload = jwt::Json::parse(parsed.payload, nullptr, false);
        if (!payload.is_object()) PG_RETURN_NULL();
        return jsonb_datum(payload.dump());
    } catch (const AuthError& e) {
        if (e.code() != "INVALID_TOKEN" && e.code() != "INVALID_KEY") throw;
        PG_RETURN_NULL();
    }
}

namespace {

const Oid verify_types[] = {BYTEAOID, TEXTOID};
// Qualified operators and functions: the plan is kept across search_path changes.
KeptPlan verify_plan(
    "SELECT t.user_id::pg_catalog.text, t.client_id, t.scopes, t.expires_at, t.resources"
    " FROM auth.oauth_tokens t"
    " WHERE t.digest OPERATOR(pg_catalog.=) $1 AND t.kind OPERATOR(pg_catalog.=) 'access'"
    " AND t.revoked_at IS NULL AND t.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()"
    " AND ($2 IS NULL OR $2 OPERATOR(pg_catalog.=) ANY (t.resources))"
    " AND (t.user_id IS NULL OR EXISTS (SELECT 1 FROM auth.users u"
    "      WHERE u.id OPERATOR(pg_catalog.=) t.user_id AND u.is_active))"
    " AND EXISTS (SELECT 1 FROM auth.oauth_clients c"
    "      WHERE c.client_id OPERATOR(pg_catalog.=) t.client_id AND NOT c.disabled)",
    2, verify_types);

}  // namespace

// auth.verify_access_token(p_token text, p_resource text DEFAULT NULL)
//   -> TABLE (subject text, client_id text, scopes text[], expires_at timestamptz, audience text[])
// One row for a live access token of either kind (opaque or RFC 9068 JWT: both
// are stored as SHA-256 digests, so revocation applies to both), minted for
// p_resource when it is given, of an enabled client and an active user; no row
// otherwise. One kept plan: index scans on the digest and the two primary keys.
PGAUTH_FUNCTION(pgauth_verify_access_token)
Datum pgauth_verify_access_token_impl(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    bits32 flags = rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0;
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, flags); });
    if (arg_is_null(fcinfo, 0)) return 0;
    // noexcept: detoasting an argument
    text* t = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    std::string_view token(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    if (token.empty() || token.size() > jwt::max_token_size) return 0;
    Digest digest = sha256(token);
    Datum args[2] = {bytea_datum(digest), arg_is_null(fcinfo, 1) ? Datum(0) : PG_GETARG_DATUM(1)};
    char nulls[2] = {' ', arg_is_null(fcinfo, 1) ? 'n' : ' '};
    SpiConnection spi;
    if (verify_plan.execute(args, nulls, true, 1) != 1) return 0;
    Datum values[5];
    bool isnull[5];
    for (int c = 0; c < 5; c++) {
        SpiCell cell = spi_cell(0, c + 1);
        values[c] = cell.value;
        isnull[c] = cell.null;
    }
    // noexcept: the tuplestore copies the Datums (still in SPI memory) into its own context
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull); });
    return 0;
}

// ---- request parameters and settings, called many times per token request: compiled, so no
// ---- plpgsql call with a SET clause (a GUC save and restore each) runs per parameter.

// auth.oauth_param(p_params jsonb, p_name text, p_max integer DEFAULT 2048) -> text: one request
// parameter. NULL when absent, JSON null or empty (RFC 6749 3.1); OAUTH_INVALID_REQUEST when it is
// not a single string, is longer than p_max characters, or holds a C0/C1 control character or DEL.
PGAUTH_FUNCTION(pgauth_oauth_param)
Datum pgauth_oauth_param_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0) || arg_is_null(fcinfo, 1)) PG_RETURN_NULL();
    // noexcept: detoasting the arguments and a lookup in the jsonb object (palloc only)
    JsonbValue* value = pg_call([&]() noexcept -> JsonbValue* {
        Jsonb* params = PG_GETARG_JSONB_P(0);
        text* name = PG_GETARG_TEXT_PP(1);
        JsonbValue key;
        key.type = jbvString;
        key.val.string.val = VARDATA_ANY(name);
        key.val.string.len = static_cast<int>(VARSIZE_ANY_EXHDR(name));
        return findJsonbValueFromContainer(&params->root, JB_FOBJECT, &key);
    });
    if (!value || value->type == jbvNull) PG_RETURN_NULL();
    std::string name = text_arg(fcinfo, 1);
    if (value->type != jbvString) throw AuthError("OAUTH_INVALID_REQUEST", name + " must be a single string");
    std::string_view v(value->val.string.val, static_cast<std::size_t>(value->val.string.len));
    if (!arg_is_null(fcinfo, 2)) {
        int32 max = PG_GETARG_INT32(2);
        // noexcept: counts the characters of valid server-encoded text
        int chars = pg_call([&]() noexcept { return pg_mbstrlen_with_len(v.data(), static_cast<int>(v.size())); });
        if (chars > max)
            throw AuthError("OAUTH_INVALID_REQUEST", name + " is longer than " + std::to_string(max) + " characters");
    }
    bool utf8 = GetDatabaseEncoding() == PG_UTF8;
    for (std::size_t i = 0; i < v.size(); i++) {
        auto b = static_cast<unsigned char>(v[i]);
        // U+0080..U+009F is 0xC2 0x80..0x9F in UTF-8; a single byte elsewhere
        bool c1 = utf8 ? b == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9F &&
                             static_cast<unsigned char>(v[i + 1]) >= 0x80
                       : b >= 0x80 && b <= 0x9F;
        if (b < 0x20 || b == 0x7F || c1) throw AuthError("OAUTH_INVALID_REQUEST", name + " holds control characters");
    }
    if (v.empty()) PG_RETURN_NULL();
    return text_datum(v);
}

// auth.oauth_issuer() -> text: pgauth.base_url without a trailing slash, then /api/auth.
PGAUTH_FUNCTION(pgauth_oauth_issuer)
Datum pgauth_oauth_issuer_impl(FunctionCallInfo) {
    std::string_view base = settings::base_url ? settings::base_url : "";
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    std::string issuer(base);
    issuer += "/api/auth";
    return text_datum(issuer);
}

// auth.oauth_seconds(p_name text) -> integer: a lifetime setting in seconds, read as shown with
// its unit (1h, 30d, 10s) and converted as extract(epoch FROM interval) does.
PGAUTH_FUNCTION(pgauth_oauth_seconds)
Datum pgauth_oauth_seconds_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    // noexcept: PostgreSQL calls only (an unknown setting or a value out of range is its error)
    int32 seconds = pg_call([&]() noexcept {
        char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
        const char* shown = GetConfigOptionByName(name, nullptr, false);
        Interval* span = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(shown),
                                                               ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        double epoch = static_cast<double>(span->time) / USECS_PER_SEC +
                       static_cast<double>(DAYS_PER_YEAR * SECS_PER_DAY) * (span->month / MONTHS_PER_YEAR) +
                       static_cast<double>(DAYS_PER_MONTH * SECS_PER_DAY) * (span->month % MONTHS_PER_YEAR) +
                       static_cast<double>(SECS_PER_DAY) * span->day;
        double rounded = std::round(epoch);
        if (!(rounded >= PG_INT32_MIN && rounded <= PG_INT32_MAX))
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("integer out of range")));
        return static_cast<int32>(rounded);
    });
    PG_RETURN_INT32(seconds);
}

// auth.oauth_at_hash(p_token text, p_alg text) -> text: OpenID Connect Core 3.1.3.6, the left half
// of the access token's hash (SHA-512 for EdDSA, else SHA-256), base64url without padding.
PGAUTH_FUNCTION(pgauth_oauth_at_hash)
Datum pgauth_oauth_at_hash_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    // noexcept: detoasting an argument
    text* token = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    std::string_view value(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token));
    bool eddsa = !arg_is_null(fcinfo, 1) && text_arg(fcinfo, 1) == "EdDSA";
    if (eddsa) {
        std::array<unsigned char, crypto_hash_sha512_BYTES> h{};
        crypto_hash_sha512(h.data(), reinterpret_cast<const unsigned char*>(value.data()), value.size());
        return text_datum(base64url_encode(Bytes(h.data(), h.size() / 2)));
    }
    Digest h = sha256(value);
    return text_datum(base64url_encode(Bytes(h.data(), h.size() / 2)));
}

namespace {

const Oid userinfo_types[] = {BYTEAOID};
// auth.verify_access_token's rules (live, not revoked, enabled client, active user) with the user's
// claims, in one kept plan.
KeptPlan userinfo_plan(
    "SELECT 'openid' OPERATOR(pg_catalog.=) ANY (t.scopes), 'profile' OPERATOR(pg_catalog.=) ANY (t.scopes),"
    " 'email' OPERATOR(pg_catalog.=) ANY (t.scopes), u.id::pg_catalog.text, u.name, u.image,"
    " extract(epoch FROM u.updated_at)::pg_catalog.int8::pg_catalog.text, u.email, u.email_verified"
    " FROM auth.oauth_tokens t JOIN auth.users u ON u.id OPERATOR(pg_catalog.=) t.user_id"
    " WHERE t.digest OPERATOR(pg_catalog.=) $1 AND t.kind OPERATOR(pg_catalog.=) 'access'"
    " AND t.revoked_at IS NULL AND t.expires_at OPERATOR(pg_catalog.>) pg_catalog.now() AND u.is_active"
    " AND EXISTS (SELECT 1 FROM auth.oauth_clients c"
    "      WHERE c.client_id OPERATOR(pg_catalog.=) t.client_id AND NOT c.disabled)",
    1, userinfo_types);

}  // namespace

// auth.oauth_userinfo(p_access_token text) -> jsonb: OpenID Connect userinfo. sub, and by scope
// profile (name, picture, updated_at) and email (email, email_verified). OAUTH_INVALID_TOKEN for a
// token that is not a live access token of a user; OAUTH_INSUFFICIENT_SCOPE without openid.
PGAUTH_FUNCTION(pgauth_oauth_userinfo)
Datum pgauth_oauth_userinfo_impl(FunctionCallInfo fcinfo) {
    const AuthError invalid("OAUTH_INVALID_TOKEN", "the access token is invalid or expired");
    if (arg_is_null(fcinfo, 0)) throw invalid;
    // noexcept: detoasting an argument
    text* t = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    std::string_view token(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    if (token.empty() || token.size() > jwt::max_token_size) throw invalid;
    Digest digest = sha256(token);
    Datum args[1] = {bytea_datum(digest)};
    char nulls[1] = {' '};
    jwt::Json body = jwt::Json::object();
    {
        SpiConnection spi;
        if (userinfo_plan.execute(args, nulls, true, 1) != 1) throw invalid;
        if (!DatumGetBool(spi_cell(0, 1).value))
            throw AuthError("OAUTH_INSUFFICIENT_SCOPE", "the access token was not granted the openid scope");
        body["sub"] = spi_text(0, 4);
        if (DatumGetBool(spi_cell(0, 2).value)) {
            if (!spi_cell(0, 5).null) body["name"] = spi_text(0, 5);
            if (!spi_cell(0, 6).null) body["picture"] = spi_text(0, 6);
            if (!spi_cell(0, 7).null) body["updated_at"] = std::stoll(spi_text(0, 7));
        }
        if (DatumGetBool(spi_cell(0, 3).value)) {
            body["email"] = spi_text(0, 8);
            body["email_verified"] = DatumGetBool(spi_cell(0, 9).value);
        }
    }
    return jsonb_datum(body.dump());
}
