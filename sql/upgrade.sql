-- Upgrades: a fresh install runs the full pgauth--0.7.0.sql; an old install runs the chain of
-- pgauth--<a>--<b>.sql deltas. Both must leave the same catalog: every function with its full
-- definition (body, language, volatility, strictness, SECURITY DEFINER, SET, cost, rows,
-- parallel safety), comment and grants; every table, column, default, constraint, index,
-- trigger, comment and grant; the schema's grants and default privileges; pg_dump
-- registration; the extension's members; and the error table.
CREATE FUNCTION pg_temp.pgauth_catalog() RETURNS TABLE (kind text, name text, detail text)
LANGUAGE sql STABLE AS $$
    SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
      FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'function comment', p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc')
      FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'function grant', p.oid::regprocedure::text,
           coalesce(nullif(a.grantee::regrole::text, '-'), 'PUBLIC') || ' ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
      FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
     WHERE p.pronamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'relation', c.oid::regclass::text, c.relkind::text || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '')
      FROM pg_class c WHERE c.relnamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'column', c.oid::regclass::text || '.' || a.attname,
           a.attnum || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || coalesce(' -- ' || col_description(c.oid, a.attnum), '')
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'c')
    UNION ALL
    SELECT 'constraint', co.conrelid::regclass::text || '.' || co.conname, pg_get_constraintdef(co.oid)
      FROM pg_constraint co WHERE co.connamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'trigger', t.tgrelid::regclass::text || '.' || t.tgname, pg_get_triggerdef(t.oid)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'auth'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'table grant', c.oid::regclass::text,
           coalesce(nullif(a.grantee::regrole::text, '-'), 'PUBLIC') || ' ' || a.privilege_type
      FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
     WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind = 'r'
    UNION ALL
    SELECT 'schema grant', n.nspname, coalesce(nullif(a.grantee::regrole::text, '-'), 'PUBLIC') || ' ' || a.privilege_type
      FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE n.nspname = 'auth'
    UNION ALL
    SELECT 'default privileges', d.defaclobjtype::text,
           coalesce(nullif(a.grantee::regrole::text, '-'), 'PUBLIC') || ' ' || a.privilege_type
      FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE d.defaclnamespace = 'auth'::regnamespace
    UNION ALL
    SELECT 'dumped table', cfg.rel::regclass::text, coalesce(cond.c, '')
      FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY cfg(rel, i)
      LEFT JOIN unnest(e.extcondition) WITH ORDINALITY cond(c, j) ON cond.j = cfg.i
     WHERE e.extname = 'pgauth'
    UNION ALL
    -- (not the schema: 0.4.0 creates auth as a member, while an install upgraded from an older
    -- version keeps the schema CREATE EXTENSION made for it, which no ALTER EXTENSION can adopt)
    SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), ''
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
     WHERE e.extname = 'pgauth' AND d.deptype = 'e' AND d.classid <> 'pg_namespace'::regclass
    UNION ALL
    SELECT 'error code', ec.code, ec.sqlstate || ' ' || ec.http_status || ' ' || ec.message FROM auth.error_codes ec
$$;
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.pgauth_catalog();
SELECT count(*) > 200 AS catalog_is_big, count(DISTINCT kind) AS kinds FROM fresh;
SELECT source, target FROM pg_extension_update_paths('pgauth') WHERE path IS NOT NULL AND source = '0.1.0' ORDER BY 2;

-- the hot path caches relation OIDs per backend: use it before and after re-creating the extension
SELECT session_token AS before_tok FROM auth.sign_up_email('before@example.com', 'before-pass', 'Before') \gset
SELECT email FROM auth.validate_session(:'before_tok');

-- 0.1.0, updated along the chain of deltas
SET client_min_messages = error;  -- (the preload warning depends on the server's configuration)
DROP EXTENSION pgauth CASCADE;
CREATE EXTENSION pgauth VERSION '0.1.0';
ALTER EXTENSION pgauth UPDATE;
RESET client_min_messages;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pgauth') AS at_default
  FROM pg_extension WHERE extname = 'pgauth';
CREATE TEMP TABLE from_0_1_0 AS SELECT * FROM pg_temp.pgauth_catalog();
-- what differs from a fresh install (nothing)
(SELECT 'only after upgrade' AS side, * FROM from_0_1_0 EXCEPT SELECT 'only after upgrade', * FROM fresh)
UNION ALL
(SELECT 'only in fresh', * FROM fresh EXCEPT SELECT 'only in fresh', * FROM from_0_1_0)
ORDER BY 1, 2, 3;
-- and it works, in the same backend
SELECT session_token AS after_tok FROM auth.sign_up_email('upgraded@example.com', 'upgraded-pass', 'Up') \gset
SELECT email FROM auth.validate_session(:'after_tok');
SELECT count(*) AS old_session_gone FROM auth.validate_session(:'before_tok');

-- 0.6.0, the previous release, updated by one delta
SET client_min_messages = error;  -- (the preload warning depends on the server's configuration)
DROP EXTENSION pgauth CASCADE;
CREATE EXTENSION pgauth VERSION '0.6.0';
ALTER EXTENSION pgauth UPDATE;
RESET client_min_messages;
(SELECT 'only after upgrade' AS side, * FROM pg_temp.pgauth_catalog() EXCEPT SELECT 'only after upgrade', * FROM fresh)
UNION ALL
(SELECT 'only in fresh', * FROM fresh EXCEPT SELECT 'only in fresh', * FROM pg_temp.pgauth_catalog())
ORDER BY 1, 2, 3;

-- leave a fresh install behind
SET client_min_messages = error;  -- (the preload warning depends on the server's configuration)
DROP EXTENSION pgauth CASCADE;
CREATE EXTENSION pgauth;
RESET client_min_messages;
