// PG -> C++ entry wrapper and the raising of auth.error_codes errors.
#include "pg/boundary.hpp"

#include "core/error_codes.hpp"

#include <cstring>
#include <new>

namespace pgauth {
namespace {

// Everything invoke() needs to raise an error after the C++ frames are gone.
// Fixed-size buffers: filling it never allocates and never throws.
struct Failure {
    enum class Kind { none, postgres, auth, internal } kind = Kind::none;
    ErrorData* postgres = nullptr;
    char code[64] = {0};
    char reason[512] = {0};
    long retry_after = 0;
};

void copy_into(char* dst, std::size_t size, const char* src) noexcept {
    std::strncpy(dst, src ? src : "", size - 1);
    dst[size - 1] = '\0';
}

Failure run(FunctionCallInfo fcinfo, Implementation impl, Datum* out) noexcept {
    Failure failure;
    try {
        *out = impl(fcinfo);
    } catch (const PgError& e) {
        failure.kind = Failure::Kind::postgres;
        failure.postgres = e.data();
    } catch (const AuthError& e) {
        failure.kind = Failure::Kind::auth;
        copy_into(failure.code, sizeof failure.code, e.code().c_str());
        copy_into(failure.reason, sizeof failure.reason, e.reason().c_str());
        failure.retry_after = e.retry_after();
    } catch (const std::bad_alloc&) {
        failure.kind = Failure::Kind::internal;
        copy_into(failure.reason, sizeof failure.reason, "out of memory in pgauth");
    } catch (const std::exception& e) {
        failure.kind = Failure::Kind::internal;
        copy_into(failure.reason, sizeof failure.reason, e.what());
    } catch (...) {
        failure.kind = Failure::Kind::internal;
        copy_into(failure.reason, sizeof failure.reason, "unknown C++ exception in pgauth");
    }
    return failure;
}

// Raises the catalog error named by `code` (core/error_codes.cpp): no SQL runs,
// so no name is resolved through the caller's search_path while we raise.
// Plain C-style code: no C++ object is alive when ereport() longjmps out.
// A retry_after above 0 goes in the HINT, exactly "Retry-After: <seconds>":
// the structured field pgauth-http reads for its Retry-After header.
pg_attribute_noreturn() void raise_auth_error(const char* code, const char* reason, long retry_after = 0) {
    const ErrorCode* e = find_error(code);
    if (!e) e = find_error("INTERNAL_ERROR");
    const char* s = e->sqlstate.data();
    // string_view literals from the catalog are NUL-terminated; %.*s keeps that explicit
    const char* message = reason && reason[0] ? reason : nullptr;
    ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])),
                    message ? errmsg("%s", message)
                            : errmsg("%.*s", static_cast<int>(e->message.size()), e->message.data()),
                    errdetail("%.*s", static_cast<int>(e->code.size()), e->code.data()),
                    retry_after > 0 ? errhint("Retry-After: %ld", retry_after) : 0));
    pg_unreachable();
}

}  // namespace

Datum invoke(FunctionCallInfo fcinfo, Implementation impl) {
    Datum result = 0;
    Failure failure = run(fcinfo, impl, &result);
    switch (failure.kind) {
        case Failure::Kind::none:
            return result;
        case Failure::Kind::postgres:
            ReThrowError(failure.postgres);
        case Failure::Kind::auth:
            raise_auth_error(failure.code, failure.reason, failure.retry_after);
        case Failure::Kind::internal:
            raise_auth_error("INTERNAL_ERROR", failure.reason);
    }
    pg_unreachable();
}

}  // namespace pgauth
