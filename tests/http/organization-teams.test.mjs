// Teams and dynamic access control under /api/auth/organization/ with the official client and
// organizationClient (teams and dynamicAccessControl enabled): create-team, list-teams,
// update-team, remove-team, set-active-team, add/remove/list-team-member(s), list-user-teams;
// create-role, list-roles, get-role, update-role, delete-role, and has-permission on a custom role.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertApiError, sql, startServer } from "./harness.mjs";
import { member, newOrg, orgGet, orgPost, refusal } from "./org-helpers.mjs";

const server = await startServer();

async function join(inviter, org, who, role) {
  const inv = await inviter.client.organization.inviteMember({ email: who.email, role, organizationId: org.id });
  if (inv.error) throw new Error(`invite failed: ${JSON.stringify(inv.error)}`);
  const acc = await who.client.organization.acceptInvitation({ invitationId: inv.data.id });
  if (acc.error) throw new Error(`accept failed: ${JSON.stringify(acc.error)}`);
  return acc.data.member;
}

async function setup(tag) {
  const owner = await member(server, `${tag}-owner`);
  const plain = await member(server, `${tag}-member`);
  const org = await newOrg(owner, tag);
  const plainMember = await join(owner, org, plain, "member");
  await plain.client.organization.setActive({ organizationId: org.id });
  return { owner, plain, org, plainMember };
}

test("teams: create, list, update, members, set-active-team, list-user-teams, remove", async () => {
  const { owner, plain, org } = await setup("teams");
  const created = await owner.client.organization.createTeam({ name: "Blue" });
  assert.equal(created.error, null, JSON.stringify(created.error));
  const blue = created.data;
  assert.equal(blue.name, "Blue");
  assert.equal(blue.organizationId, org.id);

  const list = await plain.client.organization.listTeams();
  assert.equal(list.error, null, JSON.stringify(list.error));
  assert.ok(list.data.some((t) => t.id === blue.id));

  const upd = await owner.client.organization.updateTeam({ teamId: blue.id, data: { name: "Navy" } });
  assert.equal(upd.error, null, JSON.stringify(upd.error));
  assert.equal(upd.data.name, "Navy");

  const add = await owner.client.organization.addTeamMember({ teamId: blue.id, userId: plain.user.id });
  assert.equal(add.error, null, JSON.stringify(add.error));
  assert.equal(add.data.teamId, blue.id);
  assert.equal(add.data.userId, plain.user.id);

  const members = await plain.client.organization.listTeamMembers({ query: { teamId: blue.id } });
  assert.equal(members.error, null, JSON.stringify(members.error));
  assert.ok(members.data.some((m) => m.userId === plain.user.id));

  const active = await plain.client.organization.setActiveTeam({ teamId: blue.id });
  assert.equal(active.error, null, JSON.stringify(active.error));
  assert.equal(active.data.id, blue.id);
  assert.equal((await plain.client.getSession()).data.session.activeTeamId, blue.id);

  const mine = await plain.client.organization.listUserTeams();
  assert.equal(mine.error, null, JSON.stringify(mine.error));
  assert.ok(mine.data.some((t) => t.id === blue.id));

  // a plain member may not create, update or remove teams
  assert.equal((await plain.client.organization.createTeam({ name: "Red" })).error?.status, 403);
  assert.equal((await plain.client.organization.updateTeam({ teamId: blue.id, data: { name: "X" } })).error?.status, 403);
  assert.equal((await plain.client.organization.removeTeam({ teamId: blue.id })).error?.status, 403);

  const rmm = await owner.client.organization.removeTeamMember({ teamId: blue.id, userId: plain.user.id });
  assert.equal(rmm.error, null, JSON.stringify(rmm.error));
  const after = await owner.client.organization.listTeamMembers({ query: { teamId: blue.id } });
  assert.equal(after.data.some((m) => m.userId === plain.user.id), false);

  const cleared = await plain.client.organization.setActiveTeam({ teamId: null });
  assert.equal(cleared.error, null);
  assert.equal((await plain.client.getSession()).data.session.activeTeamId, null);

  const red = await owner.client.organization.createTeam({ name: "Red" });
  const rm = await owner.client.organization.removeTeam({ teamId: blue.id });
  assert.equal(rm.error, null, JSON.stringify(rm.error));
  const left = await owner.client.organization.listTeams();
  assert.equal(left.data.some((t) => t.id === blue.id), false);
  assert.ok(left.data.some((t) => t.id === red.data.id));
});

