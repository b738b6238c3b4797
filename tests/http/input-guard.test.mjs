// The input guard in front of Pistache's parser: raw sockets against the real
// pgauth-http (requests no HTTP client library would send).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readFileSync } from "node:fs";
import pg from "pg";
import { ADMIN_DATABASE_URL, startServer, uniqueEmail } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Parses the HTTP responses in `text` (bodies framed by Content-Length).
function parseResponses(text) {
  const out = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const lines = rest.slice(0, end).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (rest.length < end + 4 + length) break;
    const text = rest.slice(end + 4, end + 4 + length);
    let body;
    try { body = JSON.parse(text); } catch { body = undefined; }
    out.push({ status: Number(m[1]), headers, text, body });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

// Sends `parts` (strings or Buffers; numbers are pauses in ms) on one connection
// and collects what comes back until the server closes, `want` responses have
// arrived, or `timeout` ms pass.
function exchange(port, parts, { want = Infinity, timeout = 3000, localAddress, headOnly = false } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks = [];
    let done = false;
    let firstAt;
    const socket = net.connect({ port, host: "127.0.0.1", localAddress });
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ text, responses: parseResponses(text), why, firstMs: firstAt === undefined ? undefined : firstAt - started });
    };
    const timer = setTimeout(() => finish("timeout"), timeout);
    socket.on("data", (d) => {
      chunks.push(d);
      const responses = parseResponses(Buffer.concat(chunks).toString("latin1"));
      if (responses.length && firstAt === undefined) firstAt = Date.now();
      if (responses.length >= want) finish("answered");
    });
    socket.on("end", () => finish("closed"));
    socket.on("close", () => finish("closed"));
    socket.on("error", () => finish("error"));
    socket.on("connect", async () => {
      for (const part of parts) {
        if (done) return;
        if (typeof part === "number") await sleep(part);
        else if (!socket.write(part)) await new Promise((r) => socket.once("drain", r).once("close", r));
      }
    });
  });
}

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers["content-type"] ?? "", /^application\/json/, r.text);
  assert.equal(r.body?.code, code, r.text);
  assert.equal(typeof r.body?.message, "string", r.text);
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
}

