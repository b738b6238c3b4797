// Shared by the oauth2-*.test.mjs files: registering clients, driving the authorization
// endpoint with a session cookie (as a browser would, without one), and the RFC error
// contract.
import assert from "node:assert/strict";
import * as oidc from "openid-client";
import { post, signUp } from "./harness.mjs";

export async function call(url, { method = "GET", body, headers = {}, form } = {}) {
  const init = { method, headers: { ...headers }, redirect: "manual" };
  if (form !== undefined) {
    init.body = form instanceof URLSearchParams ? form.toString() : new URLSearchParams(form).toString();
    init.headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, body: json, location: res.headers.get("location") };
}

// The RFC error contract: status, {"error","error_description"}, Cache-Control: no-store.
export function assertOAuthError(r, status, error) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error, error, r.text);
  assert.equal(typeof r.body?.error_description, "string", r.text);
  assert.equal(r.body.code, undefined, r.text);
  assert.match(r.headers.get("cache-control") ?? "", /no-store/);
}

// Registers a client over RFC 7591; returns the registration answer (client_id, client_secret?).
export async function registerClient(server, metadata) {
  const r = await call(`${server.api}/oauth2/register`, { method: "POST", body: metadata });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

export const webClient = (extra = {}) => ({
  client_name: "Web RP",
  redirect_uris: ["https://rp.example/cb"],
  post_logout_redirect_uris: ["https://rp.example/signed-out"],
  grant_types: ["authorization_code", "refresh_token"],
  token_endpoint_auth_method: "client_secret_basic",
  scope: "openid profile email offline_access",
  ...extra,
});

// An openid-client Configuration for `client` (discovery from the server itself).
export async function rpConfig(server, client, auth) {
  const clientAuth = auth ?? (client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None());
  return oidc.discovery(new URL(server.api), client.client_id, client.client_secret ? { client_secret: client.client_secret } : {},
    clientAuth, { execute: [oidc.allowInsecureRequests] });
}

// A user with a session cookie.
export async function user(server) {
  return signUp(server);
}

// GET the authorization URL with the session cookie; when the answer is the consent page,
// post the consent (accept) with the cookie as the consent page's script would. Returns the
// final URL at the client (a URL object) and the steps seen.
export async function authorize(server, url, cookie, { accept = true, headers = {} } = {}) {
  const steps = [];
  const r = await call(url.toString(), { headers: { ...(cookie ? { cookie } : {}), ...headers } });
  steps.push(r);
  if (r.status !== 302) return { final: null, steps, response: r };
  let location = new URL(r.location, server.base);
  if (location.pathname === "/consent") {
    const consentCode = location.searchParams.get("consent_code");
    const c = await post(`${server.api}/oauth2/consent`, { accept, consent_code: consentCode }, { cookie });
    steps.push(c);
    assert.equal(c.status, 200, c.text);
    assert.equal(c.body.redirect, true);
    location = new URL(c.body.url);
  }
  return { final: location, steps, response: r };
}

// A complete code flow with PKCE for `client`: returns { tokens, config, user }.
export async function codeFlow(server, client, { scope = "openid profile email offline_access", cookie, config, extra = {} } = {}) {
  config ??= await rpConfig(server, client);
  const u = cookie ? { cookie } : await user(server);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: client.redirect_uris[0], scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", ...extra,
  });
  const { final } = await authorize(server, url, u.cookie);
  assert.ok(final, "the flow reached the client");
  const tokens = await oidc.authorizationCodeGrant(config, final, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return { tokens, config, user: u, verifier, final };
}
