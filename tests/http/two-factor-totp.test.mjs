// Better-Auth's twoFactor plugin under /api/auth/two-factor/ with the official client and
// twoFactorClient (issue 16): enable with TOTP codes computed here (npm otpauth), the sign-in
// challenge (no session until a second factor), replay, 5 wrong codes, backup codes, the OTP by
// email, trusted devices, disable, audit rows, and bad input.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as OTPAuth from "otpauth";
import { emailOTPClient, twoFactorClient } from "better-auth/client/plugins";
import { assertApiError, authClient, post, signUp, sql, startServer } from "./harness.mjs";
import { mailEnv, startSink } from "./mail-sink.mjs";

const sink = await startSink();
const server = await startServer(mailEnv(sink));
const origin = { origin: server.base };
const STEP = 30_000;

const codeAt = (uri, offsetSteps = 0) => OTPAuth.URI.parse(uri).generate({ timestamp: Date.now() + offsetSteps * STEP });
const cookieOf = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
const sessionWith = async (headers) => (await fetch(`${server.api}/get-session`, { headers })).json();

// A user with TOTP enabled (verified with the current code), signed out; returns the URI and backup codes.
async function twoFactorUser() {
  const user = await signUp(server);
  const { client, jar } = authClient(server, [twoFactorClient()]);
  await client.signIn.email({ email: user.email, password: user.password });
  const enabled = await client.twoFactor.enable({ password: user.password });
  assert.equal(enabled.error, null, JSON.stringify(enabled.error));
  assert.match(enabled.data.totpURI, /^otpauth:\/\/totp\//);
  assert.equal(enabled.data.backupCodes.length, 10);
  const usedCode = codeAt(enabled.data.totpURI);
  const verified = await client.twoFactor.verifyTotp({ code: usedCode });
  assert.equal(verified.error, null, JSON.stringify(verified.error));
  await client.signOut();
  assert.equal(jar.has("better-auth.session_token"), false);
  return { ...user, uri: enabled.data.totpURI, backupCodes: enabled.data.backupCodes, usedCode };
}

// Signs in a 2FA user with a fresh client: the challenge, no session.
async function challenged(user, plugins = [twoFactorClient()]) {
  const { client, jar } = authClient(server, plugins);
  const r = await client.signIn.email({ email: user.email, password: user.password });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.data.twoFactorRedirect, true);
  assert.ok(jar.has("better-auth.two_factor"), [...jar.keys()].join());
  assert.equal(jar.has("better-auth.session_token"), false);
  return { client, jar };
}

test("enable, then sign-in answers the challenge: no session with any cookie until verify-totp", async () => {
  const user = await twoFactorUser();
  assert.equal((await sql("SELECT two_factor_enabled FROM auth.users WHERE id::text = $1", [user.user.id]))[0]?.two_factor_enabled, true);
  const { client, jar } = await challenged(user);
  // get-session is null with every cookie the browser holds, and as a Bearer of the challenge value
  assert.equal(await sessionWith({ cookie: cookieOf(jar) }), null);
  const challenge = decodeURIComponent(jar.get("better-auth.two_factor"));
  assert.equal(await sessionWith({ authorization: `Bearer ${challenge}` }), null);
  assert.equal(await sessionWith({ authorization: `Bearer ${challenge.split(".")[0]}` }), null);
  assert.equal((await client.getSession()).data, null);
  // the raw sign-in answer: 200 {twoFactorRedirect:true}, the two_factor cookie and no session cookie
  const raw = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password });
  assert.equal(raw.status, 200);
  assert.equal(raw.body.twoFactorRedirect, true);
  assert.equal(raw.body.token, undefined);
  assert.equal(raw.headers.get("set-auth-token"), null);
  assert.ok(raw.headers.getSetCookie().some((c) => /^better-auth\.two_factor=[^;]+;.*Max-Age=\d+/.test(c)));
  assert.ok(!raw.headers.getSetCookie().some((c) => /^better-auth\.session_token=[^;]+/.test(c)));

  const verified = await client.twoFactor.verifyTotp({ code: codeAt(user.uri, 1) });
  assert.equal(verified.error, null, JSON.stringify(verified.error));
  assert.equal(verified.data.user.id, user.user.id);
  assert.equal(jar.has("better-auth.two_factor"), false);
  assert.ok(jar.has("better-auth.session_token"));
  const session = await client.getSession();
  assert.equal(session.data.user.id, user.user.id);
  assert.equal(session.data.user.twoFactorEnabled, true);
});

