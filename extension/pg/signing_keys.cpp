// Signing keys: auth.jwks, the per-backend key cache, the KEK file
// (pgauth.key_file) that seals the private keys, rotation and import, the JWKS
// document and auth.key_status().
//
// Each backend caches the keys: the public keys parsed, the current signing
// key unsealed on first use. A statement trigger on auth.jwks sends a relcache
// invalidation for every change, so every backend (standbys included, through
// the WAL) reloads after a rotation; verifying a token needs no query.
#include "pg/signing_keys.hpp"

#include "pg/datum.hpp"
#include "pg/settings.hpp"

#include "core/crypto.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sodium.h>

namespace pgauth {
namespace {

using jwt::Alg;
using jwt::OrderedJson;

constexpr const char* key_unavailable = "SIGNING_KEY_UNAVAILABLE";

struct CachedKey {
    jwt::PublicKey key;
    std::optional<TimestampTz> retires_at;
    std::vector<std::uint8_t> sealed;  // empty for a public-only key
    bool secondary = false;            // created for one algorithm only: never the session key
};

struct KeyCache {
    bool loaded = false;
    std::vector<CachedKey> keys;  // newest first
    int current = -1;             // index of the signing key, -1 when there is none
    std::optional<jwt::SigningKey> signer;
    // Per algorithm (EdDSA, ES256, RS256): the newest published key with a private
    // part, -1 when there is none; and its unsealed form. The OAuth provider signs
    // id_tokens with the client's algorithm (RS256 by default) through these.
    std::array<int, 3> current_by_alg{-1, -1, -1};
    std::array<std::optional<jwt::SigningKey>, 3> signer_by_alg;
};

KeyCache cache;

Oid jwks_relid = InvalidOid;
bool callback_registered = false;

void forget_keys(Datum, Oid relid) {
    if (relid == InvalidOid || relid == jwks_relid) cache.loaded = false;
}

bool published(const CachedKey& k, TimestampTz now) { return !k.retires_at || *k.retires_at > now; }

// Reloads auth.jwks when a change was signalled (or on first use).
void load_keys() {
    if (cache.loaded) return;
    if (!callback_registered) {
        pg_call([]() noexcept { CacheRegisterRelcacheCallback(forget_keys, 0); });
        callback_registered = true;
    }
    KeyCache fresh;
    {
        SpiConnection spi;
        // noexcept: one catalog call with plain arguments
        jwks_relid = pg_call([]() noexcept { return get_relname_relid("jwks", get_namespace_oid("auth", false)); });
        // noexcept: catalog lookups with string literals
        // noexcept: SPI calls and elog only; the SQL is a literal
        uint64 rows = pg_call([]() noexcept {
            // secondary (0.5.0) is read through to_jsonb so that a library newer than
            // the installed schema still loads the keys.
            if (SPI_execute("SELECT kid, alg, public_jwk::pg_catalog.text, retires_at, private_key,"
                            " pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'secondary'"
                            " FROM auth.jwks j ORDER BY created_at DESC, kid",
                            false, 0) != SPI_OK_SELECT)
                elog(ERROR, "pgauth: reading auth.jwks failed");
            return SPI_processed;
        });
        for (uint64 i = 0; i < rows; i++) {
            CachedKey entry{jwt::PublicKey::from_jwk(jwt::Json::parse(spi_text(i, 3))), std::nullopt, {}};
            if (entry.key.kid() != spi_text(i, 1) || jwt::alg_name(entry.key.alg()) != spi_text(i, 2))
                throw AuthError(key_unavailable, "auth.jwks has a row whose kid or alg does not match its key");
            SpiCell retires = spi_cell(i, 4);
            if (!retires.null) entry.retires_at = DatumGetTimestampTz(retires.value);
            SpiCell sealed = spi_cell(i, 5);
            if (!sealed.null) entry.sealed = bytea_bytes(sealed.value);
            entry.secondary = spi_text(i, 6) == "true";
            if (fresh.current < 0 && !entry.retires_at && !entry.sealed.empty() && !entry.secondary)
                fresh.current = static_cast<int>(fresh.keys.size());
            auto a = static_cast<std::size_t>(entry.key.alg());
            if (fresh.current_by_alg[a] < 0 && !entry.retires_at && !entry.sealed.empty())
                fresh.current_by_alg[a] = static_cast<int>(fresh.keys.size());
            fresh.keys.push_back(std::move(entry));
        }
    }
    fresh.loaded = true;
    cache = std::move(fresh);
}

}  // namespace

namespace {

// A KEK file, checked like PostgreSQL checks ssl_key_file; `setting` names it in errors.
jwt::SecretBytes read_kek_file(const char* path, const std::string& setting) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw AuthError(key_unavailable, setting + " cannot be read: " + std::strerror(errno));
    struct stat st {};
    std::string contents(256, '\0');
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, contents.data(), contents.size()) : -1;
    close(fd);
    if (n < 0) throw AuthError(key_unavailable, setting + " is not a readable regular file");
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        sodium_memzero(contents.data(), contents.size());
        throw AuthError(key_unavailable, setting + " must not be accessible by group or others (chmod 600)");
    }
    contents.resize(static_cast<std::size_t>(n));
    try {
        jwt::SecretBytes kek = jwt::parse_kek(contents);
        sodium_memzero(contents.data(), contents.size());
        return kek;
    } catch (const std::runtime_error& e) {
        sodium_memzero(contents.data(), contents.size());
        throw AuthError(key_unavailable, setting + " " + e.what());
    }
}

}  // namespace

