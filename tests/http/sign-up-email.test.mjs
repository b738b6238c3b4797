// POST /api/auth/sign-up/email
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertApiError, authClient, post, sql, startServer, uniqueEmail } from "./harness.mjs";

const server = await startServer();

test("the official client signs up and is signed in", async () => {
  const { client, jar } = authClient(server);
  const email = uniqueEmail("signup");
  const { data, error } = await client.signUp.email({ email, password: "correct-horse-battery", name: "Ada" });
  assert.equal(error, null);
  assert.equal(data.user.email, email);
  assert.equal(data.user.name, "Ada");
  assert.equal(data.user.emailVerified, false);
  assert.match(data.token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(jar.has("better-auth.session_token"));
  const session = await client.getSession();
  assert.equal(session.data.user.email, email);
  assert.equal(session.data.session.token, data.token);
});

test("response shape, headers and cookie match Better-Auth 1.7", async () => {
  const r = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("shape"), password: "correct-horse-battery", name: "S" });
  assert.equal(r.status, 200);
  // the captured real response has exactly these keys
  const reference = readFileSync(new URL("../../../shared/reference/better-auth/sign-up.txt", import.meta.url), "utf8");
  const refBody = JSON.parse(reference.trim().split("\n").at(-1));
  assert.deepEqual(Object.keys(r.body).sort(), Object.keys(refBody).sort());
  assert.deepEqual(Object.keys(r.body.user).sort(), Object.keys(refBody.user).sort());
  assert.match(r.body.user.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="));
  assert.match(cookie, /^better-auth\.session_token=[A-Za-z0-9_-]{43}\.[A-Za-z0-9%]+; /);
  for (const attr of ["Max-Age=604800", "Path=/", "HttpOnly", "SameSite=Lax"]) assert.ok(cookie.includes(attr), cookie);
  assert.ok(!cookie.includes("Secure"));
  assert.equal(r.headers.get("set-auth-token").split(".")[0], r.body.token);
  assert.equal(r.headers.get("access-control-expose-headers"), "set-auth-token");
});

test("duplicate email (any case) is 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", async () => {
  const email = uniqueEmail("dup");
  assert.equal((await post(`${server.api}/sign-up/email`, { email, password: "correct-horse-battery", name: "A" })).status, 200);
  const r = await post(`${server.api}/sign-up/email`, { email: email.toUpperCase(), password: "another-password", name: "B" });
  assertApiError(assert, r, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
  const { client } = authClient(server);
  const { error } = await client.signUp.email({ email, password: "correct-horse-battery", name: "C" });
  assert.equal(error.status, 422);
  assert.equal(error.code, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
});

test("bad input is a clear 4xx and writes nothing", async () => {
  const email = uniqueEmail("bad");
  const cases = [
    ["{not json", 400, "BAD_REQUEST"],
    ["[]", 400, "VALIDATION_ERROR"],
    ['"a string"', 400, "VALIDATION_ERROR"],
    [{ email, password: "correct-horse-battery" }, 400, "VALIDATION_ERROR"],
    [{ email: 42, password: "correct-horse-battery", name: "X" }, 400, "VALIDATION_ERROR"],
    [{ email, password: ["x"], name: "X" }, 400, "VALIDATION_ERROR"],
    [{ email, password: "correct-horse-battery", name: { a: 1 } }, 400, "VALIDATION_ERROR"],
    [{ email, password: "short", name: "X" }, 400, "PASSWORD_TOO_SHORT"],
    [{ email, password: "p".repeat(129), name: "X" }, 400, "PASSWORD_TOO_LONG"],
    [{ email: "not-an-email", password: "correct-horse-battery", name: "X" }, 400, "INVALID_EMAIL"],
    [{ email: "a\u0000@example.com", password: "correct-horse-battery", name: "X" }, 400, null],
    [{ email, password: "correct-horse-battery", name: "x".repeat(300) }, 400, "VALIDATION_ERROR"],
    [{ email, password: "correct-horse-battery", name: "X", callbackURL: "//evil.example" }, 403, "INVALID_CALLBACKURL"],
  ];
  for (const [body, status, code] of cases) {
    const r = await post(`${server.api}/sign-up/email`, body);
    assertApiError(assert, r, status, code ?? undefined);
  }
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]))[0].n, 0);
});

test("wrong content type is 415, oversized body is 413, both JSON", async () => {
  const text = await fetch(`${server.api}/sign-up/email`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
  assert.equal(text.status, 415);
  assert.equal((await text.json()).code, "UNSUPPORTED_MEDIA_TYPE");
  const big = await post(`${server.api}/sign-up/email`, JSON.stringify({ email: uniqueEmail(), password: "x".repeat(1_100_000), name: "B" }));
  assertApiError(assert, big, 413, "PAYLOAD_TOO_LARGE");
});

test("hostile but valid strings are stored verbatim and returned as JSON", async () => {
  const name = `Robert'); DROP TABLE auth.users;-- <script>alert(1)</script> 🚀 \u202e`;
  const r = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("hostile"), password: "correct-horse-battery", name });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.user.name, name);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users"))[0].n > 0, true);
});

test("concurrent sign-ups with one email: exactly one succeeds", async () => {
  const email = uniqueEmail("race");
  const results = await Promise.all(
    Array.from({ length: 8 }, () => post(`${server.api}/sign-up/email`, { email, password: "correct-horse-battery", name: "R" })),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  for (const r of results.filter((r) => r.status !== 200)) assertApiError(assert, r, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]))[0].n, 1);
});
