// Two-factor primitives (issue 16) the install script's plpgsql builds on:
// TOTP secrets (20 random bytes, base32), RFC 6238 codes (HMAC-SHA1, 6 digits)
// and backup codes. Internal: no role but the owner executes them; the secret
// is sealed under the KEK by the plpgsql that stores it.
#include "pg/datum.hpp"

#include "core/totp.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

using namespace pgauth;

// auth.totp_new_secret() -> text: 20 random bytes (RFC 4226's recommended length), base32.
PGAUTH_FUNCTION(pgauth_totp_new_secret)
Datum pgauth_totp_new_secret_impl(FunctionCallInfo) {
    std::array<std::uint8_t, 20> key{};
    randombytes_buf(key.data(), key.size());
    std::string secret = base32_encode(key);
    sodium_memzero(key.data(), key.size());
    Datum out = text_datum(secret);
    sodium_memzero(secret.data(), secret.size());
    return out;
}

// auth.totp_code(p_secret text, p_step bigint) -> text (STRICT): the 6-digit code of a base32
// secret at time step p_step (unix time / 30). VALIDATION_ERROR for a secret that is not base32.
PGAUTH_FUNCTION(pgauth_totp_code)
Datum pgauth_totp_code_impl(FunctionCallInfo fcinfo) {
    std::string secret = text_arg(fcinfo, 0);
    int64 step = PG_GETARG_INT64(1);
    std::optional<std::string> key = base32_decode(secret);
    sodium_memzero(secret.data(), secret.size());
    if (!key || key->empty()) throw AuthError("VALIDATION_ERROR", "the TOTP secret is not base32");
    if (step < 0) throw AuthError("VALIDATION_ERROR", "the TOTP time step is negative");
    std::string code = hotp({reinterpret_cast<const std::uint8_t*>(key->data()), key->size()},
                            static_cast<std::uint64_t>(step));
    sodium_memzero(key->data(), key->size());
    return text_datum(code);
}

// auth.two_factor_new_backup_code() -> text: "xxxxx-xxxxx", 10 uniform letters and digits
// (Better-Auth's backup code shape; about 59 bits).
PGAUTH_FUNCTION(pgauth_two_factor_new_backup_code)
Datum pgauth_two_factor_new_backup_code_impl(FunctionCallInfo) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string code;
    for (int i = 0; i < 10; i++) {
        if (i == 5) code.push_back('-');
        code.push_back(alphabet[randombytes_uniform(sizeof alphabet - 1)]);
    }
    Datum out = text_datum(code);
    sodium_memzero(code.data(), code.size());
    return out;
}
