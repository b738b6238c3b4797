// Better-Auth's apiKey plugin over HTTP (/api/auth/api-key/*), with the official client
// plugin, and requests authenticated by x-api-key (enableSessionForAPIKeys).
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiKeyClient } from "@better-auth/api-key/client";
import { assertApiError, authClient, post, signUp, sql, startServer } from "./harness.mjs";

const server = await startServer();
const origin = { origin: server.base };

async function signedInClient() {
  const user = await signUp(server);
  const { client } = authClient(server, [apiKeyClient()]);
  const r = await client.signIn.email({ email: user.email, password: user.password });
  assert.equal(r.error, null);
  return { user, client };
}

async function createKey(client, body = {}) {
  const { data, error } = await client.apiKey.create({ name: "test key", rateLimitEnabled: false, ...body });
  assert.equal(error, null, JSON.stringify(error));
  return data;
}

const getSessionWithKey = async (key, headers = {}) => {
  const res = await fetch(`${server.api}/get-session`, { headers: { "x-api-key": key, ...headers } });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, text, body, headers: res.headers };
};
const verify = (key, permissions) => post(`${server.api}/api-key/verify`, permissions ? { key, permissions } : { key });
const keyRow = async (id) => (await sql("SELECT * FROM auth.api_keys WHERE id = $1::uuid", [id]))[0];
const keyCount = async (userId) =>
  (await sql("SELECT count(*)::int AS n FROM auth.api_keys WHERE user_id = $1::uuid", [userId]))[0].n;

test("create, list, get, update, delete through the official client; the key is shown once", async () => {
  const { user, client } = await signedInClient();
  const created = await createKey(client, { name: "ci", prefix: "pga_", metadata: { team: "ops" } });
  assert.equal(typeof created.key, "string");
  assert.ok(created.key.startsWith("pga_"));
  assert.equal(created.name, "ci");
  assert.equal(created.enabled, true);
  assert.deepEqual(created.metadata, { team: "ops" });
  // Stored as a digest only.
  const row = await keyRow(created.id);
  assert.ok(!JSON.stringify(row).includes(created.key));

  const list = await client.apiKey.list();
  assert.equal(list.error, null, JSON.stringify(list.error));
  assert.equal(list.data.total, 1);
  const listed = list.data.apiKeys.find((k) => k.id === created.id);
  assert.ok(listed, JSON.stringify(list.data));
  assert.equal(listed.key, undefined);

  const got = await client.apiKey.get({ query: { id: created.id } });
  assert.equal(got.error, null, JSON.stringify(got.error));
  assert.equal(got.data.id, created.id);
  assert.equal(got.data.key, undefined);
  assert.ok(!JSON.stringify(got.data).includes(created.key));

  const upd = await client.apiKey.update({ keyId: created.id, name: "renamed" });
  assert.equal(upd.error, null, JSON.stringify(upd.error));
  assert.equal(upd.data.name, "renamed");
  assert.equal((await client.apiKey.get({ query: { id: created.id } })).data.name, "renamed");

  const del = await client.apiKey.delete({ keyId: created.id });
  assert.equal(del.error, null, JSON.stringify(del.error));
  assert.equal(del.data.success, true);
  const gone = await client.apiKey.get({ query: { id: created.id } });
  assert.equal(gone.error?.status, 404);
  assert.equal(gone.error?.code, "KEY_NOT_FOUND");
  assert.equal(await keyCount(user.user.id), 0);
});

test("another user's key id is not found, for get, update and delete", async () => {
  const a = await signedInClient();
  const b = await signedInClient();
  const key = await createKey(a.client);
  for (const r of [
    await b.client.apiKey.get({ query: { id: key.id } }),
    await b.client.apiKey.update({ keyId: key.id, name: "stolen" }),
    await b.client.apiKey.delete({ keyId: key.id }),
  ]) {
    assert.equal(r.error?.status, 404, JSON.stringify(r));
    assert.equal(r.error?.code, "KEY_NOT_FOUND");
  }
  assert.equal((await keyRow(key.id)).name, "test key");
});

