// GET /api/auth/token and get-session's set-auth-jwt header (Better-Auth jwt plugin),
// checked with the official better-auth client and verified with jose through our JWKS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { authClient, post, signUp, startServer, uniqueEmail } from "./harness.mjs";

const server = await startServer({}, { issuer: true });
const JWKS = createRemoteJWKSet(new URL(`${server.api}/jwks`));
const verify = (token) => jwtVerify(token, JWKS, { issuer: server.base, audience: server.base });

// Better-Auth 1.7's payload keys (../shared/reference/better-auth/token.txt) plus our profile fields.
const BETTER_AUTH_KEYS = ["iat", "name", "email", "emailVerified", "image", "createdAt", "updatedAt", "id", "sub", "exp", "iss", "aud"];

test("the official client's token() returns a JWT that verifies against /jwks", async () => {
  const email = uniqueEmail("token");
  // sign up through a client with a cookie jar, then ask for the token with the same jar
  const withJar = authClient(server);
  const up = await withJar.client.signUp.email({ email, password: "correct-horse-battery", name: "Tokyo" });
  assert.equal(up.error, null);
  const tokenClient = createAuthClient({
    baseURL: server.base,
    plugins: [jwtClient()],
    fetchOptions: {
      customFetchImpl: (input, init = {}) => {
        const headers = new Headers(init.headers);
        headers.set("cookie", [...withJar.jar].map(([k, v]) => `${k}=${v}`).join("; "));
        return fetch(input, { ...init, headers });
      },
    },
  });
  const { data, error } = await tokenClient.token();
  assert.equal(error, null);
  assert.equal(typeof data.token, "string");
  const header = decodeProtectedHeader(data.token);
  assert.equal(header.alg, "EdDSA");
  assert.match(header.kid, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(header.typ, undefined);
  const { payload } = await verify(data.token);
  assert.equal(payload.email, email);
  assert.equal(payload.name, "Tokyo");
  assert.equal(payload.sub, up.data.user.id);
  assert.equal(payload.id, up.data.user.id);
  assert.equal(payload.emailVerified, false);
  assert.equal(payload.exp - payload.iat, 900);
  for (const key of BETTER_AUTH_KEYS) assert.ok(key in payload, `missing claim ${key}`);
  // an extra claim (Better-Auth clients ignore it): jwt_session_init refuses the JWT once this session ends
  const cookie = [...withJar.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const current = await (await fetch(`${server.api}/get-session`, { headers: { cookie } })).json();
  assert.equal(payload.sid, current.session.id, "the session JWT names its session (sid)");
});

test("GET /token with a Bearer session token, and Cache-Control: no-store", async () => {
  const user = await signUp(server);
  const r = await fetch(`${server.api}/token`, { headers: { authorization: `Bearer ${user.token}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /application\/json/);
  assert.equal(r.headers.get("cache-control"), "no-store");
  const body = await r.json();
  assert.deepEqual(Object.keys(body), ["token"]);
  const { payload } = await verify(body.token);
  assert.equal(payload.email, user.email);
});

test("GET /token without a valid session is 401 with {code, message}", async () => {
  const user = await signUp(server);
  const cases = [
    {},
    { cookie: "better-auth.session_token=forged.value" },
    { cookie: user.cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A")) },
    { authorization: "Bearer not-a-session-token" },
    { authorization: `Bearer ${"x".repeat(5000)}` },
    { authorization: "Basic dXNlcjpwYXNz" },
  ];
  for (const headers of cases) {
    const r = await fetch(`${server.api}/token`, { headers });
    assert.equal(r.status, 401, JSON.stringify(headers).slice(0, 80));
    const body = await r.json();
    assert.equal(body.code, "UNAUTHORIZED");
    assert.equal(typeof body.message, "string");
  }
});

test("a revoked or signed-out session gets no token", async () => {
  const user = await signUp(server);
  const ok = await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } });
  assert.equal(ok.status, 200);
  const out = await post(`${server.api}/sign-out`, {}, { cookie: user.cookie });
  assert.equal(out.status, 200);
  const r = await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } });
  assert.equal(r.status, 401);
  assert.equal((await r.json()).code, "UNAUTHORIZED");
});

test("POST /token is 405", async () => {
  const user = await signUp(server);
  const r = await post(`${server.api}/token`, {}, { cookie: user.cookie });
  assert.equal(r.status, 405);
});

test("get-session sends set-auth-jwt, exposed to scripts, verifying against /jwks", async () => {
  const { client } = authClient(server);
  const email = uniqueEmail("setjwt");
  await client.signUp.email({ email, password: "correct-horse-battery", name: "Jet" });
  let header, exposed;
  const { data } = await client.getSession({
    fetchOptions: {
      onSuccess: (ctx) => {
        header = ctx.response.headers.get("set-auth-jwt");
        exposed = ctx.response.headers.get("access-control-expose-headers");
      },
    },
  });
  assert.equal(data.user.email, email);
  assert.equal(typeof header, "string");
  assert.match(exposed, /set-auth-jwt/);
  const { payload } = await verify(header);
  assert.equal(payload.sub, data.user.id);
  assert.equal(payload.email, email);
  // no session: body null and no JWT
  const anon = await fetch(`${server.api}/get-session`);
  assert.equal(await anon.text(), "null");
  assert.equal(anon.headers.get("set-auth-jwt"), null);
});

test("a tampered session JWT does not verify", async () => {
  const user = await signUp(server);
  const { token } = await (await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } })).json();
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  claims.email = "admin@example.com";
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString("base64url"), s].join(".");
  await assert.rejects(verify(forged), /signature verification failed/);
  // and a different audience is refused by the verifier
  await assert.rejects(jwtVerify(token, JWKS, { issuer: server.base, audience: "https://other.example" }), /aud/);
});

test("pgauth-http warns at start-up when pgauth.base_url is not its base URL", async () => {
  const other = await startServer({ PGAUTH_BASE_URL: "https://auth.example.com" });
  for (let i = 0; i < 50 && !/pgauth\.base_url differs/.test(other.logs.stderr); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(other.logs.stderr, /pgauth\.base_url differs from PGAUTH_BASE_URL/);
  assert.doesNotMatch(server.logs.stderr, /pgauth\.base_url differs/);
});
