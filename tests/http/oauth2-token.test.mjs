// The OAuth provider's back channel (issue 13): the token endpoint (refresh rotation,
// reuse revoking the family, the reuse interval, code replay, PKCE and redirect errors),
// client authentication (client_secret_basic, client_secret_post, private_key_jwt, none),
// userinfo, introspection, revocation and end-session, and bad input on each.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as jose from "jose";
import * as oidc from "openid-client";
import { sql, startServer } from "./harness.mjs";
import { assertOAuthError, authorize, call, codeFlow, registerClient, rpConfig, user, webClient } from "./oauth2-helpers.mjs";

async function setDatabase(name, value) {
  const [{ db }] = await sql("SELECT current_database() AS db");
  if (value === null) await sql(`ALTER DATABASE "${db}" RESET ${name}`);
  else await sql(`ALTER DATABASE "${db}" SET ${name} = '${value}'`);
}

const server = await startServer({}, { issuer: true });
const client = await registerClient(server, webClient());
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
const tokenUrl = `${server.api}/oauth2/token`;

// An authorization code (not yet redeemed) and its verifier.
async function freshCode(c = client, u) {
  const config = await rpConfig(server, c);
  u ??= await user(server);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: c.redirect_uris[0], scope: "openid offline_access", state: "s",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const { final } = await authorize(server, url, u.cookie);
  return { code: final.searchParams.get("code"), verifier, user: u };
}