test("x-api-key acts as the key's user on get-session, without a session JWT", async () => {
  const { user, client } = await signedInClient();
  const key = await createKey(client);
  const r = await getSessionWithKey(key.key);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.user.id, user.user.id);
  assert.equal(r.body.session.userId, user.user.id);
  assert.equal(r.body.session.token, key.id);  // the key's id, never the key
  assert.ok(!r.text.includes(key.key));
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.equal(r.headers.get("set-auth-jwt"), null);  // a JWT would outlive the key's revocation
  // A session cookie wins over the key.
  const other = await signUp(server);
  const both = await getSessionWithKey(key.key, { cookie: other.cookie });
  assert.equal(both.body.user.id, other.user.id);
  // An unknown key: Better-Auth's error.
  const bad = await getSessionWithKey("pga_" + "z".repeat(64));
  assertApiError(assert, bad, 401, "INVALID_API_KEY");
});

test("x-api-key acts as its user on every session route, through the official client", async () => {
  const { user, client } = await signedInClient();
  const key = await createKey(client, { remaining: 100 });
  const { client: keyClient } = authClient(server, [apiKeyClient()]);  // no cookie: the key alone
  const withKey = { fetchOptions: { headers: { "x-api-key": key.key } } };
  const sessions = await keyClient.listSessions(withKey);
  assert.equal(sessions.error, null, JSON.stringify(sessions.error));
  const live = (await sql("SELECT count(*)::int AS n FROM auth.sessions WHERE user_id = $1::uuid", [user.user.id]))[0].n;
  assert.equal(sessions.data.length, live);  // the user's real sessions (sign-up's and sign-in's)
  assert.ok(live >= 1 && sessions.data.every((s) => s.userId === user.user.id));
  const updated = await keyClient.updateUser({ name: "Renamed By Key", ...withKey });
  assert.equal(updated.error, null, JSON.stringify(updated.error));
  assert.equal((await sql("SELECT name FROM auth.users WHERE id = $1::uuid", [user.user.id]))[0].name, "Renamed By Key");
  const listed = await keyClient.apiKey.list(withKey);
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  assert.equal(listed.data.total, 1);
  const vault = await fetch(`${server.base}/api/user/api-keys`, { headers: { "x-api-key": key.key } });
  assert.equal(vault.status, 200, await vault.text());
  const revoked = await keyClient.revokeOtherSessions(withKey);
  assert.equal(revoked.error, null, JSON.stringify(revoked.error));
  // every request consumed one use: get-session is not special
  assert.equal((await keyRow(key.id)).remaining, 100 - 5);
  // revoke-other-sessions acted as the user: the mock session is no session, so none is kept (as Better-Auth)
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.sessions WHERE user_id = $1::uuid", [user.user.id]))[0].n, 0);
  assert.equal((await client.getSession()).data, null);
});

test("a key cannot manage keys, change the password, delete the user or mint a JWT: 403 API_KEY_NOT_ALLOWED", async () => {
  const { user, client } = await signedInClient();
  const key = await createKey(client, { remaining: 100 });
  const { client: keyClient } = authClient(server, [apiKeyClient()]);
  const withKey = { fetchOptions: { headers: { "x-api-key": key.key } } };
  const refusals = [
    await keyClient.apiKey.create({ name: "minted", ...withKey }),
    await keyClient.apiKey.update({ keyId: key.id, remaining: 1000000, ...withKey }),
    await keyClient.apiKey.delete({ keyId: key.id, ...withKey }),
    await keyClient.changePassword({ currentPassword: user.password, newPassword: "another-password-1", ...withKey }),
    await keyClient.deleteUser({ password: user.password, ...withKey }),
  ];
  for (const r of refusals) {
    assert.equal(r.error?.status, 403, JSON.stringify(r));
    assert.equal(r.error.code, "API_KEY_NOT_ALLOWED");
  }
  const token = await fetch(`${server.api}/token`, { headers: { "x-api-key": key.key } });
  assert.equal(token.status, 403);
  assert.equal((await token.json()).code, "API_KEY_NOT_ALLOWED");
  // sign-out with a key alone: Better-Auth's answer (there is no session to end)
  const out = await fetch(`${server.api}/sign-out`, { method: "POST", headers: { "x-api-key": key.key, origin: server.base } });
  assert.equal(out.status, 400);
  // nothing changed, and the refusals used nothing
  assert.equal(await keyCount(user.user.id), 1);
  const row = await keyRow(key.id);
  assert.equal(row.remaining, 100);
  assert.equal((await client.signIn.email({ email: user.email, password: user.password })).error, null);
});

