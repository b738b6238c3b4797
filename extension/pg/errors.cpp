// auth.error_code_catalog(): the compiled error catalog as rows, so the install
// script fills auth.error_codes from it and a regress test can compare the two.
#include "pg/datum.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/tuplestore.h"
}

#include "core/error_codes.hpp"

using namespace pgauth;

// auth.error_code_catalog() -> SETOF (code text, sqlstate text, http_status integer, message text)
PGAUTH_FUNCTION(pgauth_error_code_catalog)
Datum pgauth_error_code_catalog_impl(FunctionCallInfo fcinfo) {
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const ErrorCode& e : error_catalog()) {
        Datum values[4] = {text_datum(e.code), text_datum(e.sqlstate), Int32GetDatum(e.http_status),
                           text_datum(e.message)};
        bool nulls[4] = {false, false, false, false};
        // noexcept: stores plain Datums built before the call
        pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return 0;
}

// auth.raise(code text, reason text DEFAULT NULL) -> void: raises the catalog
// error named by code (INTERNAL_ERROR if unknown); reason replaces the message.
// Looks nothing up in SQL. auth.raise(code, reason, retry_after integer) also
// says when a retry may succeed: the HINT "Retry-After: <seconds>" (boundary.cpp).
PGAUTH_FUNCTION(pgauth_raise)
Datum pgauth_raise_impl(FunctionCallInfo fcinfo) {
    std::string code = arg_is_null(fcinfo, 0) ? std::string("INTERNAL_ERROR") : text_arg(fcinfo, 0);
    std::string reason = arg_is_null(fcinfo, 1) ? std::string() : text_arg(fcinfo, 1);
    AuthError e(std::move(code), std::move(reason));
    if (!arg_is_null(fcinfo, 2) && PG_GETARG_INT32(2) > 0) e.with_retry_after(PG_GETARG_INT32(2));
    throw e;
}
