// Row-level security helpers, named like pg_session_jwt's: the init functions
// verify a JWT or a session token and keep the claims in backend memory;
// auth.jwt(), auth.user_id() and auth.session() read them. Nothing a role can
// SET reaches them. The identity ends with the transaction unless the caller
// asked for a session-wide one, so pooled connections (PgBouncer transaction
// mode) never hand one client's identity to the next.
#include "pg/rls.hpp"
#include "pg/tokens.hpp"
#include "pg/session.hpp"
#include "pg/session_lookup.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

#include <sodium.h>

#include <cctype>

namespace pgauth {
namespace {

struct Identity {
    Jsonb* claims = nullptr;  // TopMemoryContext copy; nullptr when nobody is signed in
    bool from_jwt = false;
    bool session_wide = false;
    bool has_user = false;
    pg_uuid_t user_id{};
};

Identity identity;

// Runs inside PostgreSQL (callbacks and pg_call): plain C, no throwing.
void forget_identity() {
    if (identity.claims) pfree(identity.claims);
    identity = Identity{};
}

void at_transaction_end(XactEvent event, void*) {
    if (identity.session_wide) return;
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            forget_identity();
            break;
        default:
            break;
    }
}

std::optional<pg_uuid_t> parse_uuid(std::string_view s) {
    if (s.size() != 36) return std::nullopt;
    pg_uuid_t out{};
    int byte = 0;
    for (std::size_t i = 0; i < s.size(); i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return std::nullopt;
            continue;
        }
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return std::nullopt;
        out.data[byte / 2] = static_cast<unsigned char>(byte % 2 ? out.data[byte / 2] | v : v << 4);
        byte++;
    }
    return out;
}

// Replaces the identity with `claims_json` (already verified; `claims` is its parse).
void remember(const std::string& claims_json, const jwt::Json& claims, bool from_jwt, bool session_wide) {
    std::optional<pg_uuid_t> user;
    if (!claims.is_discarded() && claims.contains("sub") && claims["sub"].is_string())
        user = parse_uuid(claims["sub"].get_ref<const std::string&>());
    Datum value = jsonb_datum(claims_json);
    // noexcept: MemoryContextAlloc and memcpy
    pg_call([&]() noexcept {
        Jsonb* copy = static_cast<Jsonb*>(MemoryContextAlloc(TopMemoryContext, VARSIZE(DatumGetPointer(value))));
        memcpy(copy, DatumGetPointer(value), VARSIZE(DatumGetPointer(value)));
        identity.claims = copy;
    });
    identity.from_jwt = from_jwt;
    identity.session_wide = session_wide;
    identity.has_user = user.has_value();
    if (user) identity.user_id = *user;
}

Datum copy_claims() {
    // noexcept: palloc and memcpy
    return pg_call([]() noexcept {
        Size size = VARSIZE(identity.claims);
        void* out = palloc(size);
        memcpy(out, identity.claims, size);
        return PointerGetDatum(out);
    });
}

bool session_wide_arg(FunctionCallInfo fcinfo) { return !arg_is_null(fcinfo, 1) && PG_GETARG_BOOL(1); }

}  // namespace

void register_identity_callbacks() { RegisterXactCallback(at_transaction_end, nullptr); }

}  // namespace pgauth

using namespace pgauth;

// auth.jwt_session_init(jwt text, session_wide boolean DEFAULT false, audience text DEFAULT NULL) -> void
PGAUTH_FUNCTION(pgauth_jwt_session_init)
Datum pgauth_jwt_session_init_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });  // a failed init leaves nobody signed in
    if (arg_is_null(fcinfo, 0)) throw AuthError("INVALID_TOKEN", "the token is NULL");
    std::string token = text_arg(fcinfo, 0);
    // The audience defaults to pgauth.base_url (what session_jwt signs for): a JWT
    // issued for another audience must not sign anyone in here.
    std::string audience = !arg_is_null(fcinfo, 2) ? text_arg(fcinfo, 2)
                                                   : std::string(settings::base_url ? settings::base_url : "");
    std::string claims_json = verify_token(token, audience);
    // A JWT that names a session stops working when that session ends.
    jwt::Json claims = jwt::Json::parse(claims_json, nullptr, false);
    if (!claims.is_discarded() && claims.is_object() && claims.contains("sid")) {
        const jwt::Json& sid = claims["sid"];
        std::optional<pg_uuid_t> id = sid.is_string() ? parse_uuid(sid.get_ref<const std::string&>()) : std::nullopt;
        if (!id) throw AuthError("INVALID_TOKEN", "the sid claim is not a session id");
        TimestampTz now = GetCurrentTransactionStartTimestamp();
        // noexcept: an index scan over a copied uuid
        if (!pg_call([&]() noexcept { return session_is_live(*id, now); }))
            throw AuthError("INVALID_TOKEN", "the session named by sid has ended");
    }
    remember(claims_json, claims, true, session_wide_arg(fcinfo));
    PG_RETURN_VOID();
}

// auth.session_init(session_token text, session_wide boolean DEFAULT false) -> void
PGAUTH_FUNCTION(pgauth_session_init)
Datum pgauth_session_init_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });
    if (arg_is_null(fcinfo, 0)) throw AuthError("UNAUTHORIZED");
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> session = load_session(token, false);
    sodium_memzero(token.data(), token.size());
    if (!session) throw AuthError("UNAUTHORIZED");
    std::string claims_json = session_payload(*session);
    remember(claims_json, jwt::Json::parse(claims_json, nullptr, false), false, session_wide_arg(fcinfo));
    PG_RETURN_VOID();
}

// auth.session_reset() -> void: nobody is signed in any more.
PGAUTH_FUNCTION(pgauth_session_reset)
Datum pgauth_session_reset_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });
    PG_RETURN_VOID();
}

// auth.jwt() -> jsonb: the claims of the JWT given to jwt_session_init, or NULL.
PGAUTH_FUNCTION(pgauth_jwt)
Datum pgauth_jwt_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims || !identity.from_jwt) PG_RETURN_NULL();
    return copy_claims();
}

// auth.session() -> jsonb: the claims of whoever is signed in (JWT or session), or NULL.
PGAUTH_FUNCTION(pgauth_session)
Datum pgauth_session_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims) PG_RETURN_NULL();
    return copy_claims();
}

// auth.user_id() -> uuid: sub of whoever is signed in, or NULL.
PGAUTH_FUNCTION(pgauth_user_id)
Datum pgauth_user_id_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims || !identity.has_user) PG_RETURN_NULL();
    return uuid_datum(identity.user_id);
}
