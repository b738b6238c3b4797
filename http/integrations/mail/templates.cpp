#include "integrations/mail/templates.hpp"

#include <fstream>
#include <sstream>

#include <kainjow/mustache.hpp>

namespace pgauth::http::mail {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

struct Default {
    const char* name;
    const char* subject;
    const char* text;
    const char* html;
};

// Each OTP stands alone on its line, so a reader (or a test) finds it as a whole number.
const Default defaults[] = {
    {"verify-email", "Verify your email address",
     "Hello {{name}},\n\nOpen this link to verify your email address:\n\n{{url}}\n\n"
     "If you did not ask for this, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello {{name}},</p>"
     "<p><a href=\"{{url}}\">Verify your email address</a></p>"
     "<p>Or paste this link into your browser:<br>{{url}}</p>"
     "<p>If you did not ask for this, you can ignore this message.</p></body></html>\n"},
    {"change-email", "Confirm your new email address",
     "Hello {{name}},\n\nOpen this link to confirm the change of your email address{{#new_email}} to {{new_email}}{{/new_email}}:\n\n{{url}}\n\n"
     "If you did not ask for this, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello {{name}},</p>"
     "<p><a href=\"{{url}}\">Confirm the change of your email address</a>{{#new_email}} to {{new_email}}{{/new_email}}.</p>"
     "<p>Or paste this link into your browser:<br>{{url}}</p>"
     "<p>If you did not ask for this, you can ignore this message.</p></body></html>\n"},
    {"reset-password", "Reset your password",
     "Hello {{name}},\n\nOpen this link to choose a new password:\n\n{{url}}\n\n"
     "If you did not ask for this, you can ignore this message; your password stays as it is.\n",
     "<!doctype html><html><body><p>Hello {{name}},</p>"
     "<p><a href=\"{{url}}\">Choose a new password</a></p>"
     "<p>Or paste this link into your browser:<br>{{url}}</p>"
     "<p>If you did not ask for this, you can ignore this message; your password stays as it is.</p></body></html>\n"},
    {"magic-link", "Your sign-in link",
     "Hello,\n\nOpen this link to sign in:\n\n{{url}}\n\nIt works once, for a few minutes.\n"
     "If you did not ask for this, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello,</p><p><a href=\"{{url}}\">Sign in</a></p>"
     "<p>Or paste this link into your browser:<br>{{url}}</p>"
     "<p>It works once, for a few minutes. If you did not ask for this, you can ignore this message.</p></body></html>\n"},
    {"otp-sign-in", "Your sign-in code",
     "Hello,\n\nYour sign-in code is:\n\n{{otp}}\n\nIt works once, for a few minutes.\n"
     "If you did not ask for this, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello,</p><p>Your sign-in code is:</p><p><strong>{{otp}}</strong></p>"
     "<p>It works once, for a few minutes. If you did not ask for this, you can ignore this message.</p></body></html>\n"},
    {"otp-email-verification", "Your verification code",
     "Hello,\n\nYour email verification code is:\n\n{{otp}}\n\nIt works once, for a few minutes.\n"
     "If you did not ask for this, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello,</p><p>Your email verification code is:</p><p><strong>{{otp}}</strong></p>"
     "<p>It works once, for a few minutes. If you did not ask for this, you can ignore this message.</p></body></html>\n"},
    {"otp-forget-password", "Your password reset code",
     "Hello,\n\nYour password reset code is:\n\n{{otp}}\n\nIt works once, for a few minutes.\n"
     "If you did not ask for this, you can ignore this message; your password stays as it is.\n",
     "<!doctype html><html><body><p>Hello,</p><p>Your password reset code is:</p><p><strong>{{otp}}</strong></p>"
     "<p>It works once, for a few minutes. If you did not ask for this, you can ignore this message; "
     "your password stays as it is.</p></body></html>\n"},
    // Better-Auth's organization plugin: the accept link carries the invitation id.
    {"organization-invitation", "You are invited to join {{organizationName}}",
     "Hello,\n\n{{#inviterName}}{{inviterName}} ({{inviterEmail}}){{/inviterName}}{{^inviterName}}{{inviterEmail}}{{/inviterName}}"
     " invited you to join {{organizationName}} as {{role}}.\n\nOpen this link to accept or decline:\n\n{{url}}\n\n"
     "The invitation works only for this address, once you are signed in.\n"
     "If you do not know this organization, you can ignore this message.\n",
     "<!doctype html><html><body><p>Hello,</p>"
     "<p>{{#inviterName}}{{inviterName}} ({{inviterEmail}}){{/inviterName}}{{^inviterName}}{{inviterEmail}}{{/inviterName}}"
     " invited you to join <strong>{{organizationName}}</strong> as {{role}}.</p>"
     "<p><a href=\"{{url}}\">Accept or decline the invitation</a></p>"
     "<p>Or paste this link into your browser:<br>{{url}}</p>"
     "<p>The invitation works only for this address, once you are signed in. "
     "If you do not know this organization, you can ignore this message.</p></body></html>\n"},
    {"otp-two-factor", "Your two-factor code",
     "Hello {{name}},\n\nYour two-factor sign-in code is:\n\n{{otp}}\n\nIt works once, for a few minutes.\n"
     "If you did not just sign in, change your password.\n",
     "<!doctype html><html><body><p>Hello {{name}},</p><p>Your two-factor sign-in code is:</p><p><strong>{{otp}}</strong></p>"
     "<p>It works once, for a few minutes. If you did not just sign in, change your password.</p></body></html>\n"},
};

data to_data(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            data d{data::type::object};
            for (const auto& [k, v] : j.items())
                if (!v.is_null()) d.set(k, to_data(v));
            return d;
        }
        case nlohmann::json::value_t::array: {
            data d{data::type::list};
            for (const auto& v : j) d.push_back(to_data(v));
            return d;
        }
        case nlohmann::json::value_t::string: return data{j.get<std::string>()};
        case nlohmann::json::value_t::boolean: return j.get<bool>() ? data{data::type::bool_true} : data{data::type::bool_false};
        case nlohmann::json::value_t::null: return data{data::type::bool_false};
        default: return data{j.dump()};
    }
}

