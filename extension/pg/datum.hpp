// Datums and SPI from C++: arguments, results and query rows copied into and
// out of C++ types, and RAII for SPI connections and kept plans. Every
// helper copies, so no palloc'd pointer lives in a C++ object and no C++
// object is handed to PostgreSQL. Each wraps its PostgreSQL calls in
// pg_call, so it throws PgError (or AuthError) instead of longjmping.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/uuid.h"
}

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgauth {

// ---- arguments
bool arg_is_null(FunctionCallInfo fcinfo, int n);
std::string text_arg(FunctionCallInfo fcinfo, int n);  // AuthError VALIDATION_ERROR on NULL

// ---- C++ -> Datum, palloc'd in the current memory context
Datum text_datum(std::string_view s);
Datum bytea_datum(std::span<const std::uint8_t> bytes);
Datum jsonb_datum(const std::string& json);  // AuthError INVALID_TOKEN if PostgreSQL refuses the text (\u0000)
Datum uuid_datum(const pg_uuid_t& u);

// ---- Datum -> C++
std::string text_string(Datum value);               // a text datum (detoasted)
std::string jsonb_text(Datum value);                // a jsonb datum as JSON text
std::vector<std::uint8_t> bytea_bytes(Datum value);  // a bytea datum (detoasted)
std::string uuid_text(const pg_uuid_t& u);          // 8-4-4-4-12 lower-case hex

// ---- SPI
// One SPI connection for the lifetime of the object.
class SpiConnection {
public:
    SpiConnection();
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;
    ~SpiConnection();
};

// A plan prepared once per backend and kept (SPI_keepplan), always generic: no
// re-planning per call. The plan cache re-plans it when a table it reads is
// altered or analysed, and re-analyses it when the search_path changes, so
// its SQL must name every operator, function, type and cast with its schema.
class KeptPlan {
public:
    KeptPlan(const char* sql, int nargs, const Oid* types) : sql_(sql), nargs_(nargs), types_(types) {}
    SPIPlanPtr get();
    // Runs the plan; returns SPI_processed.
    uint64 execute(const Datum* values, const char* nulls, bool read_only, long limit);
    // Runs it read-only on a snapshot taken now rather than the statement's: it sees every
    // transaction whose cache invalidations this backend has already received.
    uint64 execute_latest(const Datum* values, const char* nulls, long limit);

private:
    const char* sql_;
    int nargs_;
    const Oid* types_;
    SPIPlanPtr plan_ = nullptr;
};

// A column of a row of SPI_tuptable (columns count from 1).
struct SpiCell {
    Datum value;
    bool null;
};
SpiCell spi_cell(uint64 row, int column);
std::string spi_text(uint64 row, int column);  // its text output; "" for NULL

}  // namespace pgauth
