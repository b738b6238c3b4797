// Better-Auth's emailOTP plugin: POST /email-otp/send-verification-otp, /sign-in/email-otp,
// /email-otp/verify-email, /forget-password/email-otp (and /email-otp/request-password-reset),
// /email-otp/reset-password, with the official client and emailOTPClient, through a real SMTP server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { emailOTPClient } from "better-auth/client/plugins";
import { assertApiError, authClient, post, signUp, sql, startServer, uniqueEmail } from "./harness.mjs";
import { mailEnv, otpIn, startSink } from "./mail-sink.mjs";

const sink = await startSink();
const server = await startServer(mailEnv(sink));

function wrong(otp) {
  return otp.replace(/.$/, (d) => String((Number(d) + 1) % 10));
}

test("sign-in with an emailed code: once, with the official client", async () => {
  const user = await signUp(server);
  const { client } = authClient(server, [emailOTPClient()]);
  const sent = await client.emailOtp.sendVerificationOtp({ email: user.email, type: "sign-in" });
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  assert.deepEqual(sent.data, { success: true });
  const otp = otpIn(await sink.waitFor(user.email));
  assert.match(otp, /^\d{6}$/);
  const signedIn = await client.signIn.emailOtp({ email: user.email, otp });
  assert.equal(signedIn.error, null, JSON.stringify(signedIn.error));
  assert.equal(signedIn.data.user.id, user.user.id);
  const session = await client.getSession();
  assert.equal(session.data.user.email, user.email);
  const again = await post(`${server.api}/sign-in/email-otp`, { email: user.email, otp });
  assert.equal(again.status >= 400 && again.status < 500, true, again.text);
});

test("the attempt limit: after 3 wrong codes even the right one is refused", async () => {
  const user = await signUp(server);
  await post(`${server.api}/email-otp/send-verification-otp`, { email: user.email, type: "sign-in" });
  const otp = otpIn(await sink.waitFor(user.email));
  for (let i = 0; i < 3; i++) {
    const r = await post(`${server.api}/sign-in/email-otp`, { email: user.email, otp: wrong(otp) });
    assertApiError(assert, r, 400, "INVALID_OTP");
  }
  const blocked = await post(`${server.api}/sign-in/email-otp`, { email: user.email, otp });
  assertApiError(assert, blocked, 403, "TOO_MANY_ATTEMPTS");
  assert.equal(blocked.headers.getSetCookie().length, 0);
});

test("an expired code is refused", async () => {
  const user = await signUp(server);
  await post(`${server.api}/email-otp/send-verification-otp`, { email: user.email, type: "sign-in" });
  const otp = otpIn(await sink.waitFor(user.email));
  await sql("UPDATE auth.verifications SET expires_at = now() - interval '1 second' WHERE email = lower($1)", [user.email]);
  assertApiError(assert, await post(`${server.api}/sign-in/email-otp`, { email: user.email, otp }), 400, "OTP_EXPIRED");
});

test("verify-email with a code marks the address verified", async () => {
  const user = await signUp(server);
  const { client } = authClient(server, [emailOTPClient()]);
  await client.emailOtp.sendVerificationOtp({ email: user.email, type: "email-verification" });
  const otp = otpIn(await sink.waitFor(user.email));
  const r = await client.emailOtp.verifyEmail({ email: user.email, otp });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.data.status, true);
  assert.equal(r.data.user.emailVerified, true);
});

test("forget-password with a code: reset once, the old password stops working", async () => {
  const user = await signUp(server);
  const { client } = authClient(server, [emailOTPClient()]);
  const asked = await client.forgetPassword.emailOtp({ email: user.email });
  assert.equal(asked.error, null, JSON.stringify(asked.error));
  const otp = otpIn(await sink.waitFor(user.email));
  const reset = await client.emailOtp.resetPassword({ email: user.email, otp, password: "reset-by-code-123" });
  assert.equal(reset.error, null, JSON.stringify(reset.error));
  assert.deepEqual(reset.data, { success: true });
  assert.equal((await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password })).status, 401);
  assert.equal((await post(`${server.api}/sign-in/email`, { email: user.email, password: "reset-by-code-123" })).status, 200);
  const twice = await post(`${server.api}/email-otp/reset-password`, { email: user.email, otp, password: "another-one-12345" });
  assert.ok(twice.status >= 400 && twice.status < 500, twice.text);
  // The newer path does the same.
  assert.equal((await post(`${server.api}/email-otp/request-password-reset`, { email: user.email })).status, 200);
  await sink.waitFor(user.email, { skip: 1 });
});

test("unknown addresses get the same answers", async () => {
  const nobody = uniqueEmail("nobody");
  const user = await signUp(server);
  for (const path of ["/forget-password/email-otp", "/email-otp/request-password-reset"]) {
    const a = await post(`${server.api}${path}`, { email: nobody });
    const b = await post(`${server.api}${path}`, { email: user.email });
    assert.equal(a.status, b.status);
    assert.deepEqual(a.body, b.body);
  }
  const a = await post(`${server.api}/email-otp/send-verification-otp`, { email: nobody, type: "email-verification" });
  const b = await post(`${server.api}/email-otp/send-verification-otp`, { email: user.email, type: "email-verification" });
  assert.deepEqual(a.body, b.body);
  const c = await post(`${server.api}/email-otp/reset-password`, { email: nobody, otp: "123456", password: "whatever-12345" });
  const d = await post(`${server.api}/email-otp/reset-password`, { email: user.email, otp: "123456", password: "whatever-12345" });
  assert.equal(c.status, d.status);
  assert.equal(c.body?.code, d.body?.code);
});

test("bad input: 4xx {code,message} and nothing queued", async () => {
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  const cases = [
    ["/email-otp/send-verification-otp", { email: "a@example.com", type: "bogus" }],
    ["/email-otp/send-verification-otp", { email: "a@example.com" }],
    ["/email-otp/send-verification-otp", { email: 3, type: "sign-in" }],
    ["/sign-in/email-otp", { email: "a@example.com" }],
    ["/sign-in/email-otp", { email: "a@example.com", otp: 123456 }],
    ["/email-otp/verify-email", { email: "a@example.com", otp: null }],
    ["/forget-password/email-otp", { email: {} }],
    ["/email-otp/reset-password", { email: "a@example.com", otp: "123456" }],
  ];
  for (const [path, body] of cases) {
    const r = await post(`${server.api}${path}`, body);
    assertApiError(assert, r, 400);
  }
  assertApiError(assert, await post(`${server.api}/sign-in/email-otp`, "[]"), 400);
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.outbox");
  assert.equal(after, before);
});
