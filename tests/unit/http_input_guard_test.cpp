// The input guard's scanner: verdicts, request boundaries for pipelined and
// split reads, and caps.
#include "config.hpp"
#include "input_guard.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <map>
#include <string>
#include <vector>

using namespace pgauth::http;

namespace {

// What the scanner does with a byte stream fed in the given pieces: the
// requests it hands on (each reassembled from its Forward pieces) and its
// refusal, if any.
struct Outcome {
    std::vector<std::string> requests;
    std::string partial;  // bytes of a request not yet complete
    std::optional<Refusal> refusal;
};

Outcome run(RequestScanner& scanner, const std::vector<std::string>& pieces) {
    Outcome out;
    for (const auto& piece : pieces) {
        std::string_view input(piece);
        for (;;) {
            auto step = scanner.next(input);
            EXPECT_LE(step.consumed, input.size());
            input.remove_prefix(step.consumed);
            if (step.kind == RequestScanner::Step::Kind::NeedMore) {
                EXPECT_TRUE(input.empty());
                break;
            }
            if (step.kind == RequestScanner::Step::Kind::Refuse) {
                out.refusal = step.refusal;
                return out;
            }
            out.partial.append(step.bytes);
            if (step.request_end) {
                out.requests.push_back(std::move(out.partial));
                out.partial.clear();
            }
        }
    }
    return out;
}

Outcome run(const std::string& bytes, GuardLimits limits = {}) {
    RequestScanner scanner(limits);
    return run(scanner, {bytes});
}

Refusal refusal_of(const std::string& bytes, GuardLimits limits = {}) {
    auto out = run(bytes, limits);
    EXPECT_TRUE(out.refusal.has_value()) << bytes.substr(0, 200);
    return out.refusal.value_or(Refusal{0, "", ""});
}

const std::string kGet = "GET /api/auth/ok HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kPost =
    "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
    "{\"email\":\"a\"}";

}  // namespace

TEST(InputGuard, ForwardsASimpleRequest) {
    auto out = run(kGet);
    ASSERT_FALSE(out.refusal);
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0], kGet);
    EXPECT_TRUE(out.partial.empty());
}

TEST(InputGuard, ForwardsHeadThenBody) {
    auto out = run(kPost);
    ASSERT_FALSE(out.refusal);
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0], kPost);
}

TEST(InputGuard, SplitsPipelinedRequests) {
    std::string stream = kGet + kPost + kGet + kPost;
    auto out = run(stream);
    ASSERT_FALSE(out.refusal);
    ASSERT_EQ(out.requests.size(), 4u);
    EXPECT_EQ(out.requests[0], kGet);
    EXPECT_EQ(out.requests[1], kPost);
    EXPECT_EQ(out.requests[2], kGet);
    EXPECT_EQ(out.requests[3], kPost);
}

// Every split point of a pipelined pair, and byte-at-a-time, give the same requests.
TEST(InputGuard, EverySplitPointGivesTheSameRequests) {
    std::string stream = kPost + kGet;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        RequestScanner scanner;
        auto out = run(scanner, {stream.substr(0, cut), stream.substr(cut)});
        ASSERT_FALSE(out.refusal) << "cut " << cut;
        ASSERT_EQ(out.requests.size(), 2u) << "cut " << cut;
        EXPECT_EQ(out.requests[0], kPost) << "cut " << cut;
        EXPECT_EQ(out.requests[1], kGet) << "cut " << cut;
    }
    std::vector<std::string> bytes;
    for (char c : stream) bytes.emplace_back(1, c);
    RequestScanner scanner;
    auto out = run(scanner, bytes);
    ASSERT_EQ(out.requests.size(), 2u);
    EXPECT_EQ(out.requests[0], kPost);
}

TEST(InputGuard, IncompleteRequestIsHeldOrPartial) {
    RequestScanner scanner;
    auto out = run(scanner, {kPost.substr(0, 30)});
    EXPECT_FALSE(out.refusal);
    EXPECT_TRUE(out.requests.empty());
    EXPECT_EQ(scanner.buffered(), 30u);
}

