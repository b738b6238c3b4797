// /api/auth/organization/{create,update,delete,list,get-full-organization,set-active,check-slug}
// (Better-Auth's organization plugin) with the official client and organizationClient; the
// active organization in get-session and in the session JWT (/token, verified with jose).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { assertApiError, post, sql, startServer } from "./harness.mjs";
import { member, newOrg, orgGet, orgPost, refusal, slug } from "./org-helpers.mjs";

const server = await startServer({}, { issuer: true });
const JWKS = createRemoteJWKSet(new URL(`${server.api}/jwks`));

test("create: Better-Auth's organization with its owner member; it becomes the active organization", async () => {
  const owner = await member(server, "create");
  const s = slug("create");
  const r = await owner.client.organization.create({ name: "Acme", slug: s, logo: "https://x.test/l.png", metadata: { plan: "pro" } });
  assert.equal(r.error, null, JSON.stringify(r.error));
  const org = r.data;
  assert.match(org.id, /^[0-9a-f-]{36}$/);
  assert.equal(org.name, "Acme");
  assert.equal(org.slug, s);
  assert.equal(org.logo, "https://x.test/l.png");
  assert.deepEqual(org.metadata, { plan: "pro" });
  assert.ok(!Number.isNaN(Date.parse(org.createdAt)));
  assert.equal(org.members.length, 1);
  assert.equal(org.members[0].userId, owner.user.id);
  assert.equal(org.members[0].role, "owner");
  assert.equal(org.members[0].organizationId, org.id);

  const session = await owner.client.getSession();
  assert.equal(session.data.session.activeOrganizationId, org.id);

  // keepCurrentActiveOrganization leaves the active one alone
  const other = await owner.client.organization.create({ name: "Second", slug: slug("create2"), keepCurrentActiveOrganization: true });
  assert.equal(other.error, null);
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, org.id);
});

test("create: a taken slug is 400 ORGANIZATION_ALREADY_EXISTS and creates nothing", async () => {
  const owner = await member(server, "dup");
  const org = await newOrg(owner, "dup");
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  const r = await owner.client.organization.create({ name: "Again", slug: org.slug });
  assert.deepEqual(refusal(r), { status: 400, code: "ORGANIZATION_ALREADY_EXISTS" });
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  assert.equal(after, before);
});

test("create without a session: 401", async () => {
  const r = await post(`${server.api}/organization/create`, { name: "X", slug: slug("anon") });
  assertApiError(assert, r, 401);
});

test("a credential that names no live session (signed out, garbage): 401 on every kind of route, nothing written", async () => {
  const owner = await member(server, "gone");
  const org = await newOrg(owner, "gone");
  const cookie = owner.cookie();
  const out = await post(`${server.api}/sign-out`, {}, { cookie });
  assert.equal(out.status, 200, out.text);
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  for (const headers of [{ cookie }, { authorization: "Bearer not-a-session-token" }]) {
    for (const [path, body] of [["create", { name: "X", slug: slug("gone") }], ["set-active", { organizationId: org.id }],
                                ["has-permission", { permissions: { member: ["create"] } }]]) {
      const r = await post(`${server.api}/organization/${path}`, body, headers);
      assertApiError(assert, r, 401, "UNAUTHORIZED");
    }
    for (const q of ["list", `get-full-organization?organizationId=${org.id}`, "list-members"]) {
      const res = await fetch(`${server.api}/organization/${q}`, { headers });
      assert.equal(res.status, 401, q);
      assert.equal((await res.json()).code, "UNAUTHORIZED");
    }
  }
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  assert.equal(after, before);
});

test("check-slug: free is {status:true}, taken is 400 ORGANIZATION_SLUG_ALREADY_TAKEN", async () => {
  const owner = await member(server, "slug");
  const org = await newOrg(owner, "slug");
  const free = await owner.client.organization.checkSlug({ slug: slug("free") });
  assert.equal(free.error, null);
  assert.deepEqual(free.data, { status: true });
  const taken = await owner.client.organization.checkSlug({ slug: org.slug });
  assert.deepEqual(refusal(taken), { status: 400, code: "ORGANIZATION_SLUG_ALREADY_TAKEN" });
});

