// OAuth clients (issue 13): dynamic registration (RFC 7591) with openid-client and the MCP
// TypeScript SDK, the RFC 7592 client configuration endpoint, RFC-shaped errors for bad
// metadata, hostile strings, wrong content types and oversized bodies, DCR switched off,
// and Client ID Metadata Documents fetched from a local test server.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import * as oidc from "openid-client";
import { registerClient } from "@modelcontextprotocol/sdk/client/auth.js";
import { freePort, freshSql, sql, startServer } from "./harness.mjs";

// The database settings these tests change, put back for the other test files.
async function setDatabase(name, value) {
  const [{ db }] = await sql("SELECT current_database() AS db");
  if (value === null) await sql(`ALTER DATABASE "${db}" RESET ${name}`);
  else await sql(`ALTER DATABASE "${db}" SET ${name} = '${value}'`);
}

async function call(url, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, body: json };
}

// The RFC error contract: status, {"error","error_description"}, Cache-Control: no-store.
function assertOAuthError(r, status, error) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error, error, r.text);
  assert.equal(typeof r.body?.error_description, "string", r.text);
  assert.equal(r.body.code, undefined, r.text);
  assert.match(r.headers.get("cache-control") ?? "", /no-store/);
}

const native = {
  client_name: "MCP Test Client",
  redirect_uris: ["http://127.0.0.1:33418/callback"],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

// Started at the top level: a server started in a before() hook would be stopped when the hook ends.
const server = await startServer({}, { issuer: true });
const register = `${server.api}/oauth2/register`;

describe("dynamic client registration", () => {

  // Discovery is not built yet: openid-client is given the metadata a later slice serves.
  function discoveryFetch() {
    return async (url, options) => {
      if (new URL(url).pathname.includes("/.well-known/")) {
        return new Response(JSON.stringify({
          issuer: server.api,
          registration_endpoint: register,
          authorization_endpoint: `${server.api}/oauth2/authorize`,
          token_endpoint: `${server.api}/oauth2/token`,
        }), { status: 200, headers: { "content-type": "application/json" } });
      }
      return fetch(url, options);
    };
  }

  test("openid-client registers a public and a confidential client", async () => {
    const options = { [oidc.customFetch]: discoveryFetch(), execute: [oidc.allowInsecureRequests] };
    const pub = await oidc.dynamicClientRegistration(new URL(server.api), native, oidc.None(), options);
    const m = pub.clientMetadata();
    assert.match(m.client_id, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(m.client_secret, undefined);
    assert.equal(m.token_endpoint_auth_method, "none");
    assert.equal(m.application_type, "native");
    assert.deepEqual(m.redirect_uris, native.redirect_uris);
    assert.equal(m.registration_client_uri, `${register}/${m.client_id}`);

    const conf = await oidc.dynamicClientRegistration(new URL(server.api), {
      client_name: "Web RP", redirect_uris: ["https://rp.example/cb"], token_endpoint_auth_method: "client_secret_basic",
    }, undefined, options);
    const c = conf.clientMetadata();
    assert.equal(typeof c.client_secret, "string");
    assert.ok(c.client_secret.length >= 43);
    assert.equal(c.client_secret_expires_at, 0);
    // stored as digests only
    const [row] = await sql("SELECT secret_digest = auth.hash_token($2) AS digest, position($2 IN t::text) = 0 AS not_plain"
      + " FROM auth.oauth_clients t WHERE client_id = $1", [c.client_id, c.client_secret]);
    assert.deepEqual(row, { digest: true, not_plain: true });
  });

  test("the MCP SDK's registerClient registers, and registering again leaves the first client working", async () => {
    const first = await registerClient(server.base, { metadata: { issuer: server.api, registration_endpoint: register }, clientMetadata: native });
    const second = await registerClient(server.base, { metadata: { issuer: server.api, registration_endpoint: register }, clientMetadata: native });
    assert.notEqual(first.client_id, second.client_id);
    // (the SDK's schema keeps only RFC 7591's client information: look the clients up in SQL)
    for (const c of [first, second]) {
      const [{ client }] = await sql("SELECT auth.oauth_client_get($1) AS client", [c.client_id]);
      assert.equal(client.client_name, native.client_name);
      assert.deepEqual(client.redirect_uris, native.redirect_uris);
      assert.equal(client.disabled, false);
    }
    // a confidential client through the SDK
    const conf = await registerClient(server.base, {
      metadata: { issuer: server.api, registration_endpoint: register },
      clientMetadata: { ...native, redirect_uris: ["https://app.example/cb"], token_endpoint_auth_method: "client_secret_post" },
    });
    assert.equal(typeof conf.client_secret, "string");
  });

  test("RFC 7592: read, update and delete with the registration access token", async () => {
    const reg = await call(register, { method: "POST", body: native });
    assert.equal(reg.status, 201, reg.text);
    assert.match(reg.headers.get("cache-control"), /no-store/);
    const { client_id, registration_access_token: rat, registration_client_uri: uri } = reg.body;
    const auth = { authorization: `Bearer ${rat}` };

    const read = await call(uri, { headers: auth });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.client_id, client_id);
    assert.equal(read.body.registration_access_token, undefined);

    const none = await call(uri);
    assertOAuthError(none, 401, "invalid_token");
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    const wrong = await call(uri, { headers: { authorization: "Bearer wrong" } });
    assertOAuthError(wrong, 401, "invalid_token");
    assert.match(wrong.headers.get("www-authenticate"), /^Bearer error="invalid_token"(, error_description="[^"]*")?$/);
    assertOAuthError(await call(`${register}/not-a-client`, { headers: auth }), 401, "invalid_token");
    assertOAuthError(await call(`${register}/${client_id}`, { headers: { authorization: `Basic ${rat}` } }), 401, "invalid_token");

    const upd = await call(uri, { method: "PUT", headers: auth, body: { ...native, client_id, client_name: "Renamed" } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.client_name, "Renamed");
    assertOAuthError(await call(uri, { method: "PUT", headers: auth, body: { ...native, client_id: "other" } }), 400, "invalid_client_metadata");
    assertOAuthError(await call(uri, { method: "PUT", headers: auth, body: { ...native, client_id, redirect_uris: ["http://evil.example/cb"] } }),
      400, "invalid_redirect_uri");
    assertOAuthError(await call(uri, { method: "PUT", headers: { ...auth, "content-type": "text/plain" }, body: "x" }), 415, "invalid_request");
    assert.equal((await call(uri, { headers: auth })).body.client_name, "Renamed");

    const del = await call(uri, { method: "DELETE", headers: auth });
    assert.equal(del.status, 204, del.text);
    assertOAuthError(await call(uri, { headers: auth }), 401, "invalid_token");
    assert.deepEqual(await sql("SELECT 1 FROM auth.oauth_clients WHERE client_id = $1", [client_id]), []);
  });

  test("bad metadata, hostile strings, wrong content types and oversized bodies get RFC errors", async () => {
    const before = (await sql("SELECT count(*)::int AS n FROM auth.oauth_clients"))[0].n;
    const cases = [
      [{}, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["/relative"] }, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["https://a.example/cb#f"] }, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["http://a.example/cb"], application_type: "web" }, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["javascript:alert(1)"] }, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["https://a.example/<script>"] }, 400, "invalid_redirect_uri"],
      [{ redirect_uris: ["https://a.example/cb"], grant_types: ["implicit"] }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], response_types: ["token"] }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], token_endpoint_auth_method: "private_key_jwt" }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: "Good\u202eppA" }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: "bell\u0007" }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: "x".repeat(201) }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: { a: 1 } }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: "n".repeat(40000) }, 400, "invalid_client_metadata"],
      [{ redirect_uris: ["https://a.example/cb"], client_name: "nul\u0000" }, 400, "invalid_request"],
      ["[]", 400, "invalid_request"],
      ["{not json", 400, "invalid_request"],
    ];
    for (const [body, status, error] of cases) {
      const r = await call(register, { method: "POST", body });
      assertOAuthError(r, status, error);
    }
    assertOAuthError(await call(register, { method: "POST", body: "x=1", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415, "invalid_request");
    // larger than the server's body limit: refused before any handler, in the same shape
    const big = await call(register, { method: "POST", body: JSON.stringify({ redirect_uris: ["https://a.example/cb"], pad: "x".repeat(1100000) }) });
    assertOAuthError(big, 413, "invalid_request");
    // nothing was written
    assert.equal((await sql("SELECT count(*)::int AS n FROM auth.oauth_clients"))[0].n, before);
  });
});

