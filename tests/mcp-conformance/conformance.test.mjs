// Runs the official MCP conformance suite's scenarios against the real pgauth-http
// (run through run.sh, with the Node 22 the `node` package ships):
//  - server: server-initialize, ping, tools-list at /mcp. The suite's client sends no
//    credentials of its own, so it talks to /mcp through a small local proxy that adds
//    `Authorization: Bearer <token>`: a real access token for <base>/mcp from the token
//    endpoint (client_credentials, scope profile).
//  - authorization: authorization-server-metadata-endpoint, and authorization-code-grant,
//    whose authorization URL (printed by the suite) a signed-up user follows here: the
//    authorize endpoint, the consent page (Allow), then the suite's own callback.
// Every check the suite reports must be SUCCESS (or SKIPPED/INFO); a FAILURE or WARNING fails.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.PGAUTH_HTTP_BIN;
const PORT = Number(process.env.PGAUTH_CONFORMANCE_PORT);
const DATABASE_URL = process.env.PGAUTH_TEST_DATABASE_URL;
const ADMIN_DATABASE_URL = process.env.PGAUTH_TEST_ADMIN_DATABASE_URL;
const NODE = process.env.PGAUTH_NODE22;
if (!BIN || !PORT || !DATABASE_URL || !ADMIN_DATABASE_URL || !NODE) throw new Error("run through tests/mcp-conformance/run.sh");
const SUITE = join(here, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
const BASE = `http://127.0.0.1:${PORT}`;
const ISSUER = `${BASE}/api/auth`;

const admin = new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 1 });
after(() => admin.end());
const out = mkdtempSync(join(tmpdir(), "pgauth-mcp-conformance-"));
after(() => rmSync(out, { recursive: true, force: true }));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// pgauth-http as `make run` starts it (scripts/run.sh): the service role, the base URL.
async function startServer() {
  const child = spawn(BIN, [], {
    env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_SECRET: "conformance-secret-0123456789abcdef-0123",
           PGAUTH_LISTEN: `127.0.0.1:${PORT}`, PGAUTH_RATE_LIMIT: "off", PGAUTH_THREADS: "4" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (logs.stdout += d));
  child.stderr.on("data", (d) => (logs.stderr += d));
  after(() => { if (child.exitCode === null) child.kill("SIGTERM"); });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pgauth-http exited: ${logs.stderr}`);
    try { if ((await fetch(`${BASE}/api/auth/ok`)).ok) return logs; } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("pgauth-http did not start");
}

async function createClient(metadata) {
  const { rows } = await admin.query("SELECT auth.oauth_create_client($1::jsonb)::text AS body", [JSON.stringify(metadata)]);
  return JSON.parse(rows[0].body);
}

// At the top level: startServer registers the after() that stops the server.
await startServer();
let session;
let mcpToken;
before(async () => {
  const email = `conformance.${process.pid}.${Date.now()}@example.com`;
  const up = await fetch(`${ISSUER}/sign-up/email`, {
    method: "POST", headers: { "content-type": "application/json", origin: BASE },
    body: JSON.stringify({ email, password: "correct-horse-battery", name: "Conformance" }),
  });
  assert.equal(up.status, 200, await up.text());
  session = up.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token=")).split(";")[0];
  const machine = await createClient({ client_name: "conformance server scenarios", grant_types: ["client_credentials"],
    response_types: [], token_endpoint_auth_method: "client_secret_post", scope: "profile" });
  const t = await fetch(`${ISSUER}/oauth2/token`, {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: machine.client_id,
      client_secret: machine.client_secret, resource: `${BASE}/mcp`, scope: "profile" }),
  });
  const body = await t.json();
  assert.equal(t.status, 200, JSON.stringify(body));
  mcpToken = body.access_token;
});

// A proxy to pgauth-http that adds the Bearer token (the suite's client has no option for one).
async function tokenProxy(token) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const upstream = http.request({ host: "127.0.0.1", port: PORT, path: req.url, method: req.method,
      headers: { ...req.headers, host: `127.0.0.1:${PORT}`, authorization: `Bearer ${token}` } }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on("error", (e) => { res.writeHead(502).end(String(e)); });
    req.pipe(upstream);
  }).listen(port, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  after(() => server.close());
  return `http://127.0.0.1:${port}/mcp`;
}

// Runs the suite; `onLine` sees its stdout lines as they come. Resolves with the exit
// code, the output and every check it wrote.
function suite(args, onLine = () => {}) {
  const dir = mkdtempSync(join(out, "run-"));
  return new Promise((resolve) => {
    const child = spawn(NODE, [SUITE, ...args, "-o", dir], { stdio: ["ignore", "pipe", "pipe"], cwd: out });
    let stdout = "", stderr = "", pending = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) onLine(line);
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), 90_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, checks: readChecks(dir) });
    });
  });
}

