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
//  * Datum and SPI helpers (copying in and out of C++ types) are in pg/datum.hpp.
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

// Saves PostgreSQL's two error stacks and puts them back when it goes out of
// scope, or earlier through restore(): PG_TRY/PG_CATCH's save and restore as
// an object. PG_CATCH restores both stacks before its handler runs anything,
// so a second error inside the handler (CopyErrorData can fail) goes to the
// outer handler instead of jumping back into a frame that is gone.
class ErrorStackGuard {
public:
    ErrorStackGuard() noexcept : exception_stack_(PG_exception_stack), context_stack_(error_context_stack) {}
    ~ErrorStackGuard() { restore(); }
    ErrorStackGuard(const ErrorStackGuard&) = delete;
    ErrorStackGuard& operator=(const ErrorStackGuard&) = delete;
    void restore() const noexcept {
        PG_exception_stack = exception_stack_;
        error_context_stack = context_stack_;
    }

private:
    sigjmp_buf* exception_stack_;
    ErrorContextCallback* context_stack_;
};

// Runs `fn`, which calls PostgreSQL and may ereport(), under its own
// sigsetjmp. On error: restore the stacks (as PG_CATCH does), copy the error
// into the caller's memory context, flush it and throw PgError, which
// invoke() re-raises unchanged.
//
// `fn` must be noexcept (checked at compile time): a C++ exception must not
// leave a frame that PostgreSQL may also longjmp out of. So callbacks do
// only PostgreSQL calls and plain copies, own no C++ object with a
// destructor across a call that may ereport (the longjmp would skip it), and
// return a trivially destructible value. Nothing set after sigsetjmp is read
// after the longjmp except `error`, which is written only then.
template <typename Fn>
auto pg_call(Fn&& fn) -> std::invoke_result_t<Fn&> {
    using R = std::invoke_result_t<Fn&>;
    static_assert(std::is_nothrow_invocable_v<Fn&>,
                  "pg_call callbacks must be noexcept: see the comment above pg_call");
    static_assert(std::is_void_v<R> || std::is_trivially_destructible_v<R>,
                  "pg_call results must be trivially destructible");
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* error = nullptr;
    {
        ErrorStackGuard guard;
        sigjmp_buf local;
        if (sigsetjmp(local, 0) == 0) {
            PG_exception_stack = &local;
            return fn();  // the guard restores the stacks on the way out
        }
        guard.restore();
        MemoryContextSwitchTo(caller_context);
        error = CopyErrorData();
        FlushErrorState();
    }
    throw PgError(error);
}

using Implementation = Datum (*)(FunctionCallInfo);

// PG -> C++ entry. Defined in boundary.cpp.
Datum invoke(FunctionCallInfo fcinfo, Implementation impl);

}  // namespace pgauth

#define PGAUTH_FUNCTION(name)                                                   \
    static Datum name##_impl(FunctionCallInfo fcinfo);                          \
    extern "C" {                                                                \
    PG_FUNCTION_INFO_V1(name);                                                  \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS) { return pgauth::invoke(fcinfo, name##_impl); } \
    }
