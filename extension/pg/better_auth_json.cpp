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

namespace {

void member(std::string& out, std::string_view name) {
    if (out.back() != '{') out.push_back(',');
    out.push_back('"');
    out.append(name);  // our own names: nothing to escape
    out.append("\":");
}

void string_member(std::string& out, std::string_view name, std::string_view value) {
    member(out, name);
    append_json_string(out, value);
}

void nullable_member(std::string& out, std::string_view name, const std::optional<std::string>& value) {
    member(out, name);
    if (value) append_json_string(out, *value);
    else out.append("null");
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\b': out.append("\\b"); break;
            case '\f': out.append("\\f"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            default:
                if (u < 0x20) {
                    out.append("\\u00");
                    out.push_back(hex[u >> 4]);
                    out.push_back(hex[u & 15]);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

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

void append_user_members(std::string& out, const UserRecord& u, bool profile) {
    string_member(out, "name", u.name);
    string_member(out, "email", u.email);
    member(out, "emailVerified");
    out.append(u.email_verified ? "true" : "false");
    nullable_member(out, "image", u.image);
    string_member(out, "createdAt", iso_time(u.created_at));
    string_member(out, "updatedAt", iso_time(u.updated_at));
    if (profile) {
        nullable_member(out, "role", u.role);
        nullable_member(out, "paraWalletId", u.para_wallet_id);
        if (u.security) {
            member(out, "banned");
            out.append(u.security->banned ? "true" : "false");
            nullable_member(out, "banReason", u.security->ban_reason);
            nullable_member(out, "banExpires",
                            u.security->ban_expires ? std::optional<std::string>(iso_time(*u.security->ban_expires))
                                                    : std::nullopt);
            member(out, "twoFactorEnabled");
            out.append(u.security->two_factor_enabled ? "true" : "false");
        }
    }
    string_member(out, "id", u.id);
}

std::string user_json(const UserRecord& u, bool profile) {
    std::string out = "{";
    append_user_members(out, u, profile);
    out.push_back('}');
    return out;
}

std::string session_json(const SessionRecord& s, std::string_view token) {
    std::string out = "{";
    string_member(out, "expiresAt", iso_time(s.expires_at));
    string_member(out, "token", token);
    string_member(out, "createdAt", iso_time(s.created_at));
    string_member(out, "updatedAt", iso_time(s.updated_at));
    nullable_member(out, "ipAddress", s.ip);
    nullable_member(out, "userAgent", s.user_agent);
    string_member(out, "userId", s.user_id);
    if (s.show_impersonated_by) nullable_member(out, "impersonatedBy", s.impersonated_by);
    string_member(out, "id", s.id);
    out.push_back('}');
    return out;
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
