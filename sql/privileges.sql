-- Roles: what each can and cannot do. PUBLIC has nothing.
SELECT session_token AS tok FROM auth.sign_up_email('priv@example.com', 'privileged-pass', 'Priv') \gset

-- PUBLIC: no table, no function (besides the schema being unusable)
SELECT count(*) AS public_functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'auth' AND has_function_privilege('regress_pgauth_nobody', p.oid, 'EXECUTE');
SELECT count(*) AS public_tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'auth' AND c.relkind = 'r'
   AND has_table_privilege('regress_pgauth_nobody', c.oid, 'SELECT,INSERT,UPDATE,DELETE');
-- every API function is SECURITY DEFINER and documented (trigger functions are not API and run
-- as the writer, which is always one of our SECURITY DEFINER functions); plpgsql/sql ones pin search_path.
-- The one exception is this list: the RLS readers, C functions answering from backend memory,
-- which a policy calls once per row (docs/organizations.md); none reads a table as its caller.
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'auth' AND obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1;
SELECT p.oid::regprocedure AS security_invoker, l.lanname, p.provolatile, p.proconfig
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = 'auth' AND NOT p.prosecdef AND p.prorettype <> 'trigger'::regtype ORDER BY 1;
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'auth' AND (SELECT l.lanname FROM pg_language l WHERE l.oid = p.prolang) IN ('sql', 'plpgsql')
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, auth, pg_temp'], false) ORDER BY 1;
-- only owner-readable tables: no role may read hashes or token digests
SELECT r AS role, c.relname, has_table_privilege(r, c.oid, 'SELECT') AS can_select
  FROM unnest(ARRAY['pgauth_reader', 'pgauth_service', 'pgauth_admin']) r
 CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'auth' AND c.relkind = 'r' AND c.relname <> 'error_codes'
   AND has_table_privilege(r, c.oid, 'SELECT') ORDER BY 1, 2;

SET ROLE regress_pgauth_nobody;
SELECT try(format('SELECT * FROM auth.validate_session(%L)', :'tok')) AS validate;
SELECT try('SELECT * FROM auth.users') AS users;
RESET ROLE;

SET ROLE regress_pgauth_reader;
SELECT email FROM auth.validate_session(:'tok');
SELECT try('SELECT * FROM auth.users') AS users;
SELECT try('SELECT * FROM auth.sessions') AS sessions;
SELECT try('SELECT * FROM auth.accounts') AS accounts;
SELECT try($$SELECT auth.sign_up_email('r@example.com', 'reader-password', 'R')$$) AS sign_up;
SELECT try(format('SELECT auth.revoke_session(%L)', :'tok')) AS revoke;
SELECT try($$SELECT auth.hash_password('x')$$) AS hash_password;
-- security-relevant settings cannot be changed by an ordinary role
SELECT try($$SET pgauth.session_expires_in = '10y'$$) AS set_expiry;
SELECT try($$SET pgauth.argon2_opslimit = 1$$) AS set_argon2;
SELECT try($$SELECT set_config('pgauth.password_min_length', '1', false)$$) AS set_config;
RESET ROLE;

SET ROLE regress_pgauth_service;
SELECT count(*) AS signed_in FROM auth.sign_in_email('priv@example.com', 'privileged-pass');
SELECT try('SELECT * FROM auth.accounts') AS accounts;
SELECT try($$SELECT auth.import_user('i@example.com', 'I', NULL)$$) AS import_user;
SELECT try($$SELECT auth.create_session('00000000-0000-0000-0000-000000000000', true, NULL, NULL)$$) AS create_session;
SELECT try($$SELECT auth.selftest_boundary('ok')$$) AS selftest;
RESET ROLE;

SET ROLE regress_pgauth_admin;
SELECT auth.import_user('imported@example.com', 'Imported', NULL) IS NOT NULL AS import_user;
SELECT try('SELECT * FROM auth.users') AS users;
RESET ROLE;

-- auth.settings(): the superuser-only pgauth.key_file only for a superuser login
CREATE ROLE regress_pgauth_reader_login LOGIN IN ROLE pgauth_reader;
SELECT count(*) AS superuser_sees_key_file FROM auth.settings() WHERE name = 'pgauth.key_file';
SET SESSION AUTHORIZATION regress_pgauth_reader_login;
SELECT count(*) FILTER (WHERE name = 'pgauth.key_file') AS reader_sees_key_file,
       count(*) FILTER (WHERE name = 'pgauth.base_url') AS reader_sees_base_url
  FROM auth.settings();
SELECT try($$SELECT current_setting('pgauth.key_file')$$) AS reader_current_setting;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_pgauth_reader_login;

-- the password-less delete_user(uuid) is an admin operation only
SELECT r AS role, has_function_privilege(r, 'auth.delete_user(uuid)', 'EXECUTE') AS without_password,
       has_function_privilege(r, 'auth.delete_user(uuid, text)', 'EXECUTE') AS with_password
  FROM unnest(ARRAY['pgauth_reader', 'pgauth_service', 'pgauth_admin']) r ORDER BY 1;
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.delete_user(%L)', (SELECT user_id FROM auth.validate_session(:'tok')))) AS service_delete_without_password;
RESET ROLE;