test("list: only the caller's organizations", async () => {
  const a = await member(server, "list-a");
  const b = await member(server, "list-b");
  const orgA = await newOrg(a, "list-a");
  const orgB = await newOrg(b, "list-b");
  const listA = await a.client.organization.list();
  assert.equal(listA.error, null);
  assert.deepEqual(listA.data.map((o) => o.id), [orgA.id]);
  assert.equal(listA.data[0].slug, orgA.slug);
  const listB = await b.client.organization.list();
  assert.deepEqual(listB.data.map((o) => o.id), [orgB.id]);
});

test("get-full-organization: the active one by default, by id or slug; members, invitations, teams", async () => {
  const owner = await member(server, "full");
  const org = await newOrg(owner, "full");
  const active = await owner.client.organization.getFullOrganization();
  assert.equal(active.error, null, JSON.stringify(active.error));
  assert.equal(active.data.id, org.id);
  assert.equal(active.data.members.length, 1);
  assert.equal(active.data.members[0].user.email, owner.email);
  assert.ok(Array.isArray(active.data.invitations));
  const bySlug = await owner.client.organization.getFullOrganization({ query: { organizationSlug: org.slug } });
  assert.equal(bySlug.data.id, org.id);
  const byId = await owner.client.organization.getFullOrganization({ query: { organizationId: org.id } });
  assert.equal(byId.data.slug, org.slug);
});

test("get-full-organization without an active organization answers null", async () => {
  const loner = await member(server, "none");
  const r = await orgGet(server, loner, "get-full-organization");
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, "null");
});

test("a non-member reading or switching to an organization: 403; the refused switch leaves no active organization", async () => {
  const owner = await member(server, "priv-owner");
  const stranger = await member(server, "priv-stranger");
  const org = await newOrg(owner, "priv");
  const mine = await newOrg(stranger, "priv-mine");

  const read = await orgGet(server, stranger, `get-full-organization?organizationId=${org.id}`);
  assertApiError(assert, read, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
  assert.equal(read.text.includes(owner.email), false);
  const readSlug = await stranger.client.organization.getFullOrganization({ query: { organizationSlug: org.slug } });
  assert.equal(readSlug.error.status, 403);

  const sw = await stranger.client.organization.setActive({ organizationId: org.id });
  assert.deepEqual(refusal(sw), { status: 403, code: "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION" });
  const swSlug = await stranger.client.organization.setActive({ organizationSlug: org.slug });
  assert.equal(swSlug.error.status, 403);
  // as Better-Auth's set-active: a refused switch also clears the session's active organization
  const session = (await stranger.client.getSession()).data.session;
  assert.equal(session.activeOrganizationId, null);
  assert.equal((await stranger.client.organization.setActive({ organizationId: mine.id })).data.id, mine.id);

  const upd = await stranger.client.organization.update({ organizationId: org.id, data: { name: "Pwned" } });
  assert.ok(upd.error && upd.error.status >= 400 && upd.error.status < 500);
  const del = await stranger.client.organization.delete({ organizationId: org.id });
  assert.ok(del.error && del.error.status >= 400 && del.error.status < 500);
  const [row] = await sql("SELECT name FROM auth.organizations WHERE id = $1", [org.id]);
  assert.equal(row.name, "Org priv");
});

test("set-active: by id, by slug, and null clears it; get-session shows activeOrganizationId", async () => {
  const owner = await member(server, "active");
  const one = await newOrg(owner, "active1");
  const two = await newOrg(owner, "active2", { keepCurrentActiveOrganization: true });
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, one.id);

  const bySlug = await owner.client.organization.setActive({ organizationSlug: two.slug });
  assert.equal(bySlug.error, null, JSON.stringify(bySlug.error));
  assert.equal(bySlug.data.id, two.id);
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, two.id);

  const byId = await owner.client.organization.setActive({ organizationId: one.id });
  assert.equal(byId.data.id, one.id);
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, one.id);

  const cleared = await owner.client.organization.setActive({ organizationId: null });
  assert.equal(cleared.error, null);
  assert.equal(cleared.data, null);
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, null);

  const unknown = await owner.client.organization.setActive({ organizationId: "00000000-0000-4000-8000-000000000000" });
  assert.ok(unknown.error && unknown.error.status >= 400 && unknown.error.status < 500);
});

