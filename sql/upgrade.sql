-- Every released version upgrades to the current one, and the result matches a fresh install.
CREATE TEMP TABLE fresh AS
SELECT p.oid::regprocedure::text AS fn, pg_get_function_result(p.oid) AS result, p.prosecdef, p.proconfig, p.proacl::text AS acl
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth';
SELECT source, target FROM pg_extension_update_paths('pgauth') WHERE path IS NOT NULL AND source = '0.1.0' ORDER BY 2;

-- the hot path caches relation OIDs per backend: use it before and after re-creating the extension
SELECT session_token AS before_tok FROM auth.sign_up_email('before@example.com', 'before-pass', 'Before') \gset
SELECT email FROM auth.validate_session(:'before_tok');
SET client_min_messages = warning;
DROP EXTENSION pgauth CASCADE;
CREATE EXTENSION pgauth VERSION '0.1.0';
ALTER EXTENSION pgauth UPDATE;
RESET client_min_messages;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pgauth') AS at_default
  FROM pg_extension WHERE extname = 'pgauth';
-- same functions, signatures, result types, SECURITY DEFINER and settings as a fresh install
(SELECT p.oid::regprocedure::text, pg_get_function_result(p.oid), p.prosecdef, p.proconfig, p.proacl::text
   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth'
 EXCEPT SELECT * FROM fresh)
UNION ALL
(SELECT * FROM fresh
 EXCEPT SELECT p.oid::regprocedure::text, pg_get_function_result(p.oid), p.prosecdef, p.proconfig, p.proacl::text
   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'auth');
-- and it works, in the same backend
SELECT session_token AS after_tok FROM auth.sign_up_email('upgraded@example.com', 'upgraded-pass', 'Up') \gset
SELECT email FROM auth.validate_session(:'after_tok');
SELECT count(*) AS old_session_gone FROM auth.validate_session(:'before_tok');
