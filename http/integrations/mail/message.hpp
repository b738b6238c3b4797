// One outgoing mail as RFC 5322 text: multipart/alternative with the plain-text
// and HTML bodies (UTF-8, base64), and a Message-ID derived from the outbox row
// (<outbox-ID@host>), so a resend of the same row is recognisable.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "integrations/mail/templates.hpp"

namespace pgauth::http::mail {

struct Envelope {
    std::int64_t outbox_id = 0;
    std::string from;       // as configured: "pgauth <no-reply@example.com>" or a bare address
    std::string to;         // one address
    std::string host;       // the Message-ID's right-hand side
};

// "<outbox-42@auth.example.com>"
std::string message_id(std::int64_t outbox_id, std::string_view host);

// The address inside "Name <a@b>", or the whole value when there are no brackets.
std::string bare_address(std::string_view mailbox);

// A plausible single mailbox: no CR, LF, NUL, comma, angle bracket or space; one @.
// The recipient comes from the database, but a header is never built from anything else.
bool safe_address(std::string_view address);

// RFC 2047 encoded-word for non-ASCII header text; ASCII is returned as is.
std::string encode_header(std::string_view text);

// The complete message with CRLF line ends. `boundary_seed` makes the MIME boundary.
std::string build_message(const Envelope& envelope, const Rendered& content, std::string_view date,
                          std::string_view boundary_seed);

// RFC 5322 date of now: "Fri, 27 Nov 2026 16:30:12 +0000".
std::string rfc5322_date();

std::string base64_lines(std::string_view data);

}  // namespace pgauth::http::mail
