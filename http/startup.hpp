// Start-up checks that say what is wrong and what to do: the database is
// reachable, has the pgauth extension, and at the version this build needs.
#pragma once
#include <string>
#include <string_view>

#include "config.hpp"

namespace pgauth::http {

struct StartupCheck {
    enum class Outcome {
        ok,           // reachable, extension at the expected version
        unreachable,  // no answer (refused, timeout, no route, unknown host): start and retry per request
        fatal,        // refuse to start: bad URL, missing database or role, no or wrong extension
    };
    Outcome outcome = Outcome::ok;
    std::string message;  // for the log: what is wrong and what to do (with ok: a warning, if any)
    std::string reason;   // libpq's reason, when the connection failed
};

// Connects once (bounded by the configured connect timeout) and checks
// pg_extension's extversion against required_extension_version.
StartupCheck check_database(const Config& config);

// Classifies a libpq connection failure message: true when the server was not
// reached at all (worth retrying later), false when it answered "no" or the URL is wrong.
bool transient_connection_failure(std::string_view libpq_message);

// -1, 0, 1 comparing dotted versions numerically ("0.10.0" > "0.4.0").
int compare_versions(std::string_view a, std::string_view b);

}  // namespace pgauth::http
