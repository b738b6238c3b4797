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
-- auth.oauth_seconds and auth.oauth_at_hash, compiled: a SQL function that is not inlined is
-- parsed and planned again on every call, and the token endpoint calls them several times.
CREATE OR REPLACE FUNCTION auth.oauth_seconds(p_name text) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgauth_oauth_seconds' LANGUAGE C STABLE SECURITY DEFINER;
CREATE OR REPLACE FUNCTION auth.oauth_at_hash(p_token text, p_alg text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_at_hash' LANGUAGE C IMMUTABLE SECURITY DEFINER;
-- Bounded cleanup of expired rows: called on a fraction of token-endpoint writes. It must cost
-- an index probe when nothing has expired, whatever the statistics say: a plan made while a table
-- looked small (a new table, before autovacuum analyzes it) would read the whole table on every
-- call once it is large, so this function plans with sequential scans off.
CREATE OR REPLACE FUNCTION auth.oauth_cleanup_some(p_limit integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp SET enable_seqscan = off AS $$
DECLARE
    n integer;
    total integer := 0;
BEGIN
    DELETE FROM auth.oauth_codes WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_codes x
        WHERE x.expires_at < now() - interval '1 hour' LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    DELETE FROM auth.oauth_consent_requests WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_consent_requests x
        WHERE x.expires_at < now() LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    -- a token is kept for a day past its expiry so that a late replay still finds its family
    DELETE FROM auth.oauth_tokens WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_tokens x
        WHERE x.expires_at < now() - interval '1 day' LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    DELETE FROM auth.oauth_assertions WHERE (client_id, jti_digest) IN (SELECT x.client_id, x.jti_digest
        FROM auth.oauth_assertions x WHERE x.expires_at < now() LIMIT p_limit FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    RETURN total;
END
$$;
-- ---------------------------------------------------------------- OAuth provider: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