test("an expired key is refused", async () => {
  const { client } = await signedInClient();
  const key = await createKey(client, { expiresIn: 60 * 60 * 24 * 7 });
  assert.equal((await getSessionWithKey(key.key)).status, 200);
  await sql("UPDATE auth.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1::uuid", [key.id]);
  assertApiError(assert, await getSessionWithKey(key.key), 401, "KEY_EXPIRED");
  const v = await verify(key.key);
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.valid, false);
  assert.equal(v.body.error.code, "KEY_EXPIRED");
});

test("remaining runs out, then a refill restores it", async () => {
  const { client } = await signedInClient();
  const key = await createKey(client, { remaining: 2, refillAmount: 2, refillInterval: 3600000 });
  assert.equal(key.remaining, 2);
  assert.equal((await getSessionWithKey(key.key)).status, 200);
  assert.equal((await verify(key.key)).body.valid, true);
  assertApiError(assert, await getSessionWithKey(key.key), 429, "USAGE_EXCEEDED");
  assert.equal((await verify(key.key)).body.error.code, "USAGE_EXCEEDED");
  await sql("UPDATE auth.api_keys SET last_refill_at = now() - interval '2 hours' WHERE id = $1::uuid", [key.id]);
  assert.equal((await getSessionWithKey(key.key)).status, 200);
});

test("50 parallel verifies against remaining 10 succeed exactly 10 times", async () => {
  const { client } = await signedInClient();
  const key = await createKey(client, { remaining: 10 });
  const results = await Promise.all(Array.from({ length: 50 }, () => verify(key.key)));
  for (const r of results) assert.equal(r.status, 200, r.text);
  assert.equal(results.filter((r) => r.body.valid).length, 10);
  assert.equal((await keyRow(key.id)).remaining, 0);
  const sessions = await Promise.all(Array.from({ length: 10 }, () => getSessionWithKey(key.key)));
  assert.ok(sessions.every((r) => r.status === 429), sessions.map((r) => r.status).join(","));
});

test("the per-key rate limit holds under concurrent use", async () => {
  const { client } = await signedInClient();
  const key = await createKey(client, { rateLimitEnabled: true, rateLimitMax: 5, rateLimitTimeWindow: 60000 });
  const results = await Promise.all(Array.from({ length: 20 }, () => getSessionWithKey(key.key)));
  assert.equal(results.filter((r) => r.status === 200).length, 5, results.map((r) => r.status).join(","));
  for (const r of results.filter((r) => r.status !== 200)) {
    assertApiError(assert, r, 429, "RATE_LIMITED");
    // when the window ends, from the extension's structured retry (the error's HINT)
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, r.headers.get("retry-after"));
    assert.equal(r.headers.get("x-retry-after"), String(retry));
  }
});

test("permissions: verify checks what the key may do", async () => {
  const { client } = await signedInClient();
  const key = await createKey(client, { permissions: { files: ["read"] } });
  const ok = await verify(key.key, { files: ["read"] });
  assert.equal(ok.body.valid, true, ok.text);
  assert.deepEqual(ok.body.key.permissions, { files: ["read"] });
  assert.equal(ok.body.key.key, undefined);
  const no = await verify(key.key, { files: ["write"] });
  assert.equal(no.body.valid, false, no.text);
  assert.equal(no.body.key, null);
});

test("a revoked key dies at once; a disabled one too", async () => {
  const { client } = await signedInClient();
  const a = await createKey(client);
  const b = await createKey(client);
  assert.equal((await getSessionWithKey(a.key)).status, 200);
  assert.equal((await client.apiKey.delete({ keyId: a.id })).data.success, true);
  assertApiError(assert, await getSessionWithKey(a.key), 401, "INVALID_API_KEY");
  assert.equal((await verify(a.key)).body.valid, false);
  assert.equal((await client.apiKey.update({ keyId: b.id, enabled: false })).error, null);
  assertApiError(assert, await getSessionWithKey(b.key), 401, "KEY_DISABLED");
});

