// /health, /metrics, /api/auth/ok, request logs, rate limits, configuration, SIGTERM
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { test } from "node:test";
import pg from "pg";
import { ADMIN_DATABASE_URL, DATABASE_URL, SECRET, assertApiError, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";

test("ok, health and metrics", async () => {
  const server = await startServer();
  assert.deepEqual(await (await fetch(`${server.api}/ok`)).json(), { ok: true });
  assert.deepEqual(await (await fetch(`${server.base}/health`)).json(), { status: "ok", database: "ok", signing_key: "ok" });
  await fetch(`${server.api}/get-session`);
  const metrics = await (await fetch(`${server.base}/metrics`)).text();
  assert.match(metrics, /pgauth_http_requests_total\{route="get-session",status="200"\} \d+/);
  assert.match(metrics, /pgauth_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
  assert.match(metrics, /pgauth_db_pool_connections\{state="idle"\} \d+/);
  const missing = await fetch(`${server.api}/no-such-endpoint`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).code, "NOT_FOUND");
  const method = await fetch(`${server.api}/get-session`, { method: "DELETE", headers: { origin: server.base } });
  assert.equal(method.status, 405);
  assert.equal((await method.json()).code, "METHOD_NOT_ALLOWED");
});

test("health is 503 when the database is unreachable; the server keeps running", async () => {
  const server = await startServer({ PGAUTH_DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1" });
  const r = await fetch(`${server.base}/health`);
  assertApiError(assert, { status: r.status, body: await r.json() }, 503, "SERVICE_UNAVAILABLE");
  const s = await post(`${server.api}/sign-in/email`, { email: "a@example.com", password: "whatever-123" });
  assert.equal(s.status, 503);
  assert.doesNotMatch(s.text, /nobody|127\.0\.0\.1:1|connection/i);
  assert.equal((await fetch(`${server.api}/ok`)).status, 200);
});

test("one JSON log line per request, with no token, password or cookie", async () => {
  const server = await startServer();
  const user = await signUp(server);
  await fetch(`${server.api}/get-session?token=${user.token}`, { headers: { cookie: user.cookie, authorization: `Bearer ${user.token}` } });
  await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password });
  await new Promise((r) => setTimeout(r, 100));
  const lines = server.logs.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.length >= 3);
  assert.ok(lines.some((l) => l.route === "get-session" && l.status === 200));
  for (const secret of [user.token, user.password, user.cookie.split("=")[1]]) assert.ok(!server.logs.stdout.includes(secret));
});

test("rate limit: 3 sign-ins per 10 s per IP, then 429 with X-Retry-After", async () => {
  const server = await startServer({ PGAUTH_RATE_LIMIT: "on" });
  const body = { email: uniqueEmail("rl"), password: "wrong-password-1" };
  const statuses = [];
  let limited;
  for (let i = 0; i < 5; i++) {
    const r = await post(`${server.api}/sign-in/email`, body);
    statuses.push(r.status);
    if (r.status === 429) limited = r;
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  assertApiError(assert, limited, 429, "RATE_LIMITED");
  assert.ok(Number(limited.headers.get("x-retry-after")) >= 1);
  assert.equal((await fetch(`${server.api}/get-session`)).status, 200);  // other paths keep their own budget
});

test("refuses to start without a strong secret, and says why", () => {
  const bin = process.env.PGAUTH_HTTP_BIN;
  const base = { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_LISTEN: "127.0.0.1:0" };
  const missing = spawnSync(bin, [], { env: base, encoding: "utf8", timeout: 5000 });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /PGAUTH_SECRET/);
  const weak = spawnSync(bin, [], { env: { ...base, PGAUTH_SECRET: "too-short" }, encoding: "utf8", timeout: 5000 });
  assert.equal(weak.status, 2);
  assert.match(weak.stderr, /at least 32 bytes/);
  const help = spawnSync(bin, ["--help"], { encoding: "utf8", timeout: 5000 });
  assert.equal(help.status, 0);
  for (const name of ["PGAUTH_DATABASE_URL", "PGAUTH_LISTEN", "PGAUTH_SECRET", "PGAUTH_BASE_URL", "PGAUTH_TRUSTED_ORIGINS",
                      "PGAUTH_RATE_LIMIT", "PGAUTH_THREADS", "PGAUTH_POOL_SIZE", "PGAUTH_OASIS_URL"])
    assert.ok(help.stdout.includes(name), name);
});

