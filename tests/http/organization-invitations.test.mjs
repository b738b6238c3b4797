// /api/auth/organization/{invite-member,accept-invitation,reject-invitation,cancel-invitation,
// get-invitation,list-invitations,list-user-invitations} with the official client and
// organizationClient; the invitation mail read from a real SMTP sink.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, sql, startServer, uniqueEmail } from "./harness.mjs";
import { mailEnv, startSink } from "./mail-sink.mjs";
import { member, newOrg, orgGet, orgPost, refusal } from "./org-helpers.mjs";

const sink = await startSink();
const server = await startServer(mailEnv(sink), { issuer: true });

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

// The invitation id the mail's accept link carries (Better-Auth's: .../accept-invitation/<id>).
function invitationIdIn(mail) {
  const link = /https?:\/\/\S*accept-invitation\S*/.exec(mail.text)?.[0];
  assert.ok(link, `an accept-invitation link in: ${mail.text}`);
  const id = UUID.exec(link)?.[0];
  assert.ok(id, `an invitation id in ${link}`);
  return { link, id };
}

async function statusOf(id) {
  const [row] = await sql("SELECT status FROM auth.invitations WHERE id = $1", [id]);
  return row?.status;
}

test("an invitation mailed through the outbox, accepted by the invitee from the link", async () => {
  const owner = await member(server, "inv-owner");
  const org = await newOrg(owner, "inv");
  const inviteeEmail = uniqueEmail("invitee");
  const inv = await owner.client.organization.inviteMember({ email: inviteeEmail, role: "admin" });
  assert.equal(inv.error, null, JSON.stringify(inv.error));
  assert.equal(inv.data.email, inviteeEmail);
  assert.equal(inv.data.role, "admin");
  assert.equal(inv.data.status, "pending");
  assert.equal(inv.data.organizationId, org.id);
  assert.equal(inv.data.inviterId, owner.user.id);
  const ttl = Date.parse(inv.data.expiresAt) - Date.now();
  assert.ok(ttl > 47 * 3600e3 && ttl <= 48 * 3600e3 + 60e3, `48 h by default, got ${ttl} ms`);

  const mail = await sink.waitFor(inviteeEmail);
  const { id, link } = invitationIdIn(mail);
  assert.equal(id, inv.data.id);
  assert.ok(mail.text.includes(org.name), "the mail names the organization");
  assert.ok(link.startsWith(server.base), `${link} on the base URL`);

  // the invitee signs up later and opens it
  const invitee = await member(server, "invitee", inviteeEmail);
  const seen = await invitee.client.organization.getInvitation({ query: { id } });
  assert.equal(seen.error, null, JSON.stringify(seen.error));
  assert.equal(seen.data.organizationName, org.name);
  assert.equal(seen.data.organizationSlug, org.slug);
  assert.equal(seen.data.inviterEmail, owner.email);
  const accepted = await invitee.client.organization.acceptInvitation({ invitationId: id });
  assert.equal(accepted.error, null, JSON.stringify(accepted.error));
  assert.equal(accepted.data.invitation.status, "accepted");
  assert.equal(accepted.data.member.role, "admin");
  assert.equal(accepted.data.member.userId, invitee.user.id);
  assert.equal(await statusOf(id), "accepted");
  // accepting makes it the invitee's active organization (as Better-Auth does)
  assert.equal((await invitee.client.getSession()).data.session.activeOrganizationId, org.id);
  const again = await invitee.client.organization.acceptInvitation({ invitationId: id });
  assert.equal(again.error?.status, 400);
});