describe("registration rate limit", () => {
  test("more than 3 registrations in 10 s from one address get 429 temporarily_unavailable", async () => {
    const limited = await startServer({ PGAUTH_RATE_LIMIT: "on" });
    const statuses = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await call(`${limited.api}/oauth2/register`, { method: "POST", body: native });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    assertOAuthError(last, 429, "temporarily_unavailable");
    assert.match(last.headers.get("retry-after") ?? "", /^\d+$/);
    await limited.stop();
  });
});

describe("dynamic registration switched off", () => {
  after(() => setDatabase("pgauth.oauth_dynamic_registration", null));

  test("registration is refused with 403 access_denied", async () => {
    await setDatabase("pgauth.oauth_dynamic_registration", "off");
    const off = await startServer();
    const r = await call(`${off.api}/oauth2/register`, { method: "POST", body: native });
    assertOAuthError(r, 403, "access_denied");
    await off.stop();
  });
});

describe("Client ID Metadata Documents", () => {
  let docs, docsBase, hits = {};
  const routes = {};
  before(async () => {
    const port = await freePort();
    docsBase = `http://127.0.0.1:${port}`;
    const doc = (path, extra = {}) => ({ client_id: `${docsBase}${path}`, client_name: "CIMD Client",
      redirect_uris: ["http://127.0.0.1:4000/cb"], grant_types: ["authorization_code"], token_endpoint_auth_method: "none", ...extra });
    routes["/good.json"] = { status: 200, headers: { "cache-control": "public, max-age=120" }, body: JSON.stringify(doc("/good.json")) };
    routes["/mismatch.json"] = { status: 200, body: JSON.stringify(doc("/other.json")) };
    routes["/secret.json"] = { status: 200, body: JSON.stringify(doc("/secret.json", { client_secret: "s" })) };
    routes["/redirect.json"] = { status: 302, headers: { location: `${docsBase}/good.json` }, body: "" };
    routes["/big.json"] = { status: 200, body: JSON.stringify(doc("/big.json", { software_id: "x".repeat(100000) })) };
    routes["/notjson.json"] = { status: 200, body: "<html>" };
    docs = http.createServer((req, res) => {
      hits[req.url] = (hits[req.url] ?? 0) + 1;
      if (req.url.startsWith("/slow.json")) {  // a slow document host
        setTimeout(() => { res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ client_id: `${docsBase}${req.url}`, redirect_uris: ["http://127.0.0.1:4000/cb"] })); }, 2500);
        return;
      }
      if (req.url === "/big-chunked.json") {  // no Content-Length: the cap must hold while streaming
        res.writeHead(200, { "content-type": "application/json" });
        res.write(`{"client_id": "${docsBase}/big-chunked.json", "redirect_uris": ["http://127.0.0.1:4000/cb"], "software_id": "`);
        for (let i = 0; i < 100; i++) res.write("x".repeat(1000));
        res.end(`"}`);
        return;
      }
      const r = routes[req.url];
      if (!r) { res.writeHead(404); res.end(); return; }
      res.writeHead(r.status, { "content-type": "application/json", ...(r.headers ?? {}) });
      res.end(r.body);
    });
    await new Promise((resolve) => docs.listen(port, "127.0.0.1", resolve));
    await setDatabase("pgauth.oauth_cimd_allow_http_loopback", "on");
  });
  after(async () => {
    docs.close();
    await setDatabase("pgauth.oauth_cimd_allow_http_loopback", null);
  });

  const lookup = (server, id) => call(`${server.api}/oauth2/public-client?client_id=${encodeURIComponent(id)}`);

  test("a valid document is fetched once, validated and cached for its max-age", async () => {
    const server = await startServer({ PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK: "on" });
    const id = `${docsBase}/good.json`;
    const r = await lookup(server, id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.client_id, id);
    assert.equal(r.body.source, "cimd");
    assert.equal(r.body.cimd_stale, false);
    assert.equal(r.body.token_endpoint_auth_method, "none");
    const ttl = r.body.cimd_expires_at - Math.floor(Date.now() / 1000);
    assert.ok(ttl > 100 && ttl <= 121, `ttl ${ttl}`);
    const again = await lookup(server, id);
    assert.equal(again.status, 200);
    assert.equal(hits["/good.json"], 1);
    const [row] = await freshSql("SELECT auth.oauth_check_redirect($1, 'http://127.0.0.1:4000/cb') AS ok", [id]);
    assert.equal(row.ok, true);
  });

  test("a mismatched client_id, a secret, a redirect, an oversized or non-JSON document are refused", async () => {
    const server = await startServer({ PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK: "on" });
    for (const path of ["/mismatch.json", "/secret.json", "/redirect.json", "/big.json", "/big-chunked.json", "/notjson.json", "/missing.json"]) {
      const r = await lookup(server, `${docsBase}${path}`);
      assertOAuthError(r, 400, "invalid_client_metadata");
      if (path.startsWith("/big")) assert.match(r.body.error_description, /larger than 16384 bytes/);
      if (path === "/redirect.json") assert.match(r.body.error_description, /redirects are not followed/);
    }
    assert.equal(hits["/good.json"], 1, "the redirect was not followed");
    const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.oauth_clients WHERE client_id LIKE $1", [`${docsBase}/%`]);
    assert.equal(n, 1);
  });

  test("slow document hosts hold at most a quarter of the database threads", async () => {
    const server = await startServer({ PGAUTH_CIMD_ALLOW_HTTP_LOOPBACK: "on", PGAUTH_THREADS: "4", PGAUTH_POOL_SIZE: "4" });
    const slow = [0, 1, 2, 3].map((i) => lookup(server, `${docsBase}/slow.json?n=${i}`));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const reg = await call(`${server.api}/oauth2/register`, { method: "POST", body: native });
    assert.equal(reg.status, 201, reg.text);
    assert.ok(Date.now() - started < 1500, `registration took ${Date.now() - started} ms`);
    const answers = await Promise.all(slow);
    assert.equal(answers.filter((r) => r.status === 200).length, 1, answers.map((r) => r.text).join("\n"));
    for (const r of answers.filter((r) => r.status !== 200)) assertOAuthError(r, 503, "temporarily_unavailable");
  });

  test("without the development flag: no plain http, and no private or loopback address", async () => {
    const server = await startServer();
    const before = { ...hits };
    assertOAuthError(await lookup(server, `${docsBase}/good2.json`), 400, "invalid_client_metadata");
    const r = await lookup(server, `https://127.0.0.1:${new URL(docsBase).port}/good.json`);
    assertOAuthError(r, 400, "invalid_client_metadata");
    assert.match(r.body.error_description, /private, loopback or reserved address/);
    const p = await lookup(server, "https://10.0.0.1/client.json");
    assertOAuthError(p, 400, "invalid_client_metadata");
    assert.match(p.body.error_description, /private, loopback or reserved address/);
    assert.deepEqual(hits, before);
    // an unknown non-URL client; hostile or oversized client_id values
    assertOAuthError(await lookup(server, "no-such-client"), 404, "invalid_client");
    assertOAuthError(await call(`${server.api}/oauth2/public-client?client_id=a%00b`), 400, "invalid_request");
    assertOAuthError(await call(`${server.api}/oauth2/public-client?client_id=%zz`), 400, "invalid_request");
    assertOAuthError(await call(`${server.api}/oauth2/public-client?client_id=${"x".repeat(2100)}`), 400, "invalid_request");
    assertOAuthError(await call(`${server.api}/oauth2/public-client`), 400, "invalid_request");
  });
});
