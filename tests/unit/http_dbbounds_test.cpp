// Client-side bounds on database calls: connection-string defaults, the
// watchdog that cuts a call past its deadline, and the executor that keeps
// database-bound handlers off Pistache's reactor threads.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include "config.hpp"
#include "db/pool.hpp"
#include "db/watchdog.hpp"
#include "executor.hpp"

using namespace pgauth::http;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- connection string

TEST(http_dsn, AddsEveryBoundToAUri) {
    ClientBounds b{.connect_timeout_s = 5, .keepalives_idle_s = 30, .keepalives_interval_s = 10,
                   .keepalives_count = 3, .tcp_user_timeout_ms = 7000};
    EXPECT_EQ(with_client_bounds("postgresql://u@h:5432/db", b),
              "postgresql://u@h:5432/db?connect_timeout=5&keepalives=1&keepalives_idle=30&keepalives_interval=10"
              "&keepalives_count=3&tcp_user_timeout=7000");
    EXPECT_EQ(with_client_bounds("postgres://h/db?sslmode=disable", b),
              "postgres://h/db?sslmode=disable&connect_timeout=5&keepalives=1&keepalives_idle=30"
              "&keepalives_interval=10&keepalives_count=3&tcp_user_timeout=7000");
}

TEST(http_dsn, KeepsWhatTheUserSet) {
    ClientBounds b;
    std::string url = with_client_bounds("postgresql://h/db?connect_timeout=1&keepalives=0&tcp_user_timeout=99", b);
    EXPECT_EQ(url.find("connect_timeout=5"), std::string::npos) << url;
    EXPECT_EQ(url.find("keepalives=1"), std::string::npos) << url;
    EXPECT_EQ(url.find("tcp_user_timeout=10000"), std::string::npos) << url;
    EXPECT_NE(url.find("keepalives_idle=30"), std::string::npos) << url;
    // PGCONNECT_TIMEOUT is libpq's own default for connect_timeout: respected too.
    EXPECT_EQ(with_client_bounds("postgresql://h/db", b, "9").find("connect_timeout"), std::string::npos);
}

TEST(http_dsn, KeyValueStrings) {
    ClientBounds b;
    EXPECT_EQ(with_client_bounds("host=h dbname=db connect_timeout=2", b),
              "host=h dbname=db connect_timeout=2 keepalives=1 keepalives_idle=30 keepalives_interval=10"
              " keepalives_count=3 tcp_user_timeout=10000");
    EXPECT_EQ(with_client_bounds("", b),
              "connect_timeout=5 keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3"
              " tcp_user_timeout=10000");
    // Unparsable: left alone for libpq to report.
    EXPECT_EQ(with_client_bounds("host='unterminated", b), "host='unterminated");
    EXPECT_EQ(with_client_bounds("postgresql://h/db?nosuchoption=1", b), "postgresql://h/db?nosuchoption=1");
}

TEST(http_dsn, FailureReasonHasNoAddress) {
    EXPECT_EQ(connection_failure_reason("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                                        "\tIs the server running on that host and accepting TCP/IP connections?\n"),
              "Connection refused");
    EXPECT_EQ(connection_failure_reason("connection to server at \"db\" (10.0.0.1), port 5432 failed: timeout expired\n"),
              "timeout expired");
    EXPECT_EQ(connection_failure_reason("server closed the connection unexpectedly\n\tThis probably means..."),
              "server closed the connection unexpectedly");
    EXPECT_EQ(connection_failure_reason(""), "connection lost");
}

TEST(http_dsn, Settings) {
    std::map<std::string, std::string> env = {{"PGAUTH_DATABASE_URL", "postgresql://h/db"},
                                              {"PGAUTH_SECRET", std::string(32, 's')},
                                              {"PGAUTH_POOL_SIZE", "3"}};
    auto from = [&](const char* n) -> const char* {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    Config c = load_config({}, from);
    EXPECT_EQ(c.db_connect_timeout_s, 5);
    EXPECT_EQ(c.db_call_timeout_ms, 7000);
    EXPECT_EQ(c.pool_wait_ms, 2000);
    EXPECT_EQ(c.db_queue, 48);
    c = load_config({"--db-call-timeout-ms", "1500", "--pool-wait-ms=250", "--db-connect-timeout", "2", "--db-queue", "7"},
                    from);
    EXPECT_EQ(c.db_call_timeout_ms, 1500);
    EXPECT_EQ(c.pool_wait_ms, 250);
    EXPECT_EQ(c.db_connect_timeout_s, 2);
    EXPECT_EQ(c.db_queue, 7);
    env["PGAUTH_DB_CALL_TIMEOUT_MS"] = "0";
    EXPECT_THROW(load_config({}, from), ConfigError);
    env["PGAUTH_DB_CALL_TIMEOUT_MS"] = "5s";
    EXPECT_THROW(load_config({}, from), ConfigError);
    for (const char* name : {"PGAUTH_DB_CONNECT_TIMEOUT", "PGAUTH_DB_CALL_TIMEOUT_MS", "PGAUTH_POOL_WAIT_MS", "PGAUTH_DB_QUEUE"})
        EXPECT_NE(help_text().find(name), std::string::npos) << name;
}

// ---------------------------------------------------------------- watchdog

namespace {

struct SocketPair {
    int fd[2] = {-1, -1};
    SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0); }
    ~SocketPair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
};

// What a blocked libpq call sees: poll for input, then recv. -1 if nothing within `limit`.
int wait_and_read(int fd, std::chrono::milliseconds limit) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return -1;
    char c;
    return static_cast<int>(::recv(fd, &c, 1, 0));
}

}  // namespace