test("an invitation is refused for a different signed-in user, and stays pending", async () => {
  const owner = await member(server, "wrong-owner");
  await newOrg(owner, "wrong");
  const inviteeEmail = uniqueEmail("wrong-invitee");
  const inv = await owner.client.organization.inviteMember({ email: inviteeEmail, role: "member" });
  const { id } = invitationIdIn(await sink.waitFor(inviteeEmail));
  const intruder = await member(server, "intruder");
  const acc = await intruder.client.organization.acceptInvitation({ invitationId: id });
  assert.deepEqual(refusal(acc), { status: 403, code: "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION" });
  const rej = await intruder.client.organization.rejectInvitation({ invitationId: id });
  assert.equal(rej.error?.status, 403);
  const get = await intruder.client.organization.getInvitation({ query: { id } });
  assert.equal(get.error?.status, 403);
  assert.equal(await statusOf(inv.data.id), "pending");
  assert.equal((await sql("SELECT 1 FROM auth.members WHERE user_id = $1", [intruder.user.id])).length, 0);
});

test("reject-invitation by the invitee; cancel-invitation by the inviter; neither can be accepted after", async () => {
  const owner = await member(server, "rej-owner");
  await newOrg(owner, "rej");
  const a = await member(server, "rej-a");
  const b = await member(server, "rej-b");
  const ia = await owner.client.organization.inviteMember({ email: a.email, role: "member" });
  const ib = await owner.client.organization.inviteMember({ email: b.email, role: "member" });
  const rej = await a.client.organization.rejectInvitation({ invitationId: ia.data.id });
  assert.equal(rej.error, null, JSON.stringify(rej.error));
  assert.equal(await statusOf(ia.data.id), "rejected");
  const cancel = await owner.client.organization.cancelInvitation({ invitationId: ib.data.id });
  assert.equal(cancel.error, null, JSON.stringify(cancel.error));
  assert.equal(cancel.data.status, "canceled");
  assert.equal(await statusOf(ib.data.id), "canceled");
  assert.equal((await a.client.organization.acceptInvitation({ invitationId: ia.data.id })).error?.status, 400);
  assert.equal((await b.client.organization.acceptInvitation({ invitationId: ib.data.id })).error?.status, 400);
  // the invitee cannot cancel (that is the inviter's side)
  const ic = await owner.client.organization.inviteMember({ email: a.email, role: "member" });
  const byInvitee = await a.client.organization.cancelInvitation({ invitationId: ic.data.id });
  assert.ok(byInvitee.error && byInvitee.error.status >= 400 && byInvitee.error.status < 500);
  assert.equal(await statusOf(ic.data.id), "pending");
});

test("an expired invitation cannot be accepted", async () => {
  const owner = await member(server, "exp-owner");
  await newOrg(owner, "exp");
  const invitee = await member(server, "exp-invitee");
  const inv = await owner.client.organization.inviteMember({ email: invitee.email, role: "member" });
  await sql("UPDATE auth.invitations SET expires_at = now() - interval '1 second' WHERE id = $1", [inv.data.id]);
  const acc = await invitee.client.organization.acceptInvitation({ invitationId: inv.data.id });
  assert.equal(acc.error?.status, 400);
  assert.equal((await sql("SELECT 1 FROM auth.members WHERE user_id = $1", [invitee.user.id])).length, 0);
});

test("duplicate invitation: 400 USER_IS_ALREADY_INVITED; resend re-mails the same invitation", async () => {
  const owner = await member(server, "dup-owner");
  await newOrg(owner, "dupinv");
  const email = uniqueEmail("dup-invitee");
  const first = await owner.client.organization.inviteMember({ email, role: "member" });
  await sink.waitFor(email);
  const dup = await owner.client.organization.inviteMember({ email, role: "member" });
  assert.deepEqual(refusal(dup), { status: 400, code: "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION" });
  const resend = await owner.client.organization.inviteMember({ email, role: "member", resend: true });
  assert.equal(resend.error, null, JSON.stringify(resend.error));
  assert.equal(resend.data.id, first.data.id);
  const second = await sink.waitFor(email, { skip: 1 });
  assert.equal(invitationIdIn(second).id, first.data.id);
});

