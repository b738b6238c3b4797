#include "integrations/oauth/fetch.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

namespace pgauth::http::oauth {
namespace {

struct Sink {
    std::string* out;
    std::size_t cap;
    bool overflow = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    std::size_t bytes = size * n;
    if (sink->out->size() + bytes > sink->cap) {
        sink->overflow = true;
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    sink->out->append(data, bytes);
    return bytes;
}

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// "https://host:port" of a URL, for messages (never its query, which may hold a code).
std::string where(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return "the provider";
    auto end = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, end);
}

}  // namespace

FetchReply fetch(const FetchRequest& request, const FetchLimits& limits) {
    static CurlGlobal global;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw UpstreamError("curl_easy_init failed");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
    for (const auto& h : request.headers) headers.reset(curl_slist_append(headers.release(), h.c_str()));
    FetchReply reply;
    Sink sink{&reply.body, limits.max_reply_bytes};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (!request.body.empty() || request.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.total_timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE, static_cast<long>(limits.max_reply_bytes));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pgauth-http");
    CURLcode rc = curl_easy_perform(c);
    if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED)
        throw UpstreamError(where(request.url) + " sent a reply larger than " + std::to_string(limits.max_reply_bytes) +
                            " bytes");
    if (rc != CURLE_OK) throw UpstreamError(where(request.url) + " unreachable: " + curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    char* type = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    if (type) reply.content_type = type;
    return reply;
}

std::string component_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') out += static_cast<char>(ch);
        else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += component_encode(k) + "=" + component_encode(v);
    }
    return out;
}

}  // namespace pgauth::http::oauth
