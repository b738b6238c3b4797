// Starts the real pgauth-http against the test cluster and gives tests a
// better-auth client with a cookie jar. Servers listen on 127.0.0.1 only and
// are killed by PID when the test ends.
import { spawn } from "node:child_process";
import net from "node:net";
import { after } from "node:test";
import { createAuthClient } from "better-auth/client";
import pg from "pg";

export const DATABASE_URL = process.env.PGAUTH_TEST_DATABASE_URL;
export const ADMIN_DATABASE_URL = process.env.PGAUTH_TEST_ADMIN_DATABASE_URL;
const BIN = process.env.PGAUTH_HTTP_BIN;
if (!DATABASE_URL || !ADMIN_DATABASE_URL || !BIN) throw new Error("run through tests/http/run.sh");
export const SECRET = "test-secret-0123456789abcdef-0123456789";

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts pgauth-http; resolves once /api/auth/ok answers. With { issuer: true } the
// database's pgauth.base_url is set to this server's base URL first, so session
// JWTs name it as iss/aud (the operations step a deployment does once). `port`: a port
// chosen beforehand (e.g. one already registered as an OAuth redirect URI).
export async function startServer(env = {}, { issuer = false, port: chosen } = {}) {
  const port = chosen ?? (await freePort());
  if (issuer) await setDatabaseBaseUrl(`http://127.0.0.1:${port}`);
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, [], {
    env: {
      PATH: process.env.PATH,
      PGAUTH_DATABASE_URL: DATABASE_URL,
      PGAUTH_SECRET: SECRET,
      PGAUTH_LISTEN: `127.0.0.1:${port}`,
      PGAUTH_RATE_LIMIT: "off",
      PGAUTH_THREADS: "4",
      // make test SANITIZE=1: the sanitizer settings reach the server too
      ...Object.fromEntries(
        ["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"].filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
      ),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (logs.stdout += d));
  child.stderr.on("data", (d) => (logs.stderr += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  after(stop);
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pgauth-http exited: ${logs.stderr}`);
    try {
      const r = await fetch(`${base}/api/auth/ok`);
      if (r.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, api: `${base}/api/auth`, child, logs, stop, exited };
}

// The official better-auth client, with a cookie jar and the Origin a browser would send.
// `plugins`: client plugins (e.g. apiKeyClient()).
export function authClient(server, plugins = []) {
  const jar = new Map();
  const customFetchImpl = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    headers.set("origin", server.base);
    const res = await fetch(input, { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq), value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const client = createAuthClient({ baseURL: server.base, fetchOptions: { customFetchImpl }, plugins });
  return { client, jar };
}

let adminPool;
export async function sql(text, params = []) {
  adminPool ??= new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 2 });
  const r = await adminPool.query(text, params);
  return r.rows;
}
after(async () => adminPool?.end());

// ALTER DATABASE ... SET pgauth.base_url: seen by connections opened afterwards.
export async function setDatabaseBaseUrl(url) {
  const [{ db }] = await sql("SELECT current_database() AS db");
  await sql(`ALTER DATABASE "${db}" SET pgauth.base_url = '${url.replace(/'/g, "''")}'`);
}

// One statement on a fresh superuser connection (so it sees the current database
// settings, e.g. pgauth.base_url after setDatabaseBaseUrl).
export async function freshSql(text, params = []) {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

let counter = 0;
export function uniqueEmail(tag = "user") {
  return `${tag}.${process.pid}.${Date.now()}.${counter++}@example.com`;
}

// Raw JSON POST helper: returns { status, headers, body } with body parsed when JSON.
// Like a browser (Node's fetch sends Sec-Fetch-Mode), it sends the page's Origin
// unless the test overrides it; origin: "" leaves the header out.
export async function post(url, body, headers = {}) {
  const all = { "content-type": "application/json", origin: new URL(url).origin, ...headers };
  if (all.origin === "") delete all.origin;
  const init = { method: "POST", headers: all };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(url, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, body: json };
}

export function sessionCookie(res) {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="));
  return line?.split(";")[0];
}

export async function signUp(server, email = uniqueEmail(), password = "correct-horse-battery", name = "Test User") {
  const r = await post(`${server.api}/sign-up/email`, { email, password, name });
  if (r.status !== 200) throw new Error(`sign-up failed: ${r.status} ${r.text}`);
  return { email, password, token: r.body.token, cookie: sessionCookie(r), user: r.body.user };
}

// Asserts the pgauth error contract: a 4xx with {code, message}.
export function assertApiError(assert, r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.body?.message, "string", r.text);
  assert.ok(r.body.message.length > 0);
  if (code) assert.equal(r.body.code, code, r.text);
  else assert.equal(typeof r.body.code, "string");
}
