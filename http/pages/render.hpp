// The server-rendered pages of the OAuth flow: the sign-in page and the consent
// page (and a plain message page for what cannot go on). Mustache templates with
// every value HTML-escaped, one stylesheet whose hash is the only style the CSP
// allows, and no script at all.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "request.hpp"

namespace pgauth::http::pages {

struct ProviderButton {
    std::string id;     // the provider id posted back (e.g. "google", "acme")
    std::string label;  // "Continue with Google"
};

struct SignInView {
    std::string action;       // where the form posts (the sign-in page's path)
    std::string oauth_query;  // the authorization request, carried through unchanged
    std::string csrf;         // the form token (csrf.hpp)
    std::string email;        // kept after a failed attempt
    std::optional<std::string> error;  // shown in the alert region
    bool email_invalid = false;        // the first invalid field gets the focus
    bool password_invalid = false;
    std::vector<ProviderButton> providers;
    std::string social_action;  // where a provider button posts
};

struct ScopeLine {
    std::string name;
    std::string label;
    bool required = false;  // openid: shown checked and disabled, always granted
};

struct ConsentView {
    std::string action;
    std::string csrf;
    std::string consent_code;
    std::string client_name;
    std::string client_uri;  // text links only: never an image the page loads
    std::string logo_uri;
    std::string policy_uri;  // links (http(s) only, else not shown)
    std::string tos_uri;
    std::vector<ScopeLine> scopes;        // one checkbox each (name="scope"), checked
    std::vector<std::string> resources;   // the APIs the token is for (RFC 8707), as text
    std::optional<std::string> error;
};

std::string render_sign_in(const SignInView& view);
std::string render_consent(const ConsentView& view);
// A page that sends the browser on to `url` (a meta refresh and a link: no script).
std::string render_continue(std::string_view title, std::string_view url);
std::string render_message(std::string_view title, std::string_view message);

// A human label for an OAuth scope ("email" -> "Your email address"); unknown scopes show their name.
std::string scope_label(std::string_view scope);

// The Content-Security-Policy of every page: nothing but the page's own stylesheet
// (by hash), forms posting to this origin only, never framed.
const std::string& content_security_policy();

// An HTML answer with the page headers (CSP, X-Frame-Options, Referrer-Policy,
// Cache-Control: no-store, nosniff).
Response html(int status, std::string body);

// The message page for an error (its status, its message).
Response error_page(const ApiError& error);

}  // namespace pgauth::http::pages
