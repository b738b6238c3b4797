// /api/auth/update-user, /change-password, /delete-user
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, sessionCookie, signUp, sql, startServer } from "./harness.mjs";

const server = await startServer();
const origin = () => ({ origin: server.base });

test("update-user through the official client", async () => {
  const { client } = authClient(server);
  const user = await signUp(server);
  await client.signIn.email({ email: user.email, password: user.password });
  const { data, error } = await client.updateUser({ name: "New Name", image: "https://example.com/me.png" });
  assert.equal(error, null);
  assert.equal(data.status, true);
  const session = await client.getSession();
  assert.equal(session.data.user.name, "New Name");
  assert.equal(session.data.user.image, "https://example.com/me.png");
  const bad = await post(`${server.api}/update-user`, { name: "" }, { cookie: user.cookie, ...origin() });
  assertApiError(assert, bad, 400, "VALIDATION_ERROR");
  const email = await post(`${server.api}/update-user`, { email: "x@example.com" }, { cookie: user.cookie, ...origin() });
  assertApiError(assert, email, 400, "EMAIL_CAN_NOT_BE_UPDATED");
  assertApiError(assert, await post(`${server.api}/update-user`, { name: "X" }, origin()), 401, "UNAUTHORIZED");
});

test("change-password: wrong current password, policy, revoke other sessions", async () => {
  const user = await signUp(server);
  const other = sessionCookie(await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password }));
  const wrong = await post(`${server.api}/change-password`, { currentPassword: "nope-nope-nope", newPassword: "brand-new-password" },
                           { cookie: user.cookie, ...origin() });
  assertApiError(assert, wrong, 400, "INVALID_PASSWORD");
  const short = await post(`${server.api}/change-password`, { currentPassword: user.password, newPassword: "short" },
                           { cookie: user.cookie, ...origin() });
  assertApiError(assert, short, 400, "PASSWORD_TOO_SHORT");
  const ok = await post(`${server.api}/change-password`,
                        { currentPassword: user.password, newPassword: "brand-new-password", revokeOtherSessions: true },
                        { cookie: user.cookie, ...origin() });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.user.id, user.user.id);
  assert.equal(ok.body.token, user.token);
  const still = await (await fetch(`${server.api}/get-session`, { headers: { cookie: user.cookie } })).json();
  assert.equal(still.user.id, user.user.id);
  assert.equal(await (await fetch(`${server.api}/get-session`, { headers: { cookie: other } })).json(), null);
  assertApiError(assert, await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password }), 401);
  assert.equal((await post(`${server.api}/sign-in/email`, { email: user.email, password: "brand-new-password" })).status, 200);
});

test("delete-user needs the password, then removes everything", async () => {
  const user = await signUp(server);
  assertApiError(assert, await post(`${server.api}/delete-user`, {}, { cookie: user.cookie, ...origin() }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/delete-user`, { password: "wrong-password" }, { cookie: user.cookie, ...origin() }),
                 400, "INVALID_PASSWORD");
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users WHERE id = $1", [user.user.id]))[0].n, 1);
  const r = await post(`${server.api}/delete-user`, { password: user.password }, { cookie: user.cookie, ...origin() });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.success, true);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users WHERE id = $1", [user.user.id]))[0].n, 0);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.sessions WHERE user_id = $1", [user.user.id]))[0].n, 0);
});
