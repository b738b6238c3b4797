// /api/auth/sign-out, /list-sessions, /revoke-session, /revoke-sessions, /revoke-other-sessions
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, sessionCookie, signUp, startServer } from "./harness.mjs";

const server = await startServer();
const origin = () => ({ origin: server.base });
async function signIn(user) {
  const r = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password });
  return { token: r.body.token, cookie: sessionCookie(r) };
}
const sessionOf = async (cookie) => (await fetch(`${server.api}/get-session`, { headers: { cookie } })).json();

test("sign-out ends the session and clears the cookies", async () => {
  const { client, jar } = authClient(server);
  const user = await signUp(server);
  await client.signIn.email({ email: user.email, password: user.password });
  const cookie = `better-auth.session_token=${jar.get("better-auth.session_token")}`;
  const { data, error } = await client.signOut();
  assert.equal(error, null);
  assert.equal(data.success, true);
  assert.equal(jar.has("better-auth.session_token"), false);
  assert.equal(await sessionOf(cookie), null);
  const raw = await post(`${server.api}/sign-out`, undefined, { cookie: user.cookie, ...origin() });
  const cleared = raw.headers.getSetCookie().find((c) => c.startsWith("better-auth.session_token=;"));
  assert.match(cleared ?? "", /Max-Age=0/);
  assert.equal(await sessionOf(user.cookie), null);
  assertApiError(assert, await post(`${server.api}/sign-out`, undefined, origin()), 400, "FAILED_TO_GET_SESSION");
});

test("list, revoke one (by the listed token), revoke others, revoke all", async () => {
  const user = await signUp(server);
  const second = await signIn(user);
  const third = await signIn(user);
  const list = await (await fetch(`${server.api}/list-sessions`, { headers: { cookie: user.cookie } })).json();
  assert.equal(list.length, 3);
  const target = list.find((s) => s.token !== undefined && s.id === (list.at(-1).id));
  const r = await post(`${server.api}/revoke-session`, { token: target.token }, { cookie: user.cookie, ...origin() });
  assert.equal(r.status, 200, r.text);
  assert.equal(await sessionOf(third.cookie), null);
  assert.notEqual(await sessionOf(second.cookie), null);
  // revoking by the real token works too
  const fourth = await signIn(user);
  await post(`${server.api}/revoke-session`, { token: fourth.token }, { cookie: user.cookie, ...origin() });
  assert.equal(await sessionOf(fourth.cookie), null);
  const other = await post(`${server.api}/revoke-other-sessions`, undefined, { cookie: user.cookie, ...origin() });
  assert.equal(other.status, 200);
  assert.equal(await sessionOf(second.cookie), null);
  assert.notEqual(await sessionOf(user.cookie), null);
  const all = await post(`${server.api}/revoke-sessions`, undefined, { cookie: user.cookie, ...origin() });
  assert.equal(all.status, 200);
  assert.equal(await sessionOf(user.cookie), null);
});

test("one user cannot revoke another's session: 401 UNAUTHORIZED (as Better-Auth), and both sessions still work", async () => {
  const alice = await signUp(server);
  const bob = await signUp(server);
  const bobs = await (await fetch(`${server.api}/list-sessions`, { headers: { cookie: bob.cookie } })).json();
  assert.equal(bobs.length, 1);
  // by the listed id and by the real token
  for (const token of [bobs[0].token, bob.token]) {
    const r = await post(`${server.api}/revoke-session`, { token }, { cookie: alice.cookie, ...origin() });
    assertApiError(assert, r, 401, "UNAUTHORIZED");
  }
  // a token that is no session at all: the same answer, so it tells nothing about other users' tokens
  assertApiError(assert, await post(`${server.api}/revoke-session`, { token: "no-such-session" }, { cookie: alice.cookie, ...origin() }),
    401, "UNAUTHORIZED");
  const bobSession = await sessionOf(bob.cookie);
  assert.equal(bobSession?.user?.id, bob.user.id);
  const bobList = await fetch(`${server.api}/list-sessions`, { headers: { authorization: `Bearer ${bob.token}` } });
  assert.equal(bobList.status, 200);
  assert.equal((await bobList.json()).length, 1);
  assert.equal((await sessionOf(alice.cookie))?.user?.id, alice.user.id);
});

test("without a session: 401 UNAUTHORIZED; bad bodies: 400", async () => {
  const r = await fetch(`${server.api}/list-sessions`);
  const body = await r.json();
  assertApiError(assert, { status: r.status, body, text: JSON.stringify(body) }, 401, "UNAUTHORIZED");
  assert.deepEqual(Object.keys(body).sort(), ["code", "message"]);
  for (const path of ["revoke-sessions", "revoke-other-sessions"])
    assertApiError(assert, await post(`${server.api}/${path}`), 401, "UNAUTHORIZED");
  const user = await signUp(server);
  assertApiError(assert, await post(`${server.api}/revoke-session`, {}, { cookie: user.cookie, ...origin() }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/revoke-session`, { token: 5 }, { cookie: user.cookie, ...origin() }), 400, "VALIDATION_ERROR");
});
