#include "integrations/mail/sender.hpp"

#include <curl/curl.h>

#include <cstring>
#include <ctime>

#include "core/crypto.hpp"
#include "log.hpp"

namespace pgauth::http::mail {
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

CurlPtr new_handle() {
    static CurlGlobal global;
    CurlPtr c(curl_easy_init());
    if (!c) throw SendError("libcurl could not start");
    return c;
}

SlistPtr append(SlistPtr list, const std::string& value) {
    curl_slist* raw = curl_slist_append(list.get(), value.c_str());
    if (!raw) throw SendError("out of memory");
    list.release();
    return SlistPtr(raw);
}

std::string random_seed() { return random_token(12); }

class SmtpSender final : public Sender {
public:
    explicit SmtpSender(const Settings& s) : settings_(s), curl_(new_handle()) {}

    void send(const Outgoing& mail) override {
        std::string payload = build_message(mail.envelope, mail.content, rfc5322_date(), random_seed());
        Reader reader{payload, 0};
        CURL* c = curl_.get();
        curl_easy_reset(c);  // keeps the live connection: the next mail reuses it
        SlistPtr rcpt = append(nullptr, "<" + mail.envelope.to + ">");
        std::string from = "<" + bare_address(settings_.from) + ">";
        char error[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_URL, settings_.smtp_url.c_str());
        // smtps://: TLS from the start; smtp://: STARTTLS, required or when offered (smtp_tls).
        switch (smtp_tls(settings_.smtp_url)) {
            case SmtpTls::required: curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL)); break;
            case SmtpTls::opportunistic: curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY)); break;
            case SmtpTls::implicit: break;
        }
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, &Reader::read);
        curl_easy_setopt(c, CURLOPT_READDATA, &reader);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(payload.size()));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.send_timeout.count()));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
        if (rc != CURLE_OK) {
            long response = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
            std::string why = error[0] ? error : curl_easy_strerror(rc);
            if (response) why += " (SMTP " + std::to_string(response) + ")";
            throw SendError("SMTP: " + why);
        }
    }

private:
    struct Reader {
        const std::string& data;
        std::size_t offset;
        static std::size_t read(char* buffer, std::size_t size, std::size_t n, void* user) {
            auto* self = static_cast<Reader*>(user);
            std::size_t room = size * n, left = self->data.size() - self->offset;
            std::size_t k = std::min(room, left);
            std::memcpy(buffer, self->data.data() + self->offset, k);
            self->offset += k;
            return k;
        }
    };
    Settings settings_;
    CurlPtr curl_;
};

class WebhookSender final : public Sender {
public:
    explicit WebhookSender(const Settings& s) : settings_(s), curl_(new_handle()) {}

    void send(const Outgoing& mail) override {
        std::string body = webhook_body(mail).dump();
        std::string timestamp = std::to_string(static_cast<long long>(std::time(nullptr)));
        SlistPtr headers = append(nullptr, "Content-Type: application/json");
        headers = append(std::move(headers), "X-Pgauth-Timestamp: " + timestamp);
        headers = append(std::move(headers), "X-Pgauth-Signature: " + webhook_signature(settings_.webhook_secret, timestamp, body));
        headers = append(std::move(headers), "X-Pgauth-Message-Id: " + message_id(mail.envelope.outbox_id, mail.envelope.host));
        CURL* c = curl_.get();
        curl_easy_reset(c);
        char error[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_URL, settings_.webhook_url.c_str());
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &discard);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.send_timeout.count()));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
        if (rc != CURLE_OK) throw SendError(std::string("webhook: ") + (error[0] ? error : curl_easy_strerror(rc)));
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) throw SendError("webhook: HTTP " + std::to_string(status));
    }

private:
    static std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }
    Settings settings_;
    CurlPtr curl_;
};

// Development: the message goes to the log (with its link or code, which is the point).
class LogSender final : public Sender {
public:
    void send(const Outgoing& mail) override {
        log::info("email (no PGAUTH_SMTP_URL or PGAUTH_EMAIL_WEBHOOK_URL: logged, not sent)",
                  {{"to", mail.envelope.to},
                   {"subject", mail.content.subject},
                   {"message_id", message_id(mail.envelope.outbox_id, mail.envelope.host)},
                   {"text", mail.content.text}});
    }
};

}  // namespace

Transport transport_of(const Settings& s) {
    if (!s.smtp_url.empty()) return Transport::smtp;
    if (!s.webhook_url.empty()) return Transport::webhook;
    return Transport::log;
}

const char* transport_name(Transport t) {
    switch (t) {
        case Transport::smtp: return "smtp";
        case Transport::webhook: return "webhook";
        default: return "log";
    }
}

std::unique_ptr<Sender> make_sender(const Settings& settings) {
    switch (transport_of(settings)) {
        case Transport::smtp: return std::make_unique<SmtpSender>(settings);
        case Transport::webhook: return std::make_unique<WebhookSender>(settings);
        default: return std::make_unique<LogSender>();
    }
}

SmtpTls smtp_tls(std::string_view url) {
    if (url.rfind("smtps://", 0) == 0) return SmtpTls::implicit;
    std::string_view rest = url.substr(url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    auto at = authority.rfind('@');
    if (at == std::string_view::npos) return SmtpTls::opportunistic;
    std::string_view host = authority.substr(at + 1);
    if (!host.empty() && host.front() == '[') host = host.substr(0, host.find(']') + 1);
    else host = host.substr(0, host.find(':'));
    bool local = host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
    return local ? SmtpTls::opportunistic : SmtpTls::required;
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
    std::string signed_text = std::string(timestamp) + "." + std::string(body);
    Digest mac = hmac_sha256(as_bytes(secret), as_bytes(signed_text));
    return "v1=" + hex_encode(Bytes(mac.data(), mac.size()));
}

nlohmann::json webhook_body(const Outgoing& mail) {
    return {{"id", mail.envelope.outbox_id},
            {"messageId", message_id(mail.envelope.outbox_id, mail.envelope.host)},
            {"template", mail.template_name},
            {"from", mail.envelope.from},
            {"to", mail.envelope.to},
            {"subject", mail.content.subject},
            {"text", mail.content.text},
            {"html", mail.content.html},
            {"vars", mail.vars}};
}

}  // namespace pgauth::http::mail