describe("token endpoint", () => {
  test("refresh rotates; a retried refresh within the reuse interval gets the same successor", async () => {
    const { tokens, config } = await codeFlow(server, client);
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    assert.notEqual(next.access_token, tokens.access_token);
    // retried at once (an MCP client that lost the answer): the same successor
    const retry = await call(tokenUrl, { method: "POST", headers: { authorization: basic(client.client_id, client.client_secret) },
      form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token } });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.refresh_token, next.refresh_token);
    assert.match(retry.headers.get("cache-control"), /no-store/);
    assert.equal(retry.headers.get("pragma"), "no-cache");
  });

  test("reuse of a rotated refresh token after the interval revokes the whole family", async () => {
    await setDatabase("pgauth.oauth_refresh_reuse_interval", "0");
    try {
      const strict = await startServer({}, { issuer: true });
      const { tokens, config } = await codeFlow(strict, client);
      const next = await oidc.refreshTokenGrant(config, tokens.refresh_token);
      const reuse = await call(`${strict.api}/oauth2/token`, { method: "POST", headers: { authorization: basic(client.client_id, client.client_secret) },
        form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token } });
      assertOAuthError(reuse, 400, "invalid_grant");
      // the successor died with the family
      await assert.rejects(oidc.refreshTokenGrant(config, next.refresh_token), (e) => e.error === "invalid_grant");
    } finally {
      await setDatabase("pgauth.oauth_refresh_reuse_interval", null);
    }
  });

  test("code replay, wrong or missing verifier, redirect mismatch: invalid_grant (400)", async () => {
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    const redeem = (form) => call(tokenUrl, { method: "POST", headers: auth, form: { grant_type: "authorization_code", ...form } });

    const a = await freshCode();
    const ok = await redeem({ code: a.code, code_verifier: a.verifier, redirect_uri: client.redirect_uris[0] });
    assert.equal(ok.status, 200, ok.text);
    const replay = await redeem({ code: a.code, code_verifier: a.verifier, redirect_uri: client.redirect_uris[0] });
    assertOAuthError(replay, 400, "invalid_grant");
    // the replay revoked what the code issued
    const info = await call(`${server.api}/oauth2/userinfo`, { headers: { authorization: `Bearer ${ok.body.access_token}` } });
    assertOAuthError(info, 401, "invalid_token");

    const b = await freshCode();
    assertOAuthError(await redeem({ code: b.code, code_verifier: oidc.randomPKCECodeVerifier(), redirect_uri: client.redirect_uris[0] }),
      400, "invalid_grant");
    const c = await freshCode();
    const missing = await redeem({ code: c.code, redirect_uri: client.redirect_uris[0] });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.body.error, /^invalid_(grant|request)$/);
    const d = await freshCode();
    assertOAuthError(await redeem({ code: d.code, code_verifier: d.verifier, redirect_uri: "https://rp.example/other" }), 400, "invalid_grant");
  });

  test("client_secret_post, a wrong secret (401 + WWW-Authenticate: Basic), an unknown grant type", async () => {
    const post = await registerClient(server, webClient({ token_endpoint_auth_method: "client_secret_post" }));
    const config = await rpConfig(server, post, oidc.ClientSecretPost(post.client_secret));
    const { tokens } = await codeFlow(server, post, { config });
    assert.equal(typeof tokens.access_token, "string");

    const a = await freshCode();
    const wrong = await call(tokenUrl, { method: "POST", headers: { authorization: basic(client.client_id, "wrong") },
      form: { grant_type: "authorization_code", code: a.code, code_verifier: a.verifier, redirect_uri: client.redirect_uris[0] } });
    assertOAuthError(wrong, 401, "invalid_client");
    assert.match(wrong.headers.get("www-authenticate"), /^Basic/);
    const unknown = await call(tokenUrl, { method: "POST", headers: { authorization: basic(client.client_id, client.client_secret) },
      form: { grant_type: "urn:example:nope" } });
    assertOAuthError(unknown, 400, "unsupported_grant_type");
  });

  test("private_key_jwt with an inline JWKS", async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const pkj = await registerClient(server, webClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] } }));
    const config = await rpConfig(server, pkj, oidc.PrivateKeyJwt({ key: privateKey, kid: "k1" }));
    const { tokens } = await codeFlow(server, pkj, { config });
    assert.equal(tokens.claims().aud, pkj.client_id);
  });

  test("a public client (none) needs PKCE and no secret", async () => {
    const pub = await registerClient(server, { client_name: "CLI", redirect_uris: ["http://127.0.0.1:7777/cb"],
      grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" });
    const { tokens } = await codeFlow(server, pub);
    assert.equal(typeof tokens.access_token, "string");
  });

  test("bad input: wrong content type, duplicate parameters, malformed Basic, hostile values", async () => {
    const auth = { authorization: basic(client.client_id, client.client_secret) };
    assertOAuthError(await call(tokenUrl, { method: "POST", headers: auth, body: { grant_type: "refresh_token" } }), 415, "invalid_request");
    assertOAuthError(await call(tokenUrl, { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "grant_type=refresh_token" }),
      415, "invalid_request");
    const dup = await call(tokenUrl, { method: "POST", headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=refresh_token&refresh_token=a&refresh_token=b" });
    assertOAuthError(dup, 400, "invalid_request");
    const malformed = await call(tokenUrl, { method: "POST", headers: { authorization: "Basic %%%" }, form: { grant_type: "refresh_token", refresh_token: "x" } });
    assertOAuthError(malformed, 401, "invalid_client");
    assert.match(malformed.headers.get("www-authenticate"), /^Basic/);
    for (const body of ["grant_type=%00", "grant_type=%E0%80", `refresh_token=${"a".repeat(9000)}&grant_type=refresh_token`, "=x"]) {
      const r = await call(tokenUrl, { method: "POST", headers: { ...auth, "content-type": "application/x-www-form-urlencoded" }, body });
      assertOAuthError(r, 400, "invalid_request");
    }
    const twoMethods = await call(tokenUrl, { method: "POST", headers: auth,
      form: { grant_type: "refresh_token", refresh_token: "x", client_id: client.client_id, client_secret: client.client_secret } });
    assertOAuthError(twoMethods, 400, "invalid_request");
  });
});

describe("userinfo, introspection, revocation, end-session", () => {
  test("userinfo: 401 with WWW-Authenticate: Bearer, with and without a token", async () => {
    const none = await call(`${server.api}/oauth2/userinfo`);
    assertOAuthError(none, 401, none.body?.error);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    const bad = await call(`${server.api}/oauth2/userinfo`, { headers: { authorization: "Bearer not-a-token" } });
    assertOAuthError(bad, 401, "invalid_token");
    assert.match(bad.headers.get("www-authenticate"), /^Bearer error="invalid_token"/);
    const malformed = await call(`${server.api}/oauth2/userinfo`, { headers: { authorization: "Bearer a b c" } });
    assertOAuthError(malformed, 401, "invalid_token");
    assert.match(malformed.headers.get("www-authenticate"), /^Bearer error="invalid_token"/);
    const cors = await call(`${server.api}/oauth2/userinfo`, { headers: { origin: "https://spa.example" } });
    assert.equal(cors.headers.get("access-control-allow-origin"), "*");
  });

  test("introspection: own tokens active, another client's inactive; revocation ends them", async () => {
    const { tokens, config } = await codeFlow(server, client);
    const own = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(own.active, true);
    assert.equal(own.client_id, client.client_id);
    const other = await registerClient(server, webClient());
    const otherConfig = await rpConfig(server, other);
    const foreign = await oidc.tokenIntrospection(otherConfig, tokens.access_token);
    assert.equal(foreign.active, false);

    await oidc.tokenRevocation(config, tokens.refresh_token);
    assert.equal((await oidc.tokenIntrospection(config, tokens.refresh_token)).active, false);
    const after = await oidc.tokenIntrospection(config, tokens.access_token);
    assert.equal(after.active, false);
    // unknown tokens revoke silently
    const r = await call(`${server.api}/oauth2/revoke`, { method: "POST", headers: { authorization: basic(client.client_id, client.client_secret) },
      form: { token: "unknown" } });
    assert.equal(r.status, 200, r.text);
    // missing token
    assertOAuthError(await call(`${server.api}/oauth2/introspect`, { method: "POST",
      headers: { authorization: basic(client.client_id, client.client_secret) }, form: {} }), 400, "invalid_request");
    const wrong = await call(`${server.api}/oauth2/introspect`, { method: "POST",
      headers: { authorization: basic(client.client_id, "wrong") }, form: { token: "x" } });
    assertOAuthError(wrong, 401, "invalid_client");
    assert.match(wrong.headers.get("www-authenticate"), /^Basic/);
  });

  test("end-session with id_token_hint: the session ends, back to the registered post_logout_redirect_uri", async () => {
    const { tokens, config, user: u } = await codeFlow(server, client);
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: "https://rp.example/signed-out", state: "bye" });
    const r = await call(url.toString(), { headers: { cookie: u.cookie } });
    assert.equal(r.status, 302, r.text);
    const to = new URL(r.location);
    assert.equal(to.origin + to.pathname, "https://rp.example/signed-out");
    assert.equal(to.searchParams.get("state"), "bye");
    const session = await call(`${server.api}/get-session`, { headers: { cookie: u.cookie } });
    assert.equal(session.body, null);
    // an unregistered post_logout_redirect_uri is refused, not followed
    const bad = await call(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: "https://evil.example/" }).toString());
    assertOAuthError(bad, 400, "invalid_request");
    assert.equal(bad.location, null);
  });
});
