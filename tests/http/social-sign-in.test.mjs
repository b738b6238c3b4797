// POST /sign-in/social and GET|POST /callback/:provider with the official better-auth
// client: a generic OIDC provider and Google (panva's oidc-provider at two issuers) and
// GitHub (our stand-in). Each case checks the session (or its absence) afterwards.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as jose from "jose";
import { createAuthClient } from "better-auth/client";
import { assertApiError, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";
import { CLIENT_ID, browser, clientFetch, startSocial } from "./social-harness.mjs";

const users = {};
const [{ db }] = await sql("SELECT current_database() AS db");
await sql(`ALTER DATABASE "${db}" SET pgauth.social_trusted_providers = 'acme,google,github'`);
const rig = await startSocial({ users });
// GitHub user ids unique to this run (the database outlives it).
let ghId = Date.now() % 1e9 * 10;
const { api, base } = rig.server;

function newUser(tag, { verified = true } = {}) {
  const id = `${tag}-${Math.random().toString(36).slice(2)}`;
  users[id] = { email: uniqueEmail(tag), email_verified: verified, name: `Name ${tag}` };
  return id;
}

// Starts a sign-in with the official client in browser `b`; returns the provider URL.
async function start(b, provider, body = {}) {
  const client = createAuthClient({ baseURL: base, fetchOptions: { customFetchImpl: clientFetch(b, base) } });
  const r = await client.signIn.social({ provider, callbackURL: "/dashboard", disableRedirect: true, ...body });
  assert.equal(r.error, null, JSON.stringify(r.error));
  return r.data.url;
}

const atCallback = (id) => (url) => url.startsWith(`${api}/callback/${id}`);
const leftPgauth = (url) => !url.startsWith(`${api}/`) || url.startsWith(`${api}/error`);

// The session the browser holds at pgauth now (null when none).
async function sessionOf(b) {
  const res = await b.request(`${api}/get-session`);
  return res.json();
}

// A whole sign-in: provider, login, consent, callback; returns where the browser landed.
async function signInVia(b, provider, body) {
  const url = await start(b, provider, body);
  const { url: landed } = await b.follow(url, (u) => !u.startsWith(`${api}/callback/`) && u.startsWith(base) || u.startsWith("http://app.example.com"));
  return landed;
}

describe("sign-in/social, redirect flow", () => {
  test("new user with a generic OIDC provider: session, account, lands on newUserCallbackURL", async () => {
    const b = browser();
    const id = newUser("acme");
    rig.acme.setUser(id);
    const landed = await signInVia(b, "acme", { newUserCallbackURL: "/welcome" });
    assert.equal(landed, `${base}/welcome`);
    const s = await sessionOf(b);
    assert.equal(s.user.email, users[id].email);
    assert.equal(s.user.emailVerified, true);
    const rows = await sql("SELECT a.provider_id, a.account_id FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id WHERE u.email = $1", [users[id].email]);
    assert.deepEqual(rows, [{ provider_id: "acme", account_id: id }]);
  });

  test("returning user: same user, lands on callbackURL", async () => {
    const id = newUser("again");
    rig.acme.setUser(id);
    const first = browser();
    await signInVia(first, "acme", { newUserCallbackURL: "/welcome" });
    const userId = (await sessionOf(first)).user.id;
    const b = browser();
    const landed = await signInVia(b, "acme", { newUserCallbackURL: "/welcome" });
    assert.equal(landed, `${base}/dashboard`);
    assert.equal((await sessionOf(b)).user.id, userId);
  });

  test("Google: the provider at PGAUTH_GOOGLE_ISSUER", async () => {
    const b = browser();
    const id = newUser("google");
    rig.google.setUser(id);
    await signInVia(b, "google");
    assert.equal((await sessionOf(b)).user.email, users[id].email);
  });

  test("GitHub: the primary verified email of /user/emails", async () => {
    const b = browser();
    const email = uniqueEmail("gh");
    const id = ++ghId;
    rig.github.addUser("octo-new", { id, name: "Octo", email, verified: true });
    rig.github.user = "octo-new";
    await signInVia(b, "github");
    const s = await sessionOf(b);
    assert.equal(s.user.email, email);
    const rows = await sql("SELECT account_id FROM auth.accounts WHERE provider_id = 'github' AND user_id = $1", [s.user.id]);
    assert.deepEqual(rows, [{ account_id: String(id) }]);
  });

  test("an existing email/password user is linked on a verified email from a trusted provider", async () => {
    const existing = await signUp(rig.server);
    const id = `linked-${Date.now()}`;
    users[id] = { email: existing.email, email_verified: true, name: "Linked" };
    rig.acme.setUser(id);
    const b = browser();
    await signInVia(b, "acme");
    assert.equal((await sessionOf(b)).user.id, existing.user.id);
  });

  test("refused on an unverified email (GitHub's unverified primary): no session, account_not_linked", async () => {
    const existing = await signUp(rig.server);
    const id = ++ghId;
    rig.github.addUser("octo-unverified", { id, email: existing.email, verified: false });
    rig.github.user = "octo-unverified";
    const b = browser();
    const url = await start(b, "github", { errorCallbackURL: "/oops" });
    const { url: landed } = await b.follow(url, (u) => u.startsWith(`${base}/oops`));
    assert.equal(new URL(landed).searchParams.get("error"), "account_not_linked");
    assert.equal(await sessionOf(b), null);
    const rows = await sql("SELECT count(*)::int AS n FROM auth.accounts WHERE provider_id = 'github' AND account_id = $1", [String(id)]);
    assert.equal(rows[0].n, 0);
  });

  test("a provider that hangs or answers too much: provider_unavailable within the bounds, no user", async () => {
    for (const fault of ["huge", "hang"]) {
      const email = uniqueEmail(`gh-${fault}`);
      const login = `octo-${fault}`;
      rig.github.addUser(login, { id: ++ghId, email, verified: true });
      rig.github.user = login;
      rig.github.fault = fault;
      try {
        const b = browser();
        const url = await start(b, "github", { errorCallbackURL: "/oops" });
        const started = Date.now();
        const { url: landed } = await b.follow(url, (u) => u.startsWith(`${base}/oops`));
        assert.ok(Date.now() - started < 12_000, `${fault}: took ${Date.now() - started} ms`);
        assert.equal(new URL(landed).searchParams.get("error"), "provider_unavailable", fault);
        assert.equal(await sessionOf(b), null);
        const rows = await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]);
        assert.equal(rows[0].n, 0, `${fault}: a user was created`);
      } finally {
        rig.github.fault = null;
      }
    }
  });

  test("an error from the IdP lands on errorCallbackURL?error=... with no session", async () => {
    rig.github.deny = true;
    try {
      const b = browser();
      const url = await start(b, "github", { errorCallbackURL: "http://app.example.com/error" });
      const { url: landed } = await b.follow(url, (u) => u.startsWith("http://app.example.com/"));
      const q = new URL(landed).searchParams;
      assert.equal(q.get("error"), "access_denied");
      assert.match(q.get("error_description"), /denied/);
      assert.equal(await sessionOf(b), null);
    } finally {
      rig.github.deny = false;
    }
  });
});

