// Keys: the vault's sealing and API key generation.
//
// The per-user vault's sealing: values are sealed under the KEK
// (pgauth.key_file) with XChaCha20-Poly1305, the associated data being the
// 16 bytes of the user id followed by the entry name, so a sealed value
// copied onto another row (user or name) does not open. The tables and the
// rules (names, limits, masking, audit) are plpgsql in the install script;
// these two functions are internal to it (no role but the owner executes them).
#include "pg/datum.hpp"
#include "pg/signing_keys.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/tuplestore.h"
}

#include <sodium.h>

namespace pgauth {
namespace {

std::string associated_data(FunctionCallInfo fcinfo) {
    // noexcept: reads a fixed-length pass-by-reference argument
    const pg_uuid_t* user = pg_call([&]() noexcept { return DatumGetUUIDP(PG_GETARG_DATUM(0)); });
    std::string aad(reinterpret_cast<const char*>(user->data), UUID_LEN);
    aad += text_arg(fcinfo, 1);
    return aad;
}

}  // namespace
}  // namespace pgauth

using namespace pgauth;

// auth.vault_seal(user_id uuid, name text, value text) -> bytea (STRICT)
PGAUTH_FUNCTION(pgauth_vault_seal)
Datum pgauth_vault_seal_impl(FunctionCallInfo fcinfo) {
    return seal_text_arg(fcinfo, 2, associated_data(fcinfo));
}

// auth.vault_open(user_id uuid, name text, sealed bytea) -> text (STRICT).
// VAULT_VALUE_UNREADABLE when it does not open: another row's value, a
// tampered value, or another KEK.
PGAUTH_FUNCTION(pgauth_vault_open)
Datum pgauth_vault_open_impl(FunctionCallInfo fcinfo) {
    if (std::optional<Datum> value = open_bytea_arg(fcinfo, 2, associated_data(fcinfo))) return *value;
    throw AuthError("VAULT_VALUE_UNREADABLE",
                    "the vault value does not open: it belongs to another user or name, was altered, or was "
                    "sealed under another KEK");
}

// auth.api_key_generate(prefix text) -> text (STRICT): prefix followed by 64
// characters drawn uniformly from [a-zA-Z] (Better-Auth's default key: 64
// letters, about 365 bits), from libsodium's CSPRNG.
PGAUTH_FUNCTION(pgauth_api_key_generate)
Datum pgauth_api_key_generate_impl(FunctionCallInfo fcinfo) {
    static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string key = text_arg(fcinfo, 0);
    for (int i = 0; i < 64; ++i) key += letters[randombytes_uniform(sizeof letters - 1)];
    Datum out = text_datum(key);
    sodium_memzero(key.data(), key.size());
    return out;
}

