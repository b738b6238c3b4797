// Better-Auth's admin plugin under /api/auth/admin/ with the official client and adminClient,
// and GET /admin/audit-log (issue 16): every endpoint, the ban (also seen by auth.validate_session),
// impersonation seen and stopped, 403 for a non-admin everywhere, audit rows without secrets,
// and bad input answered 4xx {code,message} with nothing written.
import assert from "node:assert/strict";
import { test } from "node:test";
import { adminClient } from "better-auth/client/plugins";
import { assertApiError, authClient, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";

const server = await startServer();
const origin = { origin: server.base };

// A signed-in admin: a user made admin with the DBA's one call, then signed in with the client.
async function signedInAdmin() {
  const user = await signUp(server);
  await sql("SELECT auth.grant_admin($1)", [user.email]);
  const { client, jar } = authClient(server, [adminClient()]);
  const r = await client.signIn.email({ email: user.email, password: user.password });
  assert.equal(r.error, null, JSON.stringify(r.error));
  return { ...user, client, jar, cookie: () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ") };
}

async function sessionOf(cookie) {
  return (await fetch(`${server.api}/get-session`, { headers: { cookie } })).json();
}

async function signIn(email, password) {
  return post(`${server.api}/sign-in/email`, { email, password });
}

test("create, list (search, sort, page, total), get, update, set-role, set-user-password, remove", async () => {
  const admin = await signedInAdmin();
  const email = uniqueEmail("made-by-admin");
  const created = await admin.client.admin.createUser({ email, password: "a-long-password-1", name: "Made", role: "user" });
  assert.equal(created.error, null, JSON.stringify(created.error));
  assert.equal(created.data.user.email, email);
  assert.equal(created.data.user.role, "user");
  const id = created.data.user.id;
  assert.equal((await signIn(email, "a-long-password-1")).status, 200);

  const listed = await admin.client.admin.listUsers({ query: { searchValue: email, searchField: "email", limit: 10, offset: 0 } });
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  assert.equal(listed.data.total, 1);
  assert.equal(listed.data.users[0].id, id);
  const page = await admin.client.admin.listUsers({ query: { limit: 2, offset: 0, sortBy: "createdAt", sortDirection: "desc" } });
  assert.equal(page.error, null, JSON.stringify(page.error));
  assert.equal(page.data.users.length, 2);
  assert.ok(page.data.total >= 2);

  const got = await admin.client.admin.getUser({ query: { id } });
  assert.equal(got.error, null, JSON.stringify(got.error));
  assert.equal((got.data.user ?? got.data).email, email);

  const updated = await admin.client.admin.updateUser({ userId: id, data: { name: "Renamed" } });
  assert.equal(updated.error, null, JSON.stringify(updated.error));
  assert.equal((updated.data.user ?? updated.data).name, "Renamed");

  const role = await admin.client.admin.setRole({ userId: id, role: "admin" });
  assert.equal(role.error, null, JSON.stringify(role.error));
  assert.equal(role.data.user.role, "admin");
  await admin.client.admin.setRole({ userId: id, role: "user" });

  const pw = await admin.client.admin.setUserPassword({ userId: id, newPassword: "another-long-password" });
  assert.equal(pw.error, null, JSON.stringify(pw.error));
  assert.equal((await signIn(email, "a-long-password-1")).status, 401);
  assert.equal((await signIn(email, "another-long-password")).status, 200);

  const perm = await admin.client.admin.hasPermission({ permissions: { user: ["ban"] } });
  assert.equal(perm.error, null, JSON.stringify(perm.error));
  assert.equal(perm.data.success, true);

  const removed = await admin.client.admin.removeUser({ userId: id });
  assert.equal(removed.error, null, JSON.stringify(removed.error));
  assert.equal(removed.data.success, true);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.users WHERE id::text = $1", [id]))[0].n, 0);
  const gone = await admin.client.admin.getUser({ query: { id } });
  assert.equal(gone.error?.status, 404);
});

test("list, revoke one and revoke all of a user's sessions", async () => {
  const admin = await signedInAdmin();
  const user = await signUp(server);
  const second = await signIn(user.email, user.password);
  const listed = await admin.client.admin.listUserSessions({ userId: user.user.id });
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  assert.equal(listed.data.sessions.length, 2);
  const one = await admin.client.admin.revokeUserSession({ sessionToken: second.body.token });
  assert.equal(one.error, null, JSON.stringify(one.error));
  assert.equal(await sessionOf(second.headers.getSetCookie()[0].split(";")[0]), null);
  assert.notEqual(await sessionOf(user.cookie), null);
  const all = await admin.client.admin.revokeUserSessions({ userId: user.user.id });
  assert.equal(all.error, null, JSON.stringify(all.error));
  assert.equal(await sessionOf(user.cookie), null);
});

test("a ban kills live sessions at once (get-session and auth.validate_session), refuses sign-in, and ends", async () => {
  const admin = await signedInAdmin();
  const user = await signUp(server);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.validate_session($1)", [user.token]))[0].n, 1);
  const banned = await admin.client.admin.banUser({ userId: user.user.id, banReason: "spam" });
  assert.equal(banned.error, null, JSON.stringify(banned.error));
  assert.equal(banned.data.user.banned, true);
  assert.equal(banned.data.user.banReason, "spam");
  assert.equal(await sessionOf(user.cookie), null);
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.validate_session($1)", [user.token]))[0].n, 0);
  const refused = await signIn(user.email, user.password);
  assertApiError(assert, refused, 403, "BANNED_USER");
  assert.equal(refused.headers.getSetCookie().length, 0);

  const unbanned = await admin.client.admin.unbanUser({ userId: user.user.id });
  assert.equal(unbanned.error, null, JSON.stringify(unbanned.error));
  assert.equal(unbanned.data.user.banned, false);
  assert.equal((await signIn(user.email, user.password)).status, 200);

  // banExpiresIn: refused while it lasts, honoured once it is over
  await admin.client.admin.banUser({ userId: user.user.id, banExpiresIn: 1 });
  assertApiError(assert, await signIn(user.email, user.password), 403, "BANNED_USER");
  await new Promise((r) => setTimeout(r, 1600));
  assert.equal((await signIn(user.email, user.password)).status, 200);

  const self = await admin.client.admin.banUser({ userId: admin.user.id });
  assert.equal(self.error?.status, 400);
  assert.notEqual(await sessionOf(admin.cookie()), null);
});

test("impersonation: seen in the session, listed, and stopped (the admin's session comes back)", async () => {
  const admin = await signedInAdmin();
  const user = await signUp(server);
  const before = await admin.client.getSession();
  const started = await admin.client.admin.impersonateUser({ userId: user.user.id });
  assert.equal(started.error, null, JSON.stringify(started.error));
  assert.equal(started.data.user.id, user.user.id);
  assert.equal(started.data.session.impersonatedBy, admin.user.id);
  assert.ok(admin.jar.has("better-auth.admin_session"));
  const seen = await admin.client.getSession();
  assert.equal(seen.data.user.id, user.user.id);
  assert.equal(seen.data.session.impersonatedBy, admin.user.id);
  // at most an hour by default
  const expires = new Date(seen.data.session.expiresAt).getTime();
  assert.ok(expires <= Date.now() + 3600_000 + 5_000, seen.data.session.expiresAt);
  // the session is marked in the database
  const listed = await sql("SELECT impersonated_by::text AS by FROM auth.sessions WHERE user_id::text = $1 AND impersonated_by IS NOT NULL", [user.user.id]);
  assert.deepEqual(listed, [{ by: admin.user.id }]);

  const stopped = await admin.client.admin.stopImpersonating();
  assert.equal(stopped.error, null, JSON.stringify(stopped.error));
  assert.equal(stopped.data.user.id, admin.user.id);
  assert.equal(admin.jar.has("better-auth.admin_session"), false);
  const back = await admin.client.getSession();
  assert.equal(back.data.user.id, admin.user.id);
  assert.equal(back.data.session.id, before.data.session.id);
  // the impersonation session is gone
  const left = await admin.client.admin.listUserSessions({ userId: user.user.id });
  assert.equal(left.data.sessions.filter((s) => s.impersonatedBy).length, 0);

  // another admin cannot be impersonated (pgauth.admin_impersonate_admins is off)
  const other = await signedInAdmin();
  const refused = await admin.client.admin.impersonateUser({ userId: other.user.id });
  assert.equal(refused.error?.status, 403);
  assert.equal(refused.error?.code, "YOU_CANNOT_IMPERSONATE_ADMINS");
  // stop without impersonating
  const notImpersonating = await post(`${server.api}/admin/stop-impersonating`, undefined, { cookie: admin.cookie(), ...origin });
  assert.ok(notImpersonating.status >= 400 && notImpersonating.status < 500, notImpersonating.text);
  assert.equal(typeof notImpersonating.body.code, "string");
});

// Every admin endpoint, as [method, path, body].
const endpoints = (userId) => [
  ["POST", "/admin/create-user", { email: uniqueEmail("x"), password: "a-long-password-1", name: "X" }],
  ["GET", `/admin/list-users?limit=1`],
  ["GET", `/admin/get-user?id=${userId}`],
  ["POST", "/admin/update-user", { userId, data: { name: "Y" } }],
  ["POST", "/admin/set-role", { userId, role: "admin" }],
  ["POST", "/admin/set-user-password", { userId, newPassword: "a-long-password-2" }],
  ["POST", "/admin/ban-user", { userId }],
  ["POST", "/admin/unban-user", { userId }],
  ["POST", "/admin/list-user-sessions", { userId }],
  ["POST", "/admin/revoke-user-session", { sessionToken: "x".repeat(43) }],
  ["POST", "/admin/revoke-user-sessions", { userId }],
  ["POST", "/admin/impersonate-user", { userId }],
  ["POST", "/admin/remove-user", { userId }],
  ["GET", `/admin/audit-log?userId=${userId}`],
];

async function call(method, path, body, cookie) {
  if (method === "GET") {
    const res = await fetch(`${server.api}${path}`, { headers: { cookie } });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch {}
    return { status: res.status, text, body: json, headers: res.headers };
  }
  return post(`${server.api}${path}`, body, { cookie, ...origin });
}

test("a non-admin gets 403 on every admin endpoint, and nothing changes", async () => {
  const plain = await signUp(server);
  const victim = await signUp(server);
  const before = await sql("SELECT name, role, banned FROM auth.users WHERE id::text = $1", [victim.user.id]);
  for (const [method, path, body] of endpoints(victim.user.id)) {
    const r = await call(method, path, body, plain.cookie);
    assertApiError(assert, r, 403);
    assert.equal(r.headers.getSetCookie().length, 0, path);
  }
  assert.deepEqual(await sql("SELECT name, role, banned FROM auth.users WHERE id::text = $1", [victim.user.id]), before);
  assert.notEqual(await sessionOf(victim.cookie), null);
  // and without a session at all: 401
  for (const [method, path, body] of endpoints(victim.user.id)) assertApiError(assert, await call(method, path, body, ""), 401);
});

test("bad input on each endpoint: 4xx {code,message}, nothing written", async () => {
  const admin = await signedInAdmin();
  const victim = await signUp(server);
  const id = victim.user.id;
  const users = async () => (await sql("SELECT count(*)::int AS n FROM auth.users"))[0].n;
  const count = await users();
  const bad = [
    ["POST", "/admin/create-user", { email: "not-an-email", password: "a-long-password-1", name: "X" }],
    ["POST", "/admin/create-user", { email: 7, password: "a-long-password-1", name: "X" }],
    ["POST", "/admin/create-user", { email: uniqueEmail("short"), password: "short", name: "X" }],
    ["POST", "/admin/create-user", { email: victim.email, password: "a-long-password-1", name: "X" }],
    ["GET", "/admin/list-users?limit=abc"],
    ["GET", "/admin/list-users?sortDirection=sideways"],
    ["GET", "/admin/list-users?searchField=password&searchValue=x"],
    ["GET", "/admin/get-user"],
    ["GET", "/admin/get-user?id=no-such-user"],
    ["POST", "/admin/update-user", { userId: id, data: "name" }],
    ["POST", "/admin/update-user", { userId: id, data: {} }],
    ["POST", "/admin/update-user", { userId: id, data: { password: "a-long-password-9" } }],
    ["POST", "/admin/set-role", { userId: id, role: 5 }],
    ["POST", "/admin/set-role", { userId: id }],
    ["POST", "/admin/set-user-password", { userId: id, newPassword: "short" }],
    ["POST", "/admin/set-user-password", { userId: id }],
    ["POST", "/admin/ban-user", { userId: id, banExpiresIn: -5 }],
    ["POST", "/admin/ban-user", { userId: id, banExpiresIn: "soon" }],
    ["POST", "/admin/ban-user", {}],
    ["POST", "/admin/unban-user", { userId: ["x"] }],
    ["POST", "/admin/list-user-sessions", {}],
    ["POST", "/admin/revoke-user-session", {}],
    ["POST", "/admin/revoke-user-sessions", { userId: null }],
    ["POST", "/admin/impersonate-user", {}],
    ["POST", "/admin/remove-user", { userId: admin.user.id }],
    ["POST", "/admin/remove-user", { userId: "no-such-user" }],
    ["POST", "/admin/has-permission", { permissions: "all" }],
    ["POST", "/admin/create-user", "{not json"],
    ["GET", "/admin/audit-log?limit=-1"],
    ["GET", "/admin/audit-log?from=not-a-time"],
  ];
  for (const [method, path, body] of bad) {
    const r = await call(method, path, body, admin.cookie());
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assert.equal(typeof r.body?.code, "string", `${path}: ${r.text}`);
    assert.equal(typeof r.body?.message, "string", `${path}: ${r.text}`);
  }
  assert.equal(await users(), count);
  const after = await sql("SELECT name, role, banned FROM auth.users WHERE id::text = $1", [id]);
  assert.deepEqual(after, [{ name: victim.user.name, role: "user", banned: false }]);
  assert.notEqual(await sessionOf(victim.cookie), null);
});

test("the audit log: each admin event lands once, filtered by user, event and time, with no secret", async () => {
  const admin = await signedInAdmin();
  const user = await signUp(server);
  const since = new Date(Date.now() - 1000).toISOString();
  await admin.client.admin.setRole({ userId: user.user.id, role: "admin" });
  await admin.client.admin.setRole({ userId: user.user.id, role: "user" });
  await admin.client.admin.banUser({ userId: user.user.id, banReason: "audit" });
  await admin.client.admin.unbanUser({ userId: user.user.id });
  await admin.client.admin.impersonateUser({ userId: user.user.id });
  await admin.client.admin.stopImpersonating();
  await admin.client.admin.setUserPassword({ userId: user.user.id, newPassword: "audit-secret-password" });
  const log = await admin.client.$fetch("/admin/audit-log", { method: "GET", query: { userId: user.user.id, from: since, limit: 100 } });
  assert.equal(log.error, null, JSON.stringify(log.error));
  const events = log.data.events.map((e) => e.event);
  for (const e of ["ban", "unban", "impersonation_start", "impersonation_stop", "password_set_by_admin"])
    assert.equal(events.filter((x) => x === e).length, 1, `${e} in ${events}`);
  assert.equal(events.filter((x) => x === "role_change").length, 2, `${events}`);
  assert.ok(log.data.events.every((e) => e.userId === user.user.id));
  assert.ok(log.data.events.filter((e) => e.event !== "sign_in").every((e) => e.actorId === admin.user.id), JSON.stringify(log.data.events));
  assert.ok(log.data.total >= 7);
  const banOnly = await admin.client.$fetch("/admin/audit-log", { method: "GET", query: { userId: user.user.id, event: "ban" } });
  assert.equal(banOnly.data.events.length, 1);
  const future = await admin.client.$fetch("/admin/audit-log", { method: "GET", query: { userId: user.user.id, from: new Date(Date.now() + 3600_000).toISOString() } });
  assert.equal(future.data.events.length, 0);
  // no secret in any row: no password, no session token, no cookie value
  const rows = JSON.stringify(await sql("SELECT * FROM auth.audit_log WHERE user_id::text = $1 OR actor_id::text = $1", [user.user.id]));
  assert.equal(rows.includes("audit-secret-password"), false);
  assert.equal(rows.includes(user.token), false);
  for (const [, v] of admin.jar) assert.equal(rows.includes(decodeURIComponent(v).split(".")[0]), false);
});
