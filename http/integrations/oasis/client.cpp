#include "integrations/oasis/client.hpp"

#include <curl/curl.h>

#include <memory>

namespace pgauth::http {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

OasisClient::OasisClient(std::string base_url, std::string admin_username, std::string admin_password,
                         OasisSettings settings)
    : base_url_(std::move(base_url)),
      username_(std::move(admin_username)),
      password_(std::move(admin_password)),
      settings_(settings) {
    static CurlGlobal global;
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

OasisClient::Reply OasisClient::send(const char* method, const std::string& path, const nlohmann::json* body,
                                     const std::string& token) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw OasisUnavailable("curl_easy_init failed");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
    auto add = [&](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
    add("Accept: application/json");
    if (!token.empty()) add("Authorization: Bearer " + token);
    std::string payload, response;
    if (body) {
        payload = body->dump();
        add("Content-Type: application/json");
    }
    std::string url = base_url_ + path;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    if (body) curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connect_timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE, static_cast<long>(settings_.max_reply_bytes));
    CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) throw OasisUnavailable(std::string("OASIS unreachable: ") + curl_easy_strerror(rc));
    Reply reply;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = nlohmann::json::parse(response, nullptr, false);
    if (reply.body.is_discarded() || !reply.body.is_object()) reply.body = nlohmann::json::object();
    if (reply.status >= 500) throw OasisUnavailable("OASIS answered " + std::to_string(reply.status));
    return reply;
}

std::string OasisClient::admin_token(bool refresh) {
    std::lock_guard lock(mutex_);
    if (!refresh && !token_.empty() && std::chrono::steady_clock::now() < token_expires_) return token_;
    nlohmann::json credentials = {{"username", username_}, {"password", password_}};
    Reply r = send("POST", "/api/avatar/authenticate", &credentials, "");
    const auto& result = r.body.contains("result") && r.body["result"].is_object() ? r.body["result"] : r.body;
    std::string token = result.value("jwtToken", result.value("token", std::string()));
    if (r.is_error() || token.empty()) throw OasisUnavailable("OASIS admin authentication failed");
    token_ = token;
    token_expires_ = std::chrono::steady_clock::now() + settings_.admin_token_lifetime;
    return token_;
}

OasisClient::Reply OasisClient::call(const char* method, const std::string& path, const nlohmann::json* body) {
    Reply r = send(method, path, body, admin_token(false));
    if (r.status == 401) r = send(method, path, body, admin_token(true));  // expired or revoked token
    return r;
}

}  // namespace pgauth::http
