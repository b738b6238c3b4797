// private_key_jwt for clients registered with a jwks_uri (RFC 7523, RFC 7591): pgauth-http
// fetches the client's JWK Set from a local test server when the extension asks for it, with
// the Client ID Metadata Document fetcher's guards, and the extension caches it per client.
// Tokens at the token endpoint, introspection and revocation; a rotated key (new kid) is
// picked up; a wrong key, and a jwks_uri that is unreachable, too large, redirecting or not
// JSON, are 401 invalid_client (never 5xx); the set is not fetched on every request.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import http from "node:http";
import { after, describe, test } from "node:test";
import * as jose from "jose";
import * as oidc from "openid-client";
import { freePort, freshSql, sql, startServer } from "./harness.mjs";
import { assertOAuthError, call, codeFlow, registerClient, rpConfig, webClient } from "./oauth2-helpers.mjs";

async function setDatabase(name, value) {
  const [{ db }] = await sql("SELECT current_database() AS db");
  if (value === null) await sql(`ALTER DATABASE "${db}" RESET ${name}`);
  else await sql(`ALTER DATABASE "${db}" SET ${name} = '${value}'`);
}

const MIN_REFRESH_S = 2;

async function keyPair(kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

// The key server: /keys/<name> answers sets[name] (with Cache-Control: max-age=300); other
// paths misbehave. hits[path] counts the requests.
const sets = {};
const hits = {};
// At the top level (as the other files do): startServer registers the after() that stops it.
const port = await freePort();
const closedPort = await freePort();  // nothing listens there
const keysBase = `http://127.0.0.1:${port}`;
const keyServer = http.createServer((req, res) => {
  hits[req.url] = (hits[req.url] ?? 0) + 1;
  if (req.url === "/big") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", kid: "x".repeat(40000) }] }));
  } else if (req.url === "/redirect") {
    res.writeHead(302, { location: `${keysBase}/keys/target` });
    res.end();
  } else if (req.url === "/text") {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>not a key set</html>");
  } else if (req.url.startsWith("/keys/") && sets[req.url.slice(6)]) {
    res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" });
    res.end(JSON.stringify(sets[req.url.slice(6)]));
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => keyServer.listen(port, "127.0.0.1", resolve));
after(() => keyServer.close());
await setDatabase("pgauth.oauth_cimd_allow_http_loopback", "on");
await setDatabase("pgauth.oauth_jwks_min_refresh", `${MIN_REFRESH_S}s`);
after(async () => {  // on a connection of its own: the shared pool may be closed by then
  const [{ db }] = await freshSql("SELECT current_database() AS db");
  await freshSql(`ALTER DATABASE "${db}" RESET pgauth.oauth_cimd_allow_http_loopback`);
  await freshSql(`ALTER DATABASE "${db}" RESET pgauth.oauth_jwks_min_refresh`);
});
const server = await startServer({ PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK: "on" }, { issuer: true });
const tokenUrl = `${server.api}/oauth2/token`;

// A client_credentials client authenticating with private_key_jwt, keys at `jwksUri`.
async function serviceClient(jwksUri) {
  return registerClient(server, { client_name: "Key service", grant_types: ["client_credentials"],
    token_endpoint_auth_method: "private_key_jwt", jwks_uri: jwksUri, scope: "profile" });
}

async function assertion(clientId, key) {
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setIssuer(clientId).setSubject(clientId).setAudience(tokenUrl)
    .setIssuedAt().setExpirationTime("2m").setJti(randomUUID())
    .sign(key.privateKey);
}

async function clientAuthForm(clientId, key) {
  return { client_id: clientId, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: await assertion(clientId, key) };
}

async function clientCredentials(clientId, key) {
  return call(tokenUrl, { method: "POST", form: { grant_type: "client_credentials", ...(await clientAuthForm(clientId, key)) } });
}

describe("private_key_jwt with a jwks_uri", () => {
  test("a client registered with a jwks_uri gets tokens (code flow and client_credentials)", async () => {
    const k1 = await keyPair("code-k1");
    sets.code = { keys: [k1.jwk] };
    const rp = await registerClient(server, webClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: `${keysBase}/keys/code` }));
    assert.equal(rp.jwks_uri, `${keysBase}/keys/code`);
    const config = await rpConfig(server, rp, oidc.PrivateKeyJwt({ key: k1.privateKey, kid: k1.kid }));
    const { tokens } = await codeFlow(server, rp, { config });
    assert.equal(tokens.claims().aud, rp.client_id);
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.equal(typeof next.access_token, "string");
    assert.equal(hits["/keys/code"], 1, "fetched once for the code and the refresh");

    const k = await keyPair("svc-k1");
    sets.svc = { keys: [k.jwk] };
    const svc = await serviceClient(`${keysBase}/keys/svc`);
    const r = await clientCredentials(svc.client_id, k);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, "Bearer");
  });

  test("introspection and revocation authenticate the client with its fetched keys", async () => {
    const k = await keyPair("intro-k1");
    sets.intro = { keys: [k.jwk] };
    const svc = await serviceClient(`${keysBase}/keys/intro`);
    const issued = await clientCredentials(svc.client_id, k);
    assert.equal(issued.status, 200, issued.text);
    const info = await call(`${server.api}/oauth2/introspect`, { method: "POST",
      form: { token: issued.body.access_token, ...(await clientAuthForm(svc.client_id, k)) } });
    assert.equal(info.status, 200, info.text);
    assert.equal(info.body.active, true);
    assert.equal(info.body.client_id, svc.client_id);
    const revoked = await call(`${server.api}/oauth2/revoke`, { method: "POST",
      form: { token: issued.body.access_token, ...(await clientAuthForm(svc.client_id, k)) } });
    assert.equal(revoked.status, 200, revoked.text);
    const after = await call(`${server.api}/oauth2/introspect`, { method: "POST",
      form: { token: issued.body.access_token, ...(await clientAuthForm(svc.client_id, k)) } });
    assert.equal(after.body.active, false);
    assert.equal(hits["/keys/intro"], 1);
  });

  test("the set is not fetched on every request, not even for an unknown kid", async () => {
    const k = await keyPair("cache-k1");
    sets.cache = { keys: [k.jwk] };
    const svc = await serviceClient(`${keysBase}/keys/cache`);
    for (let i = 0; i < 5; i++) {
      const r = await clientCredentials(svc.client_id, k);
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(hits["/keys/cache"], 1, "one fetch for five token requests (max-age=300)");
    // an attacker naming kids the set does not hold: at most one fetch per pgauth.oauth_jwks_min_refresh
    const stranger = await keyPair("not-in-the-set");
    const started = Date.now();
    for (let i = 0; i < 8; i++) assertOAuthError(await clientCredentials(svc.client_id, stranger), 401, "invalid_client");
    const windows = Math.floor((Date.now() - started) / (MIN_REFRESH_S * 1000)) + 1;
    assert.ok(hits["/keys/cache"] - 1 <= windows, `${hits["/keys/cache"] - 1} fetches in ${Date.now() - started} ms`);
  });

  test("a rotated key (new kid) is picked up; the retired key and a wrong key are invalid_client", async () => {
    const k1 = await keyPair("rot-k1");
    sets.rot = { keys: [k1.jwk] };
    const svc = await serviceClient(`${keysBase}/keys/rot`);
    assert.equal((await clientCredentials(svc.client_id, k1)).status, 200);
    // a key that is not the client's, under the kid of its registered key: refused, no fetch
    const impostor = await keyPair("rot-k1");
    const wrong = await clientCredentials(svc.client_id, impostor);
    assertOAuthError(wrong, 401, "invalid_client");
    assert.equal(wrong.headers.get("www-authenticate"), null);
    assert.equal(hits["/keys/rot"], 1);
    // the client rotates: its jwks_uri now publishes k2 only
    const k2 = await keyPair("rot-k2");
    sets.rot = { keys: [k2.jwk] };
    await new Promise((r) => setTimeout(r, MIN_REFRESH_S * 1000 + 200));
    const rotated = await clientCredentials(svc.client_id, k2);
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(hits["/keys/rot"], 2, "the unknown kid made one fetch");
    assertOAuthError(await clientCredentials(svc.client_id, k1), 401, "invalid_client");
  });

  test("a jwks_uri that is unreachable, too large, redirecting or not JSON: 401 invalid_client, never 5xx", async () => {
    const k = await keyPair("bad-k1");
    sets.target = { keys: [k.jwk] };
    const cases = [
      ["unreachable", `http://127.0.0.1:${closedPort}/keys/none`],
      ["oversized", `${keysBase}/big`],
      ["redirecting", `${keysBase}/redirect`],
      ["not JSON", `${keysBase}/text`],
      ["404", `${keysBase}/keys/missing`],
    ];
    for (const [name, uri] of cases) {
      const svc = await serviceClient(uri);
      const r = await clientCredentials(svc.client_id, k);
      assertOAuthError(r, 401, "invalid_client");
      assert.match(r.body.error_description, /JWK Set/, `${name}: ${r.text}`);
      // the failure is cached: asking again at once makes no new fetch
      const path = new URL(uri).pathname;
      const before = hits[path] ?? 0;
      assertOAuthError(await clientCredentials(svc.client_id, k), 401, "invalid_client");
      assert.equal(hits[path] ?? 0, before, `${name}: no fetch per request`);
    }
    assert.equal(hits["/keys/target"], undefined, "the redirect was not followed");
  });
});
