// POST /link-social, GET /list-accounts, POST /unlink-account, POST /get-access-token,
// POST /refresh-token and GET /account-info with the official better-auth client,
// against panva's oidc-provider ("acme") and the GitHub stand-in.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { assertApiError, post, sql, uniqueEmail } from "./harness.mjs";
import { browser, clientFetch, startSocial } from "./social-harness.mjs";

const users = {};
const [{ db }] = await sql("SELECT current_database() AS db");
await sql(`ALTER DATABASE "${db}" SET pgauth.social_trusted_providers = 'acme,google,github'`);
const rig = await startSocial({ users });
const { api, base } = rig.server;

const clientOf = (b) => createAuthClient({ baseURL: base, fetchOptions: { customFetchImpl: clientFetch(b, base) } });
const landedOutside = (u) => !u.startsWith(`${api}/callback/`) && u.startsWith(base);

// A browser signed up with email and password.
async function passwordUser() {
  const b = browser();
  const email = uniqueEmail("acct");
  const r = await clientOf(b).signUp.email({ email, password: "correct-horse-battery", name: "Acct" });
  assert.equal(r.error, null, JSON.stringify(r.error));
  return { b, email, userId: r.data.user.id };
}

// A browser signed in with acme only (a new user); returns it with the user's id.
async function acmeUser() {
  const id = `acme-${Math.random().toString(36).slice(2)}`;
  users[id] = { email: uniqueEmail("acmeonly"), email_verified: true, name: "Acme Only" };
  rig.acme.setUser(id);
  const b = browser();
  const r = await clientOf(b).signIn.social({ provider: "acme", callbackURL: "/home", disableRedirect: true });
  assert.equal(r.error, null, JSON.stringify(r.error));
  await b.follow(r.data.url, landedOutside);
  const s = await (await b.request(`${api}/get-session`)).json();
  return { b, sub: id, userId: s.user.id };
}

async function linkAcme(b, email) {
  const id = `link-${Math.random().toString(36).slice(2)}`;
  users[id] = { email, email_verified: true, name: "Linked" };
  rig.acme.setUser(id);
  const r = await clientOf(b).linkSocial({ provider: "acme", callbackURL: "/linked", disableRedirect: true });
  assert.equal(r.error, null, JSON.stringify(r.error));
  const { url } = await b.follow(r.data.url, landedOutside);
  return { sub: id, url };
}

describe("link-social, list-accounts, unlink-account", () => {
  test("link from a session, list both accounts, unlink one, refuse the last", async () => {
    const { b, email, userId } = await passwordUser();
    const { sub, url } = await linkAcme(b, email);
    assert.equal(url, `${base}/linked`);
    const client = clientOf(b);
    const list = await client.listAccounts();
    assert.equal(list.error, null, JSON.stringify(list.error));
    const providers = list.data.map((a) => a.providerId).sort();
    assert.deepEqual(providers, ["acme", "credential"]);
    const acme = list.data.find((a) => a.providerId === "acme");
    assert.equal(acme.accountId, sub);
    assert.equal(acme.userId, userId);
    assert.ok(Array.isArray(acme.scopes));

    const unlinked = await client.unlinkAccount({ providerId: "acme", accountId: acme.accountId });
    assert.equal(unlinked.error, null, JSON.stringify(unlinked.error));
    assert.deepEqual((await client.listAccounts()).data.map((a) => a.providerId), ["credential"]);
  });

  test("Better-Auth 1.7's {accountId} (the list-accounts id) names the account everywhere", async () => {
    const { b, email } = await passwordUser();
    const { sub } = await linkAcme(b, email);
    const client = clientOf(b);
    const acme = (await client.listAccounts()).data.find((a) => a.providerId === "acme");
    const token = await client.getAccessToken({ accountId: acme.id });
    assert.equal(token.error, null, JSON.stringify(token.error));
    assert.ok(token.data.accessToken);
    const info = await client.accountInfo({ query: { accountId: acme.id } });
    assert.equal(info.error, null, JSON.stringify(info.error));
    assert.equal(info.data.user.id, sub);
    assert.equal(info.data.account.accountId, sub);
    const unlinked = await client.unlinkAccount({ accountId: acme.id });
    assert.equal(unlinked.error, null, JSON.stringify(unlinked.error));
    assert.deepEqual((await client.listAccounts()).data.map((a) => a.providerId), ["credential"]);
  });

  test("unlinking the only way to sign in is refused", async () => {
    const { b } = await acmeUser();
    const client = clientOf(b);
    const [acct] = (await client.listAccounts()).data;
    const r = await client.unlinkAccount({ providerId: "acme", accountId: acct.accountId });
    assert.equal(r.error?.status, 400);
    assert.equal(r.error?.code, "FAILED_TO_UNLINK_LAST_ACCOUNT");
    assert.equal((await client.listAccounts()).data.length, 1);
  });

  test("an account linked to another user cannot be linked again", async () => {
    const other = await acmeUser();
    const { b, email } = await passwordUser();
    users[other.sub].email = email;  // same IdP identity, now for this user's session
    rig.acme.setUser(other.sub);
    const r = await clientOf(b).linkSocial({ provider: "acme", callbackURL: "/linked", errorCallbackURL: "/link-failed", disableRedirect: true });
    const { url } = await b.follow(r.data.url, landedOutside);
    assert.ok(url.startsWith(`${base}/link-failed?error=`), url);
    assert.deepEqual((await clientOf(b).listAccounts()).data.map((a) => a.providerId), ["credential"]);
  });

  test("link-social needs a session; list-accounts too", async () => {
    const r = await post(`${api}/link-social`, { provider: "acme", callbackURL: "/" });
    assertApiError(assert, r, 401, "UNAUTHORIZED");
    const l = await fetch(`${api}/list-accounts`);
    assert.equal(l.status, 401);
  });
});

