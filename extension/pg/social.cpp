// Social accounts: sealing of provider tokens and flow secrets, and the
// random values of a sign-in flow.
//
// Provider tokens (auth.accounts) and the PKCE verifier of a flow
// (auth.social_flows) are sealed under the KEK (pgauth.key_file) with
// XChaCha20-Poly1305. The associated data is a domain label, the 16 bytes of
// the row id and the column name, so a sealed value copied onto another row
// or column (or out of the vault) does not open. The rules are plpgsql in the
// install script; these functions are internal to it (no role but the owner
// executes them).
#include "pg/datum.hpp"
#include "pg/signing_keys.hpp"

#include "core/crypto.hpp"

#include <sodium.h>

namespace pgauth {
namespace {

std::string associated_data(FunctionCallInfo fcinfo) {
    // noexcept: reads a fixed-length pass-by-reference argument
    const pg_uuid_t* row = pg_call([&]() noexcept { return DatumGetUUIDP(PG_GETARG_DATUM(0)); });
    std::string aad("pgauth.social");
    aad.push_back('\0');
    aad.append(reinterpret_cast<const char*>(row->data), UUID_LEN);
    aad += text_arg(fcinfo, 1);
    return aad;
}

}  // namespace
}  // namespace pgauth

using namespace pgauth;

// auth.social_seal(row_id uuid, column_name text, value text) -> bytea (STRICT)
PGAUTH_FUNCTION(pgauth_social_seal)
Datum pgauth_social_seal_impl(FunctionCallInfo fcinfo) {
    return seal_text_arg(fcinfo, 2, associated_data(fcinfo));
}

// auth.social_open(row_id uuid, column_name text, sealed bytea) -> text (STRICT).
// SOCIAL_TOKEN_UNREADABLE when it does not open: sealed for another row or
// column, altered, or sealed under another KEK.
PGAUTH_FUNCTION(pgauth_social_open)
Datum pgauth_social_open_impl(FunctionCallInfo fcinfo) {
    if (std::optional<Datum> token = open_bytea_arg(fcinfo, 2, associated_data(fcinfo))) return *token;
    throw AuthError("SOCIAL_TOKEN_UNREADABLE",
                    "a sealed provider token does not open: it belongs to another row or column, was altered, "
                    "or was sealed under another KEK");
}

// auth.social_random(bytes integer) -> text (STRICT): `bytes` bytes from
// libsodium's CSPRNG, base64url without padding (32 bytes -> 43 characters).
PGAUTH_FUNCTION(pgauth_social_random)
Datum pgauth_social_random_impl(FunctionCallInfo fcinfo) {
    int32 bytes = PG_GETARG_INT32(0);
    if (bytes < 16 || bytes > 96) throw AuthError("VALIDATION_ERROR", "bytes must be between 16 and 96");
    std::string token = random_token(static_cast<std::size_t>(bytes));
    Datum out = text_datum(token);
    sodium_memzero(token.data(), token.size());
    return out;
}
