// The sign-in and consent pages of the OAuth flow in Chromium, without a line of script:
// authorize -> sign-in page -> consent -> the client's redirect_uri with a code that
// redeems at the token endpoint; Deny -> access_denied; the page headers (CSP and
// friends) and no CSP violation in the console; a hostile client_name shown as text;
// CSRF: a post without the form token, with another browser's token, or from another
// origin is refused and signs nobody in.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { chromium } from "playwright-core";

const BIN = process.env.PGAUTH_HTTP_BIN;
const DATABASE_URL = process.env.PGAUTH_TEST_DATABASE_URL;
const ADMIN_DATABASE_URL = process.env.PGAUTH_TEST_ADMIN_DATABASE_URL;
if (!BIN || !DATABASE_URL || !ADMIN_DATABASE_URL) throw new Error("run through tests/browser/run.sh");

const admin = new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 1 });
after(() => admin.end());

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startAuth(env = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // the issuer and token audience are the extension's (pgauth.base_url), as a deployment sets them
  await admin.query(`ALTER DATABASE ${(await admin.query("SELECT current_database() AS d")).rows[0].d} SET pgauth.base_url = '${base}'`);
  const child = spawn(BIN, [], {
    env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_SECRET: "test-secret-0123456789abcdef-0123456789",
           PGAUTH_LISTEN: `127.0.0.1:${port}`, PGAUTH_RATE_LIMIT: "off", PGAUTH_THREADS: "2", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (logs.stdout += d));
  child.stderr.on("data", (d) => (logs.stderr += d));
  after(() => { if (child.exitCode === null) child.kill("SIGTERM"); });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pgauth-http exited: ${logs.stderr}`);
    try { if ((await fetch(`${base}/api/auth/ok`)).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, logs };
}

// The client's redirect_uri: records what arrives.
async function callbackServer() {
  const port = await freePort();
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(new URL(req.url, `http://127.0.0.1:${port}`));
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>client</title><p>back at the client</p>");
  }).listen(port, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  after(() => server.close());
  return { uri: `http://127.0.0.1:${port}/callback`, hits };
}

const HOSTILE_NAME = `<script>alert("x")</script><img src=x onerror=alert(1)> & "Co"`;

async function createClient(redirectUri) {
  const { rows } = await admin.query("SELECT auth.oauth_create_client($1::jsonb)::text AS body", [JSON.stringify({
    client_name: HOSTILE_NAME,
    client_uri: "https://client.example.test/about?a=1&b=2",
    logo_uri: "https://client.example.test/logo.png",
    redirect_uris: [redirectUri],
    application_type: "native",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    scope: "openid profile email",
  })]);
  return JSON.parse(rows[0].body).client_id;
}

async function signUp(base, email, password) {
  const r = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST", headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password, name: "Page User" }),
  });
  assert.equal(r.status, 200, await r.text());
}

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizeUrl(base, clientId, redirectUri, challenge, state) {
  const q = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirectUri,
    scope: "openid profile email", state, code_challenge: challenge, code_challenge_method: "S256" });
  return `${base}/api/auth/oauth2/authorize?${q}`;
}

