#include "integrations/mail/worker.hpp"

#include <unistd.h>

#include <pqxx/pqxx>

#include "log.hpp"

namespace pgauth::http::mail {
namespace {

using Clock = std::chrono::steady_clock;

class Wake final : public pqxx::notification_receiver {
public:
    Wake(pqxx::connection_base& c, bool& flag) : pqxx::notification_receiver(c, "pgauth_outbox"), flag_(flag) {}
    void operator()(const std::string&, int) override { flag_ = true; }

private:
    bool& flag_;
};

std::string worker_name(int index) {
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
    return std::string(host) + "/" + std::to_string(getpid()) + "/" + std::to_string(index);
}

void prepare(pqxx::connection& c) {
    {
        pqxx::nontransaction tx(c);
        tx.exec("SET statement_timeout = 10000");
        tx.exec("SET application_name = 'pgauth-http outbox'");
    }
    c.prepare("outbox_claim",
              "SELECT id, recipient, template, vars::text AS vars, attempts"
              " FROM auth.outbox_claim($1, $2, make_interval(secs => $3))");
    c.prepare("outbox_delivered", "SELECT auth.outbox_delivered($1, $2) AS ok");
    c.prepare("outbox_failed", "SELECT auth.outbox_failed($1, $2, $3) AS next_attempt_at");
    c.prepare("outbox_stats", "SELECT pending, oldest_pending_seconds, dead FROM auth.outbox_stats()");
}

// Sleeps in short steps so stop() is prompt.
void pause(const std::atomic<bool>& stopping, std::chrono::milliseconds total) {
    auto until = Clock::now() + total;
    while (!stopping && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

void MailStats::set_queue(long pending, double oldest_seconds, long dead_rows) {
    std::lock_guard lock(mutex_);
    known_ = true;
    pending_ = pending;
    oldest_ = oldest_seconds;
    dead_rows_ = dead_rows;
}

std::string MailStats::render(const char* transport, bool worker_on) const {
    std::string out;
    out += "# HELP pgauth_email_worker_info The outbox worker of this copy (transport: smtp, webhook or log).\n";
    out += "# TYPE pgauth_email_worker_info gauge\n";
    out += std::string("pgauth_email_worker_info{transport=\"") + transport + "\"} " + (worker_on ? "1" : "0") + "\n";
    out += "# HELP pgauth_email_sent_total Mails this copy delivered.\n# TYPE pgauth_email_sent_total counter\n";
    out += "pgauth_email_sent_total " + std::to_string(sent.load()) + "\n";
    out += "# HELP pgauth_email_failed_total Delivery attempts of this copy that failed (retried later).\n"
           "# TYPE pgauth_email_failed_total counter\n";
    out += "pgauth_email_failed_total " + std::to_string(failed.load()) + "\n";
    out += "# HELP pgauth_email_dead_total Mails this copy gave up on (attempts exhausted).\n"
           "# TYPE pgauth_email_dead_total counter\n";
    out += "pgauth_email_dead_total " + std::to_string(dead.load()) + "\n";
    std::lock_guard lock(mutex_);
    if (!known_) return out;
    out += "# HELP pgauth_outbox_pending Mails queued and not yet delivered (auth.outbox_stats).\n"
           "# TYPE pgauth_outbox_pending gauge\n";
    out += "pgauth_outbox_pending " + std::to_string(pending_) + "\n";
    out += "# HELP pgauth_outbox_oldest_pending_seconds Age of the oldest undelivered mail.\n"
           "# TYPE pgauth_outbox_oldest_pending_seconds gauge\n";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", oldest_);
    out += std::string("pgauth_outbox_oldest_pending_seconds ") + buf + "\n";
    out += "# HELP pgauth_outbox_dead Mails that ended dead in the outbox.\n# TYPE pgauth_outbox_dead gauge\n";
    out += "pgauth_outbox_dead " + std::to_string(dead_rows_) + "\n";
    return out;
}

OutboxWorker::OutboxWorker(std::string database_url, Settings mail, WorkerSettings settings,
                           std::shared_ptr<const Templates> templates, std::string auth_base, std::string host,
                           MailStats& stats)
    : database_url_(std::move(database_url)),
      mail_(std::move(mail)),
      settings_(settings),
      templates_(std::move(templates)),
      auth_base_(std::move(auth_base)),
      host_(std::move(host)),
      stats_(stats) {}

OutboxWorker::~OutboxWorker() { stop(); }

void OutboxWorker::start() {
    for (int i = 0; i < settings_.threads; ++i) threads_.emplace_back([this, i] { run(i); });
}

void OutboxWorker::stop() {
    stopping_ = true;
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void OutboxWorker::run(int index) {
    const std::string me = worker_name(index);
    auto sender = make_sender(mail_);
    auto backoff = std::chrono::milliseconds(500);
    auto last_stats = Clock::now() - std::chrono::hours(1);
    while (!stopping_) {
        std::unique_ptr<pqxx::connection> conn;
        std::unique_ptr<Wake> wake;
        bool woken = true;  // look once at start, whatever NOTIFY says
        try {
            conn = std::make_unique<pqxx::connection>(database_url_);
            prepare(*conn);
            wake = std::make_unique<Wake>(*conn, woken);
            backoff = std::chrono::milliseconds(500);
            while (!stopping_) {
                if (index == 0 && Clock::now() - last_stats > std::chrono::seconds(2)) {
                    pqxx::nontransaction tx(*conn);
                    auto r = tx.exec_prepared("outbox_stats");
                    if (!r.empty())
                        stats_.set_queue(r[0][0].as<long>(0), r[0][1].is_null() ? 0.0 : r[0][1].as<double>(),
                                         r[0][2].as<long>(0));
                    last_stats = Clock::now();
                }
                pqxx::result rows;
                {
                    pqxx::nontransaction tx(*conn);
                    rows = tx.exec_prepared("outbox_claim", me, settings_.batch,
                                            static_cast<double>(settings_.lease.count()));
                }
                auto claimed_at = Clock::now();
                for (const auto& row : rows) {
                    // Never start a send that could end after the lease: another worker may take the row then.
                    if (stopping_ || Clock::now() - claimed_at + mail_.send_timeout + std::chrono::seconds(1) > settings_.lease)
                        break;
                    auto id = row["id"].as<std::int64_t>();
                    std::string failure;
                    try {
                        Outgoing mail;
                        mail.envelope = Envelope{id, mail_.from, row["recipient"].c_str(), host_};
                        mail.template_name = row["template"].c_str();
                        mail.vars = row["vars"].is_null() ? nlohmann::json::object()
                                                          : nlohmann::json::parse(row["vars"].c_str());
                        if (!mail.vars.is_object()) mail.vars = nlohmann::json::object();
                        if (auto url = mail.vars.find("url"); url != mail.vars.end() && url->is_string())
                            *url = absolute_link(auth_base_, url->get<std::string>());
                        if (!mail.vars.contains("email")) mail.vars["email"] = mail.envelope.to;
                        if (!safe_address(mail.envelope.to)) throw SendError("not a deliverable address");
                        mail.content = templates_->render(mail.template_name, mail.vars);
                        sender->send(mail);
                    } catch (const SendError& e) {
                        failure = e.what();
                    } catch (const TemplateError& e) {
                        failure = std::string("template: ") + e.what();
                    } catch (const nlohmann::json::exception&) {
                        failure = "vars are not JSON";
                    }
                    // A lost connection propagates (reconnect); a refusal (the lease passed to
                    // another worker: OUTBOX_NOT_CLAIMED, or delivered = false) is only logged.
                    pqxx::nontransaction tx(*conn);
                    try {
                        if (failure.empty()) {
                            auto r = tx.exec_prepared("outbox_delivered", id, me);
                            ++stats_.sent;
                            if (!r.empty() && !r[0][0].is_null() && !r[0][0].as<bool>())
                                log::warn("email sent after its lease passed to another worker; it may arrive twice",
                                          {{"outbox_id", id}});
                        } else {
                            auto r = tx.exec_prepared("outbox_failed", id, me, failure);
                            ++stats_.failed;
                            bool dead = !r.empty() && r[0][0].is_null();
                            if (dead) ++stats_.dead;
                            log::warn(dead ? "email dead: delivery attempts exhausted" : "email delivery failed; will retry",
                                      {{"outbox_id", id}, {"attempts", row["attempts"].as<int>(0)}, {"error", failure}});
                        }
                    } catch (const pqxx::sql_error& e) {
                        log::warn("email worker: the outbox refused the mark", {{"outbox_id", id}, {"error", e.what()}});
                    }
                }
                if (static_cast<int>(rows.size()) >= settings_.batch) continue;  // more may wait
                // Wait for a NOTIFY, or the poll interval, in short steps (stop() stays prompt).
                woken = false;
                auto until = Clock::now() + settings_.poll;
                while (!stopping_ && !woken && Clock::now() < until) conn->await_notification(0, 200000);
            }
        } catch (const std::exception& e) {
            if (stopping_) break;
            // The message of a libpq error never holds the password; the URL is not logged.
            log::warn("email worker: database error; retrying", {{"worker", index}, {"error", e.what()}});
            wake.reset();
            conn.reset();
            pause(stopping_, backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
        }
    }
}

}  // namespace pgauth::http::mail
