// Sessions: token hashing, issuing, and the hot-path validate_session.
#include "pg/datum.hpp"
#include "pg/session_lookup.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

#include <sodium.h>

#include "core/crypto.hpp"

namespace pgauth {
namespace {

// Longest token we bother hashing; anything longer cannot be one of ours.
constexpr std::size_t max_token_length = 1024;

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


}  // namespace
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
    if (token.empty() || token.size() > max_token_length) return 0;
    Digest digest = sha256(token);
    sodium_memzero(token.data(), token.size());

    // Better-Auth's sliding expiry: extend once expires_at - expires_in + update_age <= now.
    // Sessions signed in without "remember me" keep their short lifetime. The row is
    // emitted with the extended expiry; the UPDATE runs after the scans are closed.
    struct Visit {
        ReturnSetInfo* rsinfo;
        TimestampTz now;
        bool writable;  // false on a hot standby or in a read-only transaction
        bool extend;
        pg_uuid_t session_id;
    } visit{rsinfo, GetCurrentTransactionStartTimestamp(),  // noexcept callback: RecoveryInProgress reads shared memory
            !pg_call([]() noexcept { return RecoveryInProgress(); }) && !XactReadOnly, false, {}};
    Datum key = bytea_datum(digest);
    // noexcept: the index scans and a captureless visitor that only stores Datums in the tuplestore
    bool found = pg_call([&]() noexcept {
        return lookup_session(key, visit.now,
            [](SessionRow& row, void* context) {
                auto* v = static_cast<Visit*>(context);
                int64 expires_in = int64(settings::session_expires_in) * USECS_PER_SEC;
                int64 update_age = int64(settings::session_update_age) * USECS_PER_SEC;
                TimestampTz expires_at = DatumGetTimestampTz(row.values[col_expires_at]);
                v->extend = v->writable && row.remember_me && expires_at - expires_in + update_age <= v->now;
                if (v->extend) {
                    row.values[col_expires_at] = TimestampTzGetDatum(v->now + expires_in);
                    row.values[col_session_updated_at] = TimestampTzGetDatum(v->now);
                    v->session_id = *DatumGetUUIDP(row.values[col_session_id]);
                }
                tuplestore_putvalues(v->rsinfo->setResult, v->rsinfo->setDesc, row.values, row.nulls);
            },
            &visit);
    });
    if (found && visit.extend) {
        SpiConnection spi;
        Datum args[2] = {UUIDPGetDatum(&visit.session_id),
                         TimestampTzGetDatum(visit.now + int64(settings::session_expires_in) * USECS_PER_SEC)};
        extend_plan.execute(args, nullptr, false, 0);
    }
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
