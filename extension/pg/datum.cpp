// Datum and SPI helpers: see datum.hpp. Each pg_call callback below is
// noexcept because it only calls PostgreSQL and copies plain bytes: nothing
// in it can throw a C++ exception.
#include "pg/datum.hpp"

extern "C" {
#include "utils/jsonb.h"
#include "utils/snapmgr.h"
}

#include <cstring>

#include "core/error.hpp"

namespace pgauth {

bool arg_is_null(FunctionCallInfo fcinfo, int n) { return PG_NARGS() <= n || PG_ARGISNULL(n); }

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    if (arg_is_null(fcinfo, n)) throw AuthError("VALIDATION_ERROR", "a required argument is NULL");
    return text_string(PG_GETARG_DATUM(n));
}

Datum text_datum(std::string_view s) {
    return pg_call([&]() noexcept {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

Datum bytea_datum(std::span<const std::uint8_t> bytes) {
    return pg_call([&]() noexcept {
        auto* b = static_cast<bytea*>(palloc(VARHDRSZ + bytes.size()));
        SET_VARSIZE(b, VARHDRSZ + bytes.size());
        if (!bytes.empty()) std::memcpy(VARDATA(b), bytes.data(), bytes.size());
        return PointerGetDatum(b);
    });
}

Datum jsonb_datum(const std::string& json) {
    try {
        return pg_call([&]() noexcept { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
    } catch (const PgError&) {
        throw AuthError("INVALID_TOKEN", "the payload is not valid JSON for PostgreSQL");
    }
}

Datum uuid_datum(const pg_uuid_t& u) {
    return pg_call([&]() noexcept {
        auto* out = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        *out = u;
        return UUIDPGetDatum(out);
    });
}

std::string text_string(Datum value) {
    text* t = pg_call([&]() noexcept { return DatumGetTextPP(value); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::string jsonb_text(Datum value) {
    char* out = pg_call([&]() noexcept {
        Jsonb* jb = DatumGetJsonbP(value);
        return JsonbToCString(nullptr, &jb->root, static_cast<int>(VARSIZE(jb)));
    });
    return out;
}

std::vector<std::uint8_t> bytea_bytes(Datum value) {
    bytea* b = pg_call([&]() noexcept { return DatumGetByteaPP(value); });
    auto* p = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(b));
    return std::vector<std::uint8_t>(p, p + VARSIZE_ANY_EXHDR(b));
}

std::string uuid_text(const pg_uuid_t& u) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        out += digits[u.data[i] >> 4];
        out += digits[u.data[i] & 15];
    }
    return out;
}

SpiConnection::SpiConnection() {
    pg_call([]() noexcept {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pgauth: SPI_connect failed");
    });
}

SpiConnection::~SpiConnection() {
    try {
        pg_call([]() noexcept { SPI_finish(); });
    } catch (...) {
        // a failing SPI_finish leaves cleanup to the end of the transaction
    }
}

SPIPlanPtr KeptPlan::get() {
    if (!plan_) {
        plan_ = pg_call([this]() noexcept {
            // A generic plan from the first call on: left to choose, the plan cache plans a
            // query anew on every call whenever a custom plan looks cheaper (it does for
            // anything over unnest() or a jsonb function of a parameter).
            SPIPlanPtr p = SPI_prepare_cursor(sql_, nargs_, const_cast<Oid*>(types_), CURSOR_OPT_GENERIC_PLAN);
            if (!p) elog(ERROR, "pgauth: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
            SPI_keepplan(p);
            return p;
        });
    }
    return plan_;
}

uint64 KeptPlan::execute(const Datum* values, const char* nulls, bool read_only, long limit) {
    SPIPlanPtr plan = get();
    return pg_call([&]() noexcept {
        int rc = SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, read_only, limit);
        if (rc < 0) elog(ERROR, "pgauth: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
        return SPI_processed;
    });
}

uint64 KeptPlan::execute_latest(const Datum* values, const char* nulls, long limit) {
    SPIPlanPtr plan = get();
    return pg_call([&]() noexcept {
        int rc = SPI_execute_snapshot(plan, const_cast<Datum*>(values), nulls, GetLatestSnapshot(), InvalidSnapshot,
                                      true, false, limit);
        if (rc < 0) elog(ERROR, "pgauth: SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
        return SPI_processed;
    });
}

SpiCell spi_cell(uint64 row, int column) {
    return pg_call([&]() noexcept {
        SpiCell cell;
        cell.value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &cell.null);
        return cell;
    });
}

std::string spi_text(uint64 row, int column) {
    char* value =
        pg_call([&]() noexcept { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column); });
    return value ? std::string(value) : std::string();
}

}  // namespace pgauth
