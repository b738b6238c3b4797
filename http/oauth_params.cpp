#include "oauth_params.hpp"

#include <algorithm>
#include <cctype>

#include <sodium.h>

#include "core/crypto.hpp"
#include "core/error_codes.hpp"
#include "text.hpp"

namespace pgauth::http::oauth_params {

using nlohmann::json;

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): jsonb holds nothing else.
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        unsigned cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
}

// A short, printable rendering of a parameter name for an error message.
std::string shown(std::string_view name) {
    std::string out;
    for (char c : name.substr(0, 40)) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '?';
    return out;
}

std::string text_of(const json& params, const char* key) {
    auto it = params.find(key);
    return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The unverified `sub` (else `iss`) of a compact JWS: only to find the client whose keys
// verify it. Empty when the assertion is not a JWS with a string sub or iss.
std::string assertion_subject(std::string_view jws) {
    auto first = jws.find('.');
    auto second = first == std::string_view::npos ? first : jws.find('.', first + 1);
    if (second == std::string_view::npos) return {};
    auto payload = base64url_decode(jws.substr(first + 1, second - first - 1));
    if (!payload) return {};
    auto claims = json::parse(*payload, nullptr, false);
    if (!claims.is_object()) return {};
    std::string sub = text_of(claims, "sub");
    std::string id = sub.empty() ? text_of(claims, "iss") : sub;
    if (has_control(id) || !valid_utf8(id) || id.size() > 2048) return {};
    return id;
}

}  // namespace

ApiError failure(int status, std::string_view error, std::string message) {
    std::string code = "OAUTH_";
    for (char c : error) code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (const ErrorCode* known = find_error(code)) return ApiError(known->http_status, code, std::move(message));
    return ApiError(status, code, std::move(message));
}

