// GET /api/auth/jwks, and cross-checks with jose: tokens signed in SQL verify with
// jose through /jwks for EdDSA, ES256 and RS256; tokens signed by jose with keys
// imported into auth.jwks verify in SQL, and every rule that needs a valid
// signature to reach (payload shape, claim types, alg pinning) rejects in SQL.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CompactSign, SignJWT, calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, exportJWK,
  generateKeyPair, importJWK, jwtVerify,
} from "jose";
import { freshSql, signUp, startServer } from "./harness.mjs";

const server = await startServer({}, { issuer: true });
const ISSUER = server.base;
const now = () => Math.floor(Date.now() / 1000);

async function jwks() {
  const r = await fetch(`${server.api}/jwks`);
  assert.equal(r.status, 200);
  return { headers: r.headers, body: await r.json() };
}

// verify_jwt in SQL on a fresh connection (it sees the database's pgauth.base_url)
async function sqlVerify(token, audience = null) {
  try {
    const [row] = await freshSql("SELECT auth.verify_jwt($1, $2) AS claims", [token, audience]);
    return { claims: row.claims };
  } catch (e) {
    return { code: e.detail, message: e.message };
  }
}

test("GET /jwks: public keys only, RFC 7638 kids, cacheable", async () => {
  const { headers, body } = await jwks();
  assert.match(headers.get("content-type"), /application\/json/);
  assert.match(headers.get("cache-control"), /^public, max-age=\d+$/);
  assert.ok(body.keys.length >= 1);
  for (const key of body.keys) {
    for (const secret of ["d", "p", "q", "dp", "dq", "qi", "k"]) assert.equal(key[secret], undefined, `JWK has ${secret}`);
    assert.equal(key.kid, await calculateJwkThumbprint(key, "sha256"));
    assert.equal(key.use, "sig");
  }
});

test("GET /jwks is served from memory: no query per request", async () => {
  // a second server whose connections count function calls (track_functions is set per database)
  const [{ db }] = await freshSql("SELECT current_database() AS db");
  await freshSql(`ALTER DATABASE "${db}" SET track_functions = 'all'`);
  // kept on until the end: the server may open a pooled connection only when a request needs it
  const counted = await startServer({ PGAUTH_THREADS: "2" });
  try {
  // A backend flushes its statistics at most once a second, and an idle one that flushed less
  // than a second ago waits PGSTAT_IDLE_INTERVAL (10 s): allow more than that either way.
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const calls = async () =>
    Number((await freshSql("SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_user_functions WHERE schemaname = 'auth' AND funcname = 'jwks'"))[0].n);
  const before = await calls();
  assert.equal((await fetch(`${counted.api}/jwks`)).status, 200);
  let first = await calls();
  for (let i = 0; i < 60 && first === before; i++) first = (await sleep(250), await calls());
  assert.ok(first > before, "the first request queried auth.jwks() (the counter works)");
  for (let i = 0; i < 200; i++) assert.equal((await fetch(`${counted.api}/jwks`)).status, 200);
  await sleep(11_000);
  const after = await calls();
  assert.ok(after - first <= 1, `auth.jwks() ran ${after - first} times for 200 requests`);
  } finally {
    await counted.stop();
    await freshSql(`ALTER DATABASE "${db}" RESET track_functions`);
  }
});