test("a browser signed in as someone else holds no session after a 2FA sign-in's challenge", async () => {
  const user = await twoFactorUser();
  const other = await signUp(server);
  const { client, jar } = authClient(server, [twoFactorClient()]);
  await client.signIn.email({ email: other.email, password: other.password });
  assert.equal((await client.getSession()).data.user.id, other.user.id);
  const r = await client.signIn.email({ email: user.email, password: user.password });
  assert.equal(r.data?.twoFactorRedirect, true, JSON.stringify(r));
  assert.equal(jar.has("better-auth.session_token"), false);
  assert.equal(await sessionWith({ cookie: cookieOf(jar) }), null);
});

test("a replayed TOTP code fails, the next step's code works", async () => {
  const user = await twoFactorUser();
  const { client } = await challenged(user);
  const replay = await client.twoFactor.verifyTotp({ code: user.usedCode });
  assert.equal(replay.error?.status, 401, JSON.stringify(replay));
  assert.equal(replay.error?.code, "INVALID_CODE");
  assert.equal((await client.getSession()).data, null);
  const next = await client.twoFactor.verifyTotp({ code: codeAt(user.uri, 1) });
  assert.equal(next.error, null, JSON.stringify(next.error));
});

test("5 wrong codes kill the challenge: even the right code is refused after", async () => {
  const user = await twoFactorUser();
  const { client, jar } = await challenged(user);
  const right = codeAt(user.uri, 1);
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
  for (let i = 0; i < 5; i++) {
    const r = await client.twoFactor.verifyTotp({ code: wrong });
    assert.equal(r.error?.code, "INVALID_CODE", JSON.stringify(r));
  }
  const dead = await client.twoFactor.verifyTotp({ code: right });
  assert.equal(dead.error?.code, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", JSON.stringify(dead));
  assert.equal(dead.error?.status, 400);
  assert.equal(jar.has("better-auth.two_factor"), false);
  assert.equal((await client.getSession()).data, null);
  const failures = await sql("SELECT count(*)::int AS n FROM auth.audit_log WHERE user_id::text = $1 AND event ILIKE '%fail%'", [user.user.id]);
  assert.ok(failures[0].n >= 5, JSON.stringify(failures));
});

test("backup codes: each works once; generate-backup-codes replaces them", async () => {
  const user = await twoFactorUser();
  const first = await challenged(user);
  const ok = await first.client.twoFactor.verifyBackupCode({ code: user.backupCodes[0] });
  assert.equal(ok.error, null, JSON.stringify(ok.error));
  assert.equal((await first.client.getSession()).data.user.id, user.user.id);

  const second = await challenged(user);
  const used = await second.client.twoFactor.verifyBackupCode({ code: user.backupCodes[0] });
  assert.equal(used.error?.code, "INVALID_BACKUP_CODE", JSON.stringify(used));
  assert.equal((await second.client.getSession()).data, null);

  const fresh = await first.client.twoFactor.generateBackupCodes({ password: user.password });
  assert.equal(fresh.error, null, JSON.stringify(fresh.error));
  assert.equal(fresh.data.backupCodes.length, 10);
  const old = await second.client.twoFactor.verifyBackupCode({ code: user.backupCodes[1] });
  assert.equal(old.error?.code, "INVALID_BACKUP_CODE", JSON.stringify(old));
  const renewed = await second.client.twoFactor.verifyBackupCode({ code: fresh.data.backupCodes[0] });
  assert.equal(renewed.error, null, JSON.stringify(renewed.error));
  // the codes are stored as digests: no plaintext code in any table the owner can read
  const dump = JSON.stringify(await sql("SELECT * FROM auth.audit_log WHERE user_id::text = $1", [user.user.id]));
  for (const code of fresh.data.backupCodes) assert.equal(dump.includes(code), false);
});

test("the OTP by email (through the outbox and SMTP) completes a sign-in", async () => {
  const user = await twoFactorUser();
  const { client } = await challenged(user);
  const sent = await client.twoFactor.sendOtp();
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  const mail = await sink.waitFor(user.email);
  const otp = /\b(\d{6})\b/.exec(mail.text)?.[1];
  assert.match(otp ?? "", /^\d{6}$/, mail.text);
  const bad = await client.twoFactor.verifyOtp({ code: otp === "000000" ? "000001" : "000000" });
  assert.equal(bad.error?.status, 401, JSON.stringify(bad));
  const ok = await client.twoFactor.verifyOtp({ code: otp });
  assert.equal(ok.error, null, JSON.stringify(ok.error));
  assert.equal((await client.getSession()).data.user.id, user.user.id);
});

test("trust device: the next sign-in from that browser skips the challenge; disable turns 2FA off", async () => {
  const user = await twoFactorUser();
  const { client, jar } = await challenged(user);
  const ok = await client.twoFactor.verifyTotp({ code: codeAt(user.uri, 1), trustDevice: true });
  assert.equal(ok.error, null, JSON.stringify(ok.error));
  assert.ok(jar.has("better-auth.trust_device"));
  await client.signOut();
  const again = await client.signIn.email({ email: user.email, password: user.password });
  assert.equal(again.error, null, JSON.stringify(again.error));
  assert.equal(again.data.twoFactorRedirect, undefined);
  assert.equal((await client.getSession()).data.user.id, user.user.id);
  // another browser is still challenged
  await challenged(user);
  // a forged trust_device cookie counts for nothing
  const forged = await post(`${server.api}/sign-in/email`, { email: user.email, password: user.password },
    { cookie: `better-auth.trust_device=${jar.get("better-auth.trust_device").replace(/^./, "x")}` });
  assert.equal(forged.body.twoFactorRedirect, true);

  const uri = await client.twoFactor.getTotpUri({ password: user.password });
  assert.equal(uri.error, null, JSON.stringify(uri.error));
  assert.equal(OTPAuth.URI.parse(uri.data.totpURI).secret.base32, OTPAuth.URI.parse(user.uri).secret.base32);
  const wrongPw = await client.twoFactor.disable({ password: "not-the-password" });
  assert.equal(wrongPw.error?.status, 400, JSON.stringify(wrongPw));
  const off = await client.twoFactor.disable({ password: user.password });
  assert.equal(off.error, null, JSON.stringify(off.error));
  const fresh = authClient(server, [twoFactorClient()]);
  const plain = await fresh.client.signIn.email({ email: user.email, password: user.password });
  assert.equal(plain.error, null);
  assert.equal(plain.data.twoFactorRedirect, undefined);
  assert.equal((await fresh.client.getSession()).data.user.id, user.user.id);
  const events = (await sql("SELECT event FROM auth.audit_log WHERE user_id::text = $1", [user.user.id])).map((r) => r.event);
  assert.ok(events.some((e) => /two_factor|2fa/i.test(e) && /enable/i.test(e)), events.join());
  assert.ok(events.some((e) => /two_factor|2fa/i.test(e) && /disable/i.test(e)), events.join());
});

test("other first factors cannot mint a session for a 2FA user (email OTP sign-in)", async () => {
  const user = await twoFactorUser();
  const { client } = authClient(server, [emailOTPClient(), twoFactorClient()]);
  await client.emailOtp.sendVerificationOtp({ email: user.email, type: "sign-in" });
  const mail = await sink.waitFor(user.email);
  const otp = /\b(\d{6})\b/.exec(mail.text)?.[1];
  const r = await post(`${server.api}/sign-in/email-otp`, { email: user.email, otp });
  assert.ok(r.status === 200 ? r.body.twoFactorRedirect === true : r.status === 403, r.text);
  assert.ok(!r.headers.getSetCookie().some((c) => /^better-auth\.session_token=[^;]+/.test(c)), r.headers.getSetCookie().join());
});

test("bad input on each two-factor endpoint: 4xx {code,message}", async () => {
  const user = await signUp(server);
  const cookie = user.cookie;
  const bad = [
    ["/two-factor/enable", {}],
    ["/two-factor/enable", { password: 12 }],
    ["/two-factor/enable", { password: "wrong-password" }],
    ["/two-factor/enable", { password: user.password, method: "sms" }],
    ["/two-factor/get-totp-uri", { password: user.password }],
    ["/two-factor/get-totp-uri", {}],
    ["/two-factor/verify-totp", {}],
    ["/two-factor/verify-totp", { code: 123456 }],
    ["/two-factor/verify-totp", { code: "123456", trustDevice: "yes" }],
    ["/two-factor/verify-otp", { code: "123456" }],
    ["/two-factor/verify-backup-code", { code: "abc" }],
    ["/two-factor/generate-backup-codes", { password: user.password }],
    ["/two-factor/generate-backup-codes", {}],
    ["/two-factor/disable", {}],
    ["/two-factor/enable", "{oops"],
  ];
  for (const [path, body] of bad) {
    const r = await post(`${server.api}${path}`, body, { cookie, ...origin });
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assert.equal(typeof r.body?.code, "string", `${path}: ${r.text}`);
    assert.equal(typeof r.body?.message, "string", `${path}: ${r.text}`);
  }
  // without a session or a challenge
  for (const path of ["/two-factor/verify-totp", "/two-factor/verify-otp", "/two-factor/verify-backup-code", "/two-factor/send-otp"])
    assertApiError(assert, await post(`${server.api}${path}`, { code: "123456" }), 401);
  // a wrong password enabled nothing
  assert.equal((await sql("SELECT two_factor_enabled FROM auth.users WHERE id::text = $1", [user.user.id]))[0]?.two_factor_enabled, false);
});
