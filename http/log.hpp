// pgauth-http's log: one JSON object per line, each with "ts" (ISO 8601 UTC with
// milliseconds) and "level". Request lines go to stdout, everything else
// (start-up, shutdown, warnings, errors) to stderr. Never a secret: no body,
// cookie, token or query string.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pgauth::http::log {

enum class Level { info, warn, error };

// "2026-11-27T14:14:23.123Z"
std::string timestamp(std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

// Milliseconds rounded to 3 decimals (0.081, not 0.08146099999999999).
double round_ms(double ms);

// The JSON line: {"ts","level","msg", ...fields} (fields must be an object or null).
std::string format(Level level, std::string_view msg, const nlohmann::json& fields = nullptr,
                   std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

// Writes one line, whole (lines from threads never interleave).
void write(std::FILE* out, Level level, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void info(std::string_view msg, const nlohmann::json& fields = nullptr) { write(stderr, Level::info, msg, fields); }
inline void warn(std::string_view msg, const nlohmann::json& fields = nullptr) { write(stderr, Level::warn, msg, fields); }
inline void error(std::string_view msg, const nlohmann::json& fields = nullptr) { write(stderr, Level::error, msg, fields); }
// A request line, on stdout.
inline void request(const nlohmann::json& fields) { write(stdout, Level::info, "request", fields); }

}  // namespace pgauth::http::log