for (const alg of ["EdDSA", "ES256", "RS256"]) {
  test(`${alg}: tokens signed in SQL verify with jose through /jwks`, async () => {
    const user = await signUp(server);
    const before = await (await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } })).json();
    const [{ kid }] = await freshSql("SELECT auth.rotate_signing_key($1) AS kid", [alg]);
    assert.notEqual(decodeProtectedHeader(before.token).kid, kid);
    // a token issued over HTTP under the new kid refreshes the server's copy at once
    const r = await fetch(`${server.api}/token`, { headers: { cookie: user.cookie } });
    const { token } = await r.json();
    assert.equal(decodeProtectedHeader(token).kid, kid);
    assert.equal(decodeProtectedHeader(token).alg, alg);
    const JWKS = createRemoteJWKSet(new URL(`${server.api}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, JWKS, { issuer: ISSUER, audience: ISSUER, algorithms: [alg] });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(payload.email, user.email);
    // and sign_jwt with an audience
    const [{ t }] = await freshSql("SELECT auth.sign_jwt('{\"sub\": \"svc\", \"scope\": \"orders:read\"}', interval '2 minutes', 'api://orders') AS t");
    const checked = await jwtVerify(t, JWKS, { issuer: ISSUER, audience: "api://orders" });
    assert.equal(checked.payload.scope, "orders:read");
    assert.equal(checked.payload.exp - checked.payload.iat, 120);
    const key = (await jwks()).body.keys.find((k) => k.kid === kid);
    assert.equal(key.alg, alg);
  });
}

test("a rotation reaches /jwks within the freshness period even without a token", async () => {
  const [{ kid }] = await freshSql("SELECT auth.rotate_signing_key('EdDSA') AS kid");
  let seen = false;
  for (let i = 0; i < 40 && !seen; i++) {
    seen = (await jwks()).body.keys.some((k) => k.kid === kid);
    if (!seen) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(seen, "the new key was not published within 10 s");
});

const KEYGEN = { EdDSA: ["EdDSA", { crv: "Ed25519" }], ES256: ["ES256", {}], RS256: ["RS256", { modulusLength: 2048 }] };

async function importedKey(alg) {
  const { publicKey, privateKey } = await generateKeyPair(KEYGEN[alg][0], { ...KEYGEN[alg][1], extractable: true });
  const jwk = await exportJWK(publicKey);
  const [{ kid }] = await freshSql("SELECT auth.import_signing_key($1) AS kid", [jwk]);
  assert.equal(kid, await calculateJwkThumbprint(jwk, "sha256"));
  return { kid, privateKey, publicKey, jwk };
}

for (const alg of ["EdDSA", "ES256", "RS256"]) {
  test(`${alg}: tokens signed by jose with an imported key verify in SQL`, async () => {
    const { kid, privateKey } = await importedKey(alg);
    const token = await new SignJWT({ sub: "jose-user", role: "tester" })
      .setProtectedHeader({ alg, kid })
      .setIssuedAt()
      .setIssuer(ISSUER)
      .setAudience("api://jose")
      .setExpirationTime("5m")
      .sign(privateKey);
    const ok = await sqlVerify(token, "api://jose");
    assert.equal(ok.claims?.sub, "jose-user", JSON.stringify(ok));
    assert.equal(ok.claims.role, "tester");
    assert.match((await sqlVerify(token, "api://other")).message, /wrong audience/);
    // an imported public key is never used to sign
    const [{ t }] = await freshSql("SELECT auth.sign_jwt('{}') AS t");
    assert.notEqual(decodeProtectedHeader(t).kid, kid);
  });
}

test("rules behind a valid signature reject in SQL", async () => {
  const { kid, privateKey } = await importedKey("EdDSA");
  const sign = (claims, header = {}) =>
    new CompactSign(new TextEncoder().encode(typeof claims === "string" ? claims : JSON.stringify(claims)))
      .setProtectedHeader({ alg: "EdDSA", kid, ...header })
      .sign(privateKey);
  const base = { iss: ISSUER, iat: now(), exp: now() + 300 };
  const expectReject = async (token, pattern) => {
    const r = await sqlVerify(token);
    assert.equal(r.code, "INVALID_TOKEN", JSON.stringify(r));
    assert.match(r.message, pattern);
  };
  assert.equal((await sqlVerify(await sign(base))).claims.iss, ISSUER);
  await expectReject(await sign("[1, 2, 3]"), /the payload is not a JSON object/);
  await expectReject(await sign('"just a string"'), /the payload is not a JSON object/);
  await expectReject(await sign("{not json"), /the payload is not a JSON object/);
  await expectReject(await sign({ ...base, exp: undefined }), /the token has no exp/);
  await expectReject(await sign({ ...base, exp: "tomorrow" }), /exp is not a number/);
  await expectReject(await sign({ ...base, iat: now() + 3600 }), /issued in the future/);
  await expectReject(await sign({ ...base, nbf: now() + 3600 }), /not yet valid/);
  await expectReject(await sign({ ...base, exp: now() - 3600 }), /has expired/);
  await expectReject(await sign({ ...base, iss: "https://evil.example" }), /wrong issuer/);
  await expectReject(await sign({ ...base, iss: undefined }), /wrong issuer/);
  await expectReject(await sign(base, { crit: ["b64"], b64: true }), /critical header/);
});

test("the algorithm comes from the key, never from the header", async () => {
  const rsa = await importedKey("RS256");
  // PS256 with the RS256 key's own private key: a valid signature, under the wrong algorithm
  const psKey = await importJWK({ ...(await exportJWK(rsa.privateKey)), alg: "PS256" }, "PS256");
  const ps = await new SignJWT({ iss: ISSUER })
    .setProtectedHeader({ alg: "PS256", kid: rsa.kid })
    .setExpirationTime("5m")
    .sign(psKey);
  assert.match((await sqlVerify(ps)).message, /alg does not match the key/);
  // HS256 keyed with the published Ed25519 public key (the classic key-confusion forgery)
  const ed = await importedKey("EdDSA");
  const secret = Buffer.from(ed.jwk.x, "base64url");
  const hs = await new SignJWT({ iss: ISSUER, sub: "admin" })
    .setProtectedHeader({ alg: "HS256", kid: ed.kid })
    .setExpirationTime("5m")
    .sign(secret);
  assert.match((await sqlVerify(hs)).message, /alg does not match the key/);
  // a key jose made that we never imported
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const stranger = await new SignJWT({ iss: ISSUER })
    .setProtectedHeader({ alg: "EdDSA", kid: "stranger" })
    .setExpirationTime("5m")
    .sign(privateKey);
  assert.match((await sqlVerify(stranger)).message, /unknown kid/);
  // a stranger's signature under one of our kids
  const impostor = await new SignJWT({ iss: ISSUER })
    .setProtectedHeader({ alg: "EdDSA", kid: ed.kid })
    .setExpirationTime("5m")
    .sign(privateKey);
  assert.match((await sqlVerify(impostor)).message, /bad signature/);
});

test("hostile /jwks requests: query strings, methods and bodies change nothing", async () => {
  const plain = (await jwks()).body;
  const q = await fetch(`${server.api}/jwks?kid=../../etc/passwd&alg=none`);
  assert.equal(q.status, 200);
  assert.deepEqual(await q.json(), plain);
  const p = await fetch(`${server.api}/jwks`, {
    method: "POST", body: "{}", headers: { "content-type": "application/json", origin: server.base },
  });
  assert.equal(p.status, 405);
  const body = await p.json();
  assert.equal(typeof body.code, "string");
  assert.equal(typeof body.message, "string");
});
