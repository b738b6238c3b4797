// /api/auth/organization/{list-members,remove-member,update-member-role,get-active-member,
// leave,has-permission} with the official client and organizationClient:
// Better-Auth's default roles, last-owner protection and role escalation attempts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, sql, startServer } from "./harness.mjs";
import { member, newOrg, orgGet, orgPost, refusal } from "./org-helpers.mjs";

const server = await startServer();

// `who` joins `org` with `role`: invited by `inviter`, accepted by `who` (the HTTP path members take).
async function join(inviter, org, who, role) {
  const inv = await inviter.client.organization.inviteMember({ email: who.email, role, organizationId: org.id });
  if (inv.error) throw new Error(`invite failed: ${JSON.stringify(inv.error)}`);
  const acc = await who.client.organization.acceptInvitation({ invitationId: inv.data.id });
  if (acc.error) throw new Error(`accept failed: ${JSON.stringify(acc.error)}`);
  return acc.data.member;
}

// An organization with an owner, an admin and a plain member, each active on it.
async function team(tag) {
  const owner = await member(server, `${tag}-owner`);
  const admin = await member(server, `${tag}-admin`);
  const plain = await member(server, `${tag}-member`);
  const org = await newOrg(owner, tag);
  const adminMember = await join(owner, org, admin, "admin");
  const plainMember = await join(owner, org, plain, "member");
  for (const u of [admin, plain]) {
    const r = await u.client.organization.setActive({ organizationId: org.id });
    if (r.error) throw new Error(`set-active failed: ${JSON.stringify(r.error)}`);
  }
  const ownerMember = org.members[0];
  return { org, owner, admin, plain, ownerMember, adminMember, plainMember };
}

async function roleOf(memberId) {
  const [row] = await sql("SELECT role FROM auth.members WHERE id = $1", [memberId]);
  return row?.role;
}

test("list-members: every member with its user; {members, total}; a non-member gets 403", async () => {
  const t = await team("list");
  const r = await t.plain.client.organization.listMembers();
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.data.total, 3);
  const byEmail = Object.fromEntries(r.data.members.map((m) => [m.user.email, m.role]));
  assert.deepEqual(byEmail, { [t.owner.email]: "owner", [t.admin.email]: "admin", [t.plain.email]: "member" });
  const limited = await t.owner.client.organization.listMembers({ query: { limit: 1 } });
  assert.equal(limited.data.members.length, 1);
  assert.equal(limited.data.total, 3);

  const stranger = await member(server, "list-stranger");
  const s = await orgGet(server, stranger, `list-members?organizationId=${t.org.id}`);
  assertApiError(assert, s, 403);
  assert.equal(s.text.includes(t.owner.email), false);
});

test("get-active-member: the caller's member with its user; none without an active organization", async () => {
  const t = await team("active");
  const am = await t.admin.client.organization.getActiveMember();
  assert.equal(am.error, null, JSON.stringify(am.error));
  assert.equal(am.data.id, t.adminMember.id);
  assert.equal(am.data.role, "admin");
  assert.equal(am.data.user.email, t.admin.email);
  const plainActive = await t.plain.client.organization.getActiveMember();
  assert.equal(plainActive.data.role, "member");
  const loner = await member(server, "active-none");
  const none = await loner.client.organization.getActiveMember();
  assert.equal(none.error?.status >= 400 && none.error?.status < 500, true);
});

test("has-permission: Better-Auth's default statements for owner, admin and member", async () => {
  const t = await team("perm");
  const ask = async (who, permissions) => {
    const r = await who.client.organization.hasPermission({ permissions });
    assert.equal(r.error, null, JSON.stringify(r.error));
    return r.data.success;
  };
  assert.equal(await ask(t.owner, { organization: ["delete"] }), true);
  assert.equal(await ask(t.admin, { organization: ["delete"] }), false);
  assert.equal(await ask(t.admin, { organization: ["update"], member: ["create", "delete"] }), true);
  assert.equal(await ask(t.admin, { invitation: ["create", "cancel"], team: ["create"] }), true);
  assert.equal(await ask(t.plain, { member: ["create"] }), false);
  assert.equal(await ask(t.plain, { ac: ["read"] }), true);
  assert.equal(await ask(t.plain, { invitation: ["create"] }), false);
  // an organizationId the caller is not in: refused, never true
  const stranger = await member(server, "perm-stranger");
  const r = await orgPost(server, stranger, "has-permission", { organizationId: t.org.id, permissions: { organization: ["update"] } });
  assert.ok(r.status >= 400 && r.status < 500, r.text);
  // no active organization at all
  const nr = await orgPost(server, stranger, "has-permission", { permissions: { organization: ["update"] } });
  assert.ok(nr.status >= 400 && nr.status < 500, nr.text);
  assertApiError(assert, nr, nr.status);
  // the raw body also says {error:null, success}
  const raw = await orgPost(server, t.owner, "has-permission", { permissions: { member: ["update"] } });
  assert.deepEqual(raw.body, { error: null, success: true });
});

