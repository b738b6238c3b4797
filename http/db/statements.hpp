// Every SQL statement pgauth-http runs. Prepared on each new connection;
// never built from request data.
#pragma once
#include <pqxx/pqxx>

namespace pgauth::http {

void prepare_statements(pqxx::connection& conn, int statement_timeout_ms);

}  // namespace pgauth::http
