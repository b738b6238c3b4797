// The rate limiter is keyed by the matched route and the client, never the raw
// path: path spellings share one budget, junk paths cannot grow memory, and
// 404/405 answers never spend a strict budget.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertApiError, post, startServer, uniqueEmail } from "./harness.mjs";

const rssKb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

test("extra slashes do not escape the sign-in limit", async () => {
  const server = await startServer({ PGAUTH_RATE_LIMIT: "on" });
  const body = { email: uniqueEmail("slashes"), password: "wrong-password-1" };
  const statuses = [];
  for (let slashes = 1; slashes <= 12; slashes++) {
    const r = await post(`${server.base}/api/auth${"/".repeat(slashes)}sign-in/email`, body);
    statuses.push(r.status);
    assert.ok(r.status >= 400 && r.status < 500, `${slashes} slashes: ${r.status} ${r.text}`);
    assert.equal(typeof r.body?.code, "string", r.text);
  }
  // Then the plain spelling until the budget is spent. Whatever the spelling, at most
  // 3 attempts reach the password check (non-canonical spellings are refused outright).
  const plain = [];
  for (let i = 0; i < 3; i++) plain.push(await post(`${server.api}/sign-in/email`, body));
  const all = statuses.concat(plain.map((r) => r.status));
  assert.ok(all.filter((s) => s === 401).length <= 3, all.join(","));
  statuses.slice(3).forEach((s) => assert.notEqual(s, 401, all.join(",")));
  assertApiError(assert, plain.at(-1), 429, "RATE_LIMITED");
});

test("unique junk paths leave memory flat and log lines short", async (t) => {
  const server = await startServer({ PGAUTH_RATE_LIMIT: "on" });
  const long = "a".repeat(3_000);  // under the input guard's 4 KiB target limit
  const burst = async (from, count) => {
    const queue = Array.from({ length: count }, (_, i) => from + i);
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const r = await fetch(`${server.base}/x/sign-in/${i}-${Date.now()}/${long}`);
        await r.arrayBuffer();
        assert.ok(r.status === 404 || r.status === 429, String(r.status));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  };
  await burst(0, 300);  // warm up buffers and allocator arenas
  const before = rssKb(server.child.pid);
  await burst(300, 3000);
  const after = rssKb(server.child.pid);
  t.diagnostic(`VmRSS ${before} kB -> ${after} kB over 3,000 unique 3 KB paths`);
  assert.ok(after - before < 4 * 1024, `VmRSS grew ${(after - before) / 1024} MB (${before} kB -> ${after} kB)`);
  await new Promise((r) => setTimeout(r, 100));
  const lines = server.logs.stdout.trim().split("\n");
  assert.ok(lines.length >= 3300, String(lines.length));
  const longest = Math.max(...lines.map((l) => l.length));
  assert.ok(longest < 1024, `a log line of ${longest} bytes`);
  const sample = JSON.parse(lines.at(-1));
  assert.match(sample.path, /truncated, 30\d\d bytes/);
});

test("404 and 405 answers do not count toward sign-up's limit", async () => {
  const server = await startServer({ PGAUTH_RATE_LIMIT: "on" });
  const misses = [];
  for (let i = 0; i < 5; i++) {
    misses.push((await post(`${server.api}/sign-up/emailx`, {})).status);
    misses.push((await post(`${server.api}/sign-up/email/${i}`, {})).status);
    const wrongMethod = await fetch(`${server.api}/sign-up/email`);
    misses.push(wrongMethod.status);
    await wrongMethod.arrayBuffer();
  }
  for (let i = 0; i < 3; i++) {
    const r = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("rl404"), password: "correct-horse-battery", name: "R" });
    assert.equal(r.status, 200, `sign-up ${i + 1} after 404s/405s (${misses.join(",")}): ${r.text}`);
  }
  assert.deepEqual(misses, Array.from({ length: 5 }, () => [404, 404, 405]).flat());
  const fourth = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("rl404"), password: "correct-horse-battery", name: "R" });
  assertApiError(assert, fourth, 429, "RATE_LIMITED");
});