std::optional<std::string> form_decode(std::string_view component) {
    std::string out;
    out.reserve(component.size());
    for (std::size_t i = 0; i < component.size(); ++i) {
        char c = component[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= component.size()) return std::nullopt;
            int hi = hex_value(component[i + 1]), lo = hex_value(component[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

json parse(std::string_view text) {
    json out = json::object();
    std::size_t count = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('&', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view pair = text.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto name = form_decode(pair.substr(0, eq));
        auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) throw invalid_request("malformed percent-encoding in the request parameters");
        if (name->empty()) throw invalid_request("a request parameter has no name");
        if (has_control(*name) || has_control(*value) || !valid_utf8(*name) || !valid_utf8(*value))
            throw invalid_request("parameter " + shown(*name) + " holds a control character or invalid UTF-8");
        if (name->size() > 128) throw invalid_request("a request parameter name is too long");
        if (value->size() > max_value_bytes)
            throw invalid_request("parameter " + shown(*name) + " is longer than " + std::to_string(max_value_bytes) + " bytes");
        if (*name == "resource") {
            auto& list = out["resource"];
            if (list.is_null()) {
                list = json::array();
                ++count;
            }
            if (list.size() >= max_resources) throw invalid_request("too many resource parameters");
            if (!value->empty()) list.push_back(std::move(*value));
            continue;
        }
        if (out.contains(*name)) throw invalid_request("parameter " + shown(*name) + " is repeated");
        if (++count > max_params) throw invalid_request("too many request parameters");
        // RFC 6749 3.1: a parameter without a value is treated as omitted; it still counts as sent once.
        out[*name] = value->empty() ? json(nullptr) : json(std::move(*value));
    }
    // Drop the empty ones (kept until now so that a repeat of an empty parameter is still refused).
    for (auto it = out.begin(); it != out.end();) {
        if (it->is_null() || (it->is_array() && it->empty())) it = out.erase(it);
        else ++it;
    }
    return out;
}

ClientAuth client_auth(const std::optional<std::string>& authorization, json& params) {
    ClientAuth out;
    json auth = json::object();
    std::string form_id = text_of(params, "client_id");
    std::string form_secret = text_of(params, "client_secret");
    std::string assertion = text_of(params, "client_assertion");
    std::string assertion_type = text_of(params, "client_assertion_type");
    for (const char* key : {"client_id", "client_secret", "client_assertion", "client_assertion_type"}) params.erase(key);

    bool basic = authorization && istarts_with(*authorization, "Basic ");
    int methods = (basic ? 1 : 0) + (form_secret.empty() ? 0 : 1) + (assertion.empty() && assertion_type.empty() ? 0 : 1);
    if (methods > 1) throw invalid_request("the client used more than one authentication method");

    if (basic) {
        out.basic = true;
        std::string_view v = std::string_view(*authorization).substr(6);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        auto bad = [] { return failure(401, "invalid_client", "the Basic authorization header is malformed"); };
        if (v.empty() || v.size() > 4096) throw bad();
        auto decoded = base64_decode(v);
        if (!decoded) throw bad();
        auto colon = decoded->find(':');
        if (colon == std::string::npos) {
            sodium_memzero(decoded->data(), decoded->size());
            throw bad();
        }
        // RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined.
        auto id = form_decode(std::string_view(*decoded).substr(0, colon));
        auto secret = form_decode(std::string_view(*decoded).substr(colon + 1));
        sodium_memzero(decoded->data(), decoded->size());
        if (!id || !secret || id->empty() || has_control(*id) || has_control(*secret) || !valid_utf8(*id) ||
            !valid_utf8(*secret))
            throw bad();
        if (!form_id.empty() && form_id != *id) throw invalid_request("client_id differs from the Basic credentials");
        auth["method"] = "client_secret_basic";
        auth["client_id"] = std::move(*id);
        auth["client_secret"] = *secret;
        sodium_memzero(secret->data(), secret->size());
    } else if (!form_secret.empty()) {
        if (form_id.empty()) throw invalid_request("client_id is required with client_secret");
        auth["method"] = "client_secret_post";
        auth["client_id"] = form_id;
        auth["client_secret"] = form_secret;
    } else if (!assertion.empty() || !assertion_type.empty()) {
        if (assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            throw invalid_request("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        if (assertion.empty()) throw invalid_request("client_assertion is required");
        auth["method"] = "private_key_jwt";
        // RFC 7523 3: the client is the assertion's sub (= iss); the extension verifies it.
        if (form_id.empty()) form_id = assertion_subject(assertion);
        if (form_id.empty()) throw invalid_request("client_id is required (the client_assertion names no sub)");
        auth["client_id"] = form_id;
        auth["client_assertion"] = assertion;
    } else {
        auth["method"] = "none";
        if (!form_id.empty()) auth["client_id"] = form_id;
    }
    if (!form_secret.empty()) sodium_memzero(form_secret.data(), form_secret.size());
    out.json = std::move(auth);
    return out;
}

std::optional<std::string> bearer_token(const std::optional<std::string>& authorization) {
    if (!authorization || authorization->empty()) return std::nullopt;
    std::string_view v = *authorization;
    if (!istarts_with(v, "Bearer ")) return std::nullopt;
    v.remove_prefix(7);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    // RFC 6750 2.1 b64token: ALPHA DIGIT - . _ ~ + / then '=' padding.
    bool ok = !v.empty() && v.size() <= 8192;
    std::size_t i = 0;
    for (; ok && i < v.size() && v[i] != '='; ++i) {
        auto c = static_cast<unsigned char>(v[i]);
        ok = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    }
    for (; ok && i < v.size(); ++i) ok = v[i] == '=';
    if (!ok) throw failure(401, "invalid_token", "the access token is malformed");
    return std::string(v);
}

bool wants_json(const std::optional<std::string>& sec_fetch_mode, const std::optional<std::string>& accept) {
    if (sec_fetch_mode && iequals(*sec_fetch_mode, "cors")) return true;
    if (!accept) return false;
    std::string a = lower(*accept);
    return a.find("application/json") != std::string::npos && a.find("text/html") == std::string::npos;
}

}  // namespace pgauth::http::oauth_params
