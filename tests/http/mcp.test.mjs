// /mcp, the reference MCP resource server: the official MCP TypeScript SDK client runs
// its whole auth() flow (RFC 9728 discovery, RFC 8414 metadata, dynamic registration,
// authorization with PKCE and resource, the consent page, the code exchange) and calls
// the whoami tool; a token for another audience is refused; the 401 and 403 headers.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { freePort, signUp, sql, startServer } from "./harness.mjs";

// (at the top level: startServer registers its own after() to stop the server)
const server = await startServer({}, { issuer: true });

// The consent page as a browser would use it: GET it with the session cookie, post Allow
// with its form token; the answer page carries the client's redirect URL.
async function allowOnConsentPage(consentUrl, sessionCookie) {
  const page = await fetch(consentUrl, { headers: { cookie: sessionCookie } });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const csrfCookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1];
  const r = await fetch(`${server.base}/consent`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: server.base,
               cookie: [sessionCookie, csrfCookie].filter(Boolean).join("; ") },
    body: new URLSearchParams({ csrf_token: field("csrf_token"), consent_code: field("consent_code"), accept: "true" }),
  });
  const answer = await r.text();
  assert.equal(r.status, 200, answer);
  return answer.match(/id="continue" href="([^"]+)"/)[1].replaceAll("&amp;", "&");
}

// An OAuthClientProvider whose "browser" is fetch with the user's session cookie.
function browserProvider(redirectUrl, sessionCookie) {
  const state = { code: null };
  const provider = {
    store: state,  // not `state`: OAuthClientProvider.state() is the SDK's hook for the OAuth state
    get redirectUrl() { return redirectUrl; },
    get clientMetadata() {
      return { client_name: "MCP SDK test client", redirect_uris: [redirectUrl], application_type: "native",
               grant_types: ["authorization_code", "refresh_token"], response_types: ["code"],
               token_endpoint_auth_method: "none" };
    },
    clientInformation: () => state.client,
    saveClientInformation: (c) => { state.client = c; },
    tokens: () => state.tokens,
    saveTokens: (t) => { state.tokens = t; },
    saveCodeVerifier: (v) => { state.verifier = v; },
    codeVerifier: () => state.verifier,
    async redirectToAuthorization(url) {
      state.authorizationUrl = url;
      assert.ok(url.searchParams.get("resource"), "the SDK asks for the resource (RFC 8707)");
      // Node's fetch sends Sec-Fetch-Mode: cors, so the endpoint answers {redirect, url} as to a script
      const r = await fetch(url, { headers: { cookie: sessionCookie }, redirect: "manual" });
      const text = await r.text();
      assert.ok(r.status === 302 || r.status === 200, `${r.status} ${text}`);
      let location = new URL(r.status === 302 ? r.headers.get("location") : JSON.parse(text).url, server.base);
      if (location.pathname === "/consent") location = new URL(await allowOnConsentPage(location.href, sessionCookie));
      assert.ok(location.href.startsWith(redirectUrl), location.href);
      state.code = location.searchParams.get("code");
    },
  };
  return provider;
}

test("the MCP SDK client completes the whole flow and calls whoami", async () => {
  const user = await signUp(server);
  const redirectUrl = `http://127.0.0.1:${await freePort()}/callback`;
  const provider = browserProvider(redirectUrl, user.cookie);
  const url = new URL(`${server.base}/mcp`);
  const first = new Client({ name: "pgauth-test", version: "1.0.0" });
  await assert.rejects(first.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })), UnauthorizedError);
  assert.ok(provider.store.code, "the flow reached the client's redirect URI with a code");
  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await transport.finishAuth(provider.store.code);
  assert.ok(provider.store.tokens?.access_token);

  const client = new Client({ name: "pgauth-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  assert.equal(client.getServerVersion().name, "pgauth");
  await client.ping();
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ["whoami"]);
  const result = await client.callTool({ name: "whoami", arguments: {} });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.subject, user.user.id);
  assert.equal(result.structuredContent.client_id, provider.store.client.client_id);
  assert.ok(result.structuredContent.scopes.includes("profile"), JSON.stringify(result.structuredContent));
  await client.close();
});