function readChecks(dir) {
  const checks = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === "checks.json") checks.push(...JSON.parse(readFileSync(p, "utf8")));
    }
  };
  walk(dir);
  return checks;
}

function assertAllPassed(run, label) {
  const report = `${label}\n${run.stdout}\n${run.stderr}`;
  assert.ok(run.checks.length > 0, `no checks written: ${report}`);
  const bad = run.checks.filter((c) => !["SUCCESS", "SKIPPED", "INFO"].includes(c.status));
  assert.deepEqual(bad.map((c) => `${c.id}: ${c.status} ${c.errorMessage ?? ""}`), [], report);
  assert.ok(run.checks.some((c) => c.status === "SUCCESS"), report);
  assert.equal(run.code, 0, report);
}

for (const scenario of ["server-initialize", "ping", "tools-list"]) {
  test(`server scenario ${scenario} against /mcp with a valid token`, async () => {
    const url = await tokenProxy(mcpToken);
    assertAllPassed(await suite(["server", "--url", url, "--scenario", scenario]), scenario);
  });
}

test("server scenarios fail without a token (the suite sees the 401)", async () => {
  const run = await suite(["server", "--url", `${BASE}/mcp`, "--scenario", "server-initialize"]);
  assert.ok(run.checks.some((c) => c.status === "FAILURE"), `${run.stdout}\n${run.stderr}`);
});

test("authorization scenario authorization-server-metadata-endpoint", async () => {
  assertAllPassed(await suite(["authorization", "--url", ISSUER, "--scenario", "authorization-server-metadata-endpoint"]),
                  "metadata");
});

// The consent page, as a browser uses it: GET with the session, post Allow with its form token.
async function allow(consentUrl) {
  const page = await fetch(consentUrl, { headers: { cookie: session } });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const csrf = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1];
  const r = await fetch(`${BASE}/consent`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE, cookie: [session, csrf].filter(Boolean).join("; ") },
    body: new URLSearchParams({ csrf_token: field("csrf_token"), consent_code: field("consent_code"), accept: "true" }),
  });
  const answer = await r.text();
  assert.equal(r.status, 200, answer);
  return answer.match(/id="continue" href="([^"]+)"/)[1].replaceAll("&amp;", "&");
}

test("authorization scenario authorization-code-grant (a user signs in and allows)", async () => {
  const callbackPort = await freePort();
  const client = await createClient({ client_name: "MCP conformance", application_type: "native",
    redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`], token_endpoint_auth_method: "none",
    grant_types: ["authorization_code"], response_types: ["code"], scope: "openid profile email" });
  let browsed = null;
  // without --scenario the suite runs its authorization scenarios in order: the code grant
  // needs the metadata scenario's result of the same run
  const run = await suite(["authorization", "--url", ISSUER,
    "--client-id", client.client_id, "--port", String(callbackPort), "--resource", `${BASE}/mcp`], (line) => {
    if (!line.startsWith(`${ISSUER}/oauth2/authorize?`)) return;
    browsed = (async () => {
      // Node's fetch sends Sec-Fetch-Mode: cors: the endpoint may answer {redirect, url} instead of a 302
      const r = await fetch(line.trim(), { headers: { cookie: session }, redirect: "manual" });
      const text = await r.text();
      let next = new URL(r.status === 302 ? r.headers.get("location") : JSON.parse(text).url, BASE).href;
      if (new URL(next).pathname === "/consent") next = await allow(next);
      await fetch(next);  // the suite's callback server
    })();
  });
  assert.ok(browsed, `the suite printed no authorization URL:\n${run.stdout}\n${run.stderr}`);
  await browsed;
  assertAllPassed(run, "authorization-code-grant");
  const ids = run.checks.map((c) => c.id);
  for (const id of ["authorization-server-metadata", "authorization-code-grant"])
    assert.ok(ids.some((i) => i.startsWith(id)), `${id} ran: ${ids}`);
});
