// Direct index scans for validate_session. The relation and index OIDs and
// column numbers are resolved by name once per backend and forgotten on any
// relcache invalidation of our relations (DROP/CREATE EXTENSION, upgrades).
#include "pg/session_lookup.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "storage/lockdefs.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace pgauth {
namespace {

struct Catalog {
    bool valid = false;
    Oid sessions = InvalidOid, token_index = InvalidOid, sessions_pkey = InvalidOid, users = InvalidOid, users_pkey = InvalidOid;
    AttrNumber s_id, s_user_id, s_expires_at, s_created_at, s_updated_at, s_ip, s_user_agent, s_remember_me, s_impersonated_by;
    AttrNumber u_id, u_email, u_name, u_image, u_email_verified, u_created_at, u_updated_at;
    AttrNumber u_role, u_para_wallet_id, u_is_active, u_banned, u_ban_expires, u_ban_reason, u_two_factor_enabled;
};

Catalog catalog;
bool callback_registered = false;

void forget_catalog(Datum, Oid relid) {
    if (relid == InvalidOid || relid == catalog.sessions || relid == catalog.token_index ||
        relid == catalog.sessions_pkey || relid == catalog.users ||
        relid == catalog.users_pkey)
        catalog.valid = false;
}

Oid relation(Oid ns, const char* name) {
    Oid oid = get_relname_relid(name, ns);
    if (!OidIsValid(oid)) elog(ERROR, "pgauth: relation auth.%s is missing", name);
    return oid;
}

AttrNumber column(Oid rel, const char* name) {
    AttrNumber n = get_attnum(rel, name);
    if (n == InvalidAttrNumber) elog(ERROR, "pgauth: column %s is missing", name);
    return n;
}

void resolve_catalog() {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(forget_catalog, 0);
        callback_registered = true;
    }
    Oid ns = get_namespace_oid("auth", false);
    Catalog c;
    c.sessions = relation(ns, "sessions");
    c.token_index = relation(ns, "sessions_token_hash_key");
    c.sessions_pkey = relation(ns, "sessions_pkey");
    c.users = relation(ns, "users");
    c.users_pkey = relation(ns, "users_pkey");
    c.s_id = column(c.sessions, "id");
    c.s_user_id = column(c.sessions, "user_id");
    c.s_expires_at = column(c.sessions, "expires_at");
    c.s_created_at = column(c.sessions, "created_at");
    c.s_updated_at = column(c.sessions, "updated_at");
    c.s_ip = column(c.sessions, "ip");
    c.s_user_agent = column(c.sessions, "user_agent");
    c.s_remember_me = column(c.sessions, "remember_me");
    c.s_impersonated_by = column(c.sessions, "impersonated_by");
    c.u_id = column(c.users, "id");
    c.u_email = column(c.users, "email");
    c.u_name = column(c.users, "name");
    c.u_image = column(c.users, "image");
    c.u_email_verified = column(c.users, "email_verified");
    c.u_created_at = column(c.users, "created_at");
    c.u_updated_at = column(c.users, "updated_at");
    c.u_role = column(c.users, "role");
    c.u_para_wallet_id = column(c.users, "para_wallet_id");
    c.u_is_active = column(c.users, "is_active");
    c.u_banned = column(c.users, "banned");
    c.u_ban_expires = column(c.users, "ban_expires");
    c.u_ban_reason = column(c.users, "ban_reason");
    c.u_two_factor_enabled = column(c.users, "two_factor_enabled");
    c.valid = true;
    catalog = c;
}

// An open relation + unique index scan for one key. Plain struct: released explicitly.
struct UniqueScan {
    Relation table;
    Relation index;
    IndexScanDesc scan;
    TupleTableSlot* slot;
};

bool scan_unique(UniqueScan& s, Oid table, Oid index, RegProcedure eq, Datum key, Snapshot snapshot) {
    s.table = table_open(table, AccessShareLock);
    s.index = index_open(index, AccessShareLock);
    ScanKeyData scankey;
    ScanKeyInit(&scankey, 1, BTEqualStrategyNumber, eq, key);
    s.scan = index_beginscan(s.table, s.index, snapshot, 1, 0);
    index_rescan(s.scan, &scankey, 1, nullptr, 0);
    s.slot = table_slot_create(s.table, nullptr);
    bool found = index_getnext_slot(s.scan, ForwardScanDirection, s.slot);
    if (found) slot_getallattrs(s.slot);
    return found;
}

