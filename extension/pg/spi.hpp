// RAII helpers for SPI inside C++ implementations.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace pgauth {

// One SPI connection for the lifetime of the object.
class SpiConnection {
public:
    SpiConnection() {
        pg_call([] {
            if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pgauth: SPI_connect failed");
        });
    }
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;
    ~SpiConnection() {
        try {
            pg_call([] { SPI_finish(); });
        } catch (...) {
        }
    }
};

// A plan prepared once per backend over fully qualified names and kept
// (SPI_keepplan): no re-planning and no search_path lookups per call.
class KeptPlan {
public:
    KeptPlan(const char* sql, int nargs, const Oid* types) : sql_(sql), nargs_(nargs), types_(types) {}
    SPIPlanPtr get() {
        if (!plan_) {
            plan_ = pg_call([this] {
                SPIPlanPtr p = SPI_prepare(sql_, nargs_, const_cast<Oid*>(types_));
                if (!p) elog(ERROR, "pgauth: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
                SPI_keepplan(p);
                return p;
            });
        }
        return plan_;
    }
    // Runs the plan; returns SPI_processed. Throws PgError on failure.
    uint64 execute(const Datum* values, const char* nulls, bool read_only, long limit) {
        SPIPlanPtr plan = get();
        return pg_call([&] {
            int rc = SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, read_only, limit);
            if (rc < 0) elog(ERROR, "pgauth: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
            return SPI_processed;
        });
    }

private:
    const char* sql_;
    int nargs_;
    const Oid* types_;
    SPIPlanPtr plan_ = nullptr;
};

}  // namespace pgauth