test("teams: a non-member can neither list nor join; a team of another organization is not found", async () => {
  const { owner, org } = await setup("teams-priv");
  const team = (await owner.client.organization.createTeam({ name: "Secret" })).data;
  const stranger = await member(server, "teams-stranger");
  const otherOrg = await newOrg(stranger, "teams-other");
  const list = await orgGet(server, stranger, `list-teams?organizationId=${org.id}`);
  assertApiError(assert, list, 403);
  const tm = await orgGet(server, stranger, `list-team-members?teamId=${team.id}`);
  assert.ok(tm.status >= 400 && tm.status < 500, tm.text);
  const act = await stranger.client.organization.setActiveTeam({ teamId: team.id });
  assert.ok(act.error && act.error.status >= 400 && act.error.status < 500);
  // the stranger owns otherOrg: adding itself to a team of org through it fails
  const add = await orgPost(server, stranger, "add-team-member", { teamId: team.id, userId: stranger.user.id, organizationId: otherOrg.id });
  assert.ok(add.status >= 400 && add.status < 500, add.text);
  assert.equal((await sql("SELECT 1 FROM auth.team_members WHERE team_id = $1 AND user_id = $2", [team.id, stranger.user.id])).length, 0);
});

test("dynamic roles: create, list, get, update, has-permission with it, delete", async () => {
  const { owner, plain, org, plainMember } = await setup("roles");
  const created = await owner.client.organization.createRole({ role: "auditor", permission: { member: ["update"], invitation: ["create"] } });
  assert.equal(created.error, null, JSON.stringify(created.error));
  assert.equal(created.data.success, true);
  assert.equal(created.data.roleData.role, "auditor");
  assert.equal(created.data.roleData.organizationId, org.id);
  assert.deepEqual(created.data.roleData.permission, { member: ["update"], invitation: ["create"] });

  const list = await plain.client.organization.listRoles();
  assert.equal(list.error, null, JSON.stringify(list.error));
  assert.ok(list.data.some((r) => r.role === "auditor"));
  const got = await owner.client.organization.getRole({ query: { roleName: "auditor" } });
  assert.equal(got.error, null, JSON.stringify(got.error));
  assert.equal(got.data.id, created.data.roleData.id);

  // give it to the member: has-permission follows it
  const set = await owner.client.organization.updateMemberRole({ memberId: plainMember.id, role: "auditor" });
  assert.equal(set.error, null, JSON.stringify(set.error));
  const can = await plain.client.organization.hasPermission({ permissions: { invitation: ["create"] } });
  assert.equal(can.data?.success, true, JSON.stringify(can));
  const cannot = await plain.client.organization.hasPermission({ permissions: { organization: ["delete"] } });
  assert.equal(cannot.data?.success, false);

  const upd = await owner.client.organization.updateRole({ roleName: "auditor", data: { permission: { member: ["update"] } } });
  assert.equal(upd.error, null, JSON.stringify(upd.error));
  const now = await plain.client.organization.hasPermission({ permissions: { invitation: ["create"] } });
  assert.equal(now.data?.success, false);

  // assigned: cannot be deleted
  const busy = await owner.client.organization.deleteRole({ roleName: "auditor" });
  assert.equal(busy.error?.status, 400, JSON.stringify(busy));
  await owner.client.organization.updateMemberRole({ memberId: plainMember.id, role: "member" });
  const del = await owner.client.organization.deleteRole({ roleName: "auditor" });
  assert.equal(del.error, null, JSON.stringify(del.error));
  assert.equal((await owner.client.organization.listRoles()).data.some((r) => r.role === "auditor"), false);
});