// The KEK from pgauth.key_file.
jwt::SecretBytes read_kek() {
    const char* path = settings::key_file;
    if (!path || !*path)
        throw AuthError(key_unavailable, "pgauth.key_file is not set: a superuser must point it at a 32-byte key file");
    return read_kek_file(path, "pgauth.key_file");
}

std::optional<jwt::SecretBytes> read_previous_kek() {
    const char* path = settings::previous_key_file;
    if (!path || !*path) return std::nullopt;
    return read_kek_file(path, "pgauth.previous_key_file");
}

std::optional<jwt::SecretBytes> open_sealed(std::span<const std::uint8_t> sealed, std::string_view aad, bool* previous) {
    jwt::SecretBytes kek = read_kek();
    try {
        jwt::SecretBytes plain = jwt::unseal(kek.bytes(), {sealed.data(), sealed.size()}, aad);
        if (previous) *previous = false;
        return plain;
    } catch (const std::runtime_error&) {
    }
    std::optional<jwt::SecretBytes> old = read_previous_kek();
    if (!old) return std::nullopt;
    try {
        jwt::SecretBytes plain = jwt::unseal(old->bytes(), {sealed.data(), sealed.size()}, aad);
        if (previous) *previous = true;
        return plain;
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

Datum seal_text_arg(FunctionCallInfo fcinfo, int arg, std::string_view aad) {
    std::string value = text_arg(fcinfo, arg);
    jwt::SecretBytes kek = read_kek();
    auto sealed = jwt::seal(kek.bytes(), as_bytes(value), aad);
    sodium_memzero(value.data(), value.size());
    return bytea_datum(sealed);
}

std::optional<Datum> open_bytea_arg(FunctionCallInfo fcinfo, int arg, std::string_view aad) {
    std::vector<std::uint8_t> sealed = bytea_bytes(PG_GETARG_DATUM(arg));
    std::optional<jwt::SecretBytes> plain = open_sealed(sealed, aad);  // the current KEK, else the previous one
    if (!plain) return std::nullopt;
    return text_datum({reinterpret_cast<const char*>(plain->data()), plain->size()});
}

namespace {

// noexcept callback: RecoveryInProgress reads shared memory
bool writable() { return !pg_call([]() noexcept { return RecoveryInProgress(); }) && !XactReadOnly; }

// Inserts a key and makes it the signing key: the keys it replaces stay
// published for pgauth.jwt_key_grace_period. Concurrent rotations queue on
// the table lock. Returns false when the kid is already present.
bool insert_key(const jwt::PublicKey& key, const std::vector<std::uint8_t>* sealed, bool secondary = false) {
    SpiConnection spi;
    std::string jwk = key.jwk().dump();
    std::string kid = key.kid();
    std::string alg(jwt::alg_name(key.alg()));
    Datum blob = sealed ? bytea_datum(*sealed) : Datum(0);
    // noexcept: SPI calls and c_str() of strings built above
    return pg_call([&]() noexcept {
        if (SPI_execute("LOCK TABLE auth.jwks IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0)
            elog(ERROR, "pgauth: locking auth.jwks failed");
        if (sealed && !secondary) {
            // Qualified operators and functions: see the note on internal SQL in session.cpp.
            // A rotation retires the signing keys it replaces: every primary key, and a
            // secondary key (created for the OAuth provider's id_tokens) of the same
            // algorithm; secondary keys of other algorithms stay current.
            Oid types[2] = {FLOAT8OID, TEXTOID};
            Datum args[2] = {Float8GetDatum(static_cast<double>(settings::jwt_key_grace_period)),
                             CStringGetTextDatum(alg.c_str())};
            if (SPI_execute_with_args(
                    "UPDATE auth.jwks j SET retires_at = pg_catalog.now() OPERATOR(pg_catalog.+)"
                    " pg_catalog.make_interval(secs => $1)"
                    " WHERE retires_at IS NULL AND private_key IS NOT NULL"
                    " AND (COALESCE(pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'secondary', 'false')"
                    " OPERATOR(pg_catalog.<>) 'true'"
                    " OR j.alg OPERATOR(pg_catalog.=) $2)",
                    2, types, args, nullptr, false, 0) < 0)
                elog(ERROR, "pgauth: retiring keys failed");
        }
        Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, BYTEAOID};
        Datum args[4] = {CStringGetTextDatum(kid.c_str()), CStringGetTextDatum(alg.c_str()),
                         CStringGetTextDatum(jwk.c_str()), blob};
        char nulls[4] = {' ', ' ', ' ', sealed ? ' ' : 'n'};
        if (SPI_execute_with_args(secondary ? "INSERT INTO auth.jwks (kid, alg, public_jwk, private_key, secondary)"
                                              " VALUES ($1, $2, $3::pg_catalog.jsonb, $4, true)"
                                              " ON CONFLICT (kid) DO NOTHING"
                                            : "INSERT INTO auth.jwks (kid, alg, public_jwk, private_key)"
                                              " VALUES ($1, $2, $3::pg_catalog.jsonb, $4) ON CONFLICT (kid) DO NOTHING",
                                  4, types, args, nulls, false, 0) < 0)
            elog(ERROR, "pgauth: inserting into auth.jwks failed");
        return SPI_processed == 1;
    });
}

std::string add_signing_key(const jwt::SigningKey& key, bool secondary = false) {
    jwt::SecretBytes kek = read_kek();
    jwt::SecretBytes secret = key.private_bytes();
    auto sealed = jwt::seal(kek.bytes(), secret.bytes(), key.public_key().kid());
    if (!insert_key(key.public_key(), &sealed, secondary))
        throw AuthError("INVALID_KEY", "this key is already in auth.jwks");
    cache.loaded = false;
    return key.public_key().kid();
}

// First use: create an EdDSA key unless one appeared meanwhile.
void create_first_key() {
    {
        SpiConnection spi;
        // noexcept: SPI calls and elog only; the SQL is literals
        bool exists = pg_call([]() noexcept {
            if (SPI_execute("LOCK TABLE auth.jwks IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0 ||
                // a secondary key (made for one algorithm's OAuth id_tokens) is never the session key
                SPI_execute("SELECT 1 FROM auth.jwks j WHERE j.retires_at IS NULL AND j.private_key IS NOT NULL"
                            " AND COALESCE(pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'secondary', 'false')"
                            " OPERATOR(pg_catalog.=) 'false'",
                            false, 1) != SPI_OK_SELECT)
                elog(ERROR, "pgauth: reading auth.jwks failed");
            return SPI_processed > 0;
        });
        if (exists) {
            cache.loaded = false;
            return;
        }
    }
    add_signing_key(jwt::SigningKey::generate(Alg::EdDSA));
}

// The private key of `current`, opened with the KEK read from pgauth.key_file now
// (or, during a rotation, pgauth.previous_key_file).
jwt::SecretBytes unseal_current(const CachedKey& current) {
    std::optional<jwt::SecretBytes> plain = open_sealed(current.sealed, current.key.kid());
    if (!plain) throw AuthError(key_unavailable, "the signing key does not open with the key in pgauth.key_file");
    return std::move(*plain);
}

}  // namespace

const jwt::SigningKey& signer() {
    load_keys();
    if (cache.current < 0) {
        if (!writable()) throw AuthError(key_unavailable, "there is no signing key yet and this server is read-only");
        create_first_key();
        load_keys();
        if (cache.current < 0) throw AuthError(key_unavailable, "no signing key could be created");
    }
    if (!cache.signer) {
        const CachedKey& current = cache.keys[static_cast<std::size_t>(cache.current)];
        jwt::SecretBytes secret = unseal_current(current);
        cache.signer = jwt::SigningKey::from_private_bytes(current.key.alg(), secret.bytes());
    }
    return *cache.signer;
}

const jwt::SigningKey& signer_for(jwt::Alg alg) {
    auto a = static_cast<std::size_t>(alg);
    load_keys();
    // The session key comes first: an id_token signed before any session JWT must not leave the
    // database with only a secondary key of the session key's algorithm.
    if (cache.current < 0 && writable()) {
        signer();
        load_keys();
    }
    if (cache.current_by_alg[a] < 0) {
        if (!writable()) throw AuthError(key_unavailable, "there is no signing key for this algorithm and this server is read-only");
        {
            SpiConnection spi;
            std::string name(jwt::alg_name(alg));
            // noexcept: SPI calls and elog only; c_str() of a string built above
            bool exists = pg_call([&]() noexcept {
                Oid types[1] = {TEXTOID};
                Datum args[1] = {CStringGetTextDatum(name.c_str())};
                if (SPI_execute("LOCK TABLE auth.jwks IN SHARE ROW EXCLUSIVE MODE", false, 0) < 0 ||
                    SPI_execute_with_args("SELECT 1 FROM auth.jwks WHERE retires_at IS NULL AND private_key IS NOT NULL"
                                          " AND alg OPERATOR(pg_catalog.=) $1",
                                          1, types, args, nullptr, false, 1) != SPI_OK_SELECT)
                    elog(ERROR, "pgauth: reading auth.jwks failed");
                return SPI_processed > 0;
            });
            cache.loaded = false;
            if (!exists) add_signing_key(jwt::SigningKey::generate(alg), true);
        }
        load_keys();
        if (cache.current_by_alg[a] < 0) throw AuthError(key_unavailable, "no signing key could be created");
    }
    // the session key, when it is this algorithm's current key, is unsealed once
    if (cache.current_by_alg[a] == cache.current) return signer();
    if (!cache.signer_by_alg[a]) {
        const CachedKey& current = cache.keys[static_cast<std::size_t>(cache.current_by_alg[a])];
        jwt::SecretBytes secret = unseal_current(current);
        cache.signer_by_alg[a] = jwt::SigningKey::from_private_bytes(current.key.alg(), secret.bytes());
    }
    return *cache.signer_by_alg[a];
}

const jwt::PublicKey& verification_key(std::string_view kid, TimestampTz now) {
    load_keys();
    for (const CachedKey& k : cache.keys) {
        if (k.key.kid() != kid) continue;
        if (!published(k, now)) throw AuthError("INVALID_TOKEN", "the signing key has been retired");
        return k.key;
    }
    throw AuthError("INVALID_TOKEN", "unknown kid");
}

}  // namespace pgauth

using namespace pgauth;

// auth.rotate_signing_key(alg text DEFAULT 'EdDSA') -> text kid
PGAUTH_FUNCTION(pgauth_rotate_signing_key)
Datum pgauth_rotate_signing_key_impl(FunctionCallInfo fcinfo) {
    std::string name = arg_is_null(fcinfo, 0) ? "EdDSA" : text_arg(fcinfo, 0);
    auto alg = jwt::parse_alg(name);
    if (!alg) throw AuthError("INVALID_KEY", "alg must be EdDSA, ES256 or RS256");
    return text_datum(add_signing_key(jwt::SigningKey::generate(*alg)));
}

// auth.import_signing_key(jwk jsonb) -> text kid
PGAUTH_FUNCTION(pgauth_import_signing_key)
Datum pgauth_import_signing_key_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("INVALID_KEY", "a JWK is required");
    std::string text = jsonb_text(PG_GETARG_DATUM(0));
    jwt::Json jwk = jwt::Json::parse(text, nullptr, false);
    sodium_memzero(text.data(), text.size());
    if (jwk.is_discarded() || !jwk.is_object()) throw AuthError("INVALID_KEY", "a JWK must be a JSON object");
    if (jwk.contains("d")) {
        std::string kid = add_signing_key(jwt::SigningKey::from_jwk(jwk));
        jwk.clear();
        return text_datum(kid);
    }
    jwt::PublicKey key = jwt::PublicKey::from_jwk(jwk);
    if (!insert_key(key, nullptr)) throw AuthError("INVALID_KEY", "this key is already in auth.jwks");
    cache.loaded = false;
    return text_datum(key.kid());
}

// auth.jwks() -> jsonb: {"keys": [...]}, the published public keys, newest first.
PGAUTH_FUNCTION(pgauth_jwks)
Datum pgauth_jwks_impl(FunctionCallInfo fcinfo) {
    load_keys();
    if (cache.keys.empty() && writable()) {
        // Publishing needs no KEK; creating the first key does. Without one the
        // set stays empty (key_status() says why) rather than failing /jwks.
        try {
            create_first_key();
        } catch (const AuthError& e) {
            if (e.code() != key_unavailable) throw;
        }
        load_keys();
    }
    TimestampTz now = GetCurrentTimestamp();
    OrderedJson keys = OrderedJson::array();
    for (const CachedKey& k : cache.keys)
        if (published(k, now)) keys.push_back(k.key.jwk());
    return jsonb_datum(OrderedJson{{"keys", keys}}.dump());
}

// Statement trigger on auth.jwks: every change invalidates every backend's key cache.
PGAUTH_FUNCTION(pgauth_jwks_changed)
Datum pgauth_jwks_changed_impl(FunctionCallInfo fcinfo) {
    // noexcept: trigger-data checks and an invalidation call
    pg_call([&]() noexcept {
        if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pgauth: jwks_changed must be called as a trigger");
        CacheInvalidateRelcacheByRelid(RelationGetRelid(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation));
    });
    cache.loaded = false;
    return PointerGetDatum(nullptr);
}

// auth.key_status() -> TABLE (status text, reason text): 'ok' when this server
// can sign session JWTs (the current key opens with pgauth.key_file, or there is
// none yet and one can be created), else SIGNING_KEY_UNAVAILABLE and why. The
// reason names the problem, never a key or the file's contents. Writes nothing.
PGAUTH_FUNCTION(pgauth_key_status)
Datum pgauth_key_status_impl(FunctionCallInfo fcinfo) {
    std::string status = "ok", reason;
    try {
        load_keys();
        // The key file is read now, not trusted from this backend's cache: the
        // answer holds for every new connection.
        if (cache.current >= 0) {
            unseal_current(cache.keys[static_cast<std::size_t>(cache.current)]);
        } else {
            if (!writable()) throw AuthError(key_unavailable, "there is no signing key yet and this server is read-only");
            read_kek();  // the first key will be sealed with it
        }
    } catch (const AuthError& e) {
        status = e.code();
        reason = e.reason();
    }
    // noexcept: catalog calls and elog
    TupleDesc desc = pg_call([&]() noexcept {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "pgauth: key_status must return a composite");
        return BlessTupleDesc(d);
    });
    Datum values[2] = {text_datum(status), reason.empty() ? Datum(0) : text_datum(reason)};
    bool nulls[2] = {false, reason.empty()};
    // noexcept: forms a tuple from plain Datums
    return pg_call([&]() noexcept { return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)); });
}