describe("callback: state, browser binding, issuer", () => {
  // Runs a flow up to pgauth's callback; returns the callback URL (not yet requested).
  async function untilCallback(b, provider = "acme") {
    const id = newUser("cb");
    rig.acme.setUser(id);
    const url = await start(b, provider, { errorCallbackURL: "/failed" });
    const { url: cb } = await b.follow(url, atCallback(provider));
    return cb;
  }
  const errorOf = (landed) => new URL(landed).searchParams.get("error");

  test("a tampered state: error, no session", async () => {
    const b = browser();
    const cb = new URL(await untilCallback(b));
    cb.searchParams.set("state", cb.searchParams.get("state").slice(0, -2) + "xx");
    const { url } = await b.follow(cb.toString(), leftPgauth);
    assert.ok(errorOf(url), url);
    assert.equal(await sessionOf(b), null);
  });

  test("a missing state cookie: state_mismatch, no session", async () => {
    const b = browser();
    const cb = await untilCallback(b);
    b.jar(base).clear();
    const { url } = await b.follow(cb, leftPgauth);
    assert.equal(errorOf(url), "state_mismatch");
    assert.equal(await sessionOf(b), null);
  });

  test("another browser's state cookie (login CSRF): state_mismatch, no session", async () => {
    const victim = browser(), attacker = browser();
    await untilCallback(victim);
    const cb = await untilCallback(attacker);
    // The victim's browser is made to open the attacker's callback URL.
    const { url } = await victim.follow(cb, leftPgauth);
    assert.equal(errorOf(url), "state_mismatch");
    assert.equal(await sessionOf(victim), null);
  });

  test("a replayed state: the second use fails", async () => {
    const b = browser();
    const cb = await untilCallback(b);
    const saved = new Map(b.jar(base));
    const first = await b.follow(cb, (u) => u === `${base}/dashboard`);
    assert.equal(first.url, `${base}/dashboard`);
    const b2 = browser();
    for (const [k, v] of saved) b2.jar(base).set(k, v);
    const { url } = await b2.follow(cb, leftPgauth);
    assert.ok(errorOf(url), url);
    assert.equal(await sessionOf(b2), null);
  });

  test("RFC 9207: an iss other than the provider's is issuer_mismatch, no session", async () => {
    const b = browser();
    const cb = new URL(await untilCallback(b));
    assert.equal(cb.searchParams.get("iss"), rig.acme.issuer);
    cb.searchParams.set("iss", rig.google.issuer);
    const { url } = await b.follow(cb.toString(), leftPgauth);
    assert.equal(errorOf(url), "issuer_mismatch");
    assert.equal(await sessionOf(b), null);
  });

  test("RFC 9207: a provider that advertises iss in responses must send it (issuer_missing), no session", async () => {
    const b = browser();
    const cb = new URL(await untilCallback(b));
    cb.searchParams.delete("iss");
    const { url } = await b.follow(cb.toString(), leftPgauth);
    assert.equal(errorOf(url), "issuer_missing");
    assert.equal(await sessionOf(b), null);
  });

  test("no state at all: state_not_found on the error page (a 400 JSON answer)", async () => {
    const b = browser();
    const { url, res, text } = await b.follow(`${api}/callback/acme?code=abc`, () => false);
    assert.match(url, /\/api\/auth\/error\?error=state_not_found/);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(text).code, "STATE_NOT_FOUND");
  });

  test("malformed callback parameters are a 400 JSON answer, an unknown provider's callback lands on the error page", async () => {
    for (const q of ["state=%zz&code=x", "state=a%00b&code=x", "code=%G1&state=x"]) {
      const r = await fetch(`${api}/callback/acme?${q}`, { redirect: "manual" });
      assert.equal(r.status, 400, q);
      assert.equal((await r.json()).code, "VALIDATION_ERROR", q);
    }
    const r = await fetch(`${api}/callback/myspace?state=x&code=y`, { redirect: "manual" });
    assert.equal(r.status, 302);
    assert.match(r.headers.get("location"), /\/api\/auth\/error\?error=oauth_provider_not_found/);
    const p = await fetch(`${api}/callback/myspace`, { method: "POST", body: "state=x", headers: { "content-type": "application/x-www-form-urlencoded" }, redirect: "manual" });
    assert.equal(p.status, 404);
    assert.equal((await p.json()).code, "PROVIDER_NOT_FOUND");
  });

  test("form_post: POST /callback/<id> redirects to the GET callback with the same parameters", async () => {
    const r = await fetch(`${api}/callback/acme`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://idp.example.net", "sec-fetch-site": "cross-site" },
      body: "code=c%2B1&state=s1&iss=https%3A%2F%2Fidp.example.net",
      redirect: "manual",
    });
    assert.equal(r.status, 302);
    const to = new URL(r.headers.get("location"));
    assert.equal(to.pathname, "/api/auth/callback/acme");
    assert.equal(to.searchParams.get("code"), "c+1");
    assert.equal(to.searchParams.get("state"), "s1");
  });
});