test("dynamic roles: a member cannot create roles; an admin cannot create or widen a role beyond its own permissions", async () => {
  const { owner, plain, org } = await setup("roles-esc");
  const admin = await member(server, "roles-esc-admin");
  await join(owner, org, admin, "admin");
  await admin.client.organization.setActive({ organizationId: org.id });
  const byMember = await plain.client.organization.createRole({ role: "boss", permission: { organization: ["delete"] } });
  assert.equal(byMember.error?.status, 403);
  const aboveAdmin = await admin.client.organization.createRole({ role: "deleter", permission: { organization: ["delete"] } });
  assert.equal(aboveAdmin.error?.status, 403, JSON.stringify(aboveAdmin));
  const fine = await admin.client.organization.createRole({ role: "helper", permission: { member: ["update"] } });
  assert.equal(fine.error, null, JSON.stringify(fine.error));
  const widen = await admin.client.organization.updateRole({ roleName: "helper", data: { permission: { organization: ["delete"] } } });
  assert.equal(widen.error?.status, 403, JSON.stringify(widen));
  const [row] = await sql("SELECT permission::text AS p FROM auth.organization_roles WHERE organization_id = $1 AND role = 'helper'", [org.id]);
  assert.equal(row.p.includes("delete"), false, row.p);
  const predefined = await owner.client.organization.deleteRole({ roleName: "owner" });
  assert.ok(predefined.error && predefined.error.status >= 400 && predefined.error.status < 500);
  const dupName = await owner.client.organization.createRole({ role: "admin", permission: { member: ["update"] } });
  assert.equal(dupName.error?.status, 400);
});

test("bad input on team and role routes: 4xx {code,message}", async () => {
  const { owner } = await setup("teams-bad");
  const cases = [
    ["create-team", {}],
    ["create-team", { name: 5 }],
    ["create-team", { name: "" }],
    ["update-team", { teamId: "nope", data: { name: "x" } }],
    ["update-team", { data: { name: "x" } }],
    ["remove-team", {}],
    ["remove-team", { teamId: 5 }],
    ["set-active-team", { teamId: "nope" }],
    ["add-team-member", { teamId: "nope", userId: "nope" }],
    ["remove-team-member", {}],
    ["create-role", {}],
    ["create-role", { role: "x" }],
    ["create-role", { role: "x", permission: "all" }],
    ["create-role", { role: "x", permission: { member: "update" } }],
    ["create-role", { role: 5, permission: { member: ["update"] } }],
    ["update-role", { data: {} }],
    ["delete-role", {}],
  ];
  for (const [path, body] of cases) {
    const r = await orgPost(server, owner, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  for (const q of ["list-team-members?teamId=nope", "get-role?roleId=nope", "list-teams?organizationId=nope"]) {
    const r = await orgGet(server, owner, q);
    assert.ok(r.status >= 400 && r.status < 500, `${q}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
});

test("dynamic roles: a resource no role declares is 400 INVALID_RESOURCE on create-role and update-role", async () => {
  const { owner } = await setup("res");
  const made = await owner.client.organization.createRole({ role: "biller", permission: { invoice: ["pay"] } });
  assert.deepEqual(refusal(made), { status: 400, code: "INVALID_RESOURCE" });
  const mixed = await owner.client.organization.createRole({ role: "biller", permission: { member: ["update"], invoice: ["pay"] } });
  assert.deepEqual(refusal(mixed), { status: 400, code: "INVALID_RESOURCE" });
  const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.organization_roles WHERE role = 'biller'");
  assert.equal(n, 0);
  const ok = await owner.client.organization.createRole({ role: "helper", permission: { member: ["update"] } });
  assert.equal(ok.error, null, JSON.stringify(ok.error));
  const widened = await owner.client.organization.updateRole({ roleName: "helper", data: { permission: { invoice: ["pay"] } } });
  assert.deepEqual(refusal(widened), { status: 400, code: "INVALID_RESOURCE" });
  const [row] = await sql("SELECT permission FROM auth.organization_roles WHERE id = $1", [ok.data.roleData.id]);
  assert.deepEqual(row.permission, { member: ["update"] });
});

test("remove-team: the organization's last team stays (400 UNABLE_TO_REMOVE_LAST_TEAM), as Better-Auth's default", async () => {
  const { owner, org } = await setup("lastteam");
  const only = await owner.client.organization.createTeam({ name: "Only" });
  const r = await owner.client.organization.removeTeam({ teamId: only.data.id });
  assert.deepEqual(refusal(r), { status: 400, code: "UNABLE_TO_REMOVE_LAST_TEAM" });
  const [{ n }] = await sql("SELECT count(*)::int AS n FROM auth.teams WHERE organization_id = $1", [org.id]);
  assert.equal(n, 1);
});