test("bad input on every endpoint is 4xx {code,message} and writes nothing", async () => {
  const { user, client } = await signedInClient();
  const key = await createKey(client);
  // user.cookie: the session sign-up opened (the client holds another).
  const jar = (path, body) => post(`${server.api}${path}`, body, { ...origin, cookie: user.cookie });
  const before = await keyCount(user.user.id);
  const common = [["{", 400, "BAD_REQUEST"], ["[]", 400, "VALIDATION_ERROR"], ['"text"', 400, "VALIDATION_ERROR"]];
  const bodies = {
    "/api-key/create": [...common,
      ['{"name":"a\\u0000b"}', 400, "VALIDATION_ERROR"],
      ['{"metadata":{"a\\u0000":1}}', 400, "VALIDATION_ERROR"],
      [{ name: 5 }, 400], [{ name: "x".repeat(33) }, 400], [{ metadata: "not an object" }, 400],
      [{ expiresIn: "soon" }, 400], [{ remaining: -1 }, 400], [{ prefix: "bad prefix!" }, 400],
      [{ refillAmount: 5 }, 400], [{ permissions: "all" }, 400]],
    "/api-key/update": [...common,
      [`{"keyId":"${key.id}","name":"a\\u0000b"}`, 400, "VALIDATION_ERROR"],
      [{ keyId: 5, name: "x" }, 400], [{ name: "x" }, 400], [{ keyId: key.id, name: ["x"] }, 400],
      [{ keyId: key.id, expiresIn: "soon" }, 400], [{ keyId: key.id, enabled: "no" }, 400], [{ keyId: key.id }, 400]],
    "/api-key/delete": [...common,
      ['{"keyId":"a\\u0000b"}', 400, "VALIDATION_ERROR"], [{ keyId: 5 }, 400], [{}, 400]],
  };
  for (const [path, list] of Object.entries(bodies)) {
    for (const [body, status, code] of list) {
      const r = await jar(path, body);
      assertApiError(assert, r, status, code);
      if (status === 400 && typeof body === "string" && body.includes("u0000")) assert.match(r.body.message, /NUL/);
    }
    assertApiError(assert, await post(`${server.api}${path}`, { keyId: key.id }, origin), 401, "UNAUTHORIZED");
  }
  assert.equal(await keyCount(user.user.id), before);
  assert.equal((await keyRow(key.id)).name, "test key");
  // verify: the key must be a string
  for (const [body, status, code] of [["{", 400, "BAD_REQUEST"], [{}, 400, "VALIDATION_ERROR"], [{ key: 5 }, 400, "VALIDATION_ERROR"],
                                      ['{"key":"a\\u0000b"}', 400, "VALIDATION_ERROR"]])
    assertApiError(assert, await post(`${server.api}/api-key/verify`, body), status, code);
  // get: ?id= is required, percent-decoded, and never a NUL or a control character
  const get = async (query) => {
    const res = await fetch(`${server.api}/api-key/get${query}`, { headers: { cookie: user.cookie } });
    return { status: res.status, text: await res.clone().text(), body: await res.json() };
  };
  assertApiError(assert, await get(""), 400, "VALIDATION_ERROR");
  assertApiError(assert, await get("?id="), 400, "VALIDATION_ERROR");
  assertApiError(assert, await get("?id=%00"), 400, "VALIDATION_ERROR");
  assertApiError(assert, await get("?id=%zz"), 400, "VALIDATION_ERROR");
  assertApiError(assert, await get(`?id=${"a".repeat(200)}`), 400, "VALIDATION_ERROR");
  assertApiError(assert, await get("?id=not-a-uuid"), 404, "KEY_NOT_FOUND");
  const ok = await get(`?id=${encodeURIComponent(key.id)}`);
  assert.equal(ok.status, 200, ok.text);
  const noSession = await fetch(`${server.api}/api-key/get?id=${key.id}`);
  assert.equal(noSession.status, 401);
  const listNoSession = await fetch(`${server.api}/api-key/list`);
  assert.equal(listNoSession.status, 401);
});

test("hostile x-api-key values are 4xx {code,message} on any session route", async () => {
  const cases = [
    ["get-session", "\u00ff\u00feabc", 400, "VALIDATION_ERROR"],  // not UTF-8 once on the wire
    ["list-sessions", "a".repeat(3000), 401, "INVALID_API_KEY"],  // longer than any key
    ["get-session", "apikey:abc", 401, "INVALID_API_KEY"],
    ["list-sessions", "pga_" + "z".repeat(64), 401, "INVALID_API_KEY"],
  ];
  for (const [route, key, status, code] of cases) {
    const res = await fetch(`${server.api}/${route}`, { headers: { "x-api-key": key } });
    const text = await res.text();
    assert.equal(res.status, status, `${route} ${key.slice(0, 12)}: ${text}`);
    assert.equal(JSON.parse(text).code, code);
  }
});
