// Behind reverse proxies: X-Forwarded-For / Forwarded count only from PGAUTH_TRUSTED_PROXIES;
// IPv6 clients share a rate-limit bucket per /64.
import assert from "node:assert/strict";
import { test } from "node:test";
import { post, startServer, uniqueEmail } from "./harness.mjs";

async function sessionIp(server, headers) {
  const r = await post(`${server.api}/sign-up/email`, { email: uniqueEmail("xff"), password: "correct-horse-battery", name: "X" }, headers);
  assert.equal(r.status, 200, r.text);
  const s = await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${r.body.token}` } });
  return (await s.json()).session.ipAddress;
}

test("X-Forwarded-For sets the session's ip only when the peer is a trusted proxy", async () => {
  const trusting = await startServer({ PGAUTH_TRUSTED_PROXIES: "127.0.0.1/32" });
  assert.equal(await sessionIp(trusting, { "x-forwarded-for": "203.0.113.7" }), "203.0.113.7");
  // the right-most untrusted hop: a client cannot pick its address by prepending one
  assert.equal(await sessionIp(trusting, { "x-forwarded-for": "6.6.6.6, 198.51.100.4" }), "198.51.100.4");
  assert.equal(await sessionIp(trusting, { forwarded: 'for="[2001:db8::9]:4711";proto=https' }), "2001:db8::9");
  // the log names the resolved client
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(trusting.logs.stdout.includes('"ip":"203.0.113.7"'), trusting.logs.stdout);

  const other = await startServer({ PGAUTH_TRUSTED_PROXIES: "10.0.0.0/8" });
  assert.equal(await sessionIp(other, { "x-forwarded-for": "203.0.113.7" }), "127.0.0.1");
  const none = await startServer();
  assert.equal(await sessionIp(none, { "x-forwarded-for": "203.0.113.7" }), "127.0.0.1");
});

test("rate limits follow the forwarded client: two IPv6 addresses in one /64 share a bucket, another /64 does not", async () => {
  const server = await startServer({ PGAUTH_TRUSTED_PROXIES: "127.0.0.1", PGAUTH_RATE_LIMIT: "on" });
  const body = { email: uniqueEmail("v6"), password: "wrong-password-1" };
  const from = (ip) => post(`${server.api}/sign-in/email`, body, { "x-forwarded-for": ip });
  for (const ip of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]) assert.equal((await from(ip)).status, 401);
  const limited = await from("2001:db8:1:2::4");
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.body.code, "RATE_LIMITED");
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  assert.equal((await from("2001:db8:1:3::1")).status, 401);  // the next /64
  assert.equal((await from("198.51.100.1")).status, 401);     // and an IPv4 client
});

test("the official client sees a JSON 413 within a second for an 8 MiB body", async () => {
  const { authClient } = await import("./harness.mjs");
  const server = await startServer();
  const { client } = authClient(server);
  const started = performance.now();
  const r = await client.signUp.email({ email: uniqueEmail("big"), password: "correct-horse-battery", name: "x".repeat(8 << 20) });
  const ms = performance.now() - started;
  assert.equal(r.error?.status, 413, JSON.stringify(r.error));
  assert.equal(r.error.code, "PAYLOAD_TOO_LARGE");
  assert.ok(ms < 1000, `${ms} ms`);
});