const port = (server) => Number(new URL(server.base).port);
const get = (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

test("a chunked body whose CRLF is split across reads is refused; the server stays idle and answers", async () => {
  const server = await startServer();
  let exit;
  try {
    const head = "POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n \r";
    const results = await Promise.all(
      Array.from({ length: 10 }, () => exchange(port(server), [head, 300, "\n0\r\n\r\n"], { want: 1, timeout: 3000 })),
    );
    const started = Date.now();
    const ok = await exchange(port(server), [get("/api/auth/ok")], { want: 1, timeout: 2000 });
    assert.equal(ok.responses[0]?.status, 200, `no answer: ${ok.why}`);
    assert.ok(Date.now() - started < 500, "answered at once");
    await sleep(300);
    const before = cpuTicks(server.child.pid);
    await sleep(1000);
    const used = cpuTicks(server.child.pid) - before;
    assert.ok(used < 20, `the process burned ${used} ticks in 1 s while idle`);
    for (const r of results) {
      assert.equal(r.responses.length, 1, r.text);
      assertJsonError(r.responses[0], 411, "LENGTH_REQUIRED");
      assert.equal(r.responses[0].headers.connection, "close");
    }
  } finally {
    exit = await Promise.race([server.stop(), sleep(5000).then(() => "hung")]);
    if (exit === "hung") server.child.kill("SIGKILL");
  }
  assert.notEqual(exit, "hung", "SIGTERM did not finish");
});

test("a huge or negative Content-Length is answered in JSON before any body is read", async () => {
  const server = await startServer();
  for (const [value, status, code] of [
    ["99999999999", 413, "PAYLOAD_TOO_LARGE"],
    ["-1", 400, "BAD_REQUEST"],
    ["12abc", 400, "BAD_REQUEST"],
  ]) {
    const r = await exchange(
      port(server),
      [`POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${value}\r\n\r\n`],
      { want: 1 },
    );
    assert.equal(r.responses.length, 1, `${value}: ${r.text}`);
    assertJsonError(r.responses[0], status, code);
  }
});

test("an 8 MiB upload gets exactly one JSON 413 within a second, then the connection ends", async () => {
  const server = await startServer();
  const size = 8 * 1024 * 1024;
  const head = `POST /api/auth/sign-up/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
  const piece = Buffer.alloc(64 * 1024, "a");
  const r = await exchange(port(server), [head, ...Array(size / piece.length).fill(piece)], { timeout: 5000 });
  assert.notEqual(r.why, "timeout", "the connection did not end");
  assert.equal(r.responses.length, 1, r.text.slice(0, 500));
  assert.equal((r.text.match(/HTTP\/1\.1 /g) ?? []).length, 1);
  assertJsonError(r.responses[0], 413, "PAYLOAD_TOO_LARGE");
  assert.ok(r.firstMs < 1000, `answered after ${r.firstMs} ms`);
});

test("a 1 MB header block is refused fast with JSON 431", async () => {
  const server = await startServer();
  const line = `X-Filler: ${"a".repeat(1000)}\r\n`;
  const head = "GET /api/auth/ok HTTP/1.1\r\nHost: x\r\n" + line.repeat(1000) + "\r\n";
  const started = Date.now();
  const r = await exchange(port(server), [head], { want: 1, timeout: 3000 });
  assert.equal(r.responses.length, 1, r.text.slice(0, 300));
  assertJsonError(r.responses[0], 431, "REQUEST_HEADER_FIELDS_TOO_LARGE");
  assert.ok(Date.now() - started < 500);
  // a long request target
  const long = await exchange(port(server), [get(`/api/auth/ok?x=${"a".repeat(8192)}`)], { want: 1 });
  assertJsonError(long.responses[0], 414, "URI_TOO_LONG");
});

test("unknown methods and TRACE get JSON 405; HEAD is answered in JSON, OPTIONS with 204 and Allow", async () => {
  const server = await startServer();
  for (const method of ["BREW", "TRACE", "CONNECT"]) {
    const r = await exchange(port(server), [`${method} /api/auth/ok HTTP/1.1\r\nHost: x\r\n\r\n`], { want: 1 });
    assert.equal(r.responses.length, 1, `${method}: ${r.text}`);
    assertJsonError(r.responses[0], 405, "METHOD_NOT_ALLOWED");
  }
  // OPTIONS (without Origin: not a CORS preflight): 204 without a body, framed right for the pipelined GET.
  const options = await exchange(port(server), [`OPTIONS /api/auth/ok HTTP/1.1\r\nHost: x\r\n\r\n${get("/api/auth/ok")}`], { want: 2, timeout: 2000 });
  assert.equal(options.responses.length, 2, options.text);
  assert.equal(options.responses[0].status, 204, options.text);
  assert.equal(options.responses[0].headers["allow"], "GET, OPTIONS", options.text);
  assert.equal(options.responses[0].text, "", options.text);
  assert.deepEqual(options.responses[1].body, { ok: true }, options.text);
  // HEAD: a JSON 405 without a body, so the pipelined GET's answer that follows is framed right.
  const head = await exchange(port(server), [`HEAD /api/auth/ok HTTP/1.1\r\nHost: x\r\n\r\n${get("/api/auth/ok")}`], { want: 2, timeout: 2000 });
  assert.equal(head.responses.length, 2, head.text);
  assert.equal(head.responses[0].status, 405, head.text);
  assert.match(head.responses[0].headers["content-type"], /^application\/json/, head.text);
  assert.equal(head.responses[0].text, "", head.text);
  assert.deepEqual(head.responses[1].body, { ok: true }, head.text);
});

test("a Content-Type Pistache cannot parse gets JSON 415", async () => {
  const server = await startServer();
  const body = '{"email":"a@b.c","password":"x"}';
  const r = await exchange(
    port(server),
    [`POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/jsonx\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    { want: 1 },
  );
  assertJsonError(r.responses[0], 415, "UNSUPPORTED_MEDIA_TYPE");
  const cache = await exchange(port(server), [`GET /api/auth/ok HTTP/1.1\r\nHost: x\r\nCache-Control: bogus\r\n\r\n`], { want: 1 });
  assertJsonError(cache.responses[0], 400, "BAD_REQUEST");
});

