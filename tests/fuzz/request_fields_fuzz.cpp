// http/request_fields: a string field of a JSON request body.
// Properties:
//  - never an exception: every outcome is a value, "absent", or a 400
//    VALIDATION_ERROR / BAD_REQUEST with a message;
//  - an accepted value is exactly the JSON string at that key of a parsed
//    object body, and contains no U+0000;
//  - a required field is never "absent" without an error;
//  - the thrown form (text_field) agrees with the pure form (text_field_of).
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <string>

#include "errors.hpp"
#include "fuzz_check.hpp"
#include "request_fields.hpp"

using namespace pgauth::http;

// Input: one flag byte (bit 0: required), the key up to the first '\n', then the body.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    bool required = data[0] & 1;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) return 0;
    // Keys are literals in the routes: never empty, never with a NUL.
    std::string key(rest.substr(0, std::min<std::size_t>(newline, 16)));
    std::erase(key, '\0');
    if (key.empty()) key = "password";
    std::string body(rest.substr(newline + 1));

    FieldResult r = text_field_of(body, key, required);
    if (!r.error_code.empty()) {
        FUZZ_CHECK(!r.value);
        FUZZ_CHECK(r.error_code == "VALIDATION_ERROR" || r.error_code == "BAD_REQUEST");
        FUZZ_CHECK(!r.message.empty());
        return 0;
    }
    FUZZ_CHECK(r.value || !required);
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    FUZZ_CHECK(!parsed.is_discarded() && parsed.is_object());
    if (r.value) {
        FUZZ_CHECK(r.value->find('\0') == std::string::npos);
        FUZZ_CHECK(parsed.contains(key) && parsed[key].is_string() && parsed[key].get<std::string>() == *r.value);
        auto thrown = text_field(parsed, key, required);
        FUZZ_CHECK(thrown && *thrown == *r.value);
    } else {
        FUZZ_CHECK(!parsed.contains(key) || parsed[key].is_null());
    }
    return 0;
}
