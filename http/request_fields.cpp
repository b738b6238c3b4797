#include "request_fields.hpp"

#include "errors.hpp"

namespace pgauth::http {

using nlohmann::json;

std::optional<std::string> text_field(const json& body, std::string_view key, bool required) {
    const std::string name(key);
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        if (required) throw errors::make("VALIDATION_ERROR", name + " is required");
        return std::nullopt;
    }
    if (!it->is_string()) throw errors::make("VALIDATION_ERROR", name + " must be a string");
    const auto& value = it->get_ref<const std::string&>();
    if (value.find('\0') != std::string::npos)
        throw errors::make("VALIDATION_ERROR", name + " must not contain a NUL character");
    return value;
}

bool bool_field(const json& body, std::string_view key, bool fallback) {
    const std::string name(key);
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw errors::make("VALIDATION_ERROR", name + " must be a boolean");
    return it->get<bool>();
}

FieldResult text_field_of(std::string_view json_text, std::string_view key, bool required) {
    json body = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (body.is_discarded()) return {std::nullopt, "BAD_REQUEST", "Invalid JSON body"};
    if (!body.is_object()) return {std::nullopt, "VALIDATION_ERROR", "The body must be a JSON object"};
    try {
        return {text_field(body, key, required), {}, {}};
    } catch (const ApiError& e) {
        return {std::nullopt, e.code(), e.what()};
    }
}

}  // namespace pgauth::http