test("update-member-role: the owner promotes; an admin cannot raise anyone to owner, itself included", async () => {
  const t = await team("esc");
  const up = await t.owner.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "admin" });
  assert.equal(up.error, null, JSON.stringify(up.error));
  assert.equal(up.data.role, "admin");
  assert.equal(await roleOf(t.plainMember.id), "admin");
  await t.owner.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "member" });

  const selfOwner = await t.admin.client.organization.updateMemberRole({ memberId: t.adminMember.id, role: "owner" });
  assert.equal(selfOwner.error?.status, 403, JSON.stringify(selfOwner));
  assert.equal(await roleOf(t.adminMember.id), "admin");
  const otherOwner = await t.admin.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "owner" });
  assert.equal(otherOwner.error?.status, 403);
  assert.equal(await roleOf(t.plainMember.id), "member");
  const listOwner = await t.admin.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: ["member", "owner"] });
  assert.equal(listOwner.error?.status, 403);
  assert.equal(await roleOf(t.plainMember.id), "member");
  const demoteOwner = await t.admin.client.organization.updateMemberRole({ memberId: t.ownerMember.id, role: "member" });
  assert.equal(demoteOwner.error?.status, 403);
  assert.equal(await roleOf(t.ownerMember.id), "owner");
  // a plain member changes nobody, not even itself
  const selfAdmin = await t.plain.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "admin" });
  assert.equal(selfAdmin.error?.status, 403);
  assert.equal(await roleOf(t.plainMember.id), "member");
  // an unknown role
  const unknown = await t.owner.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "superuser" });
  assert.equal(unknown.error?.status, 400);
  assert.equal(await roleOf(t.plainMember.id), "member");
});

test("invite-member escalation: a member cannot invite; an admin cannot invite an owner", async () => {
  const t = await team("inv-esc");
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.invitations WHERE organization_id = $1", [t.org.id]);
  const byMember = await t.plain.client.organization.inviteMember({ email: "x1@example.com", role: "member" });
  assert.deepEqual(refusal(byMember), { status: 403, code: "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION" });
  const ownerByAdmin = await t.admin.client.organization.inviteMember({ email: "x2@example.com", role: "owner" });
  assert.deepEqual(refusal(ownerByAdmin), { status: 403, code: "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE" });
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.invitations WHERE organization_id = $1", [t.org.id]);
  assert.equal(after, before);
});

test("last owner: cannot leave, be demoted or be removed; with a second owner, can", async () => {
  const t = await team("last");
  const leave = await t.owner.client.organization.leave({ organizationId: t.org.id });
  assert.deepEqual(refusal(leave), { status: 400, code: "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER" });
  const demote = await t.owner.client.organization.updateMemberRole({ memberId: t.ownerMember.id, role: "admin" });
  assert.equal(demote.error?.status, 400, JSON.stringify(demote));
  assert.equal(await roleOf(t.ownerMember.id), "owner");
  const removeSelf = await t.owner.client.organization.removeMember({ memberIdOrEmail: t.owner.email });
  assert.equal(removeSelf.error?.status, 400, JSON.stringify(removeSelf));
  assert.equal(await roleOf(t.ownerMember.id), "owner");

  // a second owner: now the first may leave
  const promote = await t.owner.client.organization.updateMemberRole({ memberId: t.adminMember.id, role: "owner" });
  assert.equal(promote.error, null, JSON.stringify(promote.error));
  const left = await t.owner.client.organization.leave({ organizationId: t.org.id });
  assert.equal(left.error, null, JSON.stringify(left.error));
  assert.equal(await roleOf(t.ownerMember.id), undefined);
  // and the remaining owner is the last again
  const again = await t.admin.client.organization.leave({ organizationId: t.org.id });
  assert.equal(again.error?.status, 400);
  assert.equal(await roleOf(t.adminMember.id), "owner");
});