// ---------------------------------------------------------------- re-sealing under a new KEK
namespace pgauth {
namespace {

// Every column sealed under the KEK, with the SQL expression that builds a
// row's associated data (as bytea) exactly as the code that sealed it did. A
// new sealed column is one line here; auth.reseal() then re-seals it too.
struct SealedColumn {
    const char* kind;    // the name auth.reseal() reports
    const char* table;   // schema-qualified
    const char* column;  // bytea, NULL when there is nothing sealed
    const char* aad;     // over the row's columns; every operator and function qualified
};
constexpr SealedColumn sealed_columns[] = {
    {"signing_keys", "auth.jwks", "private_key", "pg_catalog.convert_to(kid, 'UTF8')"},
    {"vault", "auth.vault", "sealed",
     "pg_catalog.uuid_send(user_id) OPERATOR(pg_catalog.||) pg_catalog.convert_to(name, 'UTF8')"},
    // social.cpp: "pgauth.social" NUL, the account row id, the column's token name
    {"social_access_token", "auth.accounts", "access_token_sealed",
     "pg_catalog.decode('7067617574682e736f6369616c00', 'hex') OPERATOR(pg_catalog.||) pg_catalog.uuid_send(id) "
     "OPERATOR(pg_catalog.||) pg_catalog.convert_to('access_token', 'UTF8')"},
    {"social_refresh_token", "auth.accounts", "refresh_token_sealed",
     "pg_catalog.decode('7067617574682e736f6369616c00', 'hex') OPERATOR(pg_catalog.||) pg_catalog.uuid_send(id) "
     "OPERATOR(pg_catalog.||) pg_catalog.convert_to('refresh_token', 'UTF8')"},
    {"social_id_token", "auth.accounts", "id_token_sealed",
     "pg_catalog.decode('7067617574682e736f6369616c00', 'hex') OPERATOR(pg_catalog.||) pg_catalog.uuid_send(id) "
     "OPERATOR(pg_catalog.||) pg_catalog.convert_to('id_token', 'UTF8')"},
    // email.cpp: "pgauth outbox" NUL, the row id (8 bytes, big-endian), recipient NUL template
    {"outbox", "auth.outbox", "sealed",
     "pg_catalog.decode('706761757468206f7574626f7800', 'hex') OPERATOR(pg_catalog.||) pg_catalog.int8send(id) "
     "OPERATOR(pg_catalog.||) pg_catalog.convert_to(recipient, 'UTF8') OPERATOR(pg_catalog.||) "
     "pg_catalog.decode('00', 'hex') OPERATOR(pg_catalog.||) pg_catalog.convert_to(template, 'UTF8')"},
};

struct ResealCount {
    int64 resealed = 0;  // opened with the previous KEK, now sealed under the current one
    int64 current = 0;   // already under the current KEK: left as they are
};

ResealCount reseal_column(const SealedColumn& c, const jwt::SecretBytes& kek) {
    ResealCount count;
    std::string select = std::string("SELECT ctid, ") + c.aad + ", " + c.column + " FROM " + c.table + " WHERE " +
                         c.column + " IS NOT NULL FOR UPDATE";
    std::string update = std::string("UPDATE ") + c.table + " SET " + c.column +
                         " = $2 WHERE ctid OPERATOR(pg_catalog.=) $1";
    SpiConnection spi;
    // noexcept: SPI calls and elog; the SQL is built above from the constant registry
    uint64 rows = pg_call([&]() noexcept {
        if (SPI_execute(select.c_str(), false, 0) != SPI_OK_SELECT) elog(ERROR, "pgauth: reading sealed values failed");
        return SPI_processed;
    });
    // Keep the selected rows: each UPDATE replaces SPI_tuptable.
    SPITupleTable* table = SPI_tuptable;
    for (uint64 i = 0; i < rows; i++) {
        Datum values[3];
        bool nulls[3];
        // noexcept: SPI_getbinval over fetched rows
        pg_call([&]() noexcept {
            for (int col = 0; col < 3; col++)
                values[col] = SPI_getbinval(table->vals[i], table->tupdesc, col + 1, &nulls[col]);
        });
        std::vector<std::uint8_t> aad_bytes = bytea_bytes(values[1]);
        std::vector<std::uint8_t> sealed = bytea_bytes(values[2]);
        std::string_view aad(reinterpret_cast<const char*>(aad_bytes.data()), aad_bytes.size());
        bool previous = false;
        std::optional<jwt::SecretBytes> plain = open_sealed(sealed, aad, &previous);
        if (!plain)
            throw AuthError("SIGNING_KEY_UNAVAILABLE",
                            std::string("a sealed value in ") + c.table + " opens with neither pgauth.key_file nor "
                            "pgauth.previous_key_file: nothing was re-sealed");
        if (!previous) {
            count.current++;
            continue;
        }
        Datum args[2] = {values[0], bytea_datum(jwt::seal(kek.bytes(), plain->bytes(), aad))};
        Oid types[2] = {TIDOID, BYTEAOID};
        // noexcept: one SPI call with Datums built above
        pg_call([&]() noexcept {
            if (SPI_execute_with_args(update.c_str(), 2, types, args, nullptr, false, 0) != SPI_OK_UPDATE ||
                SPI_processed != 1)
                elog(ERROR, "pgauth: re-sealing a value failed");
        });
        count.resealed++;
    }
    return count;
}

}  // namespace
}  // namespace pgauth

// auth.reseal() -> TABLE (kind text, resealed bigint, current bigint): re-seals
// under the current KEK (pgauth.key_file) every sealed value that opens only
// with the previous one (pgauth.previous_key_file), for every column of
// sealed_columns, in one transaction (rows locked FOR UPDATE). A value that
// opens with neither fails the whole call. pgauth_admin and superusers.
PGAUTH_FUNCTION(pgauth_reseal)
Datum pgauth_reseal_impl(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, 0); });
    jwt::SecretBytes kek = read_kek();
    for (const SealedColumn& c : sealed_columns) {
        ResealCount n = reseal_column(c, kek);
        Datum values[3] = {text_datum(c.kind), Int64GetDatum(n.resealed), Int64GetDatum(n.current)};
        bool nulls[3] = {false, false, false};
        // noexcept: stores plain Datums in the tuplestore
        pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return 0;
}
