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
    std::string aad = associated_data(fcinfo);
    std::string value = text_arg(fcinfo, 2);
    jwt::SecretBytes kek = read_kek();
    auto sealed = jwt::seal(kek.bytes(), as_bytes(value), aad);
    sodium_memzero(value.data(), value.size());
    return bytea_datum(sealed);
}

// auth.vault_open(user_id uuid, name text, sealed bytea) -> text (STRICT).
// VAULT_VALUE_UNREADABLE when it does not open: another row's value, a
// tampered value, or another KEK.
PGAUTH_FUNCTION(pgauth_vault_open)
Datum pgauth_vault_open_impl(FunctionCallInfo fcinfo) {
    std::string aad = associated_data(fcinfo);
    std::vector<std::uint8_t> sealed = bytea_bytes(PG_GETARG_DATUM(2));
    jwt::SecretBytes kek = read_kek();
    jwt::SecretBytes plain;
    try {
        plain = jwt::unseal(kek.bytes(), {sealed.data(), sealed.size()}, aad);
    } catch (const std::runtime_error&) {
        throw AuthError("VAULT_VALUE_UNREADABLE",
                        "the vault value does not open: it belongs to another user or name, was altered, or was "
                        "sealed under another KEK");
    }
    return text_datum({reinterpret_cast<const char*>(plain.data()), plain.size()});
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