describe("sign-in/social with idToken (Google One Tap)", () => {
  test("a valid id_token signs in", async () => {
    const email = uniqueEmail("onetap");
    const token = await rig.google.mint({ sub: `g-${Date.now()}`, email, email_verified: true, nonce: "n-1" });
    const r = await post(`${api}/sign-in/social`, { provider: "google", idToken: { token, nonce: "n-1" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.redirect, false);
    assert.equal(r.body.user.email, email);
    assert.ok(r.headers.getSetCookie().some((c) => c.startsWith("better-auth.session_token=")));
  });

  test("a wrong nonce is 401 INVALID_TOKEN, no session", async () => {
    const token = await rig.google.mint({ sub: "g-nonce", email: uniqueEmail("nonce"), email_verified: true, nonce: "n-1" });
    const r = await post(`${api}/sign-in/social`, { provider: "google", idToken: { token, nonce: "n-2" } });
    assertApiError(assert, r, 401, "INVALID_TOKEN");
    assert.equal(r.headers.getSetCookie().length, 0);
  });

  test("a forged id_token (another key, the provider's kid) is 401", async () => {
    const { privateKey } = await jose.generateKeyPair("RS256");
    const token = await rig.google.mint({ sub: "g-forged", email: uniqueEmail("forged"), email_verified: true }, { key: privateKey });
    const r = await post(`${api}/sign-in/social`, { provider: "google", idToken: { token } });
    assertApiError(assert, r, 401, "INVALID_TOKEN");
  });

  test("an id_token for another client, from another issuer, or expired is 401", async () => {
    const claims = { sub: "g-x", email: uniqueEmail("x"), email_verified: true };
    for (const opts of [{ aud: "someone-else" }, { iss: rig.acme.issuer }, { expiresIn: "-10m" }]) {
      const token = await rig.google.mint(claims, opts);
      const r = await post(`${api}/sign-in/social`, { provider: "google", idToken: { token } });
      assertApiError(assert, r, 401, "INVALID_TOKEN");
    }
  });

  test("an id_token whose kid the provider does not publish is 401 (after one JWKS refresh)", async () => {
    // The provider publishes its key set; a kid it does not publish is never trusted.
    const token = await rig.google.mint({ sub: "g-kid", email: uniqueEmail("kid") }, { kid: "not-published" });
    const r = await post(`${api}/sign-in/social`, { provider: "google", idToken: { token } });
    assertApiError(assert, r, 401, "INVALID_TOKEN");
  });

  test("a rotated key: an unknown kid refreshes the cached JWKS (at most every 10 s)", async () => {
    // A provider whose published key set the test changes.
    const http = await import("node:http");
    const { freePort } = await import("./harness.mjs");
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const keyA = await jose.generateKeyPair("RS256"), keyB = await jose.generateKeyPair("RS256");
    const pub = async (k, kid) => ({ ...(await jose.exportJWK(k.publicKey)), kid, alg: "RS256", use: "sig" });
    let published = [await pub(keyA, "a")];
    let jwksFetches = 0;
    const idp = http.createServer((req, res) => {
      const body = req.url === "/jwks" ? (jwksFetches++, { keys: published }) : {
        issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise((r) => idp.listen(port, "127.0.0.1", r));
    try {
      const server = await startServer({ PGAUTH_GOOGLE_CLIENT_ID: CLIENT_ID, PGAUTH_GOOGLE_CLIENT_SECRET: "s", PGAUTH_GOOGLE_ISSUER: issuer });
      const mint = (key, kid, sub) => new jose.SignJWT({ sub, email: uniqueEmail(sub), email_verified: true })
        .setProtectedHeader({ alg: "RS256", kid }).setIssuer(issuer).setAudience(CLIENT_ID).setIssuedAt().setExpirationTime("5m").sign(key.privateKey);
      const signIn = async (token) => post(`${server.api}/sign-in/social`, { provider: "google", idToken: { token } });
      assert.equal((await signIn(await mint(keyA, "a", `rot-a-${Date.now()}`))).status, 200);
      published = [await pub(keyB, "b")];
      const fetchesBefore = jwksFetches;
      // Within 10 s of the last fetch an unknown kid does not refetch (a flood of forged kids costs the IdP nothing).
      assertApiError(assert, await signIn(await mint(keyB, "b", `rot-b-${Date.now()}`)), 401, "INVALID_TOKEN");
      assert.equal(jwksFetches, fetchesBefore);
      await new Promise((r) => setTimeout(r, 10_500));
      const r = await signIn(await mint(keyB, "b", `rot-b2-${Date.now()}`));
      assert.equal(r.status, 200, r.text);
      assert.equal(jwksFetches, fetchesBefore + 1);
      // The retired key no longer verifies.
      assertApiError(assert, await signIn(await mint(keyA, "a", `rot-a2-${Date.now()}`)), 401, "INVALID_TOKEN");
    } finally {
      idp.close();
    }
  });

  test("GitHub has no id_token: 404 ID_TOKEN_NOT_SUPPORTED", async () => {
    const r = await post(`${api}/sign-in/social`, { provider: "github", idToken: { token: "x.y.z" } });
    assertApiError(assert, r, 404, "ID_TOKEN_NOT_SUPPORTED");
  });
});

describe("sign-in/social: bad input and callback URLs", () => {
  test("an unknown provider is 404 PROVIDER_NOT_FOUND", async () => {
    const r = await post(`${api}/sign-in/social`, { provider: "myspace", callbackURL: "/" });
    assertApiError(assert, r, 404, "PROVIDER_NOT_FOUND");
  });

  test("callbackURL, errorCallbackURL and newUserCallbackURL must be same-site or trusted", async () => {
    for (const field of ["callbackURL", "errorCallbackURL", "newUserCallbackURL"]) {
      const r = await post(`${api}/sign-in/social`, { provider: "acme", [field]: "https://evil.example/steal" });
      assertApiError(assert, r, 403, "INVALID_CALLBACKURL");
      assert.match(r.body.message, new RegExp(field));
      assert.equal(r.headers.getSetCookie().length, 0);
    }
    const ok = await post(`${api}/sign-in/social`, { provider: "acme", callbackURL: "http://app.example.com/home", disableRedirect: true });
    assert.equal(ok.status, 200, ok.text);
  });

  test("wrong types and shapes are 400", async () => {
    for (const body of [{}, { provider: 7 }, { provider: "acme", disableRedirect: "yes" }, { provider: "acme", scopes: "email" },
      { provider: "acme", scopes: ["a b"] }, { provider: "google", idToken: "tok" }, { provider: "google", idToken: {} },
      { provider: "acme", callbackURL: 5 }]) {
      const r = await post(`${api}/sign-in/social`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(typeof r.body.code, "string");
    }
    const r = await post(`${api}/sign-in/social`, "{not json");
    assertApiError(assert, r, 400);
  });

  test("the redirect answer: {url, redirect:true}, Location, and the HttpOnly binding cookie", async () => {
    const r = await post(`${api}/sign-in/social`, { provider: "acme", callbackURL: "/" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.redirect, true);
    const url = new URL(r.body.url);
    assert.equal(`${url.origin}`, rig.acme.issuer);
    assert.equal(url.searchParams.get("client_id"), CLIENT_ID);
    assert.equal(url.searchParams.get("redirect_uri"), `${api}/callback/acme`);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.ok(url.searchParams.get("nonce"));
    assert.equal(r.headers.get("location"), r.body.url);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith("better-auth.state="));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /Max-Age=\d+/);
  });
});

describe("a provider that is down", () => {
  test("pgauth-http starts; its sign-in answers 502 until discovery succeeds", async () => {
    const { freePort } = await import("./harness.mjs");
    const port = await freePort();
    const server = await startServer({
      PGAUTH_OIDC_PROVIDERS: "down",
      PGAUTH_OIDC_DOWN_DISCOVERY_URL: `http://127.0.0.1:${port}/.well-known/openid-configuration`,
      PGAUTH_OIDC_DOWN_CLIENT_ID: "c",
      PGAUTH_OIDC_DOWN_CLIENT_SECRET: "s",
    });
    const r = await post(`${server.api}/sign-in/social`, { provider: "down", callbackURL: "/" });
    assertApiError(assert, r, 502, "OAUTH_PROVIDER_UNAVAILABLE");
    assert.equal(r.headers.getSetCookie().length, 0);
    assert.doesNotMatch(server.logs.stderr + server.logs.stdout, /"s"|secret=/);
    // The provider comes up: the next sign-in works without a restart.
    const http = await import("node:http");
    const up = http.createServer((req, res) => {
      const issuer = `http://127.0.0.1:${port}`;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
        issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
      }));
    });
    await new Promise((r) => up.listen(port, "127.0.0.1", r));
    try {
      const again = await post(`${server.api}/sign-in/social`, { provider: "down", callbackURL: "/", disableRedirect: true });
      assert.equal(again.status, 200, again.text);
      assert.ok(again.body.url.startsWith(`http://127.0.0.1:${port}/auth?`));
    } finally {
      up.close();
    }
  });

  test("a misconfigured provider stops start-up with a clear message that names no secret", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.env.PGAUTH_HTTP_BIN, [], {
      env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: "postgresql://x@127.0.0.1:1/x", PGAUTH_SECRET: "s".repeat(40),
        PGAUTH_OIDC_PROVIDERS: "corp", PGAUTH_OIDC_CORP_DISCOVERY_URL: "https://idp.example/.well-known/openid-configuration",
        PGAUTH_OIDC_CORP_CLIENT_ID: "id" },
      encoding: "utf8", timeout: 10000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /PGAUTH_OIDC_CORP_CLIENT_SECRET is required/);
  });
});
