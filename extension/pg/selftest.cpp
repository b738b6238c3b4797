// auth.selftest_boundary(kind text): forces each kind of failure through the
// C++ <-> PostgreSQL boundary so tests can prove that none of them crashes the
// backend and each becomes a clean SQL error. Superuser only (no GRANT).
#include "pg/datum.hpp"

#include <new>
#include <stdexcept>

#include "core/password.hpp"

using namespace pgauth;

PGAUTH_FUNCTION(pgauth_selftest_boundary)
Datum pgauth_selftest_boundary_impl(FunctionCallInfo fcinfo) {
    std::string kind = text_arg(fcinfo, 0);
    std::string owned_by_a_frame(256, 'x');  // a destructor that must still run
    if (kind == "std_exception") throw std::runtime_error("selftest: C++ exception");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "unknown_exception") throw 42;
    if (kind == "auth_error") throw AuthError("INVALID_TOKEN", "selftest: token rejected");
    if (kind == "postgres_error") {
        // noexcept: a PostgreSQL function call that raises division_by_zero
        pg_call([]() noexcept { return DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
    }
    if (kind == "crypto_failure") {
        // argon2id refuses parameters below its minimum: a real crypto-library failure.
        hash_password("password", Argon2Params{0, 0});
    }
    if (kind == "ok") return text_datum("ok");
    throw AuthError("VALIDATION_ERROR", "unknown selftest kind");
}
