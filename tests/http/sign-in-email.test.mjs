// POST /api/auth/sign-in/email
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, sessionCookie, signUp, startServer, uniqueEmail } from "./harness.mjs";

const server = await startServer();

test("the official client signs in; wrong password and unknown email look the same", async () => {
  const user = await signUp(server);
  const { client } = authClient(server);
  const ok = await client.signIn.email({ email: user.email.toUpperCase(), password: user.password });
  assert.equal(ok.error, null);
  assert.equal(ok.data.redirect, false);
  assert.equal(ok.data.user.id, user.user.id);
  const wrong = await post(`${server.api}/sign-in/email`, { email: user.email, password: "not-the-password" });
  const unknown = await post(`${server.api}/sign-in/email`, { email: uniqueEmail("nobody"), password: "not-the-password" });
  assertApiError(assert, wrong, 401, "INVALID_EMAIL_OR_PASSWORD");
  assertApiError(assert, unknown, 401, "INVALID_EMAIL_OR_PASSWORD");
  assert.deepEqual(wrong.body, unknown.body);
});

test("rememberMe=false: browser-session cookie plus dont_remember, 1-day session", async () => {
  const user = await signUp(server);
  const r = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password, rememberMe: false });
  assert.equal(r.status, 200);
  const cookies = r.headers.getSetCookie();
  const session = cookies.find((c) => c.startsWith("better-auth.session_token="));
  assert.ok(!/Max-Age/i.test(session), session);
  assert.ok(cookies.some((c) => c.startsWith("better-auth.dont_remember=true.")));
  const got = await (await fetch(`${server.api}/get-session`, { headers: { cookie: sessionCookie(r) } })).json();
  const hours = (Date.parse(got.session.expiresAt) - Date.now()) / 3.6e6;
  assert.ok(hours > 23 && hours <= 24, `expires in ${hours} h`);
});

test("callbackURL: trusted paths redirect, tricks are refused", async () => {
  const user = await signUp(server);
  const ok = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password, callbackURL: "/dashboard" });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.redirect, true);
  assert.equal(ok.body.url, "/dashboard");
  const same = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password, callbackURL: `${server.base}/x` });
  assert.equal(same.status, 200);
  for (const evil of ["//evil.example", "https://evil.example/", "https:evil.example", "/\\evil.example",
                      `http://user@127.0.0.1:${new URL(server.base).port}/`, "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"]) {
    const r = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password, callbackURL: evil });
    assertApiError(assert, r, 403, "INVALID_CALLBACKURL");
  }
});

test("wrong types and missing fields are 400 VALIDATION_ERROR", async () => {
  for (const body of [{}, { email: "a@example.com" }, { email: "a@example.com", password: 12345678 },
                      { email: "a@example.com", password: "long-enough-1", rememberMe: "yes" }]) {
    assertApiError(assert, await post(`${server.api}/sign-in/email`, body), 400, "VALIDATION_ERROR");
  }
});

test("a state-changing request with a cookie needs a trusted Origin", async () => {
  const user = await signUp(server);
  const body = { email: user.email, password: user.password };
  const noOrigin = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "" });
  assertApiError(assert, noOrigin, 403, "MISSING_OR_NULL_ORIGIN");
  const nullOrigin = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "null" });
  assertApiError(assert, nullOrigin, 403, "MISSING_OR_NULL_ORIGIN");
  const evil = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "http://evil.example" });
  assertApiError(assert, evil, 403, "INVALID_ORIGIN");
  const fetchMeta = await post(`${server.api}/sign-in/email`, body, { "sec-fetch-site": "cross-site", origin: "" });
  assertApiError(assert, fetchMeta, 403, "MISSING_OR_NULL_ORIGIN");
  const referer = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "", referer: `${server.base}/login` });
  assert.equal(referer.status, 200);
  const good = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: server.base });
  assert.equal(good.status, 200);
});

test("Origin: null with a cookie is refused even with a trusted Referer", async () => {
  const user = await signUp(server);
  const body = { email: user.email, password: user.password };
  const trustedReferer = `${server.base}/login`;
  const nullOrigin = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "null", referer: trustedReferer });
  assertApiError(assert, nullOrigin, 403, "MISSING_OR_NULL_ORIGIN");
  const nullMeta = await post(`${server.api}/sign-in/email`, body, { "sec-fetch-site": "cross-site", origin: "null", referer: trustedReferer });
  assertApiError(assert, nullMeta, 403, "MISSING_OR_NULL_ORIGIN");
  const untrusted = await post(`${server.api}/sign-in/email`, body, { cookie: user.cookie, origin: "http://evil.example", referer: trustedReferer });
  assertApiError(assert, untrusted, 403, "INVALID_ORIGIN");
});

test("a NUL inside the password is refused, not cut off", async () => {
  const user = await signUp(server);
  for (const password of [`${user.password}\u0000WRONG`, `${user.password}\u0000`]) {
    const r = await post(`${server.api}/sign-in/email`, { email: user.email, password });
    assertApiError(assert, r, 400, "VALIDATION_ERROR");
    assert.ok(!sessionCookie(r));
  }
  const email = await post(`${server.api}/sign-in/email`, { email: `${user.email}\u0000x`, password: user.password });
  assertApiError(assert, email, 400, "VALIDATION_ERROR");
  const up = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("nul"), password: "correct-horse-battery\u0000", name: "N" });
  assertApiError(assert, up, 400, "VALIDATION_ERROR");
  assert.equal((await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password })).status, 200);
});
