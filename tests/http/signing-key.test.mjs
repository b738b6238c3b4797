// Without a usable signing key (pgauth.key_file empty for pgauth-http's role): sessions
// keep working, get-session answers without set-auth-jwt (and says so once in the log),
// /token is 503 SIGNING_KEY_UNAVAILABLE, and /health names the key problem with a 200.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DATABASE_URL, assertApiError, signUp, sql, startServer } from "./harness.mjs";

const role = decodeURIComponent(new URL(DATABASE_URL).username);

test("no usable signing key: get-session works without set-auth-jwt, /token 503, /health names it", async () => {
  await sql(`ALTER ROLE "${role}" SET pgauth.key_file = ''`);
  try {
    const server = await startServer();
    const user = await signUp(server);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${server.api}/get-session`, { headers: { cookie: user.cookie } });
      assert.equal(r.status, 200);
      assert.equal((await r.json())?.user?.id, user.user.id);
      assert.equal(r.headers.get("set-auth-jwt"), null);
    }
    const warnings = server.logs.stderr.split("\n").filter((l) => l.includes("without set-auth-jwt"));
    assert.equal(warnings.length, 1, server.logs.stderr);
    assert.match(warnings[0], /SIGNING_KEY_UNAVAILABLE/);

    const t = await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } });
    const body = await t.json();
    assertApiError(assert, { status: t.status, body, text: JSON.stringify(body) }, 503, "SIGNING_KEY_UNAVAILABLE");

    const h = await fetch(`${server.base}/health`);
    assert.equal(h.status, 200);
    const health = await h.json();
    assert.equal(health.status, "degraded");
    assert.equal(health.database, "ok");
    assert.match(health.signing_key, /^SIGNING_KEY_UNAVAILABLE: \S/);
  } finally {
    await sql(`ALTER ROLE "${role}" RESET pgauth.key_file`);
  }
});
