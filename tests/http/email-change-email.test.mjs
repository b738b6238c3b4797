// POST /api/auth/change-email: the address changes only when the mailed link is followed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, authClient, post, sql, startServer, uniqueEmail } from "./harness.mjs";
import { getManual, linkIn, mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
const server = await startServer(mailEnv(sink));

async function currentEmail(cookie) {
  const r = await fetch(`${server.api}/get-session`, { headers: { cookie } });
  return (await r.json())?.user?.email;
}

test("change-email: nothing changes until the link in the mail is followed", async () => {
  const email = uniqueEmail("before");
  const { client, jar } = authClient(server);
  const up = await client.signUp.email({ email, password: "correct-horse-battery", name: "C" });
  assert.equal(up.error, null, JSON.stringify(up.error));
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const next = uniqueEmail("after");
  const asked = await client.changeEmail({ newEmail: next, callbackURL: "/profile" });
  assert.equal(asked.error, null, JSON.stringify(asked.error));
  assert.equal(asked.data.status, true);
  assert.equal(await currentEmail(cookie), email, "not before verification");
  const mail = await sink.waitFor(next, { timeout: 10000 }).catch(() => sink.waitFor(email));
  const link = linkIn(mail);
  assert.equal(link.pathname, "/api/auth/verify-email");
  const followed = await getManual(link.href, { cookie });
  assert.ok([200, 302].includes(followed.status), followed.text);
  // The change may take a second mail (to the new address) when the old one was verified; follow it too.
  if ((await currentEmail(cookie)) !== next) {
    const second = await sink.waitFor(next, { filter: (m) => m !== mail });
    await getManual(linkIn(second).href, { cookie });
  }
  assert.equal(await currentEmail(cookie), next);
  const again = await getManual(link.href, { cookie });
  assert.ok(again.status === 401 || /error=/.test(again.location ?? ""), again.text);
});

test("change-email: needs a session; a taken address answers the same and mails nothing that reveals it", async () => {
  assertApiError(assert, await post(`${server.api}/change-email`, { newEmail: uniqueEmail() }), 401);
  const taken = uniqueEmail("taken");
  await post(`${server.api}/sign-up/email`, { email: taken, password: "correct-horse-battery", name: "T" });
  const { client } = authClient(server);
  await client.signUp.email({ email: uniqueEmail("mover"), password: "correct-horse-battery", name: "M" });
  const free = uniqueEmail("free");
  const a = await client.changeEmail({ newEmail: taken });
  const b = await client.changeEmail({ newEmail: free });
  assert.deepEqual(a.data, b.data);
  assert.deepEqual(a.error, b.error);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(sink.to(taken).length, 0, "no mail to the taken address");
});

test("bad input: 4xx {code,message} and nothing queued", async () => {
  const { client, jar } = authClient(server);
  await client.signUp.email({ email: uniqueEmail("bad"), password: "correct-horse-battery", name: "B" });
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assertApiError(assert, await post(`${server.api}/change-email`, { newEmail: 7 }, { cookie }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/change-email`, {}, { cookie }), 400, "VALIDATION_ERROR");
  assertApiError(assert, await post(`${server.api}/change-email`, { newEmail: "x@example.com", callbackURL: "https://evil.example" }, { cookie }), 403, "INVALID_CALLBACKURL");
  assertApiError(assert, await post(`${server.api}/change-email`, { newEmail: "not-an-address" }, { cookie }), 400);
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assert.equal(after, before);
});
