// Sessions: token hashing, issuing, the hot-path validate_session and
// get_session, and the session JWT payload.
#include "pg/session.hpp"

#include "pg/api_keys.hpp"
#include "pg/datum.hpp"
#include "pg/tokens.hpp"
#include "pg/session_lookup.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "utils/datum.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

#include <sodium.h>

#include "core/crypto.hpp"

namespace pgauth {
namespace {

constexpr std::size_t max_token_length = max_session_token_length;

// Internal SQL runs as the extension owner but is parsed (and re-parsed by the
// plan cache whenever the caller's search_path changes) with the caller's
// search_path. So every operator, function, type and cast is schema-qualified:
// a caller-created app.=(uuid, uuid) can never be chosen. (A pinned search_path
// would need a GUC save/restore around every call; qualifying costs nothing.)
const Oid extend_types[] = {UUIDOID, TIMESTAMPTZOID};
KeptPlan extend_plan(
    "UPDATE auth.sessions SET expires_at = $2, updated_at = pg_catalog.now() WHERE id OPERATOR(pg_catalog.=) $1", 2,
    extend_types);

const Oid insert_types[] = {UUIDOID, BYTEAOID, TIMESTAMPTZOID, BOOLOID, INETOID, TEXTOID};
KeptPlan insert_plan(
    "INSERT INTO auth.sessions (user_id, token_hash, expires_at, remember_me, ip, user_agent)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, expires_at",
    6, insert_types);

// false on a hot standby or in a read-only transaction.
// noexcept callback: RecoveryInProgress reads shared memory
bool writable() { return !pg_call([]() noexcept { return RecoveryInProgress(); }) && !XactReadOnly; }

// Better-Auth's sliding expiry: extend once expires_at - expires_in + update_age <= now.
// Sessions signed in without "remember me" keep their short lifetime. Rewrites
// the row's expires_at and updated_at when it extends. Plain C: runs in visitors.
bool slide_expiry(SessionRow& row, TimestampTz now, bool writable) {
    int64 expires_in = int64(settings::session_expires_in) * USECS_PER_SEC;
    int64 update_age = int64(settings::session_update_age) * USECS_PER_SEC;
    TimestampTz expires_at = DatumGetTimestampTz(row.values[col_expires_at]);
    if (!writable || !row.remember_me || expires_at - expires_in + update_age > now) return false;
    row.values[col_expires_at] = TimestampTzGetDatum(now + expires_in);
    row.values[col_session_updated_at] = TimestampTzGetDatum(now);
    return true;
}

void store_extension(const pg_uuid_t& session_id, TimestampTz now) {
    SpiConnection spi;
    Datum args[2] = {UUIDPGetDatum(const_cast<pg_uuid_t*>(&session_id)),
                     TimestampTzGetDatum(now + int64(settings::session_expires_in) * USECS_PER_SEC)};
    extend_plan.execute(args, nullptr, false, 0);
}

// A validate_session row from a loaded (mock) session.
void put_session_row(ReturnSetInfo* rsinfo, const LoadedSession& s) {
    Datum values[session_column_count];
    bool nulls[session_column_count] = {};
    auto text_or_null = [&](int col, const std::optional<std::string>& v) {
        nulls[col] = !v;
        values[col] = v ? text_datum(*v) : Datum(0);
    };
    pg_uuid_t session_id{};
    // noexcept: parses our own 36-character uuid text
    pg_call([&]() noexcept {
        session_id = *DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(s.session.id.c_str())));
    });
    values[col_user_id] = uuid_datum(s.user_uuid);
    values[col_email] = text_datum(s.user.email);
    values[col_name] = text_datum(s.user.name);
    text_or_null(col_image, s.user.image);
    values[col_email_verified] = BoolGetDatum(s.user.email_verified);
    values[col_user_created_at] = TimestampTzGetDatum(s.user.created_at);
    values[col_user_updated_at] = TimestampTzGetDatum(s.user.updated_at);
    values[col_session_id] = uuid_datum(session_id);
    values[col_expires_at] = TimestampTzGetDatum(s.session.expires_at);
    values[col_session_created_at] = TimestampTzGetDatum(s.session.created_at);
    values[col_session_updated_at] = TimestampTzGetDatum(s.session.updated_at);
    nulls[col_ip] = true;
    values[col_ip] = 0;
    text_or_null(col_user_agent, s.session.user_agent);
    text_or_null(col_role, s.user.role);
    text_or_null(col_para_wallet_id, s.user.para_wallet_id);
    // noexcept: stores plain Datums in the tuplestore
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
}

}  // namespace

