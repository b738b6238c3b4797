#include "request_fields.hpp"

#include <vector>

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

void require_no_nul(const json& body) {
    // Iterative: a deeply nested body must not exhaust the stack (the parser bounds nothing).
    std::vector<const json*> todo{&body};
    while (!todo.empty()) {
        const json* j = todo.back();
        todo.pop_back();
        if (j->is_string()) {
            if (j->get_ref<const std::string&>().find('\0') != std::string::npos)
                throw errors::make("VALIDATION_ERROR", "The body must not contain a NUL character");
        } else if (j->is_object()) {
            for (auto it = j->begin(); it != j->end(); ++it) {
                if (it.key().find('\0') != std::string::npos)
                    throw errors::make("VALIDATION_ERROR", "The body must not contain a NUL character");
                todo.push_back(&it.value());
            }
        } else if (j->is_array()) {
            for (const auto& v : *j) todo.push_back(&v);
        }
    }
}

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> query_param(const std::optional<std::string>& raw, std::string_view key,
                                       std::size_t max_bytes) {
    if (!raw) return std::nullopt;
    const std::string name(key);
    std::string out;
    for (std::size_t i = 0; i < raw->size(); ++i) {
        char c = (*raw)[i];
        if (c == '%') {
            int hi = i + 2 < raw->size() ? hex_digit((*raw)[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit((*raw)[i + 2]) : -1;
            if (hi < 0 || lo < 0) throw errors::make("VALIDATION_ERROR", name + " has malformed percent-encoding");
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) throw errors::make("VALIDATION_ERROR", name + " must not contain control characters");
        out.push_back(c);
        if (out.size() > max_bytes) throw errors::make("VALIDATION_ERROR", name + " is too long");
    }
    return out;
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

std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : values[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace pgauth::http