// A confidential client that may use client_credentials, and a token from the token endpoint.
async function clientCredentialsToken(resource, scope) {
  const [{ body }] = await sql("SELECT auth.oauth_create_client($1::jsonb)::text AS body", [JSON.stringify({
    client_name: "mcp audience test", grant_types: ["client_credentials"], response_types: [],
    token_endpoint_auth_method: "client_secret_post", scope: "profile email",
  })]);
  const c = JSON.parse(body);
  const r = await fetch(`${server.api}/oauth2/token`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: c.client_id, client_secret: c.client_secret, resource, scope }),
  });
  const t = await r.json();
  assert.equal(r.status, 200, JSON.stringify(t));
  return t.access_token;
}

const rpc = (token, message = { jsonrpc: "2.0", id: 1, method: "ping" }) => fetch(`${server.base}/mcp`, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream",
             ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(message),
});

const metadataUrl = () => `${server.base}/.well-known/oauth-protected-resource/mcp`;

test("no token: 401 with resource_metadata and no error code", async () => {
  const r = await rpc(null);
  assert.equal(r.status, 401);
  const challenge = r.headers.get("www-authenticate");
  assert.match(challenge, /^Bearer /);
  assert.ok(challenge.includes(`resource_metadata="${metadataUrl()}"`), challenge);
  assert.ok(!challenge.includes("error="), challenge);
});

test("a token for another audience is refused at /mcp with invalid_token", async () => {
  const other = await clientCredentialsToken("https://other.example.test/mcp", "profile email");
  const r = await rpc(other);
  assert.equal(r.status, 401, await r.text());
  const challenge = r.headers.get("www-authenticate");
  assert.ok(challenge.includes('error="invalid_token"'), challenge);
  assert.ok(challenge.includes(`resource_metadata="${metadataUrl()}"`), challenge);
  // the same client's token for this resource passes
  const mine = await clientCredentialsToken(`${server.base}/mcp`, "profile email");
  const ok = await rpc(mine);
  const answer = await ok.text();
  assert.equal(ok.status, 200, answer);
  assert.deepEqual(JSON.parse(answer), { jsonrpc: "2.0", id: 1, result: {} });
});

test("a token without the required scope gets 403 insufficient_scope naming it", async () => {
  const token = await clientCredentialsToken(`${server.base}/mcp`, "email");
  const r = await rpc(token);
  assert.equal(r.status, 403, await r.text());
  const challenge = r.headers.get("www-authenticate");
  assert.ok(challenge.includes('error="insufficient_scope"'), challenge);
  assert.ok(challenge.includes('scope="profile"'), challenge);
});

test("RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp and at the root", async () => {
  for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
    const r = await fetch(`${server.base}${path}`);
    assert.equal(r.status, 200);
    const doc = await r.json();
    assert.equal(doc.resource, `${server.base}/mcp`);
    assert.deepEqual(doc.authorization_servers, [`${server.base}/api/auth`]);
    assert.ok(doc.scopes_supported.includes("profile"));
    assert.deepEqual(doc.bearer_methods_supported, ["header"]);
  }
});

test("JSON-RPC: notifications get 202, unknown methods -32601, bad JSON -32700, GET 405", async () => {
  const token = await clientCredentialsToken(`${server.base}/mcp`, "profile");
  const note = await rpc(token, { jsonrpc: "2.0", method: "notifications/initialized" });
  assert.equal(note.status, 202);
  const unknown = await (await rpc(token, { jsonrpc: "2.0", id: "a", method: "resources/list" })).json();
  assert.equal(unknown.error.code, -32601);
  const bad = await fetch(`${server.base}/mcp`, { method: "POST", body: "{nope",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` } });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, -32700);
  const get = await fetch(`${server.base}/mcp`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } });
  assert.equal(get.status, 405);
});
