// The outbox worker inside pgauth-http: delivers the mails the extension queues
// in auth.outbox (docs/email.md).
//
// `threads` delivery threads, each with its own libpq connection (never the
// request pool) and its own Sender. Each thread LISTENs on pgauth_outbox and
// also polls (a NOTIFY can be missed while a connection is being re-opened):
//   claim a batch (auth.outbox_claim: FOR UPDATE SKIP LOCKED, a lease),
//   render and send each row, mark it delivered or failed right after.
// Several pgauth-http copies (and threads) share the queue through SKIP LOCKED
// and the lease. A row is sent again only when its lease ran out before it was
// marked (a worker killed, or cut off from the database, between the send and
// the mark): at most one duplicate per delivery thread per such failure. A
// thread never starts a send that could outlive its lease.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integrations/mail/sender.hpp"
#include "integrations/mail/templates.hpp"

namespace pgauth::http::mail {

struct WorkerSettings {
    int threads = 2;                        // PGAUTH_EMAIL_WORKERS; 0: no worker in this copy
    int batch = 20;                         // PGAUTH_OUTBOX_BATCH: rows per claim
    std::chrono::seconds lease{60};         // PGAUTH_OUTBOX_LEASE_SECONDS
    std::chrono::milliseconds poll{5000};   // PGAUTH_OUTBOX_POLL_MS: the fallback when no NOTIFY comes
};

// Counters and the queue gauges for /metrics (read without the database).
class MailStats {
public:
    std::atomic<unsigned long> sent{0}, failed{0}, dead{0};
    void set_queue(long pending, double oldest_seconds, long dead_rows);
    // Prometheus text for the pgauth_email_* series (empty when the worker is off).
    std::string render(const char* transport, bool worker_on) const;

private:
    mutable std::mutex mutex_;
    bool known_ = false;
    long pending_ = 0, dead_rows_ = 0;
    double oldest_ = 0;
};

class OutboxWorker {
public:
    OutboxWorker(std::string database_url, Settings mail, WorkerSettings settings,
                 std::shared_ptr<const Templates> templates, std::string auth_base, std::string host, MailStats& stats);
    ~OutboxWorker();
    OutboxWorker(const OutboxWorker&) = delete;
    OutboxWorker& operator=(const OutboxWorker&) = delete;

    void start();
    // Finishes the mail in hand, then stops every thread. Rows claimed and not yet
    // sent go back to the queue when their lease ends.
    void stop();

private:
    void run(int index);

    std::string database_url_;
    Settings mail_;
    WorkerSettings settings_;
    std::shared_ptr<const Templates> templates_;
    std::string auth_base_, host_;
    MailStats& stats_;
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
};

}  // namespace pgauth::http::mail
