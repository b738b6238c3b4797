// A hung database must not stop the server: with the postmaster and all its
// backends SIGSTOPped (the kernel still ACKs on loopback, so neither keepalives
// nor tcp_user_timeout fire), /api/auth/ok and /metrics answer at once, a
// database-bound route answers 503 JSON within its bound, /health says why, and
// everything recovers after SIGCONT. The cluster is frozen only while this file
// runs, and always thawed (finally, after hook and process exit).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, test } from "node:test";
import { post, signUp, startServer, uniqueEmail } from "./harness.mjs";

const canFreeze = process.getuid?.() === 0 && !!process.env.PGDATA;
const skip = !canFreeze && "needs root and PGDATA of the test cluster";

let frozen = [];
function freeze() {
  const postmaster = Number(readFileSync(`${process.env.PGDATA}/postmaster.pid`, "utf8").split("\n")[0]);
  process.kill(postmaster, "SIGSTOP");  // first: it can fork no new backend now
  frozen = [postmaster];
  let children = "";
  try {
    children = execFileSync("pgrep", ["-P", String(postmaster)], { encoding: "utf8" });
  } catch {}
  for (const pid of children.split(/\s+/).filter(Boolean).map(Number)) {
    process.kill(pid, "SIGSTOP");
    frozen.push(pid);
  }
}
function thaw() {
  for (const pid of frozen.reverse()) {
    try { process.kill(pid, "SIGCONT"); } catch {}
  }
  frozen = [];
}
after(thaw);
process.on("exit", thaw);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A GET that gives up after `limit` ms instead of hanging the test.
async function timed(url, init = {}, limit = 6000) {
  const t0 = performance.now();
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(limit) });
    const text = await r.text();
    let body;
    try { body = JSON.parse(text); } catch {}
    return { status: r.status, ms: performance.now() - t0, text, body };
  } catch (e) {
    return { status: `no answer (${e.name})`, ms: performance.now() - t0 };
  }
}

const BOUNDS = {
  PGAUTH_THREADS: "2",
  PGAUTH_POOL_SIZE: "2",
  PGAUTH_DB_CALL_TIMEOUT_MS: "1500",
  PGAUTH_POOL_WAIT_MS: "500",
  PGAUTH_DB_CONNECT_TIMEOUT: "2",
};

test("frozen database: ok and metrics answer at once, database routes 503 in time, health says why, then recovery",
     { skip }, async (t) => {
  const server = await startServer(BOUNDS);
  const user = await signUp(server);
  const getSession = () => timed(`${server.api}/get-session`, { headers: { cookie: user.cookie } });
  await Promise.all([getSession(), getSession(), getSession()]);  // open both pooled connections
  let dbCalls, oks, metrics, health;
  freeze();
  try {
    // More database-bound requests than reactor threads, executor threads and connections,
    // and some whose clients give up (and close the connection) before the answer.
    const pending = Array.from({ length: 6 }, getSession);
    const abandoned = Array.from({ length: 3 }, () =>
      timed(`${server.api}/get-session`, { headers: { cookie: user.cookie } }, 150));
    await sleep(100);
    oks = [];
    for (let wave = 0; wave < 4; wave++)
      oks.push(...await Promise.all(Array.from({ length: 10 }, () => timed(`${server.api}/ok`, {}, 2000))));
    metrics = await timed(`${server.base}/metrics`, {}, 2000);
    dbCalls = await Promise.all(pending);
    await Promise.all(abandoned);
    health = await timed(`${server.base}/health`);
  } finally {
    thaw();
  }
  // Answered at once: well under 200 ms on an idle machine; 500 ms leaves room for a loaded one.
  t.diagnostic(`ok: max ${Math.round(Math.max(...oks.map((r) => r.ms)))} ms; database-bound: max ${
    Math.round(Math.max(...dbCalls.map((r) => r.ms)))} ms; health: ${Math.round(health.ms)} ms`);
  const slowOks = oks.filter((r) => r.status !== 200 || r.ms >= 500);
  assert.deepEqual(slowOks, [], `/api/auth/ok while the database hangs: ${JSON.stringify(slowOks.slice(0, 3))}`);
  assert.equal(metrics.status, 200);
  assert.ok(metrics.ms < 500, `metrics took ${metrics.ms} ms`);
  for (const r of dbCalls) {
    assert.equal(r.status, 503, JSON.stringify(r));
    assert.equal(r.body.code, "SERVICE_UNAVAILABLE");
    assert.equal(typeof r.body.message, "string");
    // call deadline 1.5 s (+ pool wait 0.5 s for the queued ones) and some slack
    assert.ok(r.ms < 3000, `database-bound request took ${r.ms} ms`);
  }
  assert.equal(health.status, 503, JSON.stringify(health));
  assert.equal(health.body.status, "unavailable");
  assert.equal(health.body.database, "timeout");
  assert.equal(health.body.code, "SERVICE_UNAVAILABLE");
  assert.ok(health.ms < 3500, `health took ${health.ms} ms`);

  // Recovery: broken connections were dropped; new ones open on demand.
  let last;
  for (let i = 0; i < 50; i++) {
    last = await getSession();
    if (last.status === 200) break;
    await sleep(100);
  }
  assert.equal(last.status, 200, JSON.stringify(last));
  assert.equal(last.body.user.id, user.user.id);
  const healthy = await timed(`${server.base}/health`);
  assert.equal(healthy.status, 200);
  assert.deepEqual(healthy.body, { status: "ok", database: "ok", signing_key: "ok" });
  const log = server.logs.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(log.some((l) => l.route === "get-session" && l.status === 503), "503s are logged");
  // Answering a client that went away is logged, not a crash.
  assert.ok(log.some((l) => l.route === "get-session" && /client went away/.test(l.error ?? "")), server.logs.stdout);
  assert.equal(server.child.exitCode, null);
});

test("unreachable database: health names libpq's reason, without the address", async () => {
  const server = await startServer({ PGAUTH_DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" });
  const health = await timed(`${server.base}/health`);
  assert.equal(health.status, 503);
  assert.equal(health.body.status, "unavailable");
  assert.match(health.body.database, /^unreachable: /);
  assert.doesNotMatch(health.text, /nobody|127\.0\.0\.1|port/);
});

test("SIGTERM: a database-bound request in flight still gets its answer", async () => {
  const server = await startServer(BOUNDS);
  const inflight = post(`${server.api}/sign-up/email`, { email: uniqueEmail("drain"), password: "correct-horse-battery", name: "D" })
    .catch((e) => ({ status: `connection error (${e.message})` }));
  await sleep(30);
  const { code } = await server.stop();
  assert.equal(code, 0);
  assert.equal((await inflight).status, 200);
});
