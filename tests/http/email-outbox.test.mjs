// The outbox worker under faults: the SMTP server down then up, pgauth-http killed
// between claim and delivery, two copies sharing 200 mails; the signed webhook; /metrics.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { test } from "node:test";
import { freePort, post, sql, startServer, uniqueEmail } from "./harness.mjs";
import { MailSink, mailEnv, startSink } from "./mail-sink.mjs";

async function outboxRow(email) {
  const [row] = await sql(
    "SELECT id, status, attempts, last_error, sealed IS NULL AS wiped FROM auth.outbox WHERE recipient = lower($1) ORDER BY id DESC LIMIT 1",
    [email]);
  return row;
}

async function until(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("the SMTP server is down, then up: the mail arrives once it is back", async () => {
  const sink = await startSink();
  await sink.stop();
  const server = await startServer(mailEnv(sink));
  const email = uniqueEmail("down");
  assert.equal((await post(`${server.api}/sign-in/magic-link`, { email })).status, 200);
  const failed = await until("a failed attempt", async () => {
    const row = await outboxRow(email);
    return row?.status === "pending" && row.attempts >= 1 && row.last_error ? row : null;
  });
  assert.match(failed.last_error, /SMTP/);
  assert.ok(!failed.last_error.includes("@"), "no address or credential in the reason");
  await sink.start();
  // The retry is due after the backoff (30 s); bring it forward instead of waiting.
  await sql("UPDATE auth.outbox SET next_attempt_at = now() WHERE id = $1", [failed.id]);
  const mail = await sink.waitFor(email);
  assert.equal(mail.messageId, `<outbox-${failed.id}@127.0.0.1>`);
  const row = await until("sent", async () => ((await outboxRow(email)).status === "sent" ? outboxRow(email) : null));
  assert.equal(row.wiped, true);
  await server.stop();
});

test("pgauth-http killed between claim and delivery: delivered after the lease, by the next copy", async () => {
  const sink = await startSink();
  sink.hold = true;
  const env = mailEnv(sink, { PGAUTH_OUTBOX_LEASE_SECONDS: "4", PGAUTH_EMAIL_SEND_TIMEOUT_MS: "2500", PGAUTH_EMAIL_WORKERS: "1" });
  const first = await startServer(env);
  const email = uniqueEmail("killed");
  assert.equal((await post(`${first.api}/sign-in/magic-link`, { email })).status, 200);
  await until("the mail in flight", () => sink.heldCount > 0);
  first.child.kill("SIGKILL");
  assert.equal((await first.exited).signal, "SIGKILL");
  const claimed = await outboxRow(email);
  assert.equal(claimed.status, "sending");
  assert.equal(claimed.attempts, 1);
  sink.hold = false;
  const second = await startServer(env);
  const mail = await sink.waitFor(email, { timeout: 15000 });
  assert.equal(mail.messageId, `<outbox-${claimed.id}@127.0.0.1>`);
  const row = await until("sent", async () => ((await outboxRow(email)).status === "sent" ? outboxRow(email) : null));
  assert.equal(row.attempts, 2);
  assert.equal(sink.to(email).length, 1);
  await second.stop();
});

test("two copies share 200 queued mails: every one arrives, no duplicate", async () => {
  const sink = await startSink();
  const tag = `bulk${process.pid}x${Date.now()}`;
  await sql(
    "SELECT auth.magic_link_request($1 || g || '@example.com', NULL, NULL, NULL, NULL) FROM generate_series(1, 200) g",
    [`${tag}.`]);
  const env = mailEnv(sink, { PGAUTH_OUTBOX_BATCH: "10" });
  const a = await startServer(env);
  const b = await startServer(env);
  await until("200 mails", () => new Set(sink.messages.filter((m) => m.to[0].startsWith(`${tag}.`)).map((m) => m.to[0])).size === 200, 60000);
  await new Promise((r) => setTimeout(r, 500));
  const mine = sink.messages.filter((m) => m.to[0].startsWith(`${tag}.`));
  const ids = mine.map((m) => m.messageId);
  const duplicates = ids.length - new Set(ids).size;
  assert.equal(duplicates, 0, "no copy died: the at-least-once bound is zero duplicates");
  const [{ sent }] = await sql("SELECT count(*)::int AS sent FROM auth.outbox WHERE recipient LIKE $1 AND status = 'sent'", [`${tag}.%`]);
  assert.equal(sent, 200);
  const byWorker = await sql("SELECT DISTINCT split_part(claimed_by, '/', 2) AS pid FROM auth.outbox WHERE recipient LIKE $1", [`${tag}.%`]);
  assert.ok(byWorker.length >= 1);
  const metrics = await (await fetch(`${a.base}/metrics`)).text();
  assert.match(metrics, /^pgauth_email_sent_total \d+$/m);
  assert.match(metrics, /^pgauth_email_worker_info\{transport="smtp"\} 1$/m);
  await until("queue gauges", async () => /^pgauth_outbox_pending \d+$/m.test(await (await fetch(`${b.base}/metrics`)).text()));
  const sentA = Number(/^pgauth_email_sent_total (\d+)$/m.exec(metrics)[1]);
  const sentB = Number(/^pgauth_email_sent_total (\d+)$/m.exec(await (await fetch(`${b.base}/metrics`)).text())[1]);
  assert.ok(sentA + sentB >= 200, `${sentA} + ${sentB}`);
  await a.stop();
  await b.stop();
});

test("the webhook: one signed POST per mail (X-Pgauth-Signature over timestamp.body)", async () => {
  const secret = "webhook-secret-0123456789abcdef-0123";
  const received = [];
  const port = await freePort();
  const hook = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(received.length === 1 ? 503 : 204).end();  // the first delivery fails: it is retried
    });
  });
  await new Promise((r) => hook.listen(port, "127.0.0.1", r));
  const server = await startServer({
    PGAUTH_EMAIL_WEBHOOK_URL: `http://127.0.0.1:${port}/mail`,
    PGAUTH_EMAIL_WEBHOOK_SECRET: secret,
    PGAUTH_OUTBOX_POLL_MS: "200",
  });
  const email = uniqueEmail("hook");
  await post(`${server.api}/sign-in/magic-link`, { email });
  await until("a first POST", () => received.length >= 1);
  const row = await until("the failure", async () => ((await outboxRow(email))?.last_error ? outboxRow(email) : null));
  assert.match(row.last_error, /HTTP 503/);
  await sql("UPDATE auth.outbox SET next_attempt_at = now() WHERE id = $1", [row.id]);
  await until("a second POST", () => received.length >= 2);
  for (const { headers, body } of received) {
    const expected = "v1=" + crypto.createHmac("sha256", secret).update(`${headers["x-pgauth-timestamp"]}.${body}`).digest("hex");
    assert.equal(headers["x-pgauth-signature"], expected);
    assert.ok(Math.abs(Number(headers["x-pgauth-timestamp"]) - Date.now() / 1000) < 60);
    const mail = JSON.parse(body);
    assert.equal(mail.to, email);
    assert.equal(mail.template, "magic-link");
    assert.equal(mail.messageId, `<outbox-${row.id}@127.0.0.1>`);
    assert.match(mail.vars.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/auth\/magic-link\/verify\?token=/);
    assert.ok(mail.text.includes(mail.vars.url));
  }
  assert.equal(received[0].headers["x-pgauth-message-id"], received[1].headers["x-pgauth-message-id"]);
  await until("sent", async () => ((await outboxRow(email)).status === "sent" ? true : null));
  await server.stop();
  hook.close();
});

test("no SMTP and no webhook: the mail is written to the log, and start-up says so", async () => {
  const server = await startServer({ PGAUTH_OUTBOX_POLL_MS: "200" });
  const email = uniqueEmail("logged");
  await post(`${server.api}/sign-in/magic-link`, { email });
  await until("the logged mail", () => server.logs.stderr.includes(email));
  assert.match(server.logs.stderr, /mails are written to this log, not sent/);
  const line = server.logs.stderr.split("\n").find((l) => l.includes(email));
  assert.match(JSON.parse(line).text, /\/api\/auth\/magic-link\/verify\?token=/);
  await server.stop();
});
