// Sign-in lockout (ASVS V2.2.1). Consecutive failed sign-ins for an email grow
// a delay: from pgauth.lockout_threshold failures on, the email is locked for
// 2^(failures - threshold) seconds, capped at pgauth.lockout_max_delay. A
// success (or a password change) clears it.
//
// The counts live in memory, not in a table: a failed sign-in raises an error,
// which rolls back everything its transaction wrote, and PostgreSQL has no
// autonomous transactions. With shared_preload_libraries = 'pgauth' the table
// is in shared memory (every backend sees it; a restart forgets it); without
// it each backend counts alone, which only slows an attacker on one connection.
//
// Keys are SHA-256 digests of the normalized email (and the database), for unknown emails too: the
// answer (ACCOUNT_LOCKED or INVALID_EMAIL_OR_PASSWORD) never says whether an
// account exists.
#include "pg/lockout.hpp"

#include "pg/datum.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
}

#include <algorithm>
#include <cstring>

#include "core/crypto.hpp"

namespace pgauth {
namespace {

constexpr long max_entries = 16384;                       // about 1 MB of shared memory
constexpr int64 forget_after = int64(24) * 3600 * USECS_PER_SEC;  // a failure a day old no longer counts
constexpr const char* tranche = "pgauth_lockout";

struct Entry {
    std::uint8_t key[32];  // SHA-256 of the normalized email and the database
    int32 failures;
    TimestampTz last_failure;
    TimestampTz locked_until;
};

HTAB* table = nullptr;
LWLock* lock = nullptr;  // nullptr: this backend's own table
shmem_request_hook_type previous_request = nullptr;
shmem_startup_hook_type previous_startup = nullptr;

void request_memory() {
    if (previous_request) previous_request();
    RequestAddinShmemSpace(hash_estimate_size(max_entries, sizeof(Entry)));
    RequestNamedLWLockTranche(tranche, 1);
}

void attach_memory() {
    if (previous_startup) previous_startup();
    HASHCTL info;
    std::memset(&info, 0, sizeof info);
    info.keysize = 32;
    info.entrysize = sizeof(Entry);
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    table = ShmemInitHash("pgauth sign-in lockout", max_entries, max_entries, &info, HASH_ELEM | HASH_BLOBS);
    lock = &GetNamedLWLockTranche(tranche)->lock;
    LWLockRelease(AddinShmemInitLock);
}

// Plain C from here on: runs inside pg_call. Nothing between LWLockAcquire and
// LWLockRelease may ereport (a caught error would leave the lock held): the
// shared table is used with HASH_FIND, HASH_REMOVE and HASH_ENTER_NULL only.
void ensure_table() {
    if (table) return;
    HASHCTL info;
    std::memset(&info, 0, sizeof info);
    info.keysize = 32;
    info.entrysize = sizeof(Entry);
    info.hcxt = TopMemoryContext;
    table = hash_create("pgauth sign-in lockout (this backend)", 256, &info, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

void acquire(LWLockMode mode) { if (lock) LWLockAcquire(lock, mode); }
void release() { if (lock) LWLockRelease(lock); }

bool stale(const Entry* e, TimestampTz now) { return e->last_failure < now - forget_after && e->locked_until <= now; }

// Frees entries nobody needs any more. Caller holds the lock exclusively.
void prune(TimestampTz now) {
    HASH_SEQ_STATUS status;
    hash_seq_init(&status, table);
    while (auto* e = static_cast<Entry*>(hash_seq_search(&status)))
        if (stale(e, now)) hash_search(table, e->key, HASH_REMOVE, nullptr);
}

int seconds_until(TimestampTz until, TimestampTz now) {
    return until > now ? static_cast<int>((until - now + USECS_PER_SEC - 1) / USECS_PER_SEC) : 0;
}

int locked_for(const Digest& key, TimestampTz now) {
    ensure_table();
    acquire(LW_SHARED);
    auto* e = static_cast<Entry*>(hash_search(table, key.data(), HASH_FIND, nullptr));
    int left = e && !stale(e, now) ? seconds_until(e->locked_until, now) : 0;
    release();
    return left;
}

int record_failure(const Digest& key, TimestampTz now, int threshold, int max_delay) {
    ensure_table();
    acquire(LW_EXCLUSIVE);
    bool found = false;
    HASHACTION enter = lock ? HASH_ENTER_NULL : HASH_ENTER;
    auto* e = static_cast<Entry*>(hash_search(table, key.data(), enter, &found));
    if (!e) {
        prune(now);
        e = static_cast<Entry*>(hash_search(table, key.data(), enter, &found));
    }
    int left = 0;
    if (e) {  // a full shared table (max_entries emails failing within a day) records nothing more
        if (!found || stale(e, now)) {
            e->failures = 0;
            e->locked_until = 0;
        }
        e->failures = std::min(e->failures + 1, 1 << 20);
        e->last_failure = now;
        if (e->failures >= threshold) {
            int exponent = std::min(e->failures - threshold, 30);
            int64 delay = std::min<int64>(int64(1) << exponent, max_delay);
            e->locked_until = now + delay * USECS_PER_SEC;
            left = static_cast<int>(delay);
        }
    }
    if (!lock && hash_get_num_entries(table) > max_entries) prune(now);  // this backend's table stays bounded too
    release();
    return left;
}

void forget(const Digest& key) {
    ensure_table();
    acquire(LW_EXCLUSIVE);
    hash_search(table, key.data(), HASH_REMOVE, nullptr);
    release();
}

// The shared table serves every database of the cluster: the same email in two
// databases is two accounts, so the key covers the database too.
Digest email_key(FunctionCallInfo fcinfo) {
    std::string key = text_arg(fcinfo, 0);
    key.push_back('\0');
    key.append(std::to_string(MyDatabaseId));
    return sha256(key);
}

}  // namespace

void request_lockout_memory() {
    if (!process_shared_preload_libraries_in_progress) return;
    previous_request = shmem_request_hook;
    shmem_request_hook = request_memory;
    previous_startup = shmem_startup_hook;
    shmem_startup_hook = attach_memory;
}

}  // namespace pgauth

using namespace pgauth;

// auth.sign_in_lock(email text) -> integer: seconds this (normalized) email stays locked, 0 if it is not.
PGAUTH_FUNCTION(pgauth_sign_in_lock)
Datum pgauth_sign_in_lock_impl(FunctionCallInfo fcinfo) {
    if (settings::lockout_threshold <= 0) PG_RETURN_INT32(0);
    Digest key = email_key(fcinfo);
    TimestampTz now = GetCurrentTimestamp();
    // noexcept: hash table calls under an LWLock (see above)
    PG_RETURN_INT32(pg_call([&]() noexcept { return locked_for(key, now); }));
}

// auth.sign_in_failed(email text) -> integer: counts a failed sign-in; returns the lock it starts (seconds, 0 for none).
PGAUTH_FUNCTION(pgauth_sign_in_failed)
Datum pgauth_sign_in_failed_impl(FunctionCallInfo fcinfo) {
    if (settings::lockout_threshold <= 0) PG_RETURN_INT32(0);
    Digest key = email_key(fcinfo);
    TimestampTz now = GetCurrentTimestamp();
    int threshold = settings::lockout_threshold, max_delay = settings::lockout_max_delay;
    // noexcept: hash table calls under an LWLock (see above)
    PG_RETURN_INT32(pg_call([&]() noexcept { return record_failure(key, now, threshold, max_delay); }));
}

// auth.sign_in_reset(email text) -> void: a successful sign-in or a new password clears the count.
PGAUTH_FUNCTION(pgauth_sign_in_reset)
Datum pgauth_sign_in_reset_impl(FunctionCallInfo fcinfo) {
    Digest key = email_key(fcinfo);
    // noexcept: hash table calls under an LWLock (see above)
    pg_call([&]() noexcept { forget(key); });
    PG_RETURN_VOID();
}