test("non-canonical paths are refused in JSON before routing", async () => {
  const server = await startServer();
  for (const path of ["//api/auth/ok", "/api/./auth/ok", "/api/x/../auth/ok", "/api%2Fauth/ok", "/api%2fauth/ok", "/api/auth/%2E/ok", "/api/auth/ok/"]) {
    const r = await exchange(port(server), [get(path)], { want: 1 });
    assert.equal(r.responses.length, 1, `${path}: ${r.text}`);
    assertJsonError(r.responses[0], 400, "INVALID_PATH");
  }
});

test("open connections per client address are capped; another address is still served", async () => {
  const server = await startServer({ PGAUTH_MAX_CONNECTIONS_PER_IP: "5" });
  // Open idle connections until one is refused. (The harness's readiness check
  // may still hold one keep-alive connection from this address.)
  const idle = [];
  let refused;
  for (let i = 0; i < 8 && !refused; i++) {
    const r = await new Promise((resolve) => {
      const s = net.connect({ port: port(server), host: "127.0.0.1" });
      let text = "";
      s.on("data", (d) => (text += d.toString("latin1")));
      s.on("error", () => {});
      setTimeout(() => resolve({ s, text }), 150);
    });
    if (r.text) refused = parseResponses(r.text);
    else idle.push(r.s);
  }
  assert.ok(refused, "no connection was refused");
  assert.ok(idle.length === 4 || idle.length === 5, `${idle.length} idle connections were accepted`);
  assert.equal(refused.length, 1);
  assertJsonError(refused[0], 503, "TOO_MANY_CONNECTIONS");
  const other = await exchange(port(server), [get("/api/auth/ok")], { want: 1, localAddress: "127.0.0.2" });
  assert.equal(other.responses[0]?.status, 200, other.text);
  // Closing one frees its slot.
  idle.pop().destroy();
  await sleep(300);
  const again = await exchange(port(server), [get("/api/auth/ok")], { want: 1 });
  assert.equal(again.responses[0]?.status, 200, again.text);
  for (const s of idle) s.destroy();
});

test("pipelined keep-alive requests are all answered, in order", async () => {
  const server = await startServer();
  const body = "{}";
  const post = `POST /api/auth/sign-out HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const r = await exchange(port(server), [get("/api/auth/ok") + post + get("/api/auth/ok") + get("/api/auth/nope")], { want: 4 });
  assert.deepEqual(r.responses.map((x) => x.status), [200, r.responses[1]?.status, 200, 404], r.text);
  assert.equal(r.responses.length, 4, r.text);
  assert.equal(r.responses[0].headers.connection?.toLowerCase(), "keep-alive");
  assert.equal(r.responses[0].body?.ok, true);
});

test("pipelined: a slow database-bound answer still comes before the later inline ones", async () => {
  const server = await startServer();
  // sign-up is held in the database (a lock that blocks inserts into auth.users) while
  // /ok and a 404 behind it on the same connection are answered at once by the reactor.
  const holder = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await holder.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE auth.users IN SHARE MODE");
    const body = JSON.stringify({ email: uniqueEmail("pipelined"), password: "correct-horse-battery", name: "P" });
    const signUp = `POST /api/auth/sign-up/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const pending = exchange(port(server), [signUp + get("/api/auth/ok") + get("/api/auth/nope")], { want: 3, timeout: 5000 });
    await sleep(500);
    await holder.query("COMMIT");
    const r = await pending;
    assert.deepEqual(r.responses.map((x) => x.status), [200, 200, 404], r.text);
    assert.equal(typeof r.responses[0].body?.token, "string", r.text);
    assert.equal(r.responses[1].body?.ok, true, r.text);
  } finally {
    await holder.end();
  }
});
