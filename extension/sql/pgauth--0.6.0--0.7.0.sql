-- pgauth 0.6.0 -> 0.7.0: the row-level security helpers without a per-row identity switch.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.7.0'" to load this file. \quit

-- Each area keeps its changes between its own markers. A function that exists in 0.6.0 is
-- changed here by ALTER FUNCTION or re-created whole (CREATE OR REPLACE) in its area's section;
-- the full script pgauth--0.7.0.sql changes it in place.

-- ---------------------------------------------------------------- organizations (0.7.0)
-- (0.7.0) The RLS readers are SECURITY INVOKER: a policy calls them once per row, and the
-- identity switch of SECURITY DEFINER cost more than their answer from memory. The organization
-- helpers load memberships as the function's owner (docs/organizations.md).
ALTER FUNCTION auth.jwt() SECURITY INVOKER;
ALTER FUNCTION auth.user_id() SECURITY INVOKER;
ALTER FUNCTION auth.session() SECURITY INVOKER;
ALTER FUNCTION auth.organization_id() SECURITY INVOKER;
ALTER FUNCTION auth.organization_id(text, text) SECURITY INVOKER;
ALTER FUNCTION auth.team_id() SECURITY INVOKER;
ALTER FUNCTION auth.is_member(uuid) SECURITY INVOKER;
ALTER FUNCTION auth.has_permission(text, text) SECURITY INVOKER;
ALTER FUNCTION auth.member_role() SECURITY INVOKER;

-- (0.7.0) The RLS helpers keep a user's memberships across transactions; any change to them
-- makes every backend drop its copy before its next transaction (a relcache invalidation).
CREATE FUNCTION auth.memberships_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgauth_memberships_changed' LANGUAGE C;
COMMENT ON FUNCTION auth.memberships_changed() IS
  'Internal (trigger AFTER INSERT, UPDATE, DELETE or TRUNCATE ON auth.members and auth.organization_roles, per statement): every backend drops the memberships its RLS helpers keep (auth.organization_id(), auth.has_permission(), ...) before its next transaction.';
REVOKE ALL ON FUNCTION auth.memberships_changed() FROM PUBLIC;
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.members
    FOR EACH STATEMENT EXECUTE FUNCTION auth.memberships_changed();
CREATE TRIGGER organization_roles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.organization_roles
    FOR EACH STATEMENT EXECUTE FUNCTION auth.memberships_changed();

-- ---------------------------------------------------------------- OAuth provider (0.7.0)