let context;
let profile;
before(async () => {
  profile = mkdtempSync(join(tmpdir(), "pgauth-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// A fresh page that records console errors (CSP violations among them) and page responses.
async function newPage() {
  await context.clearCookies();
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (/favicon/.test(m.location()?.url ?? "")) return;
    if (m.type() === "error" || /Content.Security.Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`PAGEERROR ${e}`));
  return { page, problems };
}

function assertPageHeaders(headers) {
  const csp = headers["content-security-policy"];
  assert.ok(csp, "a Content-Security-Policy header");
  for (const part of ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(part), csp);
  assert.match(csp, /style-src '(self|sha256-[A-Za-z0-9+/=]+)'/);
  assert.ok(!/script-src/.test(csp) || !/unsafe-inline/.test(csp), csp);
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["referrer-policy"], "no-referrer");
  assert.equal(headers["cache-control"], "no-store");
}

// Signs in on the sign-in page and lands on the consent page.
async function throughSignIn(page, base, url, email, password) {
  const first = await page.goto(url);
  assert.equal(new URL(page.url()).pathname, "/sign-in", page.url());
  assertPageHeaders(first.headers());
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.title(), "Sign in");
  // labels name the fields
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await Promise.all([page.waitForURL((u) => u.pathname === "/consent"), page.getByRole("button", { name: "Sign in" }).click()]);
}

// At the top level: startAuth and callbackServer register the after() that stops them.
const auth = await startAuth();
const client = await callbackServer();
client.id = await createClient(client.uri);

test("authorize -> sign-in page -> consent -> Allow: a code that redeems at the token endpoint", async () => {
  const email = `pages.${process.pid}.${Date.now()}@example.com`;
  await signUp(auth.base, email, "correct-horse-battery");
  const { verifier, challenge } = pkce();
  const { page, problems } = await newPage();
  await throughSignIn(page, auth.base, authorizeUrl(auth.base, client.id, client.uri, challenge, "st-allow"), email, "correct-horse-battery");

  // the consent page: the hostile client name as text, the scopes with labels, no javascript: link
  const consent = await page.content();
  assert.ok(!consent.includes("<script>alert"), "client_name is escaped");
  assert.ok((await page.textContent("main")).includes(HOSTILE_NAME), "client_name shown as text");
  assert.equal(await page.locator("img").count(), 0);
  assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
  assert.equal(await page.getByRole("link", { name: "https://client.example.test/about?a=1&b=2" }).count(), 1);
  assert.equal(await page.getByRole("link", { name: "https://client.example.test/logo.png" }).count(), 1, "the logo as a text link");
  assert.ok((await page.textContent("fieldset.scopes")).includes("See your email address"));

  await Promise.all([page.waitForURL((u) => u.href.startsWith(client.uri)), page.getByRole("button", { name: "Allow" }).click()]);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "st-allow");
  assert.equal(back.searchParams.get("iss"), `${auth.base}/api/auth`);
  const code = back.searchParams.get("code");
  assert.ok(code, page.url());

  const token = await fetch(`${auth.base}/api/auth/oauth2/token`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: client.uri, client_id: client.id, code_verifier: verifier }),
  });
  const body = await token.json();
  assert.equal(token.status, 200, JSON.stringify(body));
  assert.ok(body.access_token && body.id_token, JSON.stringify(body));
  assert.deepEqual(problems, [], "no console errors or CSP violations");
  await page.close();
});