test("list-invitations (members only) and list-user-invitations (the caller's own)", async () => {
  const owner = await member(server, "li-owner");
  const org = await newOrg(owner, "li");
  const invitee = await member(server, "li-invitee");
  await sql("UPDATE auth.users SET email_verified = true WHERE id = $1", [invitee.user.id]);
  const inv = await owner.client.organization.inviteMember({ email: invitee.email, role: "member" });
  const list = await owner.client.organization.listInvitations();
  assert.equal(list.error, null, JSON.stringify(list.error));
  assert.deepEqual(list.data.map((i) => i.id), [inv.data.id]);
  const mine = await invitee.client.organization.listUserInvitations();
  assert.equal(mine.error, null, JSON.stringify(mine.error));
  assert.ok(mine.data.some((i) => i.id === inv.data.id && i.organizationId === org.id));
  const stranger = await member(server, "li-stranger");
  const s = await orgGet(server, stranger, `list-invitations?organizationId=${org.id}`);
  assertApiError(assert, s, 403);
  assert.equal(s.text.includes(invitee.email), false);
  // another user's invitations cannot be listed by passing their email
  const other = await orgGet(server, stranger, `list-user-invitations?email=${encodeURIComponent(invitee.email)}`);
  assert.ok(other.status >= 400 && other.status < 500 || (Array.isArray(other.body) && other.body.length === 0), other.text);
});

test("a non-member inviting to an organization: 403, nothing queued", async () => {
  const owner = await member(server, "nm-owner");
  const org = await newOrg(owner, "nm");
  const stranger = await member(server, "nm-stranger");
  const email = uniqueEmail("nm-target");
  const r = await orgPost(server, stranger, "invite-member", { email, role: "member", organizationId: org.id });
  assertApiError(assert, r, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
  assert.equal((await sql("SELECT 1 FROM auth.invitations WHERE email = $1", [email])).length, 0);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(sink.to(email).length, 0);
});

test("bad input on invitation routes: 4xx {code,message}, no invitation and no mail", async () => {
  const owner = await member(server, "binv-owner");
  const org = await newOrg(owner, "binv");
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.invitations WHERE organization_id = $1", [org.id]);
  for (const q of ["", "id=nope", "id=%ff%fe"]) {
    const r = await orgGet(server, owner, `get-invitation?${q}`);
    assert.ok(r.status >= 400 && r.status < 500, `${q}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  const cases = [
    ["invite-member", {}],
    ["invite-member", { email: "a@example.com" }],
    ["invite-member", { role: "member" }],
    ["invite-member", { email: "not-an-email", role: "member" }],
    ["invite-member", { email: 5, role: "member" }],
    ["invite-member", { email: "b@example.com", role: "superuser" }],
    ["invite-member", { email: "c@example.com", role: 7 }],
    ["invite-member", { email: "e@example.com", role: "member", teamId: 5 }],
    ["invite-member", { email: "f@example.com", role: "member", organizationId: "nope" }],
    ["invite-member", { email: "g\u0000@example.com", role: "member" }],
    ["accept-invitation", {}],
    ["accept-invitation", { invitationId: "nope" }],
    ["accept-invitation", { invitationId: 5 }],
    ["reject-invitation", { invitationId: "nope" }],
    ["cancel-invitation", { invitationId: "00000000-0000-4000-8000-000000000000" }],
  ];
  for (const [path, body] of cases) {
    const r = await orgPost(server, owner, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.invitations WHERE organization_id = $1", [org.id]);
  assert.equal(after, before);
});

// `resend` is type-checked up front, also for an address not yet invited (Better-Auth answers 400).
test("bad input: resend that is not a boolean is 400 and creates no invitation", async () => {
  const owner = await member(server, "bresend-owner");
  const org = await newOrg(owner, "bresend");
  const r = await orgPost(server, owner, "invite-member", { email: uniqueEmail("bresend"), role: "member", resend: "yes" });
  assertApiError(assert, r, 400, "VALIDATION_ERROR");
  assert.equal((await sql("SELECT 1 FROM auth.invitations WHERE organization_id = $1", [org.id])).length, 0);
});
