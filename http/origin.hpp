// Origins and redirect targets: the CSRF rule and the open-redirect rule.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgauth::http {

class Request;

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

// What the CSRF rule looks at in a state-changing (not GET/HEAD/OPTIONS) request.
struct CsrfInput {
    bool has_cookie = false;      // a Cookie header was sent
    bool fetch_metadata = false;  // a non-blank Sec-Fetch-Site, -Mode or -Dest was sent
    std::optional<std::string_view> origin;
    std::optional<std::string_view> referer;
};

// Better-Auth's origin check: a request with cookies or fetch metadata must name
// a trusted origin. Origin is used when present and not empty; Referer only when
// Origin is absent or empty. "null" (or nothing) is refused, never replaced by
// Referer. Returns the refusal's error code, or nullopt to let the request through.
std::optional<std::string_view> csrf_refusal(const OriginPolicy& policy, const CsrfInput& request);

// Pipeline step: the rule above for a state-changing request (not GET/HEAD);
// throws the refusal as a 403 from the error catalog.
void check_origin(const OriginPolicy& policy, const Request& request);

}  // namespace pgauth::http
