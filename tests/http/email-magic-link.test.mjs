// POST /api/auth/sign-in/magic-link and GET /api/auth/magic-link/verify (Better-Auth's
// magicLink plugin) with the official client and magicLinkClient, through a real SMTP server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { magicLinkClient } from "better-auth/client/plugins";
import { assertApiError, authClient, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";
import { getManual, linkIn, mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
const server = await startServer(mailEnv(sink));

function cookieOf(r) {
  return r.cookies.find((c) => c.startsWith("better-auth.session_token="))?.split(";")[0];
}

test("magic link: a new address signs up on first use (newUserCallbackURL), the link works once", async () => {
  const email = uniqueEmail("magic");
  const { client } = authClient(server, [magicLinkClient()]);
  const sent = await client.signIn.magicLink({
    email, name: "Magic User", callbackURL: "/home", newUserCallbackURL: "/welcome", errorCallbackURL: "/oops",
  });
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  assert.deepEqual(sent.data, { status: true });
  const link = linkIn(await sink.waitFor(email));
  assert.equal(link.pathname, "/api/auth/magic-link/verify");
  assert.equal(link.searchParams.get("callbackURL"), "/home");
  assert.equal(link.searchParams.get("newUserCallbackURL"), "/welcome");

  const first = await getManual(link.href);
  assert.equal(first.status, 302, first.text);
  assert.equal(first.location, `${server.base}/welcome`);
  const cookie = cookieOf(first);
  assert.ok(cookie, "a session cookie");
  const session = await (await fetch(`${server.api}/get-session`, { headers: { cookie } })).json();
  assert.equal(session.user.email, email);
  assert.equal(session.user.name, "Magic User");
  assert.equal(session.user.emailVerified, true);

  const again = await getManual(link.href);
  assert.equal(again.status, 302);
  assert.match(again.location, new RegExp(`^${server.base}/oops\\?error=(INVALID_TOKEN|EXPIRED_TOKEN)$`));
  assert.equal(cookieOf(again), undefined);
});

test("magic link: an existing user goes to callbackURL; without callbackURL the answer is JSON", async () => {
  const user = await signUp(server);
  await post(`${server.api}/sign-in/magic-link`, { email: user.email, callbackURL: "/home", newUserCallbackURL: "/welcome" });
  const first = await getManual(linkIn(await sink.waitFor(user.email)).href);
  assert.equal(first.location, `${server.base}/home`);
  await post(`${server.api}/sign-in/magic-link`, { email: user.email });
  const mail = await sink.waitFor(user.email, { skip: 1 });
  const link = linkIn(mail);
  link.searchParams.delete("callbackURL");
  const json = await getManual(link.href);
  assert.equal(json.status, 200, json.text);
  assert.equal(json.body.user.email, user.email);
  assert.equal(typeof json.body.token, "string");
  assert.ok(cookieOf(json));
});

test("magic link: garbled and expired tokens redirect with ?error and open no session", async () => {
  const email = uniqueEmail("magic-expired");
  await post(`${server.api}/sign-in/magic-link`, { email, callbackURL: "/home", errorCallbackURL: "/oops" });
  const link = linkIn(await sink.waitFor(email));
  const token = link.searchParams.get("token");
  const garbled = new URL(link.href);
  garbled.searchParams.set("token", token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"));
  const bad = await getManual(garbled.href);
  assert.equal(bad.location, `${server.base}/oops?error=INVALID_TOKEN`);
  await sql("UPDATE auth.verifications SET expires_at = now() - interval '1 second' WHERE email = lower($1)", [email]);
  const expired = await getManual(link.href);
  assert.match(expired.location, /\/oops\?error=(EXPIRED_TOKEN|INVALID_TOKEN)$/);
  assert.equal(cookieOf(expired), undefined);
  const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = lower($1)", [email]);
  assert.equal(n, 0, "no account from a dead link");
});

test("a delivered mail leaves no usable link in the database", async () => {
  const email = uniqueEmail("magic-dump");
  await post(`${server.api}/sign-in/magic-link`, { email });
  const token = linkIn(await sink.waitFor(email)).searchParams.get("token");
  for (let i = 0; i < 50; i++) {
    const [row] = await sql("SELECT status, sealed IS NULL AS wiped FROM auth.outbox WHERE recipient = lower($1)", [email]);
    if (row.status === "sent" && row.wiped) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const rows = await sql(
    "SELECT row_to_json(o)::text AS t FROM auth.outbox o WHERE recipient = lower($1)" +
      " UNION ALL SELECT row_to_json(v)::text FROM auth.verifications v WHERE email = lower($1)", [email]);
  assert.ok(rows.length >= 2);
  for (const { t } of rows) assert.ok(!t.includes(token), `the token appears in ${t}`);
  const [row] = await sql("SELECT status, sealed IS NULL AS wiped FROM auth.outbox WHERE recipient = lower($1)", [email]);
  assert.deepEqual(row, { status: "sent", wiped: true });
});

test("bad input: 4xx {code,message} and nothing queued", async () => {
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  for (const body of [{ email: 1 }, {}, { email: "a@example.com", name: 5 }]) {
    assertApiError(assert, await post(`${server.api}/sign-in/magic-link`, body), 400, "VALIDATION_ERROR");
  }
  for (const key of ["callbackURL", "newUserCallbackURL", "errorCallbackURL"]) {
    assertApiError(assert, await post(`${server.api}/sign-in/magic-link`, { email: "a@example.com", [key]: "https://evil.example" }), 403, "INVALID_CALLBACKURL");
    assertApiError(assert, await getManual(`${server.api}/magic-link/verify?token=x&${key}=https%3A%2F%2Fevil.example`), 403, "INVALID_CALLBACKURL");
  }
  assertApiError(assert, await post(`${server.api}/sign-in/magic-link`, { email: "not-an-address" }), 400);
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assert.equal(after, before);
});
