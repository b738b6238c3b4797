// POST /api/auth/request-password-reset, GET /api/auth/reset-password/:token,
// POST /api/auth/reset-password, end to end through a real SMTP server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, sessionCookie, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";
import { databaseSettings, getManual, linkIn, mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
await databaseSettings({ "pgauth.revoke_sessions_on_password_reset": "on" });
const server = await startServer(mailEnv(sink));

async function sessionValid(cookie) {
  const r = await fetch(`${server.api}/get-session`, { headers: { cookie } });
  return (await r.json()) !== null;
}

test("request-password-reset: mail, link redirects with ?token=, reset works once and revokes sessions", async () => {
  const user = await signUp(server);
  const { client } = authClient(server);
  const asked = await client.requestPasswordReset({ email: user.email, redirectTo: "/reset" });
  assert.equal(asked.error, null, JSON.stringify(asked.error));
  assert.equal(asked.data.status, true);
  const link = linkIn(await sink.waitFor(user.email));
  assert.match(link.pathname, /^\/api\/auth\/reset-password\/[^/]+$/);
  assert.equal(link.searchParams.get("callbackURL"), "/reset");

  const hop = await getManual(link.href);
  assert.equal(hop.status, 302, hop.text);
  const landing = new URL(hop.location);
  assert.equal(landing.pathname, "/reset");
  const token = landing.searchParams.get("token");
  assert.equal(token, link.pathname.split("/").pop());

  const done = await client.resetPassword({ newPassword: "a-brand-new-password", token });
  assert.equal(done.error, null, JSON.stringify(done.error));
  assert.deepEqual(done.data, { status: true });
  assert.equal(await sessionValid(user.cookie), false, "the old session must be revoked");
  const old = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password });
  assertApiError(assert, old, 401, "INVALID_EMAIL_OR_PASSWORD");
  const fresh = await post(`${server.api}/sign-in/email`, { email: user.email, password: "a-brand-new-password" });
  assert.equal(fresh.status, 200, fresh.text);

  const twice = await post(`${server.api}/reset-password`, { newPassword: "yet-another-password", token });
  assertApiError(assert, twice, 400, "INVALID_TOKEN");
  const hopAgain = await getManual(link.href);
  assert.equal(new URL(hopAgain.location).searchParams.get("error"), "INVALID_TOKEN");
});

test("request-password-reset: unknown and known addresses get the same answer; only the known one gets mail", async () => {
  const user = await signUp(server);
  const nobody = uniqueEmail("nobody");
  const a = await post(`${server.api}/request-password-reset`, { email: nobody, redirectTo: "/reset" });
  const b = await post(`${server.api}/request-password-reset`, { email: user.email, redirectTo: "/reset" });
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, b.body);
  await sink.waitFor(user.email);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(sink.to(nobody).length, 0);
});

test("reset-password: garbled, expired and missing tokens; short passwords", async () => {
  const user = await signUp(server);
  await post(`${server.api}/request-password-reset`, { email: user.email, redirectTo: "/reset" });
  const link = linkIn(await sink.waitFor(user.email));
  const token = link.pathname.split("/").pop();
  const garbled = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
  const hop = await getManual(`${server.api}/reset-password/${garbled}?callbackURL=%2Freset`);
  assert.equal(hop.status, 302);
  assert.equal(new URL(hop.location).searchParams.get("error"), "INVALID_TOKEN");
  assertApiError(assert, await post(`${server.api}/reset-password`, { newPassword: "long-enough-pass", token: garbled }), 400, "INVALID_TOKEN");
  assertApiError(assert, await post(`${server.api}/reset-password`, { newPassword: "long-enough-pass" }), 400, "INVALID_TOKEN");
  assertApiError(assert, await post(`${server.api}/reset-password`, { newPassword: "short", token }), 400, "PASSWORD_TOO_SHORT");
  assertApiError(assert, await post(`${server.api}/reset-password`, { token }), 400, "VALIDATION_ERROR");

  await sql("UPDATE auth.verifications SET expires_at = now() - interval '1 second' WHERE email = lower($1)", [user.email]);
  const expired = await getManual(link.href);
  assert.equal(new URL(expired.location).searchParams.get("error"), "INVALID_TOKEN");
  assertApiError(assert, await post(`${server.api}/reset-password`, { newPassword: "long-enough-pass", token }), 400, "INVALID_TOKEN");
  const still = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password });
  assert.equal(still.status, 200, "a failed reset changes nothing");
});

test("bad input: 4xx {code,message} and nothing queued", async () => {
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assertApiError(assert, await post(`${server.api}/request-password-reset`, { email: ["x"] }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/request-password-reset`, { email: "a@example.com", redirectTo: "https://evil.example/" }), 403, "INVALID_CALLBACKURL");
  assertApiError(assert, await getManual(`${server.api}/reset-password/abc`), 400, "VALIDATION_ERROR");
  assertApiError(assert, await getManual(`${server.api}/reset-password/abc?callbackURL=https%3A%2F%2Fevil.example`), 403, "INVALID_CALLBACKURL");
  assertApiError(assert, await post(`${server.api}/reset-password`, { newPassword: 12, token: "x" }), 400, "VALIDATION_ERROR");
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assert.equal(after, before);
});

test("the mail-sending endpoints have the strict per-client budget (3 per 10 s)", async () => {
  const limited = await startServer({ ...mailEnv(sink), PGAUTH_RATE_LIMIT: "on" });
  for (const path of ["/request-password-reset", "/send-verification-email", "/email-otp/send-verification-otp"]) {
    const body = { email: uniqueEmail("limited"), type: "sign-in" };
    for (let i = 0; i < 3; i++) assert.equal((await post(`${limited.api}${path}`, body)).status, 200, path);
    assertApiError(assert, await post(`${limited.api}${path}`, body), 429, "RATE_LIMITED");
  }
  await limited.stop();
});