test("remove-member: admin removes a member (by id or email); a member removes nobody; an admin cannot remove the owner", async () => {
  const t = await team("rm");
  const byMember = await t.plain.client.organization.removeMember({ memberIdOrEmail: t.adminMember.id });
  assert.ok(byMember.error && [401, 403].includes(byMember.error.status), JSON.stringify(byMember));
  assert.equal(await roleOf(t.adminMember.id), "admin");
  const ownerByAdmin = await t.admin.client.organization.removeMember({ memberIdOrEmail: t.owner.email });
  assert.ok(ownerByAdmin.error && ownerByAdmin.error.status >= 400 && ownerByAdmin.error.status < 500);
  assert.equal(await roleOf(t.ownerMember.id), "owner");
  const byEmail = await t.admin.client.organization.removeMember({ memberIdOrEmail: t.plain.email });
  assert.equal(byEmail.error, null, JSON.stringify(byEmail.error));
  assert.equal(byEmail.data.member.id, t.plainMember.id);
  assert.equal(await roleOf(t.plainMember.id), undefined);
  // the removed member's session no longer has it active
  const s = await t.plain.client.getSession();
  assert.notEqual(s.data.session.activeOrganizationId, t.org.id);
  const gone = await t.owner.client.organization.removeMember({ memberIdOrEmail: t.plainMember.id });
  assert.equal(gone.error?.status, 400);
});

test("leave: a member leaves; its active organization is cleared", async () => {
  const t = await team("leave");
  const r = await t.plain.client.organization.leave({ organizationId: t.org.id });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(await roleOf(t.plainMember.id), undefined);
  const s = await t.plain.client.getSession();
  assert.equal(s.data.session.activeOrganizationId, null);
  const again = await t.plain.client.organization.leave({ organizationId: t.org.id });
  assert.ok(again.error && again.error.status >= 400 && again.error.status < 500);
});

test("membership changes are in the audit log", async () => {
  const t = await team("audit");
  await t.owner.client.organization.updateMemberRole({ memberId: t.plainMember.id, role: "admin" });
  const rows = await sql("SELECT event FROM auth.audit_log WHERE detail::text LIKE '%' || $1 || '%'", [t.org.id]);
  assert.ok(rows.length >= 3, `audit rows: ${JSON.stringify(rows)}`);
});