void check_parses(const std::string& text, const std::string& where) {
    mustache m{text};
    if (!m.is_valid()) throw TemplateError("email template " + where + ": " + m.error_message());
}

std::string render_one(const std::string& text, const data& d, bool html) {
    mustache m{text};
    if (!m.is_valid()) throw TemplateError(m.error_message());
    if (!html) m.set_custom_escape([](const std::string& s) { return s; });
    return m.render(d);
}

}  // namespace

Templates::Templates(const std::string& directory) {
    for (const auto& d : defaults) parts_[d.name] = Parts{d.subject, d.text, d.html};
    if (directory.empty()) return;
    for (auto& [name, parts] : parts_) {
        for (auto [suffix, target] : {std::pair<const char*, std::string*>{".subject", &parts.subject},
                                      {".txt", &parts.text}, {".html", &parts.html}}) {
            std::string path = directory + "/" + name + suffix;
            std::ifstream in(path, std::ios::binary);
            if (!in) continue;  // absent: the default stays
            std::ostringstream content;
            content << in.rdbuf();
            if (in.bad()) throw TemplateError("email template " + path + ": cannot be read");
            check_parses(content.str(), path);
            *target = content.str();
            ++overridden_;
        }
    }
}

Rendered Templates::render(std::string_view name, const nlohmann::json& vars) const {
    auto it = parts_.find(name);
    if (it == parts_.end()) throw TemplateError("unknown email template " + std::string(name));
    data d = to_data(vars.is_object() ? vars : nlohmann::json::object());
    Rendered out{render_one(it->second.subject, d, false), render_one(it->second.text, d, false),
                 render_one(it->second.html, d, true)};
    for (char& c : out.subject)
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    while (!out.subject.empty() && out.subject.back() == ' ') out.subject.pop_back();
    return out;
}

std::string absolute_link(std::string_view auth_base, std::string_view path) {
    if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) return std::string(path);
    std::string base(auth_base);
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!path.empty() && path.front() != '/') base += '/';
    return base + std::string(path);
}

}  // namespace pgauth::http::mail
