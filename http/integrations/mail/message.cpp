#include "integrations/mail/message.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/crypto.hpp"

namespace pgauth::http::mail {
namespace {

std::string base64(std::string_view in) { return base64_encode(as_bytes(in)); }

}  // namespace

std::string message_id(std::int64_t outbox_id, std::string_view host) {
    return "<outbox-" + std::to_string(outbox_id) + "@" + std::string(host) + ">";
}

std::string bare_address(std::string_view mailbox) {
    auto open = mailbox.rfind('<');
    auto close = mailbox.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open)
        return std::string(mailbox.substr(open + 1, close - open - 1));
    auto first = mailbox.find_first_not_of(' ');
    auto last = mailbox.find_last_not_of(' ');
    if (first == std::string_view::npos) return {};
    return std::string(mailbox.substr(first, last - first + 1));
}

bool safe_address(std::string_view a) {
    if (a.empty() || a.size() > 320) return false;
    if (std::count(a.begin(), a.end(), '@') != 1 || a.front() == '@' || a.back() == '@') return false;
    return std::none_of(a.begin(), a.end(), [](char c) {
        return c == '\r' || c == '\n' || c == '\0' || c == ',' || c == '<' || c == '>' || c == ' ' || c == '\t' ||
               c == '"' || c == ';';
    });
}

std::string encode_header(std::string_view text) {
    bool ascii = std::all_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7f;
    });
    if (ascii) return std::string(text);
    return "=?UTF-8?B?" + base64(text) + "?=";
}

std::string base64_lines(std::string_view data) {
    std::string flat = base64(data), out;
    for (std::size_t i = 0; i < flat.size(); i += 76) out += flat.substr(i, 76) + "\r\n";
    return out;
}

std::string rfc5322_date() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string build_message(const Envelope& e, const Rendered& content, std::string_view date,
                          std::string_view boundary_seed) {
    std::string boundary = "=_pgauth_" + std::string(boundary_seed);
    std::string m;
    m += "Date: " + std::string(date) + "\r\n";
    m += "From: " + e.from + "\r\n";
    m += "To: " + e.to + "\r\n";
    m += "Subject: " + encode_header(content.subject) + "\r\n";
    m += "Message-ID: " + message_id(e.outbox_id, e.host) + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
    m += "\r\n";
    m += "--" + boundary + "\r\n";
    m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    m += base64_lines(content.text);
    m += "--" + boundary + "\r\n";
    m += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    m += base64_lines(content.html);
    m += "--" + boundary + "--\r\n";
    return m;
}

}  // namespace pgauth::http::mail
