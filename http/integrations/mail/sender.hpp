// How a rendered mail leaves pgauth-http: SMTP through libcurl, a signed JSON
// webhook to the application, or (with neither configured) the log, for
// development. One Sender per worker thread: it owns its libcurl handle, so an
// SMTP connection is reused from one mail to the next.
#pragma once
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "integrations/mail/message.hpp"

namespace pgauth::http::mail {

struct Settings {
    std::string smtp_url;        // smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465
    std::string from;            // PGAUTH_EMAIL_FROM
    std::string webhook_url;     // PGAUTH_EMAIL_WEBHOOK_URL
    std::string webhook_secret;  // PGAUTH_EMAIL_WEBHOOK_SECRET: HMAC-SHA256 key
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds send_timeout{15000};  // one mail, connection included
};

// A delivery that did not happen. The message names the cause, never a secret
// (no password, no URL with credentials, no link).
class SendError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Outgoing {
    Envelope envelope;
    Rendered content;
    std::string template_name;
    nlohmann::json vars;  // the template's variables (the webhook passes them on)
};

class Sender {
public:
    virtual ~Sender() = default;
    virtual void send(const Outgoing& mail) = 0;  // throws SendError
};

enum class Transport { smtp, webhook, log };
Transport transport_of(const Settings& settings);
const char* transport_name(Transport t);

std::unique_ptr<Sender> make_sender(const Settings& settings);

// TLS for an smtp:// URL: STARTTLS is required when the URL carries credentials and the
// server is not on this host (so a downgrade cannot expose the password), else used when
// the server offers it. smtps:// always speaks TLS from the start.
enum class SmtpTls { implicit, required, opportunistic };
SmtpTls smtp_tls(std::string_view smtp_url);

// The webhook's signature header value: "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

// The webhook's JSON body.
nlohmann::json webhook_body(const Outgoing& mail);

}  // namespace pgauth::http::mail
