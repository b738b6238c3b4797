// pgauth-http: configuration, start-up, and a clean SIGTERM/SIGINT drain.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "config.hpp"
#include "core/crypto.hpp"
#include "routes/routes.hpp"
#include "server.hpp"

namespace {

// Session JWTs carry iss/aud = the database's pgauth.base_url; clients expect ours.
void warn_on_base_url_mismatch(pgauth::http::Context& ctx) {
    auto r = ctx.run([](pqxx::nontransaction& tx) {
        tx.exec_prepared("load_extension");
        return tx.exec_prepared("base_url");
    });
    std::string database = r.at(0)["base_url"].c_str();
    if (database != ctx.config().base_url)
        std::fprintf(stderr,
                     "{\"msg\":\"pgauth.base_url differs from PGAUTH_BASE_URL: session JWTs will name the database's"
                     " base URL as iss/aud; run ALTER DATABASE ... SET pgauth.base_url\",\"database\":\"%s\","
                     "\"server\":\"%s\"}\n",
                     database.c_str(), ctx.config().base_url.c_str());
}

// Each connection holds a descriptor; at the usual soft limit of 1024 a burst of
// idle connections exhausts them and Pistache's accept loop spins on EMFILE.
// Raise the soft limit to the hard one and say what we got.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
    }
    std::fprintf(stderr, "{\"msg\":\"open files limit\",\"before\":%llu,\"now\":%llu}\n",
                 static_cast<unsigned long long>(before), static_cast<unsigned long long>(limit.rlim_cur));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pgauth::http;
    Config config;
    try {
        config = load_config(std::vector<std::string>(argv + 1, argv + argc), [](const char* n) { return std::getenv(n); });
    } catch (const HelpRequested&) {
        std::cout << help_text();
        return 0;
    } catch (const ConfigError& e) {
        std::cerr << "pgauth-http: " << e.what() << "\n";
        return 2;
    }
    pgauth::crypto_init();
    raise_descriptor_limit();
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one log line per request, written as it happens

    // Block the stop signals in every thread; the main thread waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    try {
        Server server(config);
        register_routes(server);
        server.start();
        try {  // warm one connection; the server also starts without a database
            server.context().exec("health");
            warn_on_base_url_mismatch(server.context());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "{\"msg\":\"database not reachable at start-up; will retry per request\"}\n");
        }
        std::string host = bracket_host(config.listen_host);
        std::fprintf(stderr, "{\"msg\":\"pgauth-http listening\",\"address\":\"%s:%u\",\"threads\":%d,\"pool\":%d}\n",
                     host.c_str(), server.port(), config.threads, config.pool_size);
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::fprintf(stderr, "{\"msg\":\"pgauth-http draining\",\"signal\":%d}\n", sig);
        server.shutdown();
        std::fflush(stdout);
    } catch (const std::exception& e) {
        std::cerr << "pgauth-http: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
