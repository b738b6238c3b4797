#include "startup.hpp"

#include <cstdlib>
#include <pqxx/pqxx>

#include "db/pool.hpp"

namespace pgauth::http {

bool transient_connection_failure(std::string_view m) {
    for (std::string_view s : {"Connection refused", "timeout expired", "could not translate host name",
                               "No route to host", "Network is unreachable", "Connection timed out",
                               "the database system is starting up", "the database system is shutting down",
                               "No such file or directory" /* unix socket not there yet */})
        if (m.find(s) != std::string_view::npos) return true;
    return false;
}

int compare_versions(std::string_view a, std::string_view b) {
    while (!a.empty() || !b.empty()) {
        auto part = [](std::string_view& v) {
            auto dot = v.find('.');
            std::string_view head = v.substr(0, dot);
            v = dot == std::string_view::npos ? std::string_view{} : v.substr(dot + 1);
            long n = 0;
            for (char c : head) {
                if (c < '0' || c > '9') break;
                n = n * 10 + (c - '0');
            }
            return n;
        };
        long x = part(a), y = part(b);
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

StartupCheck check_database(const Config& config) {
    StartupCheck out;
    std::string url = with_client_bounds(config.database_url,
                                         ClientBounds{.connect_timeout_s = config.db_connect_timeout_s,
                                                      .tcp_user_timeout_ms = config.db_call_timeout_ms},
                                         std::getenv("PGCONNECT_TIMEOUT"));
    try {
        pqxx::connection conn(url);
        std::string db = conn.dbname();
        pqxx::nontransaction tx(conn);
        auto r = tx.exec("SELECT extversion FROM pg_extension WHERE extname = 'pgauth'");
        if (r.empty()) {
            out.outcome = StartupCheck::Outcome::fatal;
            out.message = "database \"" + db + "\" has no pgauth extension: run CREATE EXTENSION pgauth in it as a "
                          "superuser (psql -d " + db + " -c 'CREATE EXTENSION pgauth'), then start pgauth-http again";
            return out;
        }
        std::string have = r[0][0].c_str();
        int cmp = compare_versions(have, required_extension_version);
        if (cmp < 0) {
            out.outcome = StartupCheck::Outcome::fatal;
            out.message = "database \"" + db + "\" has pgauth " + have + ", this pgauth-http needs " +
                          required_extension_version + ": run ALTER EXTENSION pgauth UPDATE in it (psql -d " + db +
                          " -c 'ALTER EXTENSION pgauth UPDATE') after installing the new extension files";
        } else if (cmp > 0) {  // the extension is upgraded first; the old binary keeps serving meanwhile
            out.message = "database \"" + db + "\" has pgauth " + have + ", newer than the " +
                          required_extension_version + " this pgauth-http was built for: upgrade pgauth-http";
        }
        return out;
    } catch (const pqxx::broken_connection& e) {
        out.reason = connection_failure_reason(e.what());
        if (transient_connection_failure(e.what())) {
            out.outcome = StartupCheck::Outcome::unreachable;
            out.message = "database not reachable at start-up (" + out.reason +
                          "); serving anyway and retrying per request: check the host and port of PGAUTH_DATABASE_URL "
                          "and that PostgreSQL is running";
        } else {
            out.outcome = StartupCheck::Outcome::fatal;
            out.message = "cannot connect to the database: " + out.reason +
                          " (check PGAUTH_DATABASE_URL: its syntax, the database name, the role and its password)";
        }
        return out;
    } catch (const std::exception& e) {
        out.outcome = StartupCheck::Outcome::fatal;
        out.reason = e.what();
        while (!out.reason.empty() && (out.reason.back() == '\n' || out.reason.back() == ' ')) out.reason.pop_back();
        out.message = "cannot check the database: " + out.reason;
        return out;
    }
}

}  // namespace pgauth::http
