// Start-up that says what is wrong and what to do; every log line is JSON with ts and level.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { test } from "node:test";
import { ADMIN_DATABASE_URL, DATABASE_URL, SECRET, freePort, sql, startServer } from "./harness.mjs";

const BIN = process.env.PGAUTH_HTTP_BIN;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// Runs pgauth-http to its exit (or kills it after `ms`); returns { code, stdout, stderr }.
async function runOnce(env = {}, args = [], ms = 8000) {
  const port = await freePort();
  const child = spawn(BIN, args, {
    env: { PATH: process.env.PATH, PGAUTH_DATABASE_URL: DATABASE_URL, PGAUTH_SECRET: SECRET,
           PGAUTH_LISTEN: `127.0.0.1:${port}`, PGAUTH_THREADS: "2", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGTERM"), ms);
  const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function jsonLines(text) {
  return text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function urlFor(db, user = "pgauth_http_test") {
  const u = new URL(DATABASE_URL);
  u.username = user;
  u.pathname = `/${db}`;
  return u.toString();
}

test("--version prints the version", async () => {
  const r = await runOnce({}, ["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^pgauth-http \d+\.\d+\.\d+/);
});

test("an unknown flag is refused with the list of valid ones", async () => {
  const r = await runOnce({}, ["--lisen", "127.0.0.1:1"]);
  assert.equal(r.code, 2);
  const [line] = jsonLines(r.stderr);
  assert.equal(line.level, "error");
  assert.match(line.msg, /unknown option --lisen; valid options: --database-url --listen/);
});

test("a misspelt database URL: refuses to start with libpq's reason", async () => {
  const r = await runOnce({ PGAUTH_DATABASE_URL: `${DATABASE_URL}?sslmod=require` });
  assert.equal(r.code, 1, r.stderr);
  const line = jsonLines(r.stderr).find((l) => l.level === "error");
  assert.match(line.msg, /cannot connect to the database: .*invalid URI query parameter.*sslmod/, r.stderr);
  assert.match(line.msg, /check PGAUTH_DATABASE_URL/);
});

test("a missing database or role: refuses to start naming it", async () => {
  let r = await runOnce({ PGAUTH_DATABASE_URL: urlFor("pgauth_no_such_db") });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /database \\"pgauth_no_such_db\\" does not exist/);
  r = await runOnce({ PGAUTH_DATABASE_URL: urlFor(new URL(DATABASE_URL).pathname.slice(1), "pgauth_no_such_role") });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /role \\"pgauth_no_such_role\\" does not exist/);
});

test("an unreachable database: starts, and says why and what to check", async () => {
  const server = await startServer({ PGAUTH_DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1" });
  const line = jsonLines(server.logs.stderr).find((l) => l.level === "warn" && /not reachable/.test(l.msg));
  assert.ok(line, server.logs.stderr);
  assert.equal(line.reason, "Connection refused");
  assert.match(line.msg, /check the host and port/);
});

test("a database without the extension, or with an old one: refuses to start naming the SQL to run", async () => {
  for (const db of ["pgauth_startup_noext", "pgauth_startup_old"]) await sql(`DROP DATABASE IF EXISTS ${db}`);
  await sql("CREATE DATABASE pgauth_startup_noext");
  let r = await runOnce({ PGAUTH_DATABASE_URL: urlFor("pgauth_startup_noext") });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /has no pgauth extension: run CREATE EXTENSION pgauth/);

  await sql("CREATE DATABASE pgauth_startup_old");
  const u = new URL(ADMIN_DATABASE_URL);
  u.pathname = "/pgauth_startup_old";
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  await c.query("SET client_min_messages = error; CREATE EXTENSION pgauth VERSION '0.3.0'");
  await c.end();
  r = await runOnce({ PGAUTH_DATABASE_URL: urlFor("pgauth_startup_old") });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /has pgauth 0\.3\.0, this pgauth-http needs \d+\.\d+\.\d+: run ALTER EXTENSION pgauth UPDATE/);
  for (const db of ["pgauth_startup_noext", "pgauth_startup_old"]) await sql(`DROP DATABASE IF EXISTS ${db}`);
});

test("a port in use: refuses to start naming the address", async () => {
  const port = await freePort();
  const holder = net.createServer().listen(port, "127.0.0.1");
  await new Promise((r) => holder.once("listening", r));
  try {
    const r = await runOnce({ PGAUTH_LISTEN: `127.0.0.1:${port}` });
    assert.equal(r.code, 1, r.stderr);
    const line = jsonLines(r.stderr).find((l) => l.level === "error");
    assert.match(line.msg, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*--listen`), r.stderr);
  } finally {
    holder.close();
  }
});

test("every log line is JSON with an ISO 8601 UTC ts (ms) and a level; durations have 3 decimals", async () => {
  const server = await startServer();
  await fetch(`${server.api}/get-session`);
  await fetch(`${server.api}/nope`);
  await new Promise((r) => setTimeout(r, 100));
  await server.stop();
  const out = jsonLines(server.logs.stdout), err = jsonLines(server.logs.stderr);
  assert.ok(out.length >= 2 && err.length >= 3);
  for (const l of [...out, ...err]) {
    assert.match(l.ts, ISO, JSON.stringify(l));
    assert.ok(["info", "warn", "error"].includes(l.level), JSON.stringify(l));
  }
  for (const l of out) assert.match(String(l.ms), /^\d+(\.\d{1,3})?$/, JSON.stringify(l));
  assert.ok(err.some((l) => l.msg === "pgauth-http listening"));
  assert.ok(err.some((l) => l.msg === "pgauth-http stopped"));
});
