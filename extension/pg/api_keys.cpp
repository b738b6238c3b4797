// API keys on the hot path: auth.verify_api_key and auth.get_session_by_api_key,
// and the check behind the "apikey:<key>" credential (session.cpp).
//
// One lookup on the unique digest index (a plan prepared once per backend, no
// re-planning per call, no SET search_path: every name is schema-qualified).
// A key with `remaining` or a rate limit is then re-read under its row lock
// (FOR NO KEY UPDATE: a concurrent verify, update or delete has finished) and
// counted, so concurrent calls never spend more than it has; a key with
// neither is never written.
#include "pg/api_keys.hpp"

#include "pg/datum.hpp"
#include "pg/session.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <sodium.h>

#include "core/crypto.hpp"
#include "core/jwt.hpp"

namespace pgauth {
namespace {

// The key's columns, in this order, in both plans (see Key below).
#define PGAUTH_API_KEY_COLUMNS                                                                              \
    "a.id, a.user_id, a.enabled, a.expires_at, a.remaining, a.refill_amount, a.refill_interval,"           \
    " a.last_refill_at, a.created_at, a.rate_limit_enabled, a.rate_limit_time_window, a.rate_limit_max,"   \
    " a.request_count, a.last_request, a.permissions"
constexpr int key_columns = 15;
// find_plan's user columns, after the key's.
enum { u_is_active = key_columns + 1, u_email, u_name, u_image, u_email_verified, u_created_at, u_updated_at,
       u_role, u_para_wallet_id, find_columns = u_para_wallet_id };

const Oid find_types[] = {BYTEAOID};
KeptPlan find_plan("SELECT " PGAUTH_API_KEY_COLUMNS ", u.is_active, u.email, u.name, u.image, u.email_verified,"
                   " u.created_at, u.updated_at, u.role, u.para_wallet_id"
                   " FROM auth.api_keys a JOIN auth.users u ON u.id OPERATOR(pg_catalog.=) a.user_id"
                   " WHERE a.digest OPERATOR(pg_catalog.=) $1",
                   1, find_types);

const Oid lock_types[] = {UUIDOID};
KeptPlan lock_plan("SELECT " PGAUTH_API_KEY_COLUMNS
                   " FROM auth.api_keys a WHERE a.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
                   1, lock_types);

const Oid update_types[] = {UUIDOID, INT4OID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
KeptPlan update_plan("UPDATE auth.api_keys SET remaining = $2, request_count = $3, last_request = $4,"
                     " last_refill_at = $5 WHERE id OPERATOR(pg_catalog.=) $1",
                     5, update_types);

// Row 0 of SPI_tuptable, columns 1..n: Datums (pointing into SPI memory) and nulls.
struct Row {
    Datum values[find_columns + 1];
    bool nulls[find_columns + 1];
};

void read_row(Row& row, int columns) {
    // noexcept: SPI_getbinval over a fetched row
    pg_call([&]() noexcept {
        for (int c = 1; c <= columns; c++)
            row.values[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c, &row.nulls[c]);
    });
}

// The key's row as C++ values.
struct Key {
    pg_uuid_t id{}, user_id{};
    bool enabled = true, rate_limit_enabled = true;
    std::optional<TimestampTz> expires_at, last_refill_at, last_request;
    TimestampTz created_at = 0;
    std::optional<int> remaining, refill_amount, rate_limit_max;
    std::optional<int64> refill_interval, rate_limit_time_window;
    int request_count = 0;
    bool has_permissions = false;
    Datum permissions = 0;  // jsonb in SPI memory

    bool limited() const { return rate_limit_enabled && rate_limit_time_window && rate_limit_max; }
};

Key key_from(const Row& r) {
    auto ts = [&](int c) { return r.nulls[c] ? std::nullopt : std::optional<TimestampTz>(DatumGetTimestampTz(r.values[c])); };
    auto i4 = [&](int c) { return r.nulls[c] ? std::nullopt : std::optional<int>(DatumGetInt32(r.values[c])); };
    auto i8 = [&](int c) { return r.nulls[c] ? std::nullopt : std::optional<int64>(DatumGetInt64(r.values[c])); };
    Key k;
    k.id = *DatumGetUUIDP(r.values[1]);
    k.user_id = *DatumGetUUIDP(r.values[2]);
    k.enabled = DatumGetBool(r.values[3]);
    k.expires_at = ts(4);
    k.remaining = i4(5);
    k.refill_amount = i4(6);
    k.refill_interval = i8(7);
    k.last_refill_at = ts(8);
    k.created_at = DatumGetTimestampTz(r.values[9]);
    k.rate_limit_enabled = DatumGetBool(r.values[10]);
    k.rate_limit_time_window = i8(11);
    k.rate_limit_max = i4(12);
    k.request_count = DatumGetInt32(r.values[13]);
    k.last_request = ts(14);
    k.has_permissions = !r.nulls[15];
    k.permissions = r.values[15];
    return k;
}

// jsonb containment of two arrays as the permission check needs it: every
// requested action is among the granted ones.
bool contains_all(const jwt::Json& granted, const jwt::Json& wanted) {
    for (const auto& w : wanted) {
        bool found = false;
        for (const auto& g : granted)
            if (g == w) { found = true; break; }
        if (!found) return false;
    }
    return true;
}

// Every requested action of every requested resource is granted (Better-Auth
// answers KEY_NOT_FOUND when one is not). An empty object or JSON null asks for nothing.
bool permitted(const Key& k, const std::optional<std::string>& requested) {
    if (!requested) return true;
    jwt::Json want = jwt::Json::parse(*requested, nullptr, false);
    if (want.is_null()) return true;
    if (!want.is_object()) return false;
    if (want.empty()) return true;
    if (!k.has_permissions) return false;
    jwt::Json have = jwt::Json::parse(jsonb_text(k.permissions), nullptr, false);
    if (!have.is_object()) return false;
    for (const auto& [resource, actions] : want.items()) {
        auto it = have.find(resource);
        if (!actions.is_array() || it == have.end() || !it->is_array() || !contains_all(*it, actions)) return false;
    }
    return true;
}

std::optional<std::string> text_or_null(const Row& r, int c) {
    return r.nulls[c] ? std::nullopt : std::optional<std::string>(text_string(r.values[c]));
}

}  // namespace

ApiKeyCheck check_api_key(std::string_view key, const std::optional<std::string>& permissions, bool want_user) {
    ApiKeyCheck out;
    out.error = "INVALID_API_KEY";
    if (key.empty() || key.size() > max_api_key_length) return out;
    Digest digest = sha256(key);
    TimestampTz now = GetCurrentTimestamp();

    SpiConnection spi;
    Datum find_args[1] = {bytea_datum(digest)};
    if (find_plan.execute(find_args, nullptr, false, 1) == 0) return out;
    Row row;
    read_row(row, find_columns);
    Key k = key_from(row);
    bool user_active = DatumGetBool(row.values[u_is_active]);
    if (want_user) {
        UserRecord u;
        u.id = uuid_text(k.user_id);
        u.email = text_string(row.values[u_email]);
        u.name = text_string(row.values[u_name]);
        u.image = text_or_null(row, u_image);
        u.email_verified = DatumGetBool(row.values[u_email_verified]);
        u.created_at = DatumGetTimestampTz(row.values[u_created_at]);
        u.updated_at = DatumGetTimestampTz(row.values[u_updated_at]);
        u.role = text_or_null(row, u_role);
        u.para_wallet_id = text_or_null(row, u_para_wallet_id);
        out.user = std::move(u);
    }
    bool counted = k.remaining || k.limited();
    if (counted) {
        // Usage is consumed: the row as it is once concurrent writers have finished.
        Datum lock_args[1] = {uuid_datum(k.id)};
        if (lock_plan.execute(lock_args, nullptr, false, 1) == 0) {
            out.user.reset();
            return out;  // deleted meanwhile
        }
        Row locked;
        read_row(locked, key_columns);
        k = key_from(locked);
        counted = k.remaining || k.limited();
    }
    out.known = true;
    out.key_id = k.id;
    out.user_id = k.user_id;
    out.remaining = k.remaining;
    out.expires_at = k.expires_at;
    auto refuse = [&](const char* code) {
        out.error = code;
        out.user.reset();
        return out;
    };
    if (!k.enabled) return refuse("KEY_DISABLED");
    if (k.expires_at && *k.expires_at <= now) return refuse("KEY_EXPIRED");
    if (!user_active) return refuse("USER_INACTIVE");
    if (!permitted(k, permissions)) return refuse("KEY_NOT_FOUND");

    // remaining, with refill once refill_interval (ms) has passed since the last refill (or creation)
    std::optional<int> remaining = k.remaining;
    bool refilled = false;
    if (remaining) {
        if (*remaining == 0 && !k.refill_amount) {
            out.remaining = 0;
            return refuse("USAGE_EXCEEDED");
        }
        if (k.refill_amount && k.refill_interval &&
            now - k.last_refill_at.value_or(k.created_at) > *k.refill_interval * 1000) {
            remaining = *k.refill_amount;
            refilled = true;
        }
        if (*remaining == 0) {
            out.remaining = 0;
            return refuse("USAGE_EXCEEDED");
        }
        *remaining -= 1;
    }
    // the rate limit: a window of rate_limit_time_window ms from the request that
    // opened it, at most rate_limit_max requests in it
    int count = k.request_count;
    bool limited = k.limited();
    if (limited) {
        int64 window = *k.rate_limit_time_window * 1000;
        if (!k.last_request || now - *k.last_request > window) {
            count = 1;
        } else if (k.request_count >= *k.rate_limit_max) {
            out.retry_at = *k.last_request + window;
            return refuse("RATE_LIMITED");
        } else {
            count = k.request_count + 1;
        }
    }
    if (counted) {
        std::optional<TimestampTz> last_request = limited ? std::optional<TimestampTz>(now) : k.last_request;
        std::optional<TimestampTz> last_refill = refilled ? std::optional<TimestampTz>(now) : k.last_refill_at;
        Datum args[5] = {uuid_datum(k.id), remaining ? Int32GetDatum(*remaining) : Datum(0), Int32GetDatum(count),
                         last_request ? TimestampTzGetDatum(*last_request) : Datum(0),
                         last_refill ? TimestampTzGetDatum(*last_refill) : Datum(0)};
        char nulls[5] = {' ', remaining ? ' ' : 'n', ' ', last_request ? ' ' : 'n', last_refill ? ' ' : 'n'};
        update_plan.execute(args, nulls, false, 0);
    }
    out.error.clear();
    out.remaining = remaining;
    if (k.has_permissions) out.permissions = jsonb_text(k.permissions);
    return out;
}

}  // namespace pgauth

using namespace pgauth;

namespace {

void init_srf(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    bits32 flags = rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0;
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, flags); });
}

