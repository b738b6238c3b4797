#include "origin.hpp"

#include <algorithm>
#include <cctype>

#include "errors.hpp"
#include "request.hpp"
#include "text.hpp"

namespace pgauth::http {
namespace {

bool has_forbidden_chars(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f || c == '\\'; });
}

}  // namespace

std::optional<std::string> origin_of(std::string_view url) {
    if (url.empty() || url.size() > 2048 || has_forbidden_chars(url)) return std::nullopt;
    auto sep = url.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    std::string scheme = lower(url.substr(0, sep));
    if (scheme != "http" && scheme != "https") return std::nullopt;
    std::string_view rest = url.substr(sep + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    // host: letters, digits, '-', '.', or a bracketed IPv6 literal; optional :port
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(0, close + 1);
        port = authority.substr(close + 1);
        if (!port.empty() && port.front() != ':') return std::nullopt;
    } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon);
    }
    if (host.empty()) return std::nullopt;
    if (host.front() != '[' &&
        !std::all_of(host.begin(), host.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }))
        return std::nullopt;
    if (!port.empty()) {
        std::string_view digits = port.substr(1);
        if (digits.empty() || digits.size() > 5 ||
            !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }) ||
            std::stoi(std::string(digits)) > 65535)
            return std::nullopt;
        // default ports are not part of the serialized origin
        if ((scheme == "http" && digits == "80") || (scheme == "https" && digits == "443")) port = {};
    }
    return scheme + "://" + lower(host) + std::string(port);
}

bool OriginPolicy::trusted_origin(std::string_view origin_header) const {
    auto origin = origin_of(origin_header);
    return origin && std::find(trusted_.begin(), trusted_.end(), *origin) != trusted_.end();
}

bool OriginPolicy::safe_redirect(std::string_view target) const {
    if (target.empty() || target.size() > 2048 || has_forbidden_chars(target)) return false;
    if (target.front() == '/') return target.size() == 1 || (target[1] != '/' && target[1] != '\\');
    return trusted_origin(target);
}

std::optional<std::string_view> csrf_refusal(const OriginPolicy& policy, const CsrfInput& request) {
    if (!request.has_cookie && !request.fetch_metadata) return std::nullopt;
    std::optional<std::string_view> claimed = request.origin;
    if (!claimed || claimed->empty()) claimed = request.referer;
    if (!claimed || claimed->empty() || *claimed == "null") return "MISSING_OR_NULL_ORIGIN";
    if (!policy.trusted_origin(*claimed)) return "INVALID_ORIGIN";
    return std::nullopt;
}

void check_origin(const OriginPolicy& policy, const Request& request) {
    if (request.reads_only()) return;
    auto present = [&](const char* header) {
        auto v = request.header(header);
        return v && v->find_first_not_of(" \t") != std::string::npos;
    };
    const auto& jar = request.raw().cookies();
    auto origin = request.header("Origin"), referer = request.header("Referer");
    CsrfInput input{request.header("Cookie").has_value() || jar.begin() != jar.end(),
                    present("Sec-Fetch-Site") || present("Sec-Fetch-Mode") || present("Sec-Fetch-Dest"),
                    origin, referer};
    if (auto refusal = csrf_refusal(policy, input)) throw errors::make(*refusal);
}

}  // namespace pgauth::http