test("bad input on member routes: 4xx {code,message}, nothing changes", async () => {
  const t = await team("bad");
  const cases = [
    ["update-member-role", {}],
    ["update-member-role", { memberId: t.plainMember.id }],
    ["update-member-role", { memberId: t.plainMember.id, role: 5 }],
    ["update-member-role", { memberId: t.plainMember.id, role: [] }],
    ["update-member-role", { memberId: t.plainMember.id, role: "" }],
    ["update-member-role", { memberId: "not-a-uuid", role: "admin" }],
    ["update-member-role", { memberId: t.plainMember.id, role: [1, 2] }],
    ["remove-member", {}],
    ["remove-member", { memberIdOrEmail: 5 }],
    ["remove-member", { memberIdOrEmail: "" }],
    ["leave", {}],
    ["leave", { organizationId: "nope" }],
    ["has-permission", {}],
    ["has-permission", { permissions: "x" }],
    ["has-permission", { permissions: { member: "create" } }],
    ["has-permission", { permissions: { member: [5] } }],
  ];
  for (const [path, body] of cases) {
    const r = await orgPost(server, t.owner, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  for (const q of ["limit=-1", "limit=abc", "offset=x", "organizationId=zzz"]) {
    const r = await orgGet(server, t.owner, `list-members?${q}`);
    assert.ok(r.status >= 400 && r.status < 500, `${q}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  assert.equal(await roleOf(t.plainMember.id), "member");
  assert.equal(await roleOf(t.ownerMember.id), "owner");
});

test("get-active-member-role: {role} of the caller, or of a fellow member by userId; 403 for an outsider either way", async () => {
  const t = await team("role");
  const mine = await t.admin.client.organization.getActiveMemberRole();
  assert.equal(mine.error, null, JSON.stringify(mine.error));
  assert.deepEqual(mine.data, { role: "admin" });
  const owners = await t.plain.client.organization.getActiveMemberRole({ query: { userId: t.owner.user.id } });
  assert.deepEqual(owners.data, { role: "owner" });
  const bySlug = await t.owner.client.organization.getActiveMemberRole({ query: { organizationSlug: t.org.slug, userId: t.plain.user.id } });
  assert.deepEqual(bySlug.data, { role: "member" });

  const stranger = await member(server, "role-stranger");
  const aboutStranger = await t.owner.client.organization.getActiveMemberRole({ query: { userId: stranger.user.id } });
  assert.deepEqual(refusal(aboutStranger), { status: 403, code: "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION" });
  const byStranger = await orgGet(server, stranger, `get-active-member-role?organizationId=${t.org.id}&userId=${t.owner.user.id}`);
  assertApiError(assert, byStranger, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
  assert.equal(byStranger.text.includes("owner"), false);
  const none = await orgGet(server, stranger, "get-active-member-role");
  assertApiError(assert, none, 400, "NO_ACTIVE_ORGANIZATION");
  const anon = await orgGet(server, null, "get-active-member-role");
  assertApiError(assert, anon, 401);
});

test("list-members: limit, offset, sortBy, sortDirection and filter as Better-Auth's; total counts the filtered members", async () => {
  const t = await team("page");
  const list = async (query) => {
    const r = await t.owner.client.organization.listMembers({ query });
    assert.equal(r.error, null, `${JSON.stringify(query)}: ${JSON.stringify(r.error)}`);
    return { roles: r.data.members.map((m) => m.role), total: r.data.total };
  };
  assert.deepEqual(await list({ sortBy: "role" }), { roles: ["admin", "member", "owner"], total: 3 });
  assert.deepEqual(await list({ sortBy: "role", sortDirection: "desc" }), { roles: ["owner", "member", "admin"], total: 3 });
  assert.deepEqual(await list({ sortBy: "role", limit: 1, offset: 1 }), { roles: ["member"], total: 3 });
  assert.deepEqual(await list({ filterField: "role", filterValue: "admin" }), { roles: ["admin"], total: 1 });
  assert.deepEqual(await list({ filterField: "role", filterOperator: "ne", filterValue: "owner", sortBy: "role" }),
    { roles: ["admin", "member"], total: 2 });
  assert.deepEqual(await list({ filterField: "userId", filterValue: t.plain.user.id }), { roles: ["member"], total: 1 });
  assert.deepEqual(await list({ filterField: "role", filterOperator: "in", filterValue: "owner,admin", sortBy: "role", limit: 1 }),
    { roles: ["admin"], total: 2 });

  for (const q of ["sortDirection=sideways", "sortBy=password", "sortBy=role%3B%20DROP%20TABLE%20auth.users",
                   "filterField=email&filterValue=x", "filterField=role&filterOperator=like&filterValue=x", "filterField=role"]) {
    const r = await orgGet(server, t.owner, `list-members?${q}`);
    assertApiError(assert, r, 400, "VALIDATION_ERROR");
  }
  const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.members WHERE organization_id = $1", [t.org.id]);
  assert.equal(n, 3);
});

test("deleting the only owner of an organization with other members is refused (400); an only member takes the organization along", async () => {
  const t = await team("del");
  const r = await t.owner.client.deleteUser({ password: "correct-horse-battery" });
  assert.deepEqual(refusal(r), { status: 400, code: "USER_IS_THE_ONLY_OWNER_OF_AN_ORGANIZATION" });
  const [{ n: users }] = await sql("SELECT count(*)::int AS n FROM auth.users WHERE id = $1", [t.owner.user.id]);
  assert.equal(users, 1);
  assert.equal(await roleOf(t.ownerMember.id), "owner");
  // still signed in: the refusal ended nothing
  assert.equal((await t.owner.client.getSession()).data.user.id, t.owner.user.id);

  const loner = await member(server, "del-loner");
  const alone = await newOrg(loner, "del-alone");
  const gone = await loner.client.deleteUser({ password: "correct-horse-battery" });
  assert.equal(gone.error, null, JSON.stringify(gone.error));
  const [{ n: orgs }] = await sql("SELECT count(*)::int AS n FROM auth.organizations WHERE id = $1", [alone.id]);
  assert.equal(orgs, 0);
});