test("the session JWT carries the active organization (org claim), verified with jose", async () => {
  const owner = await member(server, "jwt");
  const org = await newOrg(owner, "jwt");
  const res = await fetch(`${server.api}/token`, { headers: { cookie: owner.cookie() } });
  assert.equal(res.status, 200);
  const { token } = await res.json();
  const { payload } = await jwtVerify(token, JWKS, { issuer: server.base, audience: server.base });
  assert.equal(payload.sub, owner.user.id);
  assert.ok(payload.org, `an org claim in ${JSON.stringify(payload)}`);
  const orgId = typeof payload.org === "string" ? payload.org : payload.org.id;
  assert.equal(orgId, org.id);

  await owner.client.organization.setActive({ organizationId: null });
  const res2 = await fetch(`${server.api}/token`, { headers: { cookie: owner.cookie() } });
  const { payload: p2 } = await jwtVerify((await res2.json()).token, JWKS, { issuer: server.base, audience: server.base });
  assert.ok(p2.org === undefined || p2.org === null, `no org claim after clearing: ${JSON.stringify(p2.org)}`);
});

test("update: owner renames and re-slugs; a taken slug is refused; a plain member may not update", async () => {
  const owner = await member(server, "upd");
  const org = await newOrg(owner, "upd");
  const other = await newOrg(owner, "upd-other", { keepCurrentActiveOrganization: true });
  const s = slug("renamed");
  const r = await owner.client.organization.update({ data: { name: "Renamed", slug: s, metadata: { a: 1 } } });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.data.id, org.id);
  assert.equal(r.data.name, "Renamed");
  assert.equal(r.data.slug, s);
  assert.deepEqual(r.data.metadata, { a: 1 });
  const taken = await owner.client.organization.update({ organizationId: org.id, data: { slug: other.slug } });
  assert.deepEqual(refusal(taken), { status: 400, code: "ORGANIZATION_SLUG_ALREADY_TAKEN" });
  const [row] = await sql("SELECT slug FROM auth.organizations WHERE id = $1", [org.id]);
  assert.equal(row.slug, s);
});

test("delete: removes the organization, its members, and clears it as every session's active one", async () => {
  const owner = await member(server, "del");
  const org = await newOrg(owner, "del");
  // a second session of the owner, also active on it
  const second = await post(`${server.api}/sign-in/email`, { email: owner.email, password: "correct-horse-battery" });
  const bearer = second.body.token;
  await post(`${server.api}/organization/set-active`, { organizationId: org.id }, { authorization: `Bearer ${bearer}` });
  const r = await owner.client.organization.delete({ organizationId: org.id });
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal((await sql("SELECT 1 FROM auth.organizations WHERE id = $1", [org.id])).length, 0);
  assert.equal((await sql("SELECT 1 FROM auth.members WHERE organization_id = $1", [org.id])).length, 0);
  assert.equal((await owner.client.getSession()).data.session.activeOrganizationId, null);
  const s2 = await (await fetch(`${server.api}/get-session`, { headers: { authorization: `Bearer ${bearer}` } })).json();
  assert.equal(s2.session.activeOrganizationId, null);
  assert.deepEqual((await owner.client.organization.list()).data, []);
});