void put_row(FunctionCallInfo fcinfo, Datum* values, bool* nulls) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    // noexcept: stores plain Datums in the tuplestore
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
}

}  // namespace

// auth.verify_api_key(p_key text, p_permissions jsonb DEFAULT NULL)
//   -> TABLE (valid boolean, error_code text, key_id uuid, user_id uuid, remaining integer, permissions jsonb)
PGAUTH_FUNCTION(pgauth_verify_api_key)
Datum pgauth_verify_api_key_impl(FunctionCallInfo fcinfo) {
    init_srf(fcinfo);
    std::string key = arg_is_null(fcinfo, 0) ? std::string() : text_arg(fcinfo, 0);
    std::optional<std::string> permissions;
    if (!arg_is_null(fcinfo, 1)) permissions = jsonb_text(PG_GETARG_DATUM(1));
    ApiKeyCheck c = check_api_key(key, permissions, false);
    sodium_memzero(key.data(), key.size());
    bool valid = c.error.empty();
    Datum values[6] = {BoolGetDatum(valid), valid ? Datum(0) : text_datum(c.error),
                       c.known ? uuid_datum(c.key_id) : Datum(0), c.known ? uuid_datum(c.user_id) : Datum(0),
                       c.remaining ? Int32GetDatum(*c.remaining) : Datum(0),
                       c.permissions ? jsonb_datum(*c.permissions) : Datum(0)};
    bool nulls[6] = {false, valid, !c.known, !c.known, !c.remaining, !c.permissions};
    put_row(fcinfo, values, nulls);
    return 0;
}

// auth.get_session_by_api_key(p_key text) -> TABLE (body json, error_code text):
// Better-Auth's get-session body for a request carrying x-api-key, with the
// mock session of its enableSessionForAPIKeys (id and token = the key id,
// never the key), consuming one use; body NULL and the reason when refused.
PGAUTH_FUNCTION(pgauth_get_session_by_api_key)
Datum pgauth_get_session_by_api_key_impl(FunctionCallInfo fcinfo) {
    init_srf(fcinfo);
    std::string key = arg_is_null(fcinfo, 0) ? std::string() : text_arg(fcinfo, 0);
    ApiKeyCheck c = check_api_key(key, std::nullopt, true);
    sodium_memzero(key.data(), key.size());
    Datum values[2] = {0, 0};
    bool nulls[2] = {true, true};
    if (c.error.empty()) {
        LoadedSession s = api_key_session(c);
        values[0] = text_datum("{\"session\":" + session_json(s.session, s.session.id) + ",\"user\":" +
                               user_json(s.user, true) + "}");
        nulls[0] = false;
    } else {
        values[1] = text_datum(c.error);
        nulls[1] = false;
    }
    put_row(fcinfo, values, nulls);
    return 0;
}
