// pgauth-http: configuration, start-up, and a clean SIGTERM/SIGINT drain.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "config.hpp"
#include "integrations/mail/worker.hpp"
#include "core/crypto.hpp"
#include "log.hpp"
#include "routes/routes.hpp"
#include "server.hpp"
#include "startup.hpp"

namespace {

// Session JWTs carry iss/aud = the database's pgauth.base_url; clients expect ours.
void warn_on_base_url_mismatch(pgauth::http::Context& ctx) {
    auto r = ctx.run([](pqxx::nontransaction& tx) {
        tx.exec_prepared("load_extension");
        return tx.exec_prepared("base_url");
    });
    std::string database = r.at(0)["base_url"].c_str();
    if (database != ctx.config().base_url)
        pgauth::http::log::warn("pgauth.base_url differs from PGAUTH_BASE_URL: session JWTs will name the database's"
                                " base URL as iss/aud; run ALTER DATABASE ... SET pgauth.base_url",
                                {{"database", database}, {"server", ctx.config().base_url}});
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
    pgauth::http::log::info("open files limit", {{"before", static_cast<unsigned long long>(before)},
                                                 {"now", static_cast<unsigned long long>(limit.rlim_cur)}});
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
    } catch (const VersionRequested&) {
        std::cout << "pgauth-http " << pgauth_http_version << " (needs the pgauth extension "
                  << required_extension_version << ")\n";
        return 0;
    } catch (const ConfigError& e) {
        log::error(std::string("configuration: ") + e.what());
        return 2;
    }
    pgauth::crypto_init();
    raise_descriptor_limit();
    std::shared_ptr<const mail::Templates> templates;
    try {
        templates = std::make_shared<const mail::Templates>(config.email_templates);
    } catch (const mail::TemplateError& e) {
        log::error(std::string("configuration: ") + e.what());
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // one log line per request, written as it happens

    // Block the stop signals in every thread; the main thread waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    auto check = check_database(config);
    if (check.outcome == StartupCheck::Outcome::fatal) {
        log::error(check.message, check.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"reason", check.reason}});
        return 1;
    }
    if (check.outcome == StartupCheck::Outcome::unreachable) log::warn(check.message, {{"reason", check.reason}});
    else if (!check.message.empty()) log::warn(check.message);

    try {
        Server server(config);
        register_routes(server);
        try {
            server.start();
        } catch (const std::exception& e) {
            log::error("cannot listen on " + config.listen_address() + ": " + e.what() +
                           " (is another process using the port? choose another with --listen / PGAUTH_LISTEN)",
                       {{"address", config.listen_address()}});
            return 1;
        }
        try {  // warm one connection; the server also starts without a database
            server.context().exec("health");
            warn_on_base_url_mismatch(server.context());
        } catch (const std::exception& e) {
            if (check.outcome == StartupCheck::Outcome::ok)
                log::warn("database not reachable at start-up; will retry per request");
        }
        // The outbox worker: its own connections, started once the server answers (docs/email.md).
        mail::Settings mail_settings{config.smtp_url, config.email_from, config.email_webhook_url,
                                     config.email_webhook_secret};
        mail_settings.send_timeout = std::chrono::milliseconds(config.email_send_timeout_ms);
        mail::WorkerSettings worker_settings{config.email_workers, config.outbox_batch,
                                             std::chrono::seconds(config.outbox_lease_s),
                                             std::chrono::milliseconds(config.outbox_poll_ms)};
        mail::OutboxWorker worker(config.database_url, mail_settings, worker_settings, templates,
                                  config.base_url + "/api/auth", config.base_host(), server.context().mail_stats());
        auto transport = mail::transport_of(mail_settings);
        if (config.email_workers == 0)
            log::info("email worker off (PGAUTH_EMAIL_WORKERS=0): another copy must deliver the outbox");
        else if (transport == mail::Transport::log)
            log::warn("no PGAUTH_SMTP_URL or PGAUTH_EMAIL_WEBHOOK_URL: mails are written to this log, not sent",
                      {{"workers", config.email_workers}});
        else
            log::info("email worker started", {{"transport", mail::transport_name(transport)},
                                               {"workers", config.email_workers},
                                               {"from", config.email_from},
                                               {"templates_overridden", templates->overridden()}});
        worker.start();
        server.context().social().warm_up();
        std::string host = bracket_host(config.listen_host);
        log::info("pgauth-http listening",
                  {{"address", host + ":" + std::to_string(server.port())}, {"version", pgauth_http_version},
                   {"threads", config.threads}, {"pool", config.pool_size}});
        int sig = 0;
        sigwait(&stop_signals, &sig);
        log::info("pgauth-http draining", {{"signal", sig}});
        worker.stop();
        server.shutdown();
        log::info("pgauth-http stopped");
        std::fflush(stdout);
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
    return 0;
}