LoadedSession api_key_session(const ApiKeyCheck& c) {
    LoadedSession s;
    s.user = *c.user;
    s.user_uuid = c.user_id;
    s.api_key = true;
    TimestampTz now = GetCurrentTransactionStartTimestamp();
    s.session.id = uuid_text(c.key_id);
    s.session.user_id = s.user.id;
    s.session.expires_at = c.expires_at.value_or(now + int64(settings::session_expires_in) * USECS_PER_SEC);
    s.session.created_at = now;
    s.session.updated_at = now;
    return s;
}

std::optional<LoadedSession> load_session(std::string_view token, bool extend, ApiKeys api_keys) {
    if (is_api_key_credential(token)) {
        if (api_keys == ApiKeys::refused) throw AuthError("API_KEY_NOT_ALLOWED");
        ApiKeyCheck c = check_api_key(token.substr(api_key_marker.size()), std::nullopt, true);
        if (!c.error.empty()) {
            AuthError e(c.error);
            if (c.retry_at) e.with_retry_after((c.retry_at - GetCurrentTimestamp() + USECS_PER_SEC - 1) / USECS_PER_SEC);
            throw e;
        }
        return api_key_session(c);
    }
    if (token.empty() || token.size() > max_token_length) return std::nullopt;
    // The row's values copied out of the scanned tuples (datumCopy, in the
    // current memory context) by a visitor that runs inside PostgreSQL.
    struct Copy {
        TimestampTz now;
        bool writable, extended;
        pg_uuid_t user_id, session_id;
        Datum values[session_column_count];
        bool nulls[session_column_count];
        bool banned, two_factor_enabled, reason_null, expires_null, impersonated_null;
        Datum ban_reason;
        TimestampTz ban_expires;
        pg_uuid_t impersonated_by;
    } copy{GetCurrentTransactionStartTimestamp(), extend && writable(), false, {}, {}, {}, {}, false, false, true, true,
           true, 0, 0, {}};
    Digest digest = sha256(token);
    Datum key = bytea_datum(digest);
    // noexcept: the index scans and a captureless visitor that only copies Datums
    bool found = pg_call([&]() noexcept {
        return lookup_session(key, copy.now,
            [](SessionRow& row, void* context) {
                auto* c = static_cast<Copy*>(context);
                c->extended = slide_expiry(row, c->now, c->writable);
                c->user_id = *DatumGetUUIDP(row.values[col_user_id]);
                c->session_id = *DatumGetUUIDP(row.values[col_session_id]);
                for (int i = 0; i < session_column_count; i++) {
                    c->nulls[i] = row.nulls[i];
                    bool by_value = i == col_email_verified || i == col_user_created_at || i == col_user_updated_at ||
                                    i == col_expires_at || i == col_session_created_at || i == col_session_updated_at;
                    c->values[i] = row.nulls[i] || by_value || i == col_user_id || i == col_session_id
                                       ? row.values[i]
                                       : datumCopy(row.values[i], false, -1);
                }
                c->banned = row.banned;
                c->two_factor_enabled = row.two_factor_enabled;
                c->reason_null = row.ban_reason_null;
                if (!row.ban_reason_null) c->ban_reason = datumCopy(row.ban_reason, false, -1);
                c->expires_null = row.ban_expires_null;
                if (!row.ban_expires_null) c->ban_expires = DatumGetTimestampTz(row.ban_expires);
                c->impersonated_null = row.impersonated_by_null;
                if (!row.impersonated_by_null) c->impersonated_by = *DatumGetUUIDP(row.impersonated_by);
            },
            &copy);
    });
    if (!found) return std::nullopt;
    auto text_or_null = [&](int col) {
        return copy.nulls[col] ? std::nullopt : std::optional<std::string>(text_string(copy.values[col]));
    };
    LoadedSession out;
    out.user.id = uuid_text(copy.user_id);
    out.user_uuid = copy.user_id;
    out.user.email = text_string(copy.values[col_email]);
    out.user.name = text_string(copy.values[col_name]);
    out.user.image = text_or_null(col_image);
    out.user.email_verified = DatumGetBool(copy.values[col_email_verified]);
    out.user.created_at = DatumGetTimestampTz(copy.values[col_user_created_at]);
    out.user.updated_at = DatumGetTimestampTz(copy.values[col_user_updated_at]);
    out.user.role = text_or_null(col_role);
    out.user.para_wallet_id = text_or_null(col_para_wallet_id);
    out.session.id = uuid_text(copy.session_id);
    out.session.user_id = out.user.id;
    out.session.expires_at = DatumGetTimestampTz(copy.values[col_expires_at]);
    out.session.created_at = DatumGetTimestampTz(copy.values[col_session_created_at]);
    out.session.updated_at = DatumGetTimestampTz(copy.values[col_session_updated_at]);
    if (!copy.nulls[col_ip]) out.session.ip = inet_text(copy.values[col_ip]);
    out.session.user_agent = text_or_null(col_user_agent);
    AccountSecurityFields security;
    security.banned = copy.banned;
    security.two_factor_enabled = copy.two_factor_enabled;
    if (!copy.reason_null) security.ban_reason = text_string(copy.ban_reason);
    if (!copy.expires_null) security.ban_expires = copy.ban_expires;
    out.user.security = security;
    out.session.show_impersonated_by = true;
    if (!copy.impersonated_null) out.session.impersonated_by = uuid_text(copy.impersonated_by);
    out.refreshed = copy.extended;
    if (copy.extended) store_extension(copy.session_id, copy.now);
    return out;
}

