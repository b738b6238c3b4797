// Origins and redirect targets: the CSRF rule and the open-redirect rule.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgauth::http {

// "scheme://host[:port]" in lower case for an absolute http(s) URL; nullopt for
// anything else, including userinfo, backslashes, control characters or spaces.
std::optional<std::string> origin_of(std::string_view url);

class OriginPolicy {
public:
    explicit OriginPolicy(std::vector<std::string> trusted) : trusted_(std::move(trusted)) {}
    bool trusted_origin(std::string_view origin_header) const;
    // A redirect target we may send a browser to: a same-site path ("/x", not
    // "//x" nor "/\x") or an absolute URL on a trusted origin.
    bool safe_redirect(std::string_view target) const;

private:
    std::vector<std::string> trusted_;
};

}  // namespace pgauth::http
