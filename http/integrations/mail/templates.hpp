// The mail templates: a subject, a plain-text body and an HTML body per message
// (verify-email, change-email, reset-password, magic-link, otp-sign-in,
// otp-email-verification, otp-forget-password). Compiled-in defaults; a
// directory (PGAUTH_EMAIL_TEMPLATES) may override any of them with
// <name>.subject, <name>.txt and <name>.html. Mustache syntax (kainjow/mustache):
// {{var}} is HTML-escaped in the HTML body and left as is in the subject and
// the text body.
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pgauth::http::mail {

struct Rendered {
    std::string subject;  // one line: CR and LF become spaces
    std::string text;
    std::string html;
};

class TemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Templates {
public:
    // The defaults, overridden by the files found in `directory` (empty: none).
    // Throws TemplateError when a file cannot be read or does not parse, naming it.
    explicit Templates(const std::string& directory = {});

    // Renders `name` with `vars` (a JSON object: strings, numbers, booleans, nested
    // objects and arrays). TemplateError for an unknown template name.
    Rendered render(std::string_view name, const nlohmann::json& vars) const;

    bool known(std::string_view name) const { return parts_.count(std::string(name)) != 0; }
    // How many parts came from the directory (logged at start-up).
    int overridden() const { return overridden_; }

private:
    struct Parts {
        std::string subject, text, html;
    };
    std::map<std::string, Parts, std::less<>> parts_;
    int overridden_ = 0;
};

// The link a mail carries: `path` as the extension gives it (relative to the auth
// base URL, e.g. "/verify-email?token=..") prefixed with `auth_base`
// ("https://auth.example.com/api/auth"). An absolute http(s) URL is kept as is.
std::string absolute_link(std::string_view auth_base, std::string_view path);

}  // namespace pgauth::http::mail
