// In Chromium: a page served from another local port (a trusted origin) calls
// pgauth-http with the better-auth client: the preflight, the credentialed
// cross-origin sign-up/sign-in and getSession succeed; from an untrusted origin
// they fail. The README's snippet runs verbatim in the page.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import pg from "pg";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
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

async function startAuth(env) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
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

// The better-auth client as one ESM file for the page; `import ... from "better-auth/client"`
// resolves to it through an import map.
const bundle = (await esbuild.build({
  stdin: { contents: 'export { createAuthClient } from "better-auth/client";', resolveDir: here, loader: "js" },
  bundle: true, format: "esm", platform: "browser", write: false, logLevel: "silent",
})).outputFiles[0].text;

// A static page server on `port`: "/" runs `script` as a module.
async function pageServer(port, script) {
  // import lines stay at the top of the module; the rest runs inside try so a failure is reported
  const lines = script.split("\n");
  const imports = lines.filter((l) => l.startsWith("import ")).join("\n");
  const body = lines.filter((l) => !l.startsWith("import ")).join("\n");
  const html = `<!doctype html><meta charset="utf-8"><script type="importmap">{"imports":{"better-auth/client":"/better-auth-client.js"}}</script>
<script type="module">
${imports}
try {
${body}
} catch (e) { console.log("THREW " + e); }
console.log("DONE");
</script>`;
  const server = http.createServer((req, res) => {
    if (req.url === "/better-auth-client.js") { res.writeHead(200, { "content-type": "text/javascript" }); res.end(bundle); }
    else { res.writeHead(200, { "content-type": "text/html" }); res.end(html); }
  }).listen(port, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  after(() => server.close());
  return `http://127.0.0.1:${port}`;
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

// Opens `origin` in a fresh page and returns what the page logged until "DONE".
async function run(origin) {
  const page = await context.newPage();
  const lines = [];
  const done = new Promise((resolve) => page.on("console", (m) => { if (m.type() !== "log") return; lines.push(m.text()); if (m.text() === "DONE") resolve(); }));
  page.on("pageerror", (e) => lines.push(`PAGEERROR ${e}`));
  await page.goto(origin);
  await Promise.race([done, new Promise((r) => setTimeout(r, 15000))]);
  await page.close();
  return lines;
}

function readmeSnippet() {
  const readme = readFileSync(join(here, "../../README.md"), "utf8");
  const snippet = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes("createAuthClient"));
  assert.ok(snippet, "README.md has a ```js block with createAuthClient");
  return snippet;
}

// A page origin (its port is chosen first so pgauth-http can trust it) and pgauth-http.
async function setup({ trusted }) {
  const port = await freePort();
  const page = `http://127.0.0.1:${port}`;
  const auth = await startAuth({ PGAUTH_TRUSTED_ORIGINS: trusted ? page : "http://localhost:3000" });
  return { page, port, auth };
}

function logLines(auth) {
  return auth.logs.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

test("the README snippet, verbatim, in a page on another trusted origin", async () => {
  const snippet = readmeSnippet();
  const email = snippet.match(/email: "([^"]+)"/)[1];
  await admin.query("DELETE FROM auth.users WHERE email = $1", [email]);
  const { page, port, auth } = await setup({ trusted: true });
  await pageServer(port, snippet.replace("http://127.0.0.1:8080", auth.base));
  const lines = await run(page);
  assert.deepEqual(lines, [email, "DONE"], auth.logs.stdout);
  // the browser sent preflights (JSON body, Authorization) and pgauth-http answered them
  const log = logLines(auth);
  assert.ok(log.some((l) => l.method === "OPTIONS" && l.route === "preflight" && l.status === 204), auth.logs.stdout);
  assert.ok(log.some((l) => l.route === "sign-up-email" && l.status === 200), auth.logs.stdout);
});

const cookieFlow = (base, email) => `
import { createAuthClient } from "better-auth/client";
const auth = createAuthClient({ baseURL: "${base}" });
const up = await auth.signUp.email({ email: "${email}", password: "correct-horse-battery", name: "Cookie" });
console.log("sign-up " + (up.error ? up.error.status + " " + up.error.code : "ok"));
await auth.signOut();
const inn = await auth.signIn.email({ email: "${email}", password: "correct-horse-battery" });
console.log("sign-in " + (inn.error ? inn.error.status + " " + inn.error.code : "ok"));
const { data } = await auth.getSession();
console.log("session " + (data?.user?.email ?? "none"));
`;

test("credentialed cross-origin sign-up, sign-in and getSession with the session cookie", async () => {
  const email = `cookie.${process.pid}.${Date.now()}@example.com`;
  const { page, port, auth } = await setup({ trusted: true });
  await pageServer(port, cookieFlow(auth.base, email));
  const lines = await run(page);
  assert.deepEqual(lines, ["sign-up ok", "sign-in ok", `session ${email}`, "DONE"], auth.logs.stdout);
  const log = logLines(auth);
  assert.ok(log.some((l) => l.method === "OPTIONS" && l.status === 204 && l.path === "/api/auth/sign-in/email"), auth.logs.stdout);
});

test("from an untrusted origin the preflight is refused and nothing happens", async () => {
  const email = `untrusted.${process.pid}.${Date.now()}@example.com`;
  const { page, port, auth } = await setup({ trusted: false });
  await pageServer(port, cookieFlow(auth.base, email));
  const lines = await run(page);
  // The client reports an error or throws "Failed to fetch"; it never succeeds.
  assert.equal(lines.at(-1), "DONE", lines.join("\n"));
  assert.match(lines[0], /^(sign-up (?!ok)|THREW TypeError: Failed to fetch)/, lines.join("\n"));
  for (const ok of ["sign-up ok", "sign-in ok", `session ${email}`]) assert.ok(!lines.includes(ok), lines.join("\n"));
  const { rows } = await admin.query("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]);
  assert.equal(rows[0].n, 0);
  const log = logLines(auth);
  assert.ok(log.some((l) => l.method === "OPTIONS" && l.status === 403), auth.logs.stdout);
  assert.ok(!log.some((l) => l.method === "POST" && /sign-(in|up)/.test(l.path)), auth.logs.stdout);
});
