// The sign-in page's provider buttons in Chromium: the page shows one button per
// configured provider, and "Continue with Acme" signs in at a real OpenID provider
// (npm oidc-provider, started by tests/http/social-harness.mjs) and lands back in the
// OAuth flow: the consent page, then the client's redirect_uri with a code.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { freePort, sql } from "../http/harness.mjs";
import { startSocial } from "../http/social-harness.mjs";

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

test("a provider button on the sign-in page signs in at the provider and lands back in the OAuth flow", async () => {
  const sub = `acme-${process.pid}-${Date.now()}`;
  const email = `button.${process.pid}.${Date.now()}@example.com`;
  const { server, acme } = await startSocial({ users: { [sub]: { email, email_verified: true, name: "Button User" } } });
  acme.setUser(sub);

  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const client = http.createServer((req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<title>client</title>"))
    .listen(port, "127.0.0.1");
  after(() => client.close());
  const [{ body }] = await sql("SELECT auth.oauth_create_client($1::jsonb)::text AS body", [JSON.stringify({
    client_name: "Button test client", redirect_uris: [redirectUri], application_type: "native",
    token_endpoint_auth_method: "none", grant_types: ["authorization_code"], response_types: ["code"], scope: "openid email",
  })]);
  const clientId = JSON.parse(body).client_id;
  const verifier = randomBytes(32).toString("base64url");
  const q = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: "openid email",
    state: "st-button", code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256" });

  await context.clearCookies();
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error" && !/favicon/.test(m.location()?.url ?? "")) problems.push(m.text()); });
  await page.goto(`${server.base}/api/auth/oauth2/authorize?${q}`);
  assert.equal(new URL(page.url()).pathname, "/sign-in");
  const buttons = await page.locator(".providers button").allTextContents();
  assert.deepEqual(buttons.sort(), ["Continue with Acme", "Continue with GitHub", "Continue with Google"]);

  await Promise.all([page.waitForURL((u) => u.pathname === "/consent", { timeout: 20000 }),
                     page.getByRole("button", { name: "Continue with Acme" }).click()]);
  const cookies = await context.cookies(server.base);
  assert.ok(cookies.some((c) => c.name === "better-auth.session_token"), "signed in at pgauth");
  assert.match(await page.textContent("main"), /Button test client/);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri)), page.getByRole("button", { name: "Allow" }).click()]);
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "st-button");
  assert.ok(back.searchParams.get("code"));
  const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]);
  assert.equal(n, 1);
  assert.deepEqual(problems, []);
  await page.close();
});
