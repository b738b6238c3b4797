// POST /api/auth/send-verification-email, GET /api/auth/verify-email, and the
// settings around them (sendOnSignUp, requireEmailVerification), end to end:
// the mail is received by a real SMTP server and its link is followed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";
import { databaseSettings, getManual, linkIn, mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
await databaseSettings({ "pgauth.email_require_verification": "on" });
const server = await startServer(mailEnv(sink));

async function emailVerified(email) {
  const [row] = await sql("SELECT email_verified FROM auth.users WHERE email = lower($1)", [email]);
  return row?.email_verified;
}

test("send-verification-email: the mailed link verifies once, redirects, then says INVALID_TOKEN", async () => {
  const user = await signUp(server);
  const { client } = authClient(server);
  const sent = await client.sendVerificationEmail({ email: user.email, callbackURL: "/welcome" });
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  assert.deepEqual(sent.data, { status: true });
  // Sign-up under requireEmailVerification queued a first mail (callbackURL "/"); take the asked one.
  const mail = await sink.waitFor(user.email, { filter: (m) => linkIn(m).searchParams.get("callbackURL") === "/welcome" });
  assert.match(mail.messageId, /^<outbox-\d+@127\.0\.0\.1>$/);
  assert.equal(mail.from, "no-reply@example.com");
  const link = linkIn(mail);
  assert.equal(link.origin + link.pathname, `${server.api}/verify-email`);
  assert.equal(link.searchParams.get("callbackURL"), "/welcome");
  assert.ok(mail.html.includes(`href="${link.href.replace(/&/g, "&amp;")}"`), mail.html);
  assert.equal(await emailVerified(user.email), false);

  const first = await getManual(link.href);
  assert.equal(first.status, 302, first.text);
  assert.equal(first.location, "/welcome");
  assert.equal(await emailVerified(user.email), true);

  const again = await getManual(link.href);
  assert.equal(again.status, 302);
  assert.match(again.location, /^\/welcome\?error=(INVALID_TOKEN|TOKEN_EXPIRED)$/);
});

test("verify-email: a garbled or expired token redirects with ?error, or answers 401 without callbackURL", async () => {
  const user = await signUp(server);
  await post(`${server.api}/send-verification-email`, { email: user.email });
  const link = linkIn(await sink.waitFor(user.email));
  const token = link.searchParams.get("token");
  const garbled = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
  const r = await getManual(`${server.api}/verify-email?token=${encodeURIComponent(garbled)}&callbackURL=%2Fdone`);
  assert.equal(r.status, 302);
  assert.equal(r.location, "/done?error=INVALID_TOKEN");
  const json = await getManual(`${server.api}/verify-email?token=${encodeURIComponent(garbled)}`);
  assertApiError(assert, json, 401, "INVALID_TOKEN");

  await sql("UPDATE auth.verifications SET expires_at = now() - interval '1 second' WHERE email = lower($1)", [user.email]);
  const expired = await getManual(`${link.href}`);
  assert.equal(expired.status, 302);
  assert.match(expired.location, /[?&]error=(TOKEN_EXPIRED|INVALID_TOKEN)$/);
  assert.equal(await emailVerified(user.email), false);
});

test("send-verification-email: an unknown address gets the same answer and no mail", async () => {
  const nobody = uniqueEmail("nobody");
  const user = await signUp(server);
  const a = await post(`${server.api}/send-verification-email`, { email: nobody, callbackURL: "/x" });
  const b = await post(`${server.api}/send-verification-email`, { email: user.email, callbackURL: "/x" });
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, b.body);
  await sink.waitFor(user.email);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(sink.to(nobody).length, 0);
});

test("requireEmailVerification: sign-in answers 403 EMAIL_NOT_VERIFIED and mails a new link", async () => {
  const email = uniqueEmail("unverified");
  const up = await post(`${server.api}/sign-up/email`, { email, password: "correct-horse-battery", name: "U" });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.token, null);
  assert.equal(up.headers.getSetCookie().length, 0);
  await sink.waitFor(email);  // sign-up sends the first one (sendOnSignUp defaults to requireEmailVerification)
  const before = sink.to(email).length;
  const r = await post(`${server.api}/sign-in/email`, { email, password: "correct-horse-battery" });
  assertApiError(assert, r, 403, "EMAIL_NOT_VERIFIED");
  assert.equal(r.headers.getSetCookie().length, 0);
  const mail = await sink.waitFor(email, { skip: before });
  const verified = await getManual(linkIn(mail).href);
  assert.ok([200, 302].includes(verified.status), verified.text);
  const ok = await post(`${server.api}/sign-in/email`, { email, password: "correct-horse-battery" });
  assert.equal(ok.status, 200, ok.text);
});

test("bad input: 4xx {code,message} and nothing queued", async () => {
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  const [{ v: vBefore }] = await sql("SELECT count(*)::int AS v FROM auth.verifications");
  assertApiError(assert, await post(`${server.api}/send-verification-email`, { email: 5 }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/send-verification-email`, {}), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/send-verification-email`, "{not json"), 400);
  assertApiError(assert, await post(`${server.api}/send-verification-email`, { email: "a@example.com", callbackURL: "https://evil.example/x" }), 403, "INVALID_CALLBACKURL");
  assertApiError(assert, await getManual(`${server.api}/verify-email`), 400, "VALIDATION_ERROR");
  assertApiError(assert, await getManual(`${server.api}/verify-email?token=x&callbackURL=https%3A%2F%2Fevil.example`), 403, "INVALID_CALLBACKURL");
  assertApiError(assert, await getManual(`${server.api}/verify-email?token=%ZZ`), 400, "VALIDATION_ERROR");
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  const [{ v: vAfter }] = await sql("SELECT count(*)::int AS v FROM auth.verifications");
  assert.equal(after, before);
  assert.equal(vAfter, vBefore);
});
