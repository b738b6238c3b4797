// POST /api/auth/sign-up/email under sendOnSignUp: the session as usual, and the
// verification mail queued by the sign-up itself (its callbackURL carried into the link).
import assert from "node:assert/strict";
import { test } from "node:test";
import { post, sessionCookie, sql, startServer, uniqueEmail } from "./harness.mjs";
import { databaseSettings, getManual, linkIn, mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
await databaseSettings({ "pgauth.email_send_on_sign_up": "on" });
const server = await startServer(mailEnv(sink));

test("sendOnSignUp: signed in at once, and the mailed link verifies the address", async () => {
  const email = uniqueEmail("onsignup");
  const r = await post(`${server.api}/sign-up/email`, { email, password: "correct-horse-battery", name: "S", callbackURL: "/hello" });
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.body.token, "string");
  assert.ok(sessionCookie(r));
  const link = linkIn(await sink.waitFor(email));
  assert.equal(link.pathname, "/api/auth/verify-email");
  assert.equal(link.searchParams.get("callbackURL"), "/hello");
  const followed = await getManual(link.href);
  assert.equal(followed.status, 302);
  assert.equal(followed.location, "/hello");
  const [row] = await sql("SELECT email_verified FROM auth.users WHERE email = lower($1)", [email]);
  assert.equal(row.email_verified, true);
});

test("a refused sign-up queues nothing", async () => {
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  const email = uniqueEmail("refused");
  assert.equal((await post(`${server.api}/sign-up/email`, { email, password: "short", name: "S" })).status, 400);
  assert.equal((await post(`${server.api}/sign-up/email`, { email, password: "correct-horse-battery", name: "S", callbackURL: "https://evil.example" })).status, 403);
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assert.equal(after, before);
});
