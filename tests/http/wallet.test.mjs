// /api/wallet/generate, /api/wallet, /api/wallet/balance against the local OASIS stand-in.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startOasis } from "../tools/oasis-fake.mjs";
import { assertApiError, post, signUp, sql, startServer } from "./harness.mjs";

const oasis = await startOasis();
after(() => oasis.close());
const server = await startServer({ PGAUTH_OASIS_URL: oasis.url, PGAUTH_OASIS_ADMIN_USERNAME: oasis.adminUser,
                                   PGAUTH_OASIS_ADMIN_PASSWORD: oasis.adminPassword, PGAUTH_THREADS: "8" });
const generate = (user, body = { providerType: "SolanaOASIS" }) =>
  post(`${server.base}/api/wallet/generate`, body, { cookie: user.cookie });

test("50 concurrent first requests: exactly one OASIS registration, one avatar", async () => {
  const user = await signUp(server);
  const before = oasis.state.calls.register ?? 0;
  const results = await Promise.all(Array.from({ length: 50 }, () => generate(user)));
  const ok = results.filter((r) => r.status === 200);
  assert.ok(ok.length >= 1, results.map((r) => r.status).join(","));
  for (const r of results.filter((r) => r.status !== 200)) assertApiError(assert, r, 503, "AVATAR_PROVIDER_UNAVAILABLE");
  assert.equal((oasis.state.calls.register ?? 0) - before, 1);
  assert.equal(new Set(ok.map((r) => r.body.avatarId)).size, 1);
  assert.equal(ok[0].body.success, true);
  assert.equal(ok[0].body.wallet.providerType, "SolanaOASIS");
  const links = await sql("SELECT state, avatar_id FROM auth.avatar_links WHERE user_id = $1", [user.user.id]);
  assert.deepEqual(links, [{ state: "linked", avatar_id: ok[0].body.avatarId }]);
});

test("OASIS down: 503, no half-made link; OASIS back: success", async () => {
  const user = await signUp(server);
  oasis.state.mode = "down";
  try {
    assertApiError(assert, await generate(user), 503, "AVATAR_PROVIDER_UNAVAILABLE");
  } finally {
    oasis.state.mode = "ok";
  }
  const links = await sql("SELECT state, avatar_id FROM auth.avatar_links WHERE user_id = $1", [user.user.id]);
  assert.ok(links.length === 0 || (links[0].state === "failed" && links[0].avatar_id === null), JSON.stringify(links));
  const r = await generate(user, { providerType: "EthereumOASIS", setAsDefault: true });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.wallet.isDefault, true);
});

test("email already in use at OASIS: the existing avatar is linked", async () => {
  const user = await signUp(server);
  oasis.state.avatars.set(user.email, { id: "pre-existing-avatar", email: user.email });
  const r = await generate(user);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.avatarId, "pre-existing-avatar");
});

test("an expired admin token is refreshed", async () => {
  const user = await signUp(server);
  await generate(user);
  const before = oasis.state.calls.authenticate;
  oasis.expireTokens();
  assert.equal((await generate(user)).status, 200);
  assert.equal(oasis.state.calls.authenticate, before + 1);
});

test("list and balance; a failed balance is reported per wallet", async () => {
  const user = await signUp(server);
  const empty = await (await fetch(`${server.base}/api/wallet`, { headers: { cookie: user.cookie } })).json();
  assert.deepEqual(empty.wallets, []);
  await generate(user);
  const list = await (await fetch(`${server.base}/api/wallet`, { headers: { cookie: user.cookie } })).json();
  assert.equal(list.wallets.length, 1);
  const balance = await (await fetch(`${server.base}/api/wallet/balance`, { headers: { cookie: user.cookie } })).json();
  assert.equal(balance.balances[0].balance.amount, "1.5");
  oasis.state.mode = "balance_fails";
  try {
    const r = await fetch(`${server.base}/api/wallet/balance`, { headers: { cookie: user.cookie } });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.balances[0].balance, null);
    assert.equal(b.balances[0].error, "balance unavailable");
  } finally {
    oasis.state.mode = "ok";
  }
});

test("deleting the user removes the link; bad input and no session", async () => {
  const user = await signUp(server);
  assert.equal((await generate(user)).status, 200);
  await post(`${server.api}/delete-user`, { password: user.password }, { cookie: user.cookie });
  assert.equal((await sql("SELECT count(*)::int AS n FROM auth.avatar_links WHERE user_id = $1", [user.user.id]))[0].n, 0);
  const other = await signUp(server);
  for (const body of [{}, { providerType: "BitcoinOASIS" }, { providerType: 1 }, { providerType: "SolanaOASIS", setAsDefault: "y" }])
    assertApiError(assert, await generate(other, body), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.base}/api/wallet/generate`, { providerType: "SolanaOASIS" }), 401, "UNAUTHORIZED");
  const r = await fetch(`${server.base}/api/wallet`);
  assert.equal(r.status, 401);
});

test("without PGAUTH_OASIS_URL the wallet endpoints say so with 503", async () => {
  const bare = await startServer();
  const user = await signUp(bare);
  const r = await post(`${bare.base}/api/wallet/generate`, { providerType: "SolanaOASIS" }, { cookie: user.cookie });
  assertApiError(assert, r, 503, "AVATAR_PROVIDER_UNAVAILABLE");
  assert.match(r.body.message, /not configured/);
});
