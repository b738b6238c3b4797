-- pgauth 0.5.0 -> 0.6.0: organizations and the OAuth provider, completed.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.6.0'" to load this file. \quit

-- Each area keeps its changes between its own markers. A function that exists in 0.5.0 is
-- re-created whole (CREATE OR REPLACE) in its area's section; the full script
-- pgauth--0.6.0.sql changes it in place.

-- ---------------------------------------------------------------- organizations (0.6.0)
-- (0.6.0) the active organization when the role grants a permission: a policy
-- USING (org_id = auth.organization_id('project', 'read')) is one index condition, evaluated once
-- per scan; "AND auth.has_permission(...)" in a policy is evaluated for every row.
CREATE FUNCTION auth.organization_id(resource text, action text) RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_permitted_organization_id' LANGUAGE C STABLE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.organization_id(text, text) IS
  'The active organization of whoever is signed in when their role there grants resource:action; else NULL. For RLS: USING (org_id = auth.organization_id(''project'', ''read'')), the one-call form of auth.organization_id() AND auth.has_permission().';
REVOKE ALL ON FUNCTION auth.organization_id(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.organization_id(text, text) TO pgauth_reader, pgauth_service, pgauth_admin;
-- ---------------------------------------------------------------- organizations: end

-- ---------------------------------------------------------------- OAuth provider (0.6.0)
-- auth.oauth_issuer and auth.oauth_param, compiled: a token request reads about ten parameters,
-- and each call of a plpgsql or SQL function with a SET clause saves and restores the GUCs.
CREATE OR REPLACE FUNCTION auth.oauth_issuer() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_issuer' LANGUAGE C STABLE SECURITY DEFINER;
CREATE OR REPLACE FUNCTION auth.oauth_param(p_params jsonb, p_name text, p_max integer DEFAULT 2048) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_param' LANGUAGE C IMMUTABLE SECURITY DEFINER;
-- ---------------------------------------------------------------- OAuth provider: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