std::string session_payload(const LoadedSession& s) {
    std::string payload = "{";
    UserRecord claims = s.user;
    claims.security.reset();  // the session JWT keeps its claims; get-session shows these fields
    append_user_members(payload, claims, true);
    payload.append(",\"sub\":");
    append_json_string(payload, s.user.id);
    payload.append(",\"sid\":");
    append_json_string(payload, s.session.id);
    payload.push_back('}');
    return payload;
}

}  // namespace pgauth

using namespace pgauth;

// auth.hash_token(token text) -> bytea: SHA-256 of the token's bytes.
PGAUTH_FUNCTION(pgauth_hash_token)
Datum pgauth_hash_token_impl(FunctionCallInfo fcinfo) {
    std::string token = text_arg(fcinfo, 0);
    return bytea_datum(sha256(token));
}

// auth.validate_session(token text) -> SETOF (user ..., session ...): zero or one row.
PGAUTH_FUNCTION(pgauth_validate_session)
Datum pgauth_validate_session_impl(FunctionCallInfo fcinfo) {
    // Reuse the caller's expected row type when there is one (SELECT * FROM ...):
    // building it from pg_proc on every call is a measurable share of the hot path.
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    bits32 flags = rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0;
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, flags); });
    if (arg_is_null(fcinfo, 0)) return 0;
    std::string token = text_arg(fcinfo, 0);
    if (is_api_key_credential(token)) {
        LoadedSession s = *load_session(token, false, ApiKeys::accepted);
        sodium_memzero(token.data(), token.size());
        put_session_row(rsinfo, s);
        return 0;
    }
    if (token.empty() || token.size() > max_token_length) return 0;
    Digest digest = sha256(token);
    sodium_memzero(token.data(), token.size());

    // The row is emitted with the extended expiry; the UPDATE runs after the scans are closed.
    struct Visit {
        ReturnSetInfo* rsinfo;
        TimestampTz now;
        bool writable;
        bool extend;
        pg_uuid_t session_id;
    } visit{rsinfo, GetCurrentTransactionStartTimestamp(), writable(), false, {}};
    Datum key = bytea_datum(digest);
    // noexcept: the index scans and a captureless visitor that only stores Datums in the tuplestore
    bool found = pg_call([&]() noexcept {
        return lookup_session(key, visit.now,
            [](SessionRow& row, void* context) {
                auto* v = static_cast<Visit*>(context);
                v->extend = slide_expiry(row, v->now, v->writable);
                if (v->extend) v->session_id = *DatumGetUUIDP(row.values[col_session_id]);
                tuplestore_putvalues(v->rsinfo->setResult, v->rsinfo->setDesc, row.values, row.nulls);
            },
            &visit);
    });
    if (found && visit.extend) store_extension(visit.session_id, visit.now);
    return 0;
}