test("https base URL: Secure cookies with the __Secure- prefix", async () => {
  const server = await startServer({ PGAUTH_BASE_URL: "https://auth.example.com", PGAUTH_TRUSTED_ORIGINS: "https://app.example.com" });
  const r = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("secure"), password: "correct-horse-battery", name: "S" },
                       { origin: "https://auth.example.com" });
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith("__Secure-better-auth.session_token="));
  assert.ok(cookie && /Secure/.test(cookie), String(r.headers.getSetCookie()));
  const value = cookie.split(";")[0];
  const got = await (await fetch(`${server.api}/get-session`, { headers: { cookie: value } })).json();
  assert.equal(got.user.email, r.body.user.email);
  const trusted = await post(`${server.api}/sign-out`, undefined, { cookie: value, origin: "https://app.example.com" });
  assert.equal(trusted.status, 200);
});

test("SIGTERM drains: a request in flight completes with 200, then the server exits 0", async () => {
  const server = await startServer();
  // Hold sign-up inside the database (a lock that blocks inserts into auth.users), so the
  // request is surely in flight, on a pooled connection, when SIGTERM arrives.
  const holder = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await holder.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE auth.users IN SHARE MODE");
    const inflight = post(`${server.api}/sign-up/email`, { email: uniqueEmail("drain"), password: "correct-horse-battery", name: "D" })
      .catch((e) => ({ status: `connection error (${e.cause?.code ?? e.message})` }));
    let waiting = false;
    for (let i = 0; i < 100 && !waiting; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const rows = await sql("SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgauth-http' AND wait_event_type = 'Lock'");
      waiting = rows.length > 0;
    }
    assert.ok(waiting, "the sign-up never reached the database");
    const stopped = server.stop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.child.exitCode, null, "pgauth-http exited with a request still in flight");
    await holder.query("COMMIT");
    const r = await inflight;
    assert.equal(r.status, 200, JSON.stringify(r.body ?? r.status));
    assert.equal(typeof r.body.token, "string");
    const { code } = await stopped;
    assert.equal(code, 0);
  } finally {
    await holder.end();
  }
});

test("/metrics with a token: no or a wrong bearer is 401 JSON, the right one is 200", async () => {
  const token = "metrics-token-0123456789";
  const server = await startServer({ PGAUTH_METRICS_TOKEN: token });
  for (const authorization of [undefined, "Bearer wrong", `Bearer ${token}x`, `Basic ${token}`, "Bearer"]) {
    const r = await fetch(`${server.base}/metrics`, { headers: authorization ? { authorization } : {} });
    assertApiError(assert, { status: r.status, body: await r.json() }, 401, "UNAUTHORIZED");
    assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
  }
  const ok = await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /pgauth_http_requests_total\{route="metrics",status="401"\} 5/);
  assert.ok(!server.logs.stdout.includes(token));
});

async function ipv6Loopback() {
  return new Promise((resolve) => {
    const s = net.createServer().once("error", () => resolve(false)).listen(0, "::1", () => s.close(() => resolve(true)));
  });
}

test("PGAUTH_LISTEN=[::1]:port serves on the IPv6 loopback", async (t) => {
  if (!(await ipv6Loopback())) return t.skip("no IPv6 loopback on this machine");
  const child = spawn(process.env.PGAUTH_HTTP_BIN, [], {
    env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_SECRET: SECRET, PGAUTH_LISTEN: "[::1]:0",
           PGAUTH_THREADS: "2", PGAUTH_RATE_LIMIT: "off" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  t.after(async () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM"); await exited; });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let port;
  for (let i = 0; i < 100 && !port && child.exitCode === null; i++) {
    port = /"address":"\[::1\]:(\d+)"/.exec(stderr)?.[1];
    if (!port) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(port, `pgauth-http did not start on [::1]: ${stderr}`);
  const r = await fetch(`http://[::1]:${port}/api/auth/ok`);
  assert.deepEqual(await r.json(), { ok: true });
  // the default base URL is http://[::1]:<port>, so that origin is trusted
  const signUp = await post(`http://[::1]:${port}/api/auth/sign-up/email`,
                            { email: uniqueEmail("v6"), password: "correct-horse-battery", name: "V" },
                            { origin: "http://[::1]:0" });
  assert.equal(signUp.status, 200, signUp.text);
});

test("a bad PGAUTH_LISTEN is a clear configuration error", () => {
  for (const listen of ["::1:8080", "[::1]", "[nope]:80", "127.0.0.1:99999"]) {
    const r = spawnSync(process.env.PGAUTH_HTTP_BIN, [], {
      env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_SECRET: SECRET, PGAUTH_LISTEN: listen },
      encoding: "utf8", timeout: 5000,
    });
    assert.equal(r.status, 2, `${listen}: ${r.stderr}`);
    assert.match(r.stderr, /PGAUTH_LISTEN/, listen);
  }
});
