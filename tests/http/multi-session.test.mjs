// Better-Auth's multiSession plugin under /api/auth/multi-session/ with the official client and
// multiSessionClient (issue 16): several accounts signed in in one browser, switching, revoking,
// the per-device cap, sign-out of every account, forged cookies, and bad input.
import assert from "node:assert/strict";
import { test } from "node:test";
import { multiSessionClient } from "better-auth/client/plugins";
import { assertApiError, authClient, post, signUp, startServer } from "./harness.mjs";

const server = await startServer({ PGAUTH_MULTI_SESSION_MAXIMUM: "3" });
const origin = { origin: server.base };
const multiKeys = (jar) => [...jar.keys()].filter((k) => k.startsWith("better-auth.session_token_multi-"));
const cookieOf = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");

async function browserWith(n) {
  const users = [];
  for (let i = 0; i < n; i++) users.push(await signUp(server));
  const { client, jar } = authClient(server, [multiSessionClient()]);
  for (const u of users) {
    const r = await client.signIn.email({ email: u.email, password: u.password });
    assert.equal(r.error, null, JSON.stringify(r.error));
  }
  return { users, client, jar };
}

test("two accounts in one browser: listed, switched, revoked", async () => {
  const { users, client, jar } = await browserWith(2);
  assert.equal(multiKeys(jar).length, 2);
  // the active one is the last signed in
  assert.equal((await client.getSession()).data.user.id, users[1].user.id);
  const listed = await client.multiSession.listDeviceSessions();
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  assert.deepEqual(listed.data.map((s) => s.user.id).sort(), users.map((u) => u.user.id).sort());

  const first = listed.data.find((s) => s.user.id === users[0].user.id);
  const switched = await client.multiSession.setActive({ sessionToken: first.session.token });
  assert.equal(switched.error, null, JSON.stringify(switched.error));
  assert.equal(switched.data.user.id, users[0].user.id);
  assert.equal((await client.getSession()).data.user.id, users[0].user.id);

  // revoking the active one makes the other active
  const revoked = await client.multiSession.revoke({ sessionToken: first.session.token });
  assert.equal(revoked.error, null, JSON.stringify(revoked.error));
  assert.equal(multiKeys(jar).length, 1);
  assert.equal((await client.getSession()).data.user.id, users[1].user.id);
  const left = await client.multiSession.listDeviceSessions();
  assert.deepEqual(left.data.map((s) => s.user.id), [users[1].user.id]);
  // the revoked session is dead for every client
  const dead = await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${first.session.token}` } });
  assert.equal(await dead.json(), null);
});

test("the per-device cap: no more multi cookies than PGAUTH_MULTI_SESSION_MAXIMUM", async () => {
  const { jar } = await browserWith(5);
  assert.equal(multiKeys(jar).length, 3);
});

test("sign-out ends every account of the browser and drops their cookies", async () => {
  const { users, client, jar } = await browserWith(2);
  const held = multiKeys(jar).map((k) => decodeURIComponent(jar.get(k)).split(".")[0]);
  assert.equal(held.length, 2);
  const r = await client.signOut();
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(multiKeys(jar).length, 0);
  for (const token of held) {
    const s = await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(await s.json(), null);
  }
  for (const u of users) {
    const s = await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${u.token}` } });
    assert.notEqual(await s.json(), null, "the sign-up session of another browser stays");
  }
  const listed = await post(`${server.api}/multi-session/list-device-sessions`, undefined, { cookie: cookieOf(jar), ...origin });
  assert.ok(listed.status === 404 || listed.status === 405 || Array.isArray(listed.body), listed.text);
});

test("a token the browser does not hold, or a forged multi cookie, is refused", async () => {
  const { users, client, jar } = await browserWith(1);
  const stranger = await signUp(server);
  const r = await client.multiSession.setActive({ sessionToken: stranger.token });
  assert.equal(r.error?.status, 401, JSON.stringify(r));
  assert.equal(r.error?.code, "INVALID_SESSION_TOKEN");
  // the stranger's token under a cookie name of its own, with a bad signature
  const forgedName = `better-auth.session_token_multi-${stranger.token.toLowerCase()}`;
  const forged = await post(`${server.api}/multi-session/set-active`, { sessionToken: stranger.token },
    { cookie: `${cookieOf(jar)}; ${forgedName}=${encodeURIComponent(stranger.token + ".AAAA")}`, ...origin });
  assertApiError(assert, forged, 401, "INVALID_SESSION_TOKEN");
  // a valid signed cookie of ours copied under another token's name does not count either
  const mine = multiKeys(jar)[0];
  const copied = await post(`${server.api}/multi-session/set-active`, { sessionToken: stranger.token },
    { cookie: `${forgedName}=${jar.get(mine)}`, ...origin });
  assertApiError(assert, copied, 401, "INVALID_SESSION_TOKEN");
  assert.equal((await client.getSession()).data.user.id, users[0].user.id);
  const revoke = await client.multiSession.revoke({ sessionToken: stranger.token });
  assert.equal(revoke.error?.status, 401);
  const alive = await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${stranger.token}` } });
  assert.notEqual(await alive.json(), null);
});

test("bad input: 4xx {code,message}", async () => {
  const { jar } = await browserWith(1);
  for (const [path, body] of [
    ["/multi-session/set-active", {}],
    ["/multi-session/set-active", { sessionToken: 5 }],
    ["/multi-session/revoke", {}],
    ["/multi-session/revoke", { sessionToken: ["a"] }],
    ["/multi-session/set-active", "{nope"],
  ]) {
    const r = await post(`${server.api}${path}`, body, { cookie: cookieOf(jar), ...origin });
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.text}`);
    assert.equal(typeof r.body?.code, "string", r.text);
  }
  assertApiError(assert, await post(`${server.api}/multi-session/revoke`, { sessionToken: "x" }, origin), 401);
  const none = await fetch(`${server.api}/multi-session/list-device-sessions`);
  assert.deepEqual(await none.json(), []);
});