// auth.create_session(user_id uuid, remember_me boolean, ip inet, user_agent text)
//   -> (session_id uuid, session_token text, expires_at timestamptz)
// Internal: called by sign-up/sign-in. The plaintext token exists only in the result.
PGAUTH_FUNCTION(pgauth_create_session)
Datum pgauth_create_session_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("VALIDATION_ERROR", "user_id is required");
    bool remember_me = arg_is_null(fcinfo, 1) ? true : PG_GETARG_BOOL(1);
    std::string token = random_token(32);
    Digest digest = sha256(token);
    int64 lifetime = int64(remember_me ? settings::session_expires_in : settings::session_short_expires_in);
    TimestampTz expires_at = GetCurrentTransactionStartTimestamp() + lifetime * USECS_PER_SEC;

    // noexcept: catalog calls and elog
    TupleDesc result_desc = pg_call([&]() noexcept {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "pgauth: create_session must return a composite");
        return BlessTupleDesc(desc);
    });

    Datum session_id = 0;
    {
        SpiConnection spi;
        Datum args[6] = {PG_GETARG_DATUM(0), bytea_datum(digest), TimestampTzGetDatum(expires_at),
                         BoolGetDatum(remember_me), arg_is_null(fcinfo, 2) ? Datum(0) : PG_GETARG_DATUM(2),
                         arg_is_null(fcinfo, 3) ? Datum(0) : PG_GETARG_DATUM(3)};
        char nulls[6] = {' ', ' ', ' ', ' ', arg_is_null(fcinfo, 2) ? 'n' : ' ', arg_is_null(fcinfo, 3) ? 'n' : ' '};
        insert_plan.execute(args, nulls, false, 0);
        // Copy the new id out of SPI memory before SPI_finish.
        // noexcept: SPI calls on a result already fetched
        session_id = pg_call([&]() noexcept {
            bool isnull;
            Datum id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            return SPI_datumTransfer(id, false, UUID_LEN);
        });
    }
    Datum out[3] = {session_id, text_datum(token), TimestampTzGetDatum(expires_at)};
    bool out_nulls[3] = {false, false, false};
    sodium_memzero(token.data(), token.size());
    // noexcept: forms a tuple from plain Datums
    return pg_call([&]() noexcept { return HeapTupleGetDatum(heap_form_tuple(result_desc, out, out_nulls)); });
}

// auth.get_session(p_token text, p_want_jwt boolean DEFAULT false)
//   -> TABLE (body json, jwt text, jwt_error text, refreshed boolean, max_age bigint)
// Better-Auth's get-session from one lookup: zero rows when the token names no
// live session. The JWT never fails the call: without a usable signing key,
// jwt is NULL and jwt_error holds the error code.
PGAUTH_FUNCTION(pgauth_get_session)
Datum pgauth_get_session_impl(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    bits32 flags = rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0;
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, flags); });
    if (arg_is_null(fcinfo, 0)) return 0;
    bool want_jwt = !arg_is_null(fcinfo, 1) && PG_GETARG_BOOL(1);
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> s = load_session(token, true, ApiKeys::accepted);
    if (!s) {
        sodium_memzero(token.data(), token.size());
        return 0;
    }
    // An API key's mock session shows the key's id, never the key.
    std::string body = "{\"session\":" + session_json(s->session, s->api_key ? s->session.id : token) +
                       ",\"user\":" + user_json(s->user, true) + "}";
    sodium_memzero(token.data(), token.size());
    std::optional<std::string> jwt, jwt_error;
    // No session JWT for an API key: it would outlive the key's revocation and its usage limits.
    if (want_jwt && !s->api_key) {
        try {
            jwt = session_jwt_for(*s);
        } catch (const AuthError& e) {
            jwt_error = e.code();
        }
    }
    Datum values[5] = {text_datum(body), jwt ? text_datum(*jwt) : Datum(0),
                       jwt_error ? text_datum(*jwt_error) : Datum(0), BoolGetDatum(s->refreshed),
                       Int64GetDatum(seconds_left(s->session.expires_at))};
    bool nulls[5] = {false, !jwt, !jwt_error, false, false};
    // noexcept: stores plain Datums in the tuplestore
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    return 0;
}

// auth.session_user_id(p_token text, p_allow_api_key boolean DEFAULT true) -> uuid:
// the user of a credential through the one resolver (load_session): a live
// session's user (extending it as validate_session does), or an API key's
// ("apikey:<key>", consuming one use; a refused key raises its code). NULL when
// a session token names no live session. With p_allow_api_key false an API
// key raises API_KEY_NOT_ALLOWED: the caller's action needs a signed-in session.
PGAUTH_FUNCTION(pgauth_session_user_id)
Datum pgauth_session_user_id_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    bool allow = arg_is_null(fcinfo, 1) || PG_GETARG_BOOL(1);
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> s = load_session(token, true, allow ? ApiKeys::accepted : ApiKeys::refused);
    sodium_memzero(token.data(), token.size());
    if (!s) PG_RETURN_NULL();
    return uuid_datum(s->user_uuid);
}
