// The user's vault over HTTP: GET/POST /api/user/api-keys. Write-only: every answer is
// the masked list, never a value; the extension checks names, values and limits and
// writes all entries or none.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, post, signUp, sql, startServer } from "./harness.mjs";

const server = await startServer();
const url = `${server.base}/api/user/api-keys`;
const origin = { origin: server.base };

async function list(cookie) {
  const res = await fetch(url, { headers: { cookie } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}
const setKeys = (cookie, body) => post(url, body, { cookie, ...origin });
const read = async (userId, name) =>
  (await sql("SELECT auth.vault_read($1::uuid, $2) AS v", [userId, name]))[0].v;

test("vault: set, mask, replace, delete with null; the plaintext never comes back", async () => {
  const user = await signUp(server);
  const together = "sk-abc12345TOGETHERsecretvalue-0123456wxyz";  // long: first 8 and last 4
  const rabbit = "cr-0123456789abcdefRABBIT";
  const set = await setKeys(user.cookie, { togetherAI: together, codeRabbit: rabbit });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.headers.get("cache-control"), "no-store");
  assert.deepEqual(set.body.keys.map((k) => k.name), ["codeRabbit", "togetherAI"]);
  const t = set.body.keys.find((k) => k.name === "togetherAI");
  assert.equal(t.masked, `${together.slice(0, 8)}…${together.slice(-4)}`);
  assert.equal(typeof t.updatedAt, "string");
  const got = await list(user.cookie);
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.body, set.body);
  for (const text of [set.text, got.text]) {
    assert.ok(!text.includes(together) && !text.includes(rabbit), text);
    assert.ok(!text.includes("TOGETHERsecret") && !text.includes("RABBIT"), text);
  }
  assert.equal(await read(user.user.id, "togetherAI"), together);

  const replaced = "sk-NEWVALUE-000000000000000000000000-9876";
  const r = await setKeys(user.cookie, { togetherAI: replaced });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.keys.find((k) => k.name === "togetherAI").masked, "sk-NEWVA…9876");
  assert.equal(await read(user.user.id, "togetherAI"), replaced);
  assert.ok(!r.text.includes(replaced));

  const d = await setKeys(user.cookie, { codeRabbit: null });
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.body.keys.map((k) => k.name), ["togetherAI"]);
  assert.equal(await read(user.user.id, "codeRabbit"), null);
  // Another user sees none of it.
  const other = await signUp(server);
  assert.deepEqual((await list(other.cookie)).body.keys, []);
});

test("vault: short values reveal at most a third of their characters", async () => {
  const user = await signUp(server);
  const r = await setKeys(user.cookie, { twelve: "abcdefghijkl", six: "abcdef" });
  assert.equal(r.status, 200, r.text);
  const masked = Object.fromEntries(r.body.keys.map((k) => [k.name, k.masked]));
  assert.equal(masked.twelve, "ab…kl");
  assert.equal(masked.six, "…");
});

test("vault: no session is 401; an unknown API key alone is 401 INVALID_API_KEY", async () => {
  const res = await fetch(url);
  assert.equal(res.status, 401);
  assert.equal((await res.json()).code, "UNAUTHORIZED");
  assertApiError(assert, await post(url, { a: "b" }, origin), 401, "UNAUTHORIZED");
  // a key acts as its user here (api-keys.test.mjs); one that names no key is refused
  const withKey = await post(url, { a: "b" }, { ...origin, "x-api-key": "x".repeat(64) });
  assertApiError(assert, withKey, 401, "INVALID_API_KEY");
});

test("vault: hostile names, bad values and limits are 4xx {code,message} and write nothing", async () => {
  const user = await signUp(server);
  assert.equal((await setKeys(user.cookie, { keep: "kept-value-123456" })).status, 200);
  const before = (await list(user.cookie)).text;
  const cases = [
    [{ good: "value-1234567", "1bad": "x" }, 400, "INVALID_VAULT_NAME"],
    [{ good: "value-1234567", "a/../b": "x" }, 400, "INVALID_VAULT_NAME"],
    [{ good: "value-1234567", ["a".repeat(65)]: "x" }, 400, "INVALID_VAULT_NAME"],
    [{ good: "value-1234567", "": "x" }, 400, "INVALID_VAULT_NAME"],
    [{ good: "value-1234567", "name with space": "x" }, 400, "INVALID_VAULT_NAME"],
    [{ good: "value-1234567", other: 5 }, 400, "VALIDATION_ERROR"],
    [{ good: "value-1234567", other: ["x"] }, 400, "VALIDATION_ERROR"],
    [{ good: "value-1234567", other: "" }, 400, "VALIDATION_ERROR"],
    [{ good: "value-1234567", big: "v".repeat(8193) }, 413, "VAULT_VALUE_TOO_LARGE"],
    [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "value-1234567"])), 400, "VAULT_FULL"],
    ['{"good":"value-1234567","bad":"a\\u0000b"}', 400, "VALIDATION_ERROR"],
    ['{"good":"value-1234567","a\\u0000b":"x"}', 400, "VALIDATION_ERROR"],
    ['{"good":"value-1234567",', 400, "BAD_REQUEST"],
    ["[1,2]", 400, "VALIDATION_ERROR"],
    ['"just a string"', 400, "VALIDATION_ERROR"],
  ];
  for (const [body, status, code] of cases) {
    const r = await setKeys(user.cookie, body);
    assertApiError(assert, r, status, code);
    assert.equal((await list(user.cookie)).text, before, `partial write after ${JSON.stringify(body).slice(0, 80)}`);
  }
  // A NUL is refused by pgauth-http, saying why, before the database sees it.
  const nul = await setKeys(user.cookie, '{"bad":"a\\u0000b"}');
  assert.match(nul.body.message, /NUL/);
  // Larger than the server's body limit.
  // (The server answers 413 and closes the connection; the upload may fail before the answer is read.)
  const huge = await setKeys(user.cookie, { big: "v".repeat(1100 * 1024) }).catch(() => null);
  if (huge) assertApiError(assert, huge, 413, "PAYLOAD_TOO_LARGE");
  assert.equal((await list(user.cookie)).text, before);
  // Not JSON at all.
  const form = await post(url, "a=b", { cookie: user.cookie, ...origin, "content-type": "application/x-www-form-urlencoded" });
  assertApiError(assert, form, 415);
  assert.equal((await list(user.cookie)).text, before);
});