TEST(InputGuard, RefusesTransferEncoding) {
    for (const char* te : {"chunked", "gzip", "identity", "chunked, chunked"}) {
        auto r = refusal_of(std::string("POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te + "\r\n\r\n1\r\n \r");
        EXPECT_EQ(r.status, 411);
        EXPECT_EQ(r.code, "LENGTH_REQUIRED");
    }
    // The review's split-CRLF chunked request: refused on the head, whatever follows.
    RequestScanner scanner;
    auto out = run(scanner, {"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n \r", "\n0\r\n\r\n"});
    ASSERT_TRUE(out.refusal);
    EXPECT_EQ(out.refusal->status, 411);
    EXPECT_TRUE(out.requests.empty());
}

TEST(InputGuard, ContentLengthVerdicts) {
    auto with_length = [](const std::string& v) {
        return "POST /api/auth/ok HTTP/1.1\r\nHost: x\r\nContent-Length: " + v + "\r\n\r\n";
    };
    for (const char* v : {"99999999999", "1048577", "18446744073709551616", "999999999999999999999999999999"}) {
        auto r = refusal_of(with_length(v));
        EXPECT_EQ(r.status, 413) << v;
        EXPECT_EQ(r.code, "PAYLOAD_TOO_LARGE") << v;
    }
    for (const char* v : {"-1", "", "1e3", "0x10", "5, 5", "+5", "5 5"}) {
        auto r = refusal_of(with_length(v));
        EXPECT_EQ(r.status, 400) << v;
        EXPECT_EQ(r.code, "BAD_REQUEST") << v;
    }
    auto r = refusal_of("POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    EXPECT_EQ(r.status, 400);
    // The exact cap passes, and the same value twice is one value.
    auto out = run(with_length("1048576"));
    EXPECT_FALSE(out.refusal);
    out = run("POST /a HTTP/1.1\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nhi");
    ASSERT_FALSE(out.refusal);
    ASSERT_EQ(out.requests.size(), 1u);
}

TEST(InputGuard, ContentLengthIsRefusedBeforeTheBody) {
    RequestScanner scanner;
    auto step = scanner.next("POST /a HTTP/1.1\r\nContent-Length: 8388608\r\n\r\n");
    EXPECT_EQ(step.kind, RequestScanner::Step::Kind::Refuse);
    EXPECT_EQ(step.refusal.status, 413);
}

TEST(InputGuard, HeadCaps) {
    GuardLimits limits;
    std::string big = "GET /a HTTP/1.1\r\nX-Big: " + std::string(limits.max_header_bytes, 'a') + "\r\n\r\n";
    auto r = refusal_of(big);
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.code, "REQUEST_HEADER_FIELDS_TOO_LARGE");

    // A head that never ends is refused once it passes the cap, without waiting for the end.
    RequestScanner scanner;
    std::string chunk = "GET /a HTTP/1.1\r\n";
    auto step = scanner.next(chunk);
    EXPECT_EQ(step.kind, RequestScanner::Step::Kind::NeedMore);
    std::size_t fed = chunk.size();
    std::string line = "X-A: " + std::string(1000, 'b') + "\r\n";
    while (step.kind == RequestScanner::Step::Kind::NeedMore) {
        step = scanner.next(line);
        fed += line.size();
        ASSERT_LT(fed, limits.max_header_bytes + 2 * line.size());
    }
    EXPECT_EQ(step.refusal.status, 431);

    std::string many = "GET /a HTTP/1.1\r\n";
    for (std::size_t i = 0; i <= limits.max_header_lines; ++i) many += "X: 1\r\n";
    many += "\r\n";
    r = refusal_of(many);
    EXPECT_EQ(r.status, 431);

    std::string fits = "GET /a HTTP/1.1\r\n";
    for (std::size_t i = 0; i < limits.max_header_lines; ++i) fits += "X: 1\r\n";
    fits += "\r\n";
    EXPECT_FALSE(run(fits).refusal);
}

TEST(InputGuard, TargetCap) {
    GuardLimits limits;
    auto r = refusal_of("GET /" + std::string(limits.max_target, 'a') + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.status, 414);
    EXPECT_EQ(r.code, "URI_TOO_LONG");
    // Long before the line ends, and longer than the whole head cap.
    r = refusal_of("GET /" + std::string(100000, 'a'));
    EXPECT_EQ(r.status, 414);
    EXPECT_FALSE(run("GET /" + std::string(limits.max_target - 1, 'a') + " HTTP/1.1\r\n\r\n").refusal);
}

TEST(InputGuard, Methods) {
    for (const char* m : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
        EXPECT_FALSE(run(std::string(m) + " /a HTTP/1.1\r\n\r\n").refusal) << m;
    for (const char* m : {"TRACE", "CONNECT", "PROPFIND", "BREW", "get"}) {
        auto r = refusal_of(std::string(m) + " /a HTTP/1.1\r\n\r\n");
        EXPECT_EQ(r.status, 405) << m;
        EXPECT_EQ(r.code, "METHOD_NOT_ALLOWED") << m;
    }
}

TEST(InputGuard, MalformedHeads) {
    const char* bad[] = {
        "GET /a HTTP/1.1\n\n",                   // bare LF
        "GET /a HTTP/1.1\r\nHost: x\n\r\n",      // bare LF in a header
        "GET /a HTTP/1.1\r\nHo\rst: x\r\n\r\n",  // bare CR
        "GET  /a HTTP/1.1\r\n\r\n",              // two spaces
        "GET /a\r\n\r\n",                        // no version
        "GET /a HTTP/2.0\r\n\r\n",
        "GET /a HTTP/1.1 \r\n\r\n",
        "GET /a HTTP/\r\n\r\n",
        "\r\nGET /a HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET /a HTTP/1.1\r\nName : x\r\n\r\n",
        "GET /a HTTP/1.1\r\n: x\r\n\r\n",
        "GET /a HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET /a HTTP/1.1\r\nA: b\x01\r\n\r\n",
    };
    for (const char* text : bad) {
        auto r = refusal_of(text);
        EXPECT_EQ(r.status, 400) << text;
    }
    auto r = refusal_of(std::string("GET /a HTTP/1.1\r\nHost: x\0y\r\n\r\n", 30));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.code, "BAD_REQUEST");
}

TEST(InputGuard, NonCanonicalPaths) {
    for (const char* target : {"//api/auth/ok", "/api//auth/ok", "/api/./auth/ok", "/api/../api/auth/ok", "/api/auth/ok/",
                               "/api%2Fauth/ok", "/api%2fauth/ok", "/api/auth/%2E%2E/ok", "/api/auth/o%6B", "/a%5cb",
                               "/a\\b", "/a%", "/a%zz", "/a%00", "*", "http://x/api/auth/ok", "/a\x80", "/.", "/..",
                               "/a/.."}) {
        auto r = check_target(target);
        ASSERT_TRUE(r.has_value()) << target;
        EXPECT_EQ(r->status, 400) << target;
        EXPECT_EQ(r->code, "INVALID_PATH") << target;
    }
    for (const char* target : {"/", "/api/auth/ok", "/api/auth/get-session?disableCookieCache=true", "/a/b.c/d..e",
                               "/a%20b", "/a%C3%A9", "/a/:id/@x", "/a?x=%2F&y=//"}) {
        EXPECT_FALSE(check_target(target).has_value()) << target;
    }
    auto r = refusal_of("GET /api/./auth/ok HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.code, "INVALID_PATH");
    EXPECT_TRUE(check_target("/a?x=y#frag").has_value());
}

TEST(InputGuard, HeaderCheckHook) {
    RequestScanner scanner({}, [](std::string_view name, std::string_view value) -> std::optional<Refusal> {
        if (name == "Content-Type" && value != "application/json") return Refusal{415, "UNSUPPORTED_MEDIA_TYPE", "no"};
        return std::nullopt;
    });
    auto out = run(scanner, {"POST /a HTTP/1.1\r\nContent-Type:   application/jsonx  \r\n\r\n"});
    ASSERT_TRUE(out.refusal);
    EXPECT_EQ(out.refusal->status, 415);
}

TEST(InputGuard, RefusedIsTerminal) {
    RequestScanner scanner;
    auto step = scanner.next("TRACE / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(step.kind, RequestScanner::Step::Kind::Refuse);
    EXPECT_TRUE(scanner.refused());
    step = scanner.next(kGet);
    EXPECT_EQ(step.kind, RequestScanner::Step::Kind::Refuse);
    EXPECT_EQ(step.consumed, kGet.size());
}

TEST(InputGuard, RefusalResponseIsJson) {
    auto text = refusal_response(Refusal{413, "PAYLOAD_TOO_LARGE", "Request body is too large"});
    EXPECT_EQ(text.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u);
    EXPECT_NE(text.find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(text.find("Connection: close\r\n"), std::string::npos);
    auto body = std::string("{\"code\":\"PAYLOAD_TOO_LARGE\",\"message\":\"Request body is too large\"}");
    EXPECT_NE(text.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - body.size() - 4), "\r\n\r\n" + body);
}

TEST(InputGuard, ConnectionLimiter) {
    using V = ConnectionLimiter::Verdict;
    ConnectionLimiter limiter(2, 100);
    EXPECT_EQ(limiter.acquire("127.0.0.1"), V::Accepted);
    EXPECT_EQ(limiter.acquire("127.0.0.1"), V::Accepted);
    EXPECT_EQ(limiter.acquire("127.0.0.1"), V::AddressFull);
    EXPECT_EQ(limiter.acquire("127.0.0.2"), V::Accepted);
    EXPECT_EQ(limiter.count("127.0.0.1"), 2u);
    EXPECT_EQ(limiter.total(), 3u);
    limiter.release("127.0.0.1");
    EXPECT_EQ(limiter.acquire("127.0.0.1"), V::Accepted);
    limiter.release("127.0.0.2");
    EXPECT_EQ(limiter.count("127.0.0.2"), 0u);
    limiter.release("127.0.0.9");  // never counted: no effect
    EXPECT_EQ(limiter.count("127.0.0.9"), 0u);
    EXPECT_EQ(limiter.total(), 2u);
}

TEST(InputGuard, ConnectionLimiterTotal) {
    using V = ConnectionLimiter::Verdict;
    ConnectionLimiter limiter(10, 3);
    EXPECT_EQ(limiter.acquire("10.0.0.1"), V::Accepted);
    EXPECT_EQ(limiter.acquire("10.0.0.2"), V::Accepted);
    EXPECT_EQ(limiter.acquire("10.0.0.3"), V::Accepted);
    EXPECT_EQ(limiter.acquire("10.0.0.4"), V::ServerFull);
    EXPECT_EQ(limiter.count("10.0.0.4"), 0u);
    limiter.release("10.0.0.1");
    EXPECT_EQ(limiter.acquire("10.0.0.4"), V::Accepted);
}

TEST(InputGuard, ConnectionBudgetLeavesTheReserve) {
    rlimit limit{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur > 1000 && limit.rlim_cur != RLIM_INFINITY) {
        EXPECT_EQ(connection_budget(500), static_cast<std::size_t>(limit.rlim_cur) - 500);
    }
    EXPECT_EQ(connection_budget(static_cast<std::size_t>(limit.rlim_cur)), 16u);
}

TEST(InputGuard, MaxConnectionsPerIpSetting) {
    std::map<std::string, std::string> env = {{"PGAUTH_DATABASE_URL", "postgresql://x/db"},
                                              {"PGAUTH_SECRET", std::string(32, 's')}};
    auto lookup = [&](const char* n) -> const char* {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    EXPECT_EQ(load_config({}, lookup).max_connections_per_ip, 256u);
    EXPECT_EQ(load_config({"--max-connections-per-ip", "7"}, lookup).max_connections_per_ip, 7u);
    env["PGAUTH_MAX_CONNECTIONS_PER_IP"] = "9";
    EXPECT_EQ(load_config({}, lookup).max_connections_per_ip, 9u);
    EXPECT_THROW(load_config({"--max-connections-per-ip", "0"}, lookup), ConfigError);
    EXPECT_THROW(load_config({"--max-connections-per-ip", "many"}, lookup), ConfigError);
    EXPECT_NE(help_text().find("--max-connections-per-ip"), std::string::npos);
}
