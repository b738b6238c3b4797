// OAuth clients (issue 13): the two primitives the plpgsql rules in the install
// script need from C++. Both are internal (no role but the owner executes them).
#include "core/crypto.hpp"
#include "pg/datum.hpp"

#include <sodium.h>

using namespace pgauth;

// auth.oauth_random_token(bytes integer) -> text (STRICT): `bytes` bytes from
// libsodium's CSPRNG, base64url without padding (client ids, client secrets and
// registration access tokens).
PGAUTH_FUNCTION(pgauth_oauth_random_token)
Datum pgauth_oauth_random_token_impl(FunctionCallInfo fcinfo) {
    // noexcept: reads a pass-by-value argument
    int32 bytes = pg_call([&]() noexcept { return PG_GETARG_INT32(0); });
    if (bytes < 16 || bytes > 64) throw AuthError("VALIDATION_ERROR", "a token has 16 to 64 random bytes");
    std::string token = random_token(static_cast<std::size_t>(bytes));
    Datum out = text_datum(token);
    sodium_memzero(token.data(), token.size());
    return out;
}

// auth.oauth_digest_equal(a bytea, b bytea) -> boolean (CALLED ON NULL INPUT):
// true when both are present, of equal length and equal, compared in constant
// time (the stored digest of a client secret or registration access token
// against the digest of the presented one). NULL on either side is false.
PGAUTH_FUNCTION(pgauth_oauth_digest_equal)
Datum pgauth_oauth_digest_equal_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0) || arg_is_null(fcinfo, 1)) return BoolGetDatum(false);
    std::vector<std::uint8_t> a = bytea_bytes(PG_GETARG_DATUM(0));
    std::vector<std::uint8_t> b = bytea_bytes(PG_GETARG_DATUM(1));
    bool equal = !a.empty() && a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
    return BoolGetDatum(equal);
}