void end_scan(UniqueScan& s) {
    ExecDropSingleTupleTableSlot(s.slot);
    index_endscan(s.scan);
    index_close(s.index, NoLock);
    table_close(s.table, NoLock);  // locks are held to the end of the transaction, as usual
}

Datum attr(TupleTableSlot* slot, AttrNumber n, bool* isnull) {
    *isnull = slot->tts_isnull[n - 1];
    return slot->tts_values[n - 1];
}

}  // namespace

bool lookup_session(Datum digest, TimestampTz now, SessionVisitor visit, void* context) {
    if (!catalog.valid) resolve_catalog();
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();

    UniqueScan session;
    bool found = scan_unique(session, catalog.sessions, catalog.token_index, F_BYTEAEQ, digest, snapshot);
    bool isnull = false;
    if (found) {
        TimestampTz expires_at = DatumGetTimestampTz(attr(session.slot, catalog.s_expires_at, &isnull));
        found = expires_at > now;
    }
    if (found) {
        UniqueScan user;
        Datum user_id = attr(session.slot, catalog.s_user_id, &isnull);
        found = scan_unique(user, catalog.users, catalog.users_pkey, F_UUID_EQ, user_id, snapshot);
        if (found)
            found = DatumGetBool(attr(user.slot, catalog.u_is_active, &isnull));  // deactivated users have no session
        if (found && DatumGetBool(attr(user.slot, catalog.u_banned, &isnull))) {
            // a banned user has no session (the same row: no extra read); an expired ban no longer counts
            bool no_expiry = false;
            Datum ban_expires = attr(user.slot, catalog.u_ban_expires, &no_expiry);
            found = !no_expiry && DatumGetTimestampTz(ban_expires) <= now;
        }
        if (found) {
            SessionRow row;
            const AttrNumber user_columns[] = {catalog.u_id, catalog.u_email, catalog.u_name, catalog.u_image,
                                               catalog.u_email_verified, catalog.u_created_at, catalog.u_updated_at};
            const AttrNumber session_columns[] = {catalog.s_id, catalog.s_expires_at, catalog.s_created_at,
                                                  catalog.s_updated_at, catalog.s_ip, catalog.s_user_agent};
            const AttrNumber profile_columns[] = {catalog.u_role, catalog.u_para_wallet_id};
            int i = 0;
            for (AttrNumber n : user_columns) { row.values[i] = attr(user.slot, n, &row.nulls[i]); ++i; }
            for (AttrNumber n : session_columns) { row.values[i] = attr(session.slot, n, &row.nulls[i]); ++i; }
            for (AttrNumber n : profile_columns) { row.values[i] = attr(user.slot, n, &row.nulls[i]); ++i; }
            row.remember_me = DatumGetBool(attr(session.slot, catalog.s_remember_me, &isnull));
            row.banned = DatumGetBool(attr(user.slot, catalog.u_banned, &isnull));
            row.two_factor_enabled = DatumGetBool(attr(user.slot, catalog.u_two_factor_enabled, &isnull));
            row.ban_reason = attr(user.slot, catalog.u_ban_reason, &row.ban_reason_null);
            row.ban_expires = attr(user.slot, catalog.u_ban_expires, &row.ban_expires_null);
            row.impersonated_by = attr(session.slot, catalog.s_impersonated_by, &row.impersonated_by_null);
            visit(row, context);
        }
        end_scan(user);
    }
    end_scan(session);
    return found;
}

bool session_is_live(const pg_uuid_t& session_id, TimestampTz now) {
    if (!catalog.valid) resolve_catalog();
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
    UniqueScan session;
    bool found = scan_unique(session, catalog.sessions, catalog.sessions_pkey, F_UUID_EQ,
                             UUIDPGetDatum(const_cast<pg_uuid_t*>(&session_id)), snapshot);
    bool isnull = false;
    if (found) found = DatumGetTimestampTz(attr(session.slot, catalog.s_expires_at, &isnull)) > now;
    end_scan(session);
    return found;
}

}  // namespace pgauth
