// The OAuth provider's front channel (issue 13): discovery at each location, the
// authorization endpoint (code + PKCE with openid-client in strict mode, id_token
// validated), consent asked, denied and remembered, prompt=none, the login
// continuation (POST /sign-in/email with oauth_query), errors shown rather than
// redirected, fetch mode, and bad input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as oidc from "openid-client";
import { post, sql, startServer } from "./harness.mjs";
import { assertOAuthError, authorize, call, codeFlow, registerClient, rpConfig, user, webClient } from "./oauth2-helpers.mjs";

const server = await startServer({}, { issuer: true });
const client = await registerClient(server, webClient());

describe("discovery", () => {
  test("both documents at every location clients probe, with the issuer exactly", async () => {
    const paths = [
      "/.well-known/openid-configuration", "/.well-known/openid-configuration/api/auth", "/api/auth/.well-known/openid-configuration",
      "/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/api/auth",
      "/api/auth/.well-known/oauth-authorization-server",
    ];
    for (const path of paths) {
      const r = await call(`${server.base}${path}`, { headers: { origin: "https://anywhere.example" } });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.equal(r.body.issuer, server.api, path);
      assert.equal(r.body.token_endpoint, `${server.api}/oauth2/token`, path);
      assert.deepEqual(r.body.code_challenge_methods_supported, ["S256"], path);
      assert.equal(r.headers.get("access-control-allow-origin"), "*", path);
    }
    // openid-client finds it both ways (OIDC appended form, RFC 8414 path-inserted form)
    for (const algorithm of ["oidc", "oauth2"]) {
      const config = await oidc.discovery(new URL(server.api), "x", {}, oidc.None(), { algorithm, execute: [oidc.allowInsecureRequests] });
      assert.equal(config.serverMetadata().issuer, server.api);
    }
  });

  test("a CORS preflight to the token endpoint succeeds from any origin, without credentials", async () => {
    const r = await call(`${server.api}/oauth2/token`, {
      method: "OPTIONS",
      headers: { origin: "https://spa.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.equal(r.headers.get("access-control-allow-credentials"), null);
    assert.match(r.headers.get("access-control-allow-headers"), /authorization/);
  });
});

describe("authorization code flow", () => {
  test("code + PKCE with openid-client: id_token validated, userinfo, consent remembered", async () => {
    const { tokens, config, user: u, final } = await codeFlow(server, client);
    assert.equal(final.searchParams.get("iss"), server.api);  // RFC 9207
    assert.equal(tokens.token_type.toLowerCase(), "bearer");
    assert.equal(typeof tokens.refresh_token, "string");
    const claims = tokens.claims();
    assert.equal(claims.iss, server.api);
    assert.equal(claims.aud, client.client_id);
    assert.equal(claims.sub, u.user.id);
    assert.equal(typeof claims.auth_time, "number");
    const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url"));
    assert.equal(header.alg, "RS256");
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, u.email);

    // the second time: no consent page, straight to the client with a code
    const again = await codeFlow(server, client, { cookie: u.cookie, config });
    assert.equal(again.tokens.claims().sub, u.user.id);
  });

  test("consent denied: access_denied at the client, with state and iss", async () => {
    const u = await user(server);
    const config = await rpConfig(server, client);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: client.redirect_uris[0], scope: "openid email", state: "st-1",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const { final } = await authorize(server, url, u.cookie, { accept: false });
    assert.equal(final.origin + final.pathname, client.redirect_uris[0]);
    assert.equal(final.searchParams.get("error"), "access_denied");
    assert.equal(final.searchParams.get("state"), "st-1");
    assert.equal(final.searchParams.get("iss"), server.api);
  });

  test("prompt=none without a session: login_required at the client", async () => {
    const config = await rpConfig(server, client);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: client.redirect_uris[0], scope: "openid", state: "s2", prompt: "none",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const r = await call(url.toString());
    assert.equal(r.status, 302, r.text);
    const to = new URL(r.location);
    assert.equal(to.searchParams.get("error"), "login_required");
    assert.equal(to.searchParams.get("state"), "s2");
  });

  test("no session: the sign-in page with a signed query; sign-in with oauth_query continues the flow", async () => {
    const u = await user(server);
    const config = await rpConfig(server, client);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: client.redirect_uris[0], scope: "openid email", state: "s3",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    });
    const r = await call(url.toString());
    assert.equal(r.status, 302, r.text);
    const login = new URL(r.location);
    assert.equal(login.origin + login.pathname, `${server.base}/sign-in`);
    assert.equal(login.searchParams.get("client_id"), client.client_id);
    assert.ok(login.searchParams.get("sig"));
    const oauthQuery = login.search.slice(1);

    // altered: refused
    const altered = await post(`${server.api}/sign-in/email`, { email: u.email, password: u.password,
      oauth_query: oauthQuery.replace("s3", "s4") });
    assert.equal(altered.status, 400, altered.text);

    // fetch mode: the JSON answer Better-Auth's client follows
    const signed = await post(`${server.api}/sign-in/email`, { email: u.email, password: u.password, oauth_query: oauthQuery });
    assert.equal(signed.status, 200, signed.text);
    assert.equal(signed.body.redirect, true);
    assert.equal(typeof signed.body.token, "string");
    const consent = new URL(signed.body.url);
    assert.equal(consent.pathname, "/consent");
    assert.ok(consent.searchParams.get("consent_code"));
    assert.equal(consent.searchParams.get("scope"), "openid email");
  });

  test("fetch mode (Sec-Fetch-Mode: cors) answers {redirect, url} instead of a 302", async () => {
    const { user: u, config } = await codeFlow(server, client, { scope: "openid" });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: client.redirect_uris[0], scope: "openid", state: "s5",
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const r = await call(url.toString(), { headers: { cookie: u.cookie, "sec-fetch-mode": "cors" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.redirect, true);
    assert.equal(new URL(r.body.url).searchParams.get("state"), "s5");
    assert.ok(new URL(r.body.url).searchParams.get("code"));
  });
});

describe("authorization errors", () => {
  const base = () => ({
    response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: "openid", state: "x",
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256",
  });
  const authz = (params, headers = {}) => call(`${server.api}/oauth2/authorize?${new URLSearchParams(params)}`, { headers });

  test("an unregistered redirect_uri or an unknown client is shown, never redirected", async () => {
    for (const params of [{ ...base(), redirect_uri: "https://evil.example/cb" }, { ...base(), client_id: "no-such-client" }]) {
      const r = await authz(params, { accept: "application/json" });
      assertOAuthError(r, 400, params.client_id === "no-such-client" ? "invalid_client" : "invalid_request");
      assert.equal(r.location, null);
      const html = await authz(params, { accept: "text/html" });
      assert.equal(html.status, 400);
      assert.equal(html.location, null);
      assert.match(html.headers.get("content-type"), /text\/html/);
      assert.match(html.headers.get("content-security-policy"), /default-src 'none'/);
      assert.doesNotMatch(html.text, /evil\.example/);
    }
  });

  test("duplicate parameters are invalid_request, shown and not redirected", async () => {
    const q = `${new URLSearchParams(base())}&state=again`;
    const r = await call(`${server.api}/oauth2/authorize?${q}`);
    assertOAuthError(r, 400, "invalid_request");
    assert.match(r.body.error_description, /state/);
    assert.equal(r.location, null);
  });

  test("hostile and oversized query strings: invalid_request, never a 5xx", async () => {
    const hostile = [
      "client_id=%00abc", "client_id=%zz", "state=%C0%80", "client_id=a%0D%0ALocation:%20https://evil.example",
      `state=${"x".repeat(9000)}`, "redirect_uri=%FF%FE",
    ];
    for (const q of hostile) {
      const r = await call(`${server.api}/oauth2/authorize?${q}`);
      assert.ok(r.status >= 400 && r.status < 500, `${q.slice(0, 40)}: ${r.status}`);
      assert.equal(typeof r.body?.error, "string", r.text);
      assert.equal(r.location, null);
    }
    // POST with a JSON body: the endpoint takes forms
    const json = await call(`${server.api}/oauth2/authorize`, { method: "POST", body: base() });
    assertOAuthError(json, 415, "invalid_request");
  });

  test("the consent call needs the session, an accept boolean and a valid consent code", async () => {
    const u = await user(server);
    assertOAuthError(await post(`${server.api}/oauth2/consent`, { accept: true, consent_code: "nope" }, { cookie: u.cookie }), 400, "invalid_request");
    assertOAuthError(await post(`${server.api}/oauth2/consent`, { accept: "yes", consent_code: "nope" }, { cookie: u.cookie }), 400, "invalid_request");
    const anon = await post(`${server.api}/oauth2/consent`, { accept: true, consent_code: "nope" });
    assert.equal(anon.status, 401, anon.text);
    const crossSite = await post(`${server.api}/oauth2/consent`, { accept: true, consent_code: "nope" },
      { cookie: u.cookie, origin: "https://evil.example" });
    assert.equal(crossSite.status, 403, crossSite.text);
  });

  test("nothing was written by refused requests", async () => {
    const before = await sql("SELECT count(*)::int AS n FROM auth.oauth_clients");
    await call(`${server.api}/oauth2/authorize?client_id=x&client_id=y`);
    const after = await sql("SELECT count(*)::int AS n FROM auth.oauth_clients");
    assert.deepEqual(after, before);
  });
});
