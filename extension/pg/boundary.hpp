// The C++ <-> PostgreSQL boundary. Only extension/pg/*.cpp include this file
// (and through it, the PostgreSQL headers). See docs/architecture.md.
//
//  * PG -> C++: every SQL-callable function is declared with PGAUTH_FUNCTION(name)
//    and implemented as `Datum name_impl(FunctionCallInfo)`. The generated
//    extern "C" entry point runs the implementation inside invoke(), which
//    catches every C++ exception and raises the PostgreSQL error only after all
//    C++ frames are gone.
//  * C++ -> PG: any call that may ereport() goes through pg_call(), which
//    catches the longjmp, copies the ErrorData and throws PgError; invoke()
//    re-raises it unchanged (SQLSTATE, message and detail preserved).
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

// c.h / port.h define macros that collide with the C++ standard library.
#undef Max
#undef Min
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext
#undef printf
#undef sprintf
#undef snprintf
#undef vsnprintf
#undef fprintf
#undef vfprintf
#undef strerror

#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.hpp"

namespace pgauth {

// A PostgreSQL error caught on the way through C++ frames.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* data) : data_(data) {}
    ErrorData* data() const noexcept { return data_; }
    const char* what() const noexcept override { return data_ && data_->message ? data_->message : "postgres error"; }

private:
    ErrorData* data_;  // palloc'd in the caller's memory context
};

// Runs `fn` (which calls PostgreSQL and may ereport) under its own
// sigsetjmp. On error: restore the exception stack, copy the error, flush it
// and throw PgError. `fn` must not own C++ objects with destructors across
// the PostgreSQL call, and its result must be trivially destructible.
// `error` is written only after the longjmp and `result` only on the path
// without one, so neither is read in an indeterminate state.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
template <typename Fn>
auto pg_call(Fn&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    static_assert(std::is_void_v<R> || std::is_trivially_destructible_v<R>,
                  "pg_call results must be trivially destructible");
    MemoryContext caller_context = CurrentMemoryContext;
    sigjmp_buf* saved_stack = PG_exception_stack;
    ErrorContextCallback* saved_context = error_context_stack;
    sigjmp_buf local;
    ErrorData* error = nullptr;
    if constexpr (std::is_void_v<R>) {
        if (sigsetjmp(local, 0) == 0) {
            PG_exception_stack = &local;
            fn();
        } else {
            error_context_stack = saved_context;
            MemoryContextSwitchTo(caller_context);
            error = CopyErrorData();
            FlushErrorState();
        }
        PG_exception_stack = saved_stack;
        if (error) throw PgError(error);
    } else {
        R result{};
        if (sigsetjmp(local, 0) == 0) {
            PG_exception_stack = &local;
            result = fn();
        } else {
            error_context_stack = saved_context;
            MemoryContextSwitchTo(caller_context);
            error = CopyErrorData();
            FlushErrorState();
        }
        PG_exception_stack = saved_stack;
        if (error) throw PgError(error);
        return result;
    }
}
#pragma GCC diagnostic pop

using Implementation = Datum (*)(FunctionCallInfo);

// PG -> C++ entry. Defined in boundary.cpp.
Datum invoke(FunctionCallInfo fcinfo, Implementation impl);

// Text helpers (copying; call inside implementations only).
std::string text_arg(FunctionCallInfo fcinfo, int n);     // throws AuthError INVALID_ARGUMENT on NULL
bool arg_is_null(FunctionCallInfo fcinfo, int n);
Datum text_datum(std::string_view s);                     // palloc'd text

}  // namespace pgauth

#define PGAUTH_FUNCTION(name)                                                   \
    static Datum name##_impl(FunctionCallInfo fcinfo);                          \
    extern "C" {                                                                \
    PG_FUNCTION_INFO_V1(name);                                                  \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS) { return pgauth::invoke(fcinfo, name##_impl); } \
    }
