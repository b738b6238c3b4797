// CORS for trusted origins: preflights and the headers on actual answers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startServer, uniqueEmail } from "./harness.mjs";

const FRONTEND = "http://localhost:3000";
const server = await startServer({ PGAUTH_TRUSTED_ORIGINS: `${FRONTEND}, http://127.0.0.1:8001` });

async function preflight(path, origin, headers = "content-type") {
  const h = { "access-control-request-method": "POST" };
  if (origin) h.origin = origin;
  if (headers) h["access-control-request-headers"] = headers;
  return fetch(`${server.api}${path}`, { method: "OPTIONS", headers: h });
}

test("a preflight from a trusted origin answers 204 with the CORS headers", async () => {
  const r = await preflight("/sign-up/email", FRONTEND, "content-type,authorization,x-evil");
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("access-control-allow-origin"), FRONTEND);
  assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  assert.match(r.headers.get("access-control-allow-methods"), /POST/);
  assert.equal(r.headers.get("access-control-allow-headers"), "content-type, authorization");
  assert.equal(r.headers.get("access-control-max-age"), "600");
  assert.match(r.headers.get("vary"), /Origin/);
});

test("a preflight to every /api/auth route is answered, GET routes included", async () => {
  for (const path of ["/get-session", "/sign-in/email", "/sign-out", "/token", "/list-sessions", "/jwks"]) {
    const r = await preflight(path, FRONTEND);
    assert.equal(r.status, 204, path);
    // /jwks is public (any origin, no credentials: OAuth clients read it from anywhere)
    assert.equal(r.headers.get("access-control-allow-origin"), path === "/jwks" ? "*" : FRONTEND, path);
  }
});

test("a preflight from an untrusted origin is refused with 403 JSON and no CORS headers", async () => {
  const r = await preflight("/sign-in/email", "https://evil.example");
  assert.equal(r.status, 403);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  assert.equal(r.headers.get("access-control-allow-credentials"), null);
  const body = await r.json();
  assert.equal(body.code, "INVALID_ORIGIN");
});

test("a plain OPTIONS without Origin answers 204 with Allow", async () => {
  const r = await fetch(`${server.api}/get-session`, { method: "OPTIONS" });
  assert.equal(r.status, 204);
  assert.match(r.headers.get("allow"), /GET/);
});

test("preflights do not use up the strict sign-in limit", async () => {
  const limited = await startServer({ PGAUTH_TRUSTED_ORIGINS: FRONTEND, PGAUTH_RATE_LIMIT: "on" });
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`${limited.api}/sign-in/email`, {
      method: "OPTIONS", headers: { origin: FRONTEND, "access-control-request-method": "POST" } });
    assert.equal(r.status, 204);
  }
  const r = await fetch(`${limited.api}/sign-in/email`, {
    method: "POST", headers: { origin: FRONTEND, "content-type": "application/json" },
    body: JSON.stringify({ email: uniqueEmail(), password: "wrong-password-123" }) });
  assert.equal(r.status, 401);
});

test("actual answers to a trusted origin carry ACAO, credentials and exposed headers", async () => {
  const r = await fetch(`${server.api}/sign-up/email`, {
    method: "POST",
    headers: { origin: FRONTEND, "content-type": "application/json" },
    body: JSON.stringify({ email: uniqueEmail("cors"), password: "correct-horse-battery", name: "C" }),
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), FRONTEND);
  assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  assert.match(r.headers.get("access-control-expose-headers"), /set-auth-token/);  // the route's own list, as Better-Auth
  assert.match(r.headers.get("vary"), /Origin/);
  const ok = await fetch(`${server.api}/ok`, { headers: { origin: FRONTEND } });
  assert.equal(ok.headers.get("access-control-allow-origin"), FRONTEND);
  assert.equal(ok.headers.get("access-control-expose-headers"), "set-auth-token, set-auth-jwt");
  // errors too: a browser must be able to read the JSON error
  const bad = await fetch(`${server.api}/sign-in/email`, {
    method: "POST", headers: { origin: FRONTEND, "content-type": "application/json" }, body: "{" });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get("access-control-allow-origin"), FRONTEND);
});

test("answers to an untrusted origin carry no CORS headers", async () => {
  const r = await fetch(`${server.api}/get-session`, { headers: { origin: "https://evil.example" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), null);
  assert.equal(r.headers.get("access-control-allow-credentials"), null);
});

test("--cross-site-cookies: session cookies are SameSite=None; Secure; refused with a plain-http public base URL", async () => {
  const cross = await startServer({ PGAUTH_CROSS_SITE_COOKIES: "on", PGAUTH_BASE_URL: "http://localhost:3999", PGAUTH_TRUSTED_ORIGINS: FRONTEND });
  const r = await fetch(`${cross.api}/sign-up/email`, {
    method: "POST", headers: { origin: FRONTEND, "content-type": "application/json" },
    body: JSON.stringify({ email: uniqueEmail("cross"), password: "correct-horse-battery", name: "X" }),
  });
  assert.equal(r.status, 200);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith("__Secure-better-auth.session_token="));
  assert.ok(cookie, r.headers.getSetCookie().join("\n"));
  assert.match(cookie, /; SameSite=None/i);
  assert.match(cookie, /; Secure/i);
  assert.doesNotMatch(cookie, /SameSite=Lax/i);
  await assert.rejects(startServer({ PGAUTH_CROSS_SITE_COOKIES: "on", PGAUTH_BASE_URL: "http://auth.example.com" }),
                       /PGAUTH_CROSS_SITE_COOKIES=on needs an https PGAUTH_BASE_URL/);
});
