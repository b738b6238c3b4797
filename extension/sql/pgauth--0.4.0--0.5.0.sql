-- pgauth 0.4.0 -> 0.5.0: email flows through a transactional outbox, compiled API-key checks,
-- social accounts.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.5.0'" to load this file. \quit

-- ---------------------------------------------------------------- email: verification records and the outbox (0.5.0)

-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)

-- ---------------------------------------------------------------- API keys: end

-- ---------------------------------------------------------------- social accounts (0.5.0)

-- ---------------------------------------------------------------- social accounts: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