test("Deny sends the browser to the client with error=access_denied", async () => {
  const email = `pages.deny.${process.pid}.${Date.now()}@example.com`;
  await signUp(auth.base, email, "correct-horse-battery");
  const { challenge } = pkce();
  const { page, problems } = await newPage();
  await throughSignIn(page, auth.base, authorizeUrl(auth.base, client.id, client.uri, challenge, "st-deny"), email, "correct-horse-battery");
  await Promise.all([page.waitForURL((u) => u.href.startsWith(client.uri)), page.getByRole("button", { name: "Deny" }).click()]);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("error"), "access_denied");
  assert.equal(back.searchParams.get("state"), "st-deny");
  assert.equal(back.searchParams.get("code"), null);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a wrong password re-renders the sign-in page with an alert and the focus on the field", async () => {
  const { challenge } = pkce();
  const { page, problems } = await newPage();
  await page.goto(authorizeUrl(auth.base, client.id, client.uri, challenge, "st-wrong"));
  await page.getByLabel("Email").fill(`nobody.${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("not-the-password");
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"),
                                        page.getByRole("button", { name: "Sign in" }).click()]);
  assert.equal(response.status(), 401);
  await page.waitForLoadState();
  assert.match(await page.getByRole("alert").textContent(), /Invalid email or password/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), "email");
  assert.equal(await page.getAttribute("#email", "aria-invalid"), "true");
  // the authorization request is still carried: a right password would continue the flow
  assert.match(await page.getAttribute('input[name="oauth_query"]', "value"), /state=st-wrong/);
  // the page's own 401 is logged as a failed load; nothing else (no CSP violation)
  assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  await page.close();
});

// The sign-in page's cookie and form token, as a browser gets them.
async function formOf(base) {
  const r = await fetch(`${base}/sign-in?client_id=x&state=s`);
  const html = await r.text();
  const cookie = r.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const token = html.match(/name="csrf_token" value="([^"]+)"/)[1];
  return { cookie, token };
}

test("CSRF: no token, another browser's token, or another origin: 403 and no session", async () => {
  const email = `pages.csrf.${process.pid}.${Date.now()}@example.com`;
  await signUp(auth.base, email, "correct-horse-battery");
  const mine = await formOf(auth.base);
  const theirs = await formOf(auth.base);
  const post = (headers, fields) => fetch(`${auth.base}/sign-in`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ email, password: "correct-horse-battery", oauth_query: "", ...fields }),
  });
  const cases = [
    ["no token", { cookie: mine.cookie, origin: auth.base }, {}],
    ["another browser's token", { cookie: mine.cookie, origin: auth.base }, { csrf_token: theirs.token }],
    ["no cookie", { origin: auth.base }, { csrf_token: mine.token }],
    ["another origin", { cookie: mine.cookie, origin: "http://evil.example" }, { csrf_token: mine.token }],
    ["Origin null", { cookie: mine.cookie, origin: "null" }, { csrf_token: mine.token }],
    ["Origin null from another site", { cookie: mine.cookie, origin: "null", "sec-fetch-site": "same-site" }, { csrf_token: mine.token }],
    ["same-origin fetch metadata but another Origin", { cookie: mine.cookie, origin: "http://evil.example", "sec-fetch-site": "same-origin" }, { csrf_token: mine.token }],
    ["cross-site fetch metadata", { cookie: mine.cookie, "sec-fetch-site": "cross-site" }, { csrf_token: mine.token }],
  ];
  for (const [name, headers, fields] of cases) {
    const r = await post(headers, fields);
    assert.equal(r.status, 403, `${name}: ${r.status}`);
    assert.match(r.headers.get("content-type"), /text\/html/, name);
    assert.ok(!r.headers.getSetCookie().some((c) => c.includes("session_token=") && !c.includes("Max-Age=0")), `${name}: no session`);
  }
  // the same post with the token, the cookie and this origin signs in
  const ok = await post({ cookie: mine.cookie, origin: auth.base, "sec-fetch-site": "same-origin" }, { csrf_token: mine.token });
  assert.equal(ok.status, 200);
  assert.ok(ok.headers.getSetCookie().some((c) => c.startsWith("better-auth.session_token=")));
});

test("CSRF in Chromium: a form on another origin posting to /sign-in is refused", async () => {
  const email = `pages.csrf2.${process.pid}.${Date.now()}@example.com`;
  await signUp(auth.base, email, "correct-horse-battery");
  const port = await freePort();
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><title>evil</title>
<form method="post" action="${auth.base}/sign-in"><input name="email" value="${email}"><input name="password" value="correct-horse-battery">
<input name="oauth_query" value=""><input name="csrf_token" value="guessed"><button>go</button></form>`);
  }).listen(port, "127.0.0.1");
  after(() => evil.close());
  const { page } = await newPage();
  await page.goto(`${auth.base}/sign-in`);  // the victim has the CSRF cookie
  await page.goto(`http://127.0.0.1:${port}/`);
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("button")]);
  assert.equal(response.status(), 403);
  const cookies = await context.cookies(auth.base);
  assert.ok(!cookies.some((c) => c.name.endsWith("session_token")), JSON.stringify(cookies));
  await page.close();
});

