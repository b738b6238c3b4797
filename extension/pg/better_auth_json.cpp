// Better-Auth's JSON shapes and time format: see better_auth_json.hpp.
#include "pg/better_auth_json.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/inet.h"
}

#include <cmath>
#include <cstdio>
#include <ctime>

namespace pgauth {

using jwt::OrderedJson;

namespace {
OrderedJson nullable(const std::optional<std::string>& s) { return s ? OrderedJson(*s) : OrderedJson(nullptr); }
}  // namespace

std::string iso_time(TimestampTz ts) {
    // TimestampTz counts microseconds from 2000-01-01; JavaScript milliseconds from 1970-01-01.
    int64 ms = static_cast<int64>(std::floor(static_cast<double>(ts) / 1000.0)) + 946684800000LL;
    std::time_t seconds = static_cast<std::time_t>(std::floor(static_cast<double>(ms) / 1000.0));
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms - int64(seconds) * 1000));
    return buffer;
}

OrderedJson user_json(const UserRecord& u, bool profile) {
    OrderedJson user{
        {"name", u.name},
        {"email", u.email},
        {"emailVerified", u.email_verified},
        {"image", nullable(u.image)},
        {"createdAt", iso_time(u.created_at)},
        {"updatedAt", iso_time(u.updated_at)},
    };
    if (profile) {
        user["role"] = nullable(u.role);
        user["paraWalletId"] = nullable(u.para_wallet_id);
    }
    user["id"] = u.id;
    return user;
}

OrderedJson session_json(const SessionRecord& s, std::string_view token) {
    return OrderedJson{
        {"expiresAt", iso_time(s.expires_at)},
        {"token", std::string(token)},
        {"createdAt", iso_time(s.created_at)},
        {"updatedAt", iso_time(s.updated_at)},
        {"ipAddress", nullable(s.ip)},
        {"userAgent", nullable(s.user_agent)},
        {"userId", s.user_id},
        {"id", s.id},
    };
}

int64 seconds_left(TimestampTz expires_at) {
    return static_cast<int64>(
        std::llround(static_cast<double>(expires_at - GetCurrentTransactionStartTimestamp()) / USECS_PER_SEC));
}

std::string inet_text(Datum value) {
    // noexcept: a type output function over a valid datum
    char* out = pg_call([&]() noexcept { return DatumGetCString(DirectFunctionCall1(inet_out, value)); });
    std::string s(out);
    pfree(out);
    return s;
}

}  // namespace pgauth
