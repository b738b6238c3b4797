// Shared by the organization-*.test.mjs files: a signed-up user with the official
// better-auth client and organizationClient (teams and dynamic access control on,
// as a Better-Auth app enabling them configures its client), and raw calls.
import { organizationClient } from "better-auth/client/plugins";
import { authClient, post, uniqueEmail } from "./harness.mjs";

export const orgPlugins = () => [organizationClient({ teams: { enabled: true }, dynamicAccessControl: { enabled: true } })];

// A new user signed in through the client (its jar holds the session cookie).
export async function member(server, tag = "org", email = uniqueEmail(tag)) {
  const { client, jar } = authClient(server, orgPlugins());
  const up = await client.signUp.email({ email, password: "correct-horse-battery", name: `User ${tag}` });
  if (up.error) throw new Error(`sign-up failed: ${JSON.stringify(up.error)}`);
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  return { client, jar, email, user: up.data.user, token: up.data.token, cookie };
}

export function slug(tag = "org") {
  return `${tag}-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

// An organization created by `owner` through the client; it becomes the owner's active one.
export async function newOrg(owner, tag = "org", extra = {}) {
  const s = slug(tag);
  const r = await owner.client.organization.create({ name: `Org ${tag}`, slug: s, ...extra });
  if (r.error) throw new Error(`create failed: ${JSON.stringify(r.error)}`);
  return r.data;
}

// A raw POST under /api/auth/organization/ with the user's cookie (or none).
export function orgPost(server, who, path, body) {
  return post(`${server.api}/organization/${path}`, body, who ? { cookie: who.cookie() } : {});
}

// A raw GET under /api/auth/organization/ with the user's cookie (or none).
export async function orgGet(server, who, pathAndQuery) {
  const res = await fetch(`${server.api}/organization/${pathAndQuery}`, { headers: who ? { cookie: who.cookie() } : {} });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, headers: res.headers, text, body };
}

// Better-Auth's client result as {status, code}: the shape an assertion on a refusal needs.
export function refusal(result) {
  return { status: result.error?.status, code: result.error?.code };
}
