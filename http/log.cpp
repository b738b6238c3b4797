#include "log.hpp"

#include <cmath>
#include <ctime>
#include <mutex>

namespace pgauth::http::log {
namespace {
std::mutex write_mutex;

const char* level_name(Level level) {
    switch (level) {
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}
}  // namespace

std::string timestamp(std::chrono::system_clock::time_point at) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(at.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
}

double round_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }

std::string format(Level level, std::string_view msg, const nlohmann::json& fields,
                   std::chrono::system_clock::time_point at) {
    nlohmann::ordered_json line = {{"ts", timestamp(at)}, {"level", level_name(level)}, {"msg", msg}};
    if (fields.is_object())
        for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write(std::FILE* out, Level level, std::string_view msg, const nlohmann::json& fields) {
    std::string text = format(level, msg, fields);
    text += '\n';
    std::lock_guard lock(write_mutex);
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
}

}  // namespace pgauth::http::log