TEST(http_watchdog, CutsACallPastItsDeadline) {
    Watchdog dog;
    SocketPair s;  // the peer never answers: a frozen server
    auto started = std::chrono::steady_clock::now();
    auto guard = dog.watch(s.fd[0], started + 100ms);
    EXPECT_FALSE(guard.fired());
    EXPECT_EQ(wait_and_read(s.fd[0], 3000ms), 0);  // EOF: libpq reports a broken connection
    auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 90ms);
    EXPECT_LT(waited, 1500ms);
    EXPECT_TRUE(guard.fired());
}

TEST(http_watchdog, LeavesAFinishedCallAlone) {
    Watchdog dog;
    SocketPair s;
    {
        auto guard = dog.watch(s.fd[0], std::chrono::steady_clock::now() + 50ms);
        EXPECT_EQ(dog.watched(), 1u);
    }  // the call finished in time
    EXPECT_EQ(dog.watched(), 0u);
    std::this_thread::sleep_for(150ms);
    ASSERT_EQ(::send(s.fd[1], "x", 1, MSG_NOSIGNAL), 1);
    EXPECT_EQ(wait_and_read(s.fd[0], 1000ms), 1);  // still connected
}

TEST(http_watchdog, NeverTouchesAReusedDescriptorNumber) {
    Watchdog dog;
    auto* first = new SocketPair;  // NOLINT: closed by hand below to free its descriptor numbers
    int number = first->fd[0];
    auto guard = dog.watch(number, std::chrono::steady_clock::now() + 100ms);
    // libpq closes its socket on its own (a failed call) while the guard is still registered...
    ::close(first->fd[0]);
    first->fd[0] = -1;
    delete first;
    // ...and another connection gets the same descriptor number.
    SocketPair second;
    ASSERT_TRUE(second.fd[0] == number || second.fd[1] == number);
    std::this_thread::sleep_for(250ms);  // past the deadline: the watchdog fired on its own copy
    EXPECT_TRUE(guard.fired());
    ASSERT_EQ(::send(second.fd[1], "x", 1, MSG_NOSIGNAL), 1);
    EXPECT_EQ(wait_and_read(second.fd[0], 1000ms), 1);
    ASSERT_EQ(::send(second.fd[0], "y", 1, MSG_NOSIGNAL), 1);
    EXPECT_EQ(wait_and_read(second.fd[1], 1000ms), 1);
}

// ---------------------------------------------------------------- executor

TEST(http_executor, FullQueueRefusesAtOnce) {
    Executor ex(1, 2, 10s);
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<int> ran{0};
    auto blocker = [&, released](bool) { released.wait(); ++ran; };
    ASSERT_TRUE(ex.submit(blocker));  // taken by the only thread
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(ex.submit(blocker));
    EXPECT_TRUE(ex.submit(blocker));
    EXPECT_FALSE(ex.submit(blocker)) << "a full queue must refuse (503), not grow";
    release.set_value();
    ex.drain();
    EXPECT_EQ(ran, 3);
    EXPECT_FALSE(ex.submit([](bool) {})) << "a draining executor refuses new work";
}

TEST(http_executor, ATaskThatWaitedTooLongExpiresWhileEveryThreadIsStuck) {
    Executor ex(1, 8, 100ms);
    std::promise<void> release;
    auto released = release.get_future().share();
    ASSERT_TRUE(ex.submit([released](bool) { released.wait(); }));  // a hung database call
    std::this_thread::sleep_for(20ms);
    std::promise<bool> answer;
    auto started = std::chrono::steady_clock::now();
    ASSERT_TRUE(ex.submit([&](bool expired) { answer.set_value(expired); }));
    auto future = answer.get_future();
    ASSERT_EQ(future.wait_for(2s), std::future_status::ready) << "the queued request got no answer";
    EXPECT_TRUE(future.get());
    auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 90ms);
    EXPECT_LT(waited, 1000ms);
    release.set_value();
}

TEST(http_executor, ATaskTakenInTimeRunsNormally) {
    Executor ex(2, 8, 1s);
    std::promise<bool> answer;
    ASSERT_TRUE(ex.submit([&](bool expired) { answer.set_value(expired); }));
    auto future = answer.get_future();
    ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
    EXPECT_FALSE(future.get());
}

TEST(http_executor, DrainFinishesQueuedAndInFlightWork) {
    std::atomic<int> done{0};
    {
        Executor ex(2, 16, 10s);
        for (int i = 0; i < 6; ++i)
            ASSERT_TRUE(ex.submit([&](bool expired) {
                std::this_thread::sleep_for(30ms);
                if (!expired) ++done;
            }));
        auto started = std::chrono::steady_clock::now();
        ex.drain();
        EXPECT_EQ(done, 6);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "drain waited for nothing";
    }
}

TEST(http_executor, AThrowingTaskDoesNotKillItsThread) {
    Executor ex(1, 4, 1s);
    ASSERT_TRUE(ex.submit([](bool) { throw std::runtime_error("peer went away"); }));
    std::promise<void> ran;
    ASSERT_TRUE(ex.submit([&](bool) { ran.set_value(); }));
    EXPECT_EQ(ran.get_future().wait_for(2s), std::future_status::ready);
}
