// PGAUTH_RATE_LIMIT_STORE=postgres: two copies of pgauth-http enforce one strict limit
// through auth.rate_limit_hit; get-session keeps the in-memory limiter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { post, sql, startServer, uniqueEmail } from "./harness.mjs";

const [{ present }] = await sql("SELECT to_regprocedure('auth.rate_limit_hit(text,integer,integer)') IS NOT NULL AS present");
const skip = present ? false : "auth.rate_limit_hit is not installed (needs the extension that adds it)";

test("two pgauth-http copies share one sign-in limit", { skip }, async () => {
  const env = { PGAUTH_RATE_LIMIT: "on", PGAUTH_RATE_LIMIT_STORE: "postgres", PGAUTH_TRUSTED_PROXIES: "127.0.0.1" };
  const a = await startServer(env), b = await startServer(env);
  const client = `198.51.100.${1 + (process.pid % 250)}`;
  const body = { email: uniqueEmail("shared"), password: "wrong-password-1" };
  const at = (s) => post(`${s.api}/sign-in/email`, body, { "x-forwarded-for": client, origin: s.base });
  const statuses = [];
  for (const s of [a, b, a, b, a]) statuses.push((await at(s)).status);
  assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  const limited = await at(b);
  assert.equal(limited.body.code, "RATE_LIMITED");
  assert.ok(Number(limited.headers.get("x-retry-after")) >= 1);
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  // get-session is not limited by the shared store
  for (let i = 0; i < 10; i++) assert.equal((await fetch(`${a.api}/get-session`, { headers: { "x-forwarded-for": client } })).status, 200);
  // unknown paths never count
  for (let i = 0; i < 5; i++) assert.equal((await post(`${b.api}/sign-in/nope`, body, { "x-forwarded-for": "198.51.100.251" })).status, 404);
  assert.equal((await post(`${b.api}/sign-in/email`, body, { "x-forwarded-for": "198.51.100.251" })).status, 401);
});

const [{ lockout }] = await sql("SELECT count(*) > 0 AS lockout FROM auth.error_codes WHERE code = 'ACCOUNT_LOCKED'");
test("lockout: ACCOUNT_LOCKED answers 429 with Retry-After; a good sign-in after it clears the count",
     { skip: lockout ? false : "ACCOUNT_LOCKED is not in this extension" }, async () => {
  // one connection: the failure counts live in the backend unless pgauth is preloaded
  const server = await startServer({ PGAUTH_POOL_SIZE: "1", PGAUTH_THREADS: "1" });
  const email = uniqueEmail("lock"), password = "correct-horse-battery";
  assert.equal((await post(`${server.api}/sign-up/email`, { email, password, name: "L" })).status, 200);
  const wrong = () => post(`${server.api}/sign-in/email`, { email, password: "wrong-password-1" });
  let r;
  for (let i = 0; i < 8 && (r = await wrong()).status === 401; i++);
  assert.equal(r.status, 429, r.text);
  assert.equal(r.body.code, "ACCOUNT_LOCKED");
  const retry = Number(r.headers.get("retry-after"));
  assert.ok(retry >= 1, r.headers.get("retry-after"));
  assert.equal(r.headers.get("x-retry-after"), String(retry));
  // locked: even the right password is refused
  const locked = await post(`${server.api}/sign-in/email`, { email, password });
  assert.equal(locked.status, 429, locked.text);
  await new Promise((res) => setTimeout(res, (Number(locked.headers.get("retry-after")) + 0.2) * 1000));
  assert.equal((await post(`${server.api}/sign-in/email`, { email, password })).status, 200);
  // reset: the next failure is a plain 401, not a lock
  assert.equal((await wrong()).status, 401);
});