describe("get-access-token, refresh-token, account-info", () => {
  test("get-access-token refreshes an expired access token at the provider", async () => {
    const { b, userId } = await acmeUser();
    const client = clientOf(b);
    const first = await client.getAccessToken({ providerId: "acme" });
    assert.equal(first.error, null, JSON.stringify(first.error));
    assert.ok(first.data.accessToken);
    // No token is stored in the clear.
    const [row] = await sql("SELECT access_token_sealed, refresh_token_sealed FROM auth.accounts WHERE user_id = $1 AND provider_id = 'acme'", [userId]);
    assert.ok(!row.access_token_sealed.toString("latin1").includes(first.data.accessToken));
    await sql("UPDATE auth.accounts SET access_token_expires_at = now() - interval '1 minute' WHERE user_id = $1 AND provider_id = 'acme'", [userId]);
    const second = await client.getAccessToken({ providerId: "acme" });
    assert.equal(second.error, null, JSON.stringify(second.error));
    assert.notEqual(second.data.accessToken, first.data.accessToken);
    assert.ok(new Date(second.data.accessTokenExpiresAt) > new Date());
  });

  test("refresh-token always refreshes and answers the fuller body", async () => {
    const { b } = await acmeUser();
    const before = await clientOf(b).getAccessToken({ providerId: "acme" });
    const r = await post(`${api}/refresh-token`, { providerId: "acme" }, { cookie: [...b.jar(base)].map(([k, v]) => `${k}=${v}`).join("; "), origin: base });
    assert.equal(r.status, 200, r.text);
    assert.notEqual(r.body.accessToken, before.data.accessToken);
    assert.equal(r.body.providerId, "acme");
    assert.ok(r.body.refreshToken);
  });

  test("account-info answers the provider's profile", async () => {
    const { b, sub } = await acmeUser();
    const cookie = [...b.jar(base)].map(([k, v]) => `${k}=${v}`).join("; ");
    const r = await fetch(`${api}/account-info?providerId=acme`, { headers: { cookie } });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.equal(body.user.id, sub);
    assert.equal(body.user.email, users[sub].email);
    assert.equal(body.account.providerId, "acme");
  });

  test("bad input on every account route is a 4xx {code, message}", async () => {
    const { b } = await acmeUser();
    const headers = { cookie: [...b.jar(base)].map(([k, v]) => `${k}=${v}`).join("; "), origin: base };
    for (const route of ["unlink-account", "get-access-token", "refresh-token"]) {
      for (const body of [{}, { providerId: 5 }, { accountId: ["x"] }, { providerId: "x".repeat(300) }]) {
        const r = await post(`${api}/${route}`, body, headers);
        assertApiError(assert, r, 400);
      }
      const unauth = await post(`${api}/${route}`, { providerId: "acme" });
      assertApiError(assert, unauth, 401);
    }
    const info = await fetch(`${api}/account-info`, { headers });
    assert.equal(info.status, 400);
    const link = await post(`${api}/link-social`, { provider: "nope" }, headers);
    assertApiError(assert, link, 404, "PROVIDER_NOT_FOUND");
    const evil = await post(`${api}/link-social`, { provider: "acme", callbackURL: "https://evil.example/" }, headers);
    assertApiError(assert, evil, 403, "INVALID_CALLBACKURL");
  });
});
