// GET /api/auth/get-session
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { SECRET, authClient, post, signUp, sql, startServer } from "./harness.mjs";
import { createHmac } from "node:crypto";

const server = await startServer();
const get = (headers = {}) => fetch(`${server.api}/get-session`, { headers });

test("no session: 200 null with cache-control no-store", async () => {
  const r = await get();
  assert.equal(r.status, 200);
  assert.equal(await r.text(), "null");
  assert.equal(r.headers.get("cache-control"), "no-store");
});

test("valid cookie: session and user in Better-Auth's shape", async () => {
  const user = await signUp(server);
  const r = await get({ cookie: user.cookie, "user-agent": "pgauth-test/1.0" });
  const body = await r.json();
  assert.equal(body.user.id, user.user.id);
  assert.equal(body.session.token, user.token);
  assert.equal(body.session.userId, user.user.id);
  for (const key of ["id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"])
    assert.ok(key in body.session, key);
  assert.equal(body.session.ipAddress, "127.0.0.1");
});

test("tampered, truncated, mis-encoded or foreign cookies mean no session, never an error", async () => {
  const user = await signUp(server);
  const value = user.cookie.split("=").slice(1).join("=");
  const [token] = decodeURIComponent(value).split(".");
  const forged = `${token}.${createHmac("sha256", "another-secret-0123456789abcdef012").update(token).digest("base64")}`;
  const variants = [
    value.slice(0, -3), value.replace(/^./, (c) => (c === "A" ? "B" : "A")), `${token}`, `${token}.`, "%E0%A4%A",
    encodeURIComponent(forged), "a".repeat(5000), `${value}; better-auth.session_token=x`, "\u00ff\u00fe",
  ];
  for (const v of variants) {
    const r = await get({ cookie: `better-auth.session_token=${v}` });
    assert.equal(r.status, 200, v);
    assert.equal(await r.text(), "null", v);
  }
});

test("Authorization: Bearer works with the raw and the signed token", async () => {
  const user = await signUp(server);
  const signed = `${user.token}.${createHmac("sha256", SECRET).update(user.token).digest("base64")}`;
  for (const bearer of [user.token, signed]) {
    const body = await (await get({ authorization: `Bearer ${bearer}` })).json();
    assert.equal(body?.user?.id, user.user.id, bearer);
  }
  const bad = await get({ authorization: `Bearer ${user.token}.AAAA` });
  assert.equal(await bad.text(), "null");
});

test("revoked and expired sessions are gone", async () => {
  const a = await signUp(server);
  await sql("UPDATE auth.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = auth.hash_token($1)", [a.token]);
  assert.equal(await (await get({ cookie: a.cookie })).text(), "null");
  const b = await signUp(server);
  await sql("SELECT auth.revoke_session($1)", [b.token]);
  assert.equal(await (await get({ cookie: b.cookie })).text(), "null");
});

test("sliding expiry re-sets the cookie when the session is extended", async () => {
  const user = await signUp(server);
  await sql("UPDATE auth.sessions SET expires_at = now() + interval '2 days' WHERE token_hash = auth.hash_token($1)", [user.token]);
  const r = await get({ cookie: user.cookie });
  const body = await r.json();
  assert.ok(Date.parse(body.session.expiresAt) > Date.now() + 6.9 * 86400e3);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token="));
  assert.match(cookie ?? "", /Max-Age=60480\d/);
});

test("the official client reads the session", async () => {
  const { client } = authClient(server);
  const user = await signUp(server);
  await client.signIn.email({ email: user.email, password: user.password });
  const { data } = await client.getSession();
  assert.equal(data.user.email, user.email);
});

// Two requests on one socket with no Connection header: HTTP/1.1 keeps it open.
test("keep-alive without a Connection header", async () => {
  const { port } = new URL(server.base);
  const socket = net.connect(Number(port), "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let data = "";
  socket.on("data", (d) => (data += d));
  const request = `GET /api/auth/get-session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  socket.write(request);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!socket.destroyed && !socket.readableEnded, "server closed the connection after one request");
  socket.write(request);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(data.match(/HTTP\/1\.1 200/g)?.length, 2, data);
  assert.doesNotMatch(data, /Connection: Close/i);
  socket.destroy();
});

test("two session cookies of the same name mean no session; one works", async () => {
  const victim = await signUp(server);
  const attacker = await signUp(server);
  const get = async (cookie) => {
    const r = await fetch(`${server.api}/get-session`, { headers: { cookie } });
    assert.equal(r.status, 200);
    return r.json();
  };
  assert.equal((await get(victim.cookie)).user.id, victim.user.id);
  // a sibling subdomain's cookie (longer Path, so sent first) beside the real one
  for (const cookie of [`${attacker.cookie}; ${victim.cookie}`, `${victim.cookie}; ${attacker.cookie}`,
                        `${victim.cookie}; other=1; ${victim.cookie}`, `${victim.cookie}; better-auth.session_token=junk`]) {
    assert.equal(await get(cookie), null, cookie);
    const bearer = await fetch(`${server.api}/list-sessions`, { headers: { cookie } });
    assert.equal(bearer.status, 401, cookie);
  }
  assert.equal((await get(`other=1; ${victim.cookie}; x=2`)).user.id, victim.user.id);
  // Authorization: Bearer still works beside a tossed cookie (it names the session explicitly)
  const both = await fetch(`${server.api}/get-session`, {
    headers: { cookie: `${attacker.cookie}; ${victim.cookie}`, authorization: `Bearer ${victim.token}` },
  });
  assert.equal((await both.json()).user.id, victim.user.id);
});

// One HTTP/1.1 request written by hand, so it can carry two Cookie headers.
async function rawGet(path, headerLines) {
  const { port } = new URL(server.base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headerLines.map((l) => `${l}\r\n`).join("")}\r\n`);
    });
    let data = "";
    socket.setEncoding("latin1");
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      data += chunk;
      const end = data.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(data);
      if (end >= 0 && length && data.length >= end + 4 + Number(length[1])) {
        socket.destroy();
        resolve(data.slice(end + 4, end + 4 + Number(length[1])));
      }
    });
  });
}

test("a session cookie in each of two Cookie headers means no session", async () => {
  const first = await signUp(server);
  const second = await signUp(server);
  assert.equal(JSON.parse(await rawGet("/api/auth/get-session", [`Cookie: ${first.cookie}`])).user.id, first.user.id);
  for (const [a, b] of [[first, second], [second, first], [first, first]]) {
    const body = await rawGet("/api/auth/get-session", [`Cookie: ${a.cookie}`, `Cookie: ${b.cookie}`]);
    if (a === b) assert.equal(JSON.parse(body).user.id, a.user.id);  // the same cookie twice is one cookie
    else assert.equal(body, "null");
  }
});
