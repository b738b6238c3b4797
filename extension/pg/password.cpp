// SQL-callable password functions: hashing, verification, policy.
#include "pg/datum.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/fmgrprotos.h"
}

#include <sodium.h>

#include "core/password.hpp"

namespace pgauth {
namespace {

HashLimits current_limits() {
    HashLimits limits;
    limits.argon2_max_opslimit = static_cast<unsigned long long>(settings::argon2_max_opslimit);
    limits.argon2_max_memlimit = static_cast<std::size_t>(settings::argon2_max_memlimit_kb) * 1024;
    limits.bcrypt_max_cost = settings::bcrypt_max_cost;
    limits.scrypt_max_n = static_cast<std::uint64_t>(settings::scrypt_max_n);
    return limits;
}

// The parameters for new hashes. They must stay within the limits, or every
// hash made now would be refused at the next sign-in.
Argon2Params current_params() {
    if (settings::argon2_opslimit > settings::argon2_max_opslimit ||
        settings::argon2_memlimit_kb > settings::argon2_max_memlimit_kb)
        throw AuthError("PASSWORD_HASH_TOO_EXPENSIVE",
                        "pgauth.argon2_opslimit / argon2_memlimit are above pgauth.argon2_max_opslimit / "
                        "argon2_max_memlimit: raise the limits first");
    return {static_cast<unsigned long long>(settings::argon2_opslimit),
            static_cast<std::size_t>(settings::argon2_memlimit_kb) * 1024};
}

// libsodium, OpenSSL and libxcrypt cannot be interrupted mid-hash; the limits
// bound how long that is. Honour a cancel before and after.
void check_for_interrupts() {
    pg_call([]() noexcept { CHECK_FOR_INTERRUPTS(); });
}

// NFKC, as Better-Auth does before hashing. Needs a UTF-8 database.
std::string nfkc(const std::string& password) {
    // noexcept: a cancel arrives as ereport, caught by pg_call
    // noexcept: text conversions and a PostgreSQL function call; data()/size() do not throw
    text* normalized = pg_call([&]() noexcept {
        Datum in = PointerGetDatum(cstring_to_text_with_len(password.data(), static_cast<int>(password.size())));
        return DatumGetTextPP(DirectFunctionCall2(unicode_normalize_func, in, CStringGetTextDatum("NFKC")));
    });
    return std::string(VARDATA_ANY(normalized), VARSIZE_ANY_EXHDR(normalized));
}

// A std::string whose bytes are wiped when it goes away.
struct Secret {
    std::string value;
    explicit Secret(std::string v) : value(std::move(v)) {}
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    ~Secret() { sodium_memzero(value.data(), value.size()); }
};

Secret password_arg(FunctionCallInfo fcinfo, int n) {
    Secret raw(text_arg(fcinfo, n));
    return Secret(nfkc(raw.value));
}

int char_length(const std::string& s) {
    return pg_call([&]() noexcept { return pg_mbstrlen_with_len(s.data(), static_cast<int>(s.size())); });
}

}  // namespace
}  // namespace pgauth

using namespace pgauth;

// auth.hash_password(password text) -> text
PGAUTH_FUNCTION(pgauth_hash_password)
Datum pgauth_hash_password_impl(FunctionCallInfo fcinfo) {
    Secret password = password_arg(fcinfo, 0);
    return text_datum(hash_password(password.value, current_params()));
}

// auth.verify_password(hash text, password text) -> boolean
PGAUTH_FUNCTION(pgauth_verify_password)
Datum pgauth_verify_password_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0) || arg_is_null(fcinfo, 1)) return BoolGetDatum(false);
    std::string stored = text_arg(fcinfo, 0);
    Secret password = password_arg(fcinfo, 1);
    check_for_interrupts();
    bool match = verify_password(stored, password.value, current_limits());
    check_for_interrupts();
    return BoolGetDatum(match);
}

// auth.check_password_hash(hash text) -> void: the import check. Raises
// INVALID_PASSWORD_HASH for an unknown format and PASSWORD_HASH_TOO_EXPENSIVE
// for a cost above the limits; does no hashing.
PGAUTH_FUNCTION(pgauth_check_password_hash)
Datum pgauth_check_password_hash_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("INVALID_PASSWORD_HASH", "the password hash is NULL");
    std::string stored = text_arg(fcinfo, 0);
    if (classify_hash(stored) == HashKind::unknown)
        throw AuthError("INVALID_PASSWORD_HASH",
                        "Unrecognised password hash format: expected argon2id PHC, Better-Auth scrypt (salthex:keyhex) "
                        "or bcrypt ($2a$/$2b$/$2y$)");
    if (std::string why = cost_over_limits(stored, current_limits()); !why.empty())
        throw AuthError("PASSWORD_HASH_TOO_EXPENSIVE", "the password hash is too expensive to verify: " + why);
    PG_RETURN_VOID();
}

// auth.password_needs_rehash(hash text) -> boolean
PGAUTH_FUNCTION(pgauth_password_needs_rehash)
Datum pgauth_password_needs_rehash_impl(FunctionCallInfo fcinfo) {
    return BoolGetDatum(needs_rehash(text_arg(fcinfo, 0), current_params()));
}

// auth.password_hash_kind(hash text) -> text ('argon2id' | 'scrypt' | 'bcrypt' | NULL)
PGAUTH_FUNCTION(pgauth_password_hash_kind)
Datum pgauth_password_hash_kind_impl(FunctionCallInfo fcinfo) {
    switch (classify_hash(text_arg(fcinfo, 0))) {
        case HashKind::argon2id: return text_datum("argon2id");
        case HashKind::scrypt_better_auth: return text_datum("scrypt");
        case HashKind::bcrypt: return text_datum("bcrypt");
        case HashKind::unknown: break;
    }
    fcinfo->isnull = true;
    return 0;
}

// auth.dummy_verify(password text) -> void: one argon2id verification's worth of work.
PGAUTH_FUNCTION(pgauth_dummy_verify)
Datum pgauth_dummy_verify_impl(FunctionCallInfo fcinfo) {
    Secret password(arg_is_null(fcinfo, 0) ? std::string() : text_arg(fcinfo, 0));
    dummy_verify(password.value, current_params());
    PG_RETURN_VOID();
}

// auth.check_password_policy(password text) -> void; raises PASSWORD_TOO_SHORT/LONG.
PGAUTH_FUNCTION(pgauth_check_password_policy)
Datum pgauth_check_password_policy_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) throw AuthError("VALIDATION_ERROR", "password is required");
    Secret password(text_arg(fcinfo, 0));
    // Bound the work before counting characters.
    if (password.value.size() > static_cast<std::size_t>(settings::password_max_length) * 4)
        throw AuthError("PASSWORD_TOO_LONG");
    int length = char_length(password.value);
    if (length < settings::password_min_length) throw AuthError("PASSWORD_TOO_SHORT");
    if (length > settings::password_max_length) throw AuthError("PASSWORD_TOO_LONG");
    PG_RETURN_VOID();
// noexcept: one PostgreSQL call over data()/size()
}