test("consent: one checkbox per scope narrows the grant; policy and terms links; the resources shown", async () => {
  // a javascript: policy_uri (or any non-https one) is refused at registration, so it can never be a link
  for (const policy_uri of ["javascript:alert(1)", "http://client.example.test/policy"]) {
    await assert.rejects(admin.query("SELECT auth.oauth_create_client($1::jsonb)", [JSON.stringify({
      client_name: "Bad", redirect_uris: [client.uri], application_type: "native", token_endpoint_auth_method: "none", policy_uri })]),
    /policy_uri/);
  }
  const { rows } = await admin.query("SELECT auth.oauth_create_client($1::jsonb)::text AS body", [JSON.stringify({
    client_name: "Scoped App", redirect_uris: [client.uri], application_type: "native", token_endpoint_auth_method: "none",
    grant_types: ["authorization_code"], scope: "openid profile email",
    policy_uri: "https://client.example.test/privacy?x=1&y=2", tos_uri: "https://client.example.test/terms",
  })]);
  const scopedId = JSON.parse(rows[0].body).client_id;
  const resource = "https://api.example.test/mcp";
  const email = `pages.scopes.${process.pid}.${Date.now()}@example.com`;
  await signUp(auth.base, email, "correct-horse-battery");
  const { verifier, challenge } = pkce();
  const { page, problems } = await newPage();
  await throughSignIn(page, auth.base, `${authorizeUrl(auth.base, scopedId, client.uri, challenge, "st-scopes")}&resource=${encodeURIComponent(resource)}`,
    email, "correct-horse-battery");

  // the scope list is a fieldset with a legend; each scope a labelled checkbox, openid checked and disabled
  assert.equal(await page.locator("fieldset > legend").count(), 1);
  const openid = page.getByRole("checkbox", { name: /Confirm who you are/ });
  assert.equal(await openid.isChecked(), true);
  assert.equal(await openid.isDisabled(), true);
  const profile = page.getByRole("checkbox", { name: /See your name and profile picture/ });
  const mail = page.getByRole("checkbox", { name: /See your email address/ });
  assert.equal(await profile.isChecked(), true);
  assert.equal(await mail.isChecked(), true);
  // the policy and terms as links, with the right hrefs and rel
  const policy = page.getByRole("link", { name: "privacy policy" });
  assert.equal(await policy.getAttribute("href"), "https://client.example.test/privacy?x=1&y=2");
  assert.equal(await policy.getAttribute("rel"), "noopener noreferrer");
  const terms = page.getByRole("link", { name: "terms of service" });
  assert.equal(await terms.getAttribute("href"), "https://client.example.test/terms");
  assert.equal(await terms.getAttribute("rel"), "noopener noreferrer");
  // which API the token is for (RFC 8707)
  assert.ok((await page.textContent("ul.resources")).includes(resource));

  await mail.uncheck();
  await Promise.all([page.waitForURL((u) => u.href.startsWith(client.uri)), page.getByRole("button", { name: "Allow" }).click()]);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "st-scopes");
  const token = await fetch(`${auth.base}/api/auth/oauth2/token`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code"), redirect_uri: client.uri,
      client_id: scopedId, code_verifier: verifier }),
  });
  const body = await token.json();
  assert.equal(token.status, 200, JSON.stringify(body));
  assert.deepEqual(body.scope.split(" ").sort(), ["openid", "profile"], "the unchecked scope is not granted");
  const claims = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
  assert.equal(claims.aud, resource);
  assert.ok(!claims.scope.split(" ").includes("email"));
  const consent = await admin.query("SELECT scopes FROM auth.oauth_consents WHERE client_id = $1", [scopedId]);
  assert.deepEqual(consent.rows.map((r) => [...r.scopes].sort()), [["openid", "profile"]], "nor stored as consented");
  assert.deepEqual(problems, [], "no console errors or CSP violations");
  await page.close();
});
