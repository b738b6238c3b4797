// POST /api/auth/link-para-wallet
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, post, signUp, startServer } from "./harness.mjs";

const server = await startServer();
const link = (user, body) => post(`${server.api}/link-para-wallet`, body, { cookie: user.cookie });
const session = async (user) => (await fetch(`${server.api}/get-session`, { headers: { cookie: user.cookie } })).json();

test("links a Para wallet, visible in get-session; one wallet per user, unique across users", async () => {
  const alice = await signUp(server);
  const bob = await signUp(server);
  const walletId = `para-${alice.user.id}`;
  const r = await link(alice, { walletId });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { status: true, walletId });
  assert.equal((await session(alice)).user.paraWalletId, walletId);
  assert.equal((await link(alice, { walletId })).status, 200);  // idempotent
  assertApiError(assert, await link(bob, { walletId }), 409, "WALLET_ALREADY_LINKED");
  assert.equal((await session(bob)).user.paraWalletId, null);
});

test("bad input and no session", async () => {
  const user = await signUp(server);
  for (const body of [{}, { walletId: 7 }, { walletId: "" }, { walletId: "w".repeat(201) }, { walletId: "a\u0001b" }])
    assertApiError(assert, await link(user, body), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/link-para-wallet`, { walletId: "x" }), 401, "UNAUTHORIZED");
});
