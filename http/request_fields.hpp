// Fields of a JSON request body, checked once for every route: a wrong type or a
// string the database cannot hold is a 400 VALIDATION_ERROR, never a 5xx and
// never a silently shortened value.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pgauth::http {

// A string field; nullopt when absent or null and not required. Throws ApiError
// 400 VALIDATION_ERROR when required and missing, not a string, or containing
// U+0000 (libpq would cut the value at the NUL: "password\u0000anything" would
// be checked as "password").
std::optional<std::string> text_field(const nlohmann::json& body, std::string_view key, bool required);

// A boolean field, `fallback` when absent or null; 400 VALIDATION_ERROR otherwise.
bool bool_field(const nlohmann::json& body, std::string_view key, bool fallback);

// A JSON body passed through to the extension as jsonb: 400 VALIDATION_ERROR when any
// key or string in it holds U+0000 (jsonb cannot hold it; say so before the database does).
void require_no_nul(const nlohmann::json& body);

// A query-string parameter as sent (Pistache does not decode it), percent-decoded;
// nullopt when absent. 400 VALIDATION_ERROR for malformed percent-encoding, a
// control character (NUL included) or more than `max_bytes` decoded bytes.
std::optional<std::string> query_param(const std::optional<std::string>& raw, std::string_view key,
                                       std::size_t max_bytes);

// A PostgreSQL array literal of `values` (each quoted and escaped), for a $n::text[] parameter.
std::string text_array(const std::vector<std::string>& values);

// The same rules as a pure function over the body's text (for fuzzing and tests):
// either the value (nullopt when absent) or the error's code and message.
struct FieldResult {
    std::optional<std::string> value;
    std::string error_code;  // empty: no error
    std::string message;
};
FieldResult text_field_of(std::string_view json_text, std::string_view key, bool required);

}  // namespace pgauth::http