test("bad input: wrong types, missing fields, bad ids, unknown query keys are 4xx {code,message} and write nothing", async () => {
  const owner = await member(server, "bad");
  const org = await newOrg(owner, "bad");
  const [{ n: before }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  const cases = [
    ["create", {}],
    ["create", { name: "X" }],
    ["create", { name: 1, slug: slug("t") }],
    ["create", { name: "X", slug: ["a"] }],
    ["create", { name: "", slug: slug("t") }],
    ["create", { name: "X", slug: "" }],
    ["create", { name: "X", slug: slug("t"), metadata: "not-an-object" }],
    ["create", { name: "X", slug: slug("t"), logo: 5 }],
    ["create", { name: "X\u0000Y", slug: slug("t") }],
    ["create", { name: "x".repeat(100000), slug: slug("t") }],
    ["check-slug", {}],
    ["check-slug", { slug: 5 }],
    ["update", { organizationId: org.id }],
    ["update", { organizationId: org.id, data: "x" }],
    ["update", { organizationId: "not-a-uuid", data: { name: "y" } }],
    ["update", { organizationId: org.id, data: { name: 3 } }],
    ["delete", {}],
    ["delete", { organizationId: "not-a-uuid" }],
    ["delete", { organizationId: 7 }],
    ["set-active", { organizationId: 7 }],
    ["set-active", { organizationId: "not-a-uuid" }],
    ["set-active", { organizationSlug: ["x"] }],
  ];
  for (const [path, body] of cases) {
    const r = await orgPost(server, owner, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body).slice(0, 80)}: ${r.status} ${r.text.slice(0, 200)}`);
    assertApiError(assert, r, r.status);
  }
  for (const raw of ["{", "[]", "null", "\"x\""]) {
    const r = await orgPost(server, owner, "create", raw);
    assertApiError(assert, r, r.status);
    assert.ok(r.status >= 400 && r.status < 500);
  }
  for (const q of ["organizationId=not-a-uuid", "organizationId=%zz", "organizationId=a%00b", "bad%20key=1", "membersLimit=lots",
                   "organizationSlug=%c3%28", "organizationSlug=%ff%fe", `organizationSlug=${"s".repeat(5000)}`]) {
    const r = await orgGet(server, owner, `get-full-organization?${q}`);
    assert.ok(r.status >= 400 && r.status < 500, `${q}: ${r.status} ${r.text}`);
    assertApiError(assert, r, r.status);
  }
  const [{ n: after }] = await sql("SELECT count(*)::int AS n FROM auth.organizations");
  assert.equal(after, before);
  const [row] = await sql("SELECT name, slug FROM auth.organizations WHERE id = $1", [org.id]);
  assert.equal(row.name, "Org bad");
  assert.equal(row.slug, org.slug);
});

test("set-active by a non-member: 403 YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION, and the session keeps neither organization nor team", async () => {
  const owner = await member(server, "clear-owner");
  const stranger = await member(server, "clear-stranger");
  const theirs = await newOrg(owner, "clear-theirs");
  const mine = await newOrg(stranger, "clear-mine");
  const team = await stranger.client.organization.createTeam({ name: "Mine" });
  assert.equal(team.error, null, JSON.stringify(team.error));
  await stranger.client.organization.addTeamMember({ teamId: team.data.id, userId: stranger.user.id });
  const onTeam = await stranger.client.organization.setActiveTeam({ teamId: team.data.id });
  assert.equal(onTeam.error, null, JSON.stringify(onTeam.error));
  let session = (await stranger.client.getSession()).data.session;
  assert.deepEqual([session.activeOrganizationId, session.activeTeamId], [mine.id, team.data.id]);

  const sw = await orgPost(server, stranger, "set-active", { organizationId: theirs.id });
  assertApiError(assert, sw, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
  session = (await stranger.client.getSession()).data.session;
  assert.deepEqual([session.activeOrganizationId, session.activeTeamId], [null, null]);
  const [row] = await sql("SELECT active_organization_id, active_team_id FROM auth.sessions WHERE user_id = $1", [stranger.user.id]);
  assert.deepEqual([row.active_organization_id, row.active_team_id], [null, null]);
});

test("set-active with organizationId null clears the active organization and the active team", async () => {
  const owner = await member(server, "null-owner");
  const org = await newOrg(owner, "null-org");
  const team = await owner.client.organization.createTeam({ name: "T" });
  await owner.client.organization.addTeamMember({ teamId: team.data.id, userId: owner.user.id });
  await owner.client.organization.setActiveTeam({ teamId: team.data.id });
  let session = (await owner.client.getSession()).data.session;
  assert.deepEqual([session.activeOrganizationId, session.activeTeamId], [org.id, team.data.id]);
  const cleared = await owner.client.organization.setActive({ organizationId: null });
  assert.equal(cleared.error, null, JSON.stringify(cleared.error));
  assert.equal(cleared.data, null);
  session = (await owner.client.getSession()).data.session;
  assert.deepEqual([session.activeOrganizationId, session.activeTeamId], [null, null]);
});
