-- Admin (issue 16): the first admin, 403 for non-admins, ban (sessions die at once, sign-in
-- refused, validate_session refuses, expiry honoured), roles, list-users, sessions,
-- impersonation, remove, has-permission, bad input (4xx codes, nothing written).
SET pgauth.email_max_per_address = 0;
SELECT coalesce(max(id), 0) AS start FROM auth.audit_log \gset
SELECT user_id AS boss, session_token AS boss_tok FROM auth.sign_up_email('boss@admin.example', 'boss-password-1', 'Boss') \gset
SELECT user_id AS u1, session_token AS u1_tok FROM auth.sign_up_email('u1@admin.example', 'user-password-1', 'Ann One') \gset
SELECT user_id AS u2, session_token AS u2_tok FROM auth.sign_up_email('u2@admin.example', 'user-password-2', 'Bob Two') \gset
SELECT user_id AS u3 FROM auth.sign_up_email('u3@admin.example', 'user-password-3', 'Cy Three') \gset

-- ---- the first admin: one call for pgauth_admin; before it, the boss is a plain user
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.admin_list_users(%L, NULL)', :'boss_tok')) AS before_grant;
SELECT try($$SELECT auth.grant_admin('boss@admin.example')$$) AS service_cannot_grant;
RESET ROLE;
SET ROLE regress_pgauth_admin;
SELECT auth.grant_admin(' Boss@Admin.example ') = :'boss' AS granted;
SELECT try($$SELECT auth.grant_admin('nobody@admin.example')$$) AS unknown_email;
RESET ROLE;
SELECT role FROM auth.users WHERE id = :'boss';

-- ---- a non-admin gets FORBIDDEN from every admin function; no session gets NULL
SET ROLE regress_pgauth_service;
SELECT f, try(format(f, :'u1_tok', :'u2')) AS as_user FROM unnest(ARRAY[
    'SELECT auth.admin_list_users(%L, NULL) -- %s',
    'SELECT auth.admin_get_user(%L, %L)',
    'SELECT auth.admin_update_user(%L, %L, ''{"name":"x"}'')',
    'SELECT auth.admin_set_role(%L, %L, ''"admin"'')',
    'SELECT auth.admin_set_user_password(%L, %L, ''new-password-99'')',
    'SELECT auth.admin_ban_user(%L, %L)',
    'SELECT auth.admin_unban_user(%L, %L)',
    'SELECT auth.admin_list_user_sessions(%L, %L)',
    'SELECT auth.admin_revoke_user_sessions(%L, %L)',
    'SELECT auth.admin_impersonate_user(%L, %L)',
    'SELECT auth.admin_remove_user(%L, %L)',
    'SELECT auth.admin_create_user(%L, ''{"email":"x@admin.example","name":"X"}'') -- %s',
    'SELECT auth.admin_revoke_user_session(%L, %L)',
    'SELECT auth.admin_audit_log(%L, NULL) -- %s']) f;
SELECT auth.admin_list_users('no-such-session', NULL) IS NULL AS no_session_is_null,
       auth.admin_get_user(NULL, :'u1') IS NULL AS null_token_is_null;
RESET ROLE;
SELECT name, role, banned FROM auth.users WHERE id = :'u2';  -- nothing above changed it

-- ---- get, create, update, set-role
SET ROLE regress_pgauth_service;
SELECT auth.admin_get_user(:'boss_tok', :'u1')::jsonb - 'id' - 'createdAt' - 'updatedAt' AS u1_json;
SELECT try(format('SELECT auth.admin_get_user(%L, %L)', :'boss_tok', 'not-a-uuid')) AS bad_id,
       try(format('SELECT auth.admin_get_user(%L, %L)', :'boss_tok', gen_random_uuid())) AS unknown_id;
SELECT (auth.admin_create_user(:'boss_tok', '{"email":" New@Admin.example ","password":"new-user-pass-1","name":"Nia New","role":["user","support"]}')::jsonb
        -> 'user') - 'id' - 'createdAt' - 'updatedAt' AS created;
SELECT f, try(format(f, :'boss_tok')) AS refused FROM unnest(ARRAY[
    'SELECT auth.admin_create_user(%L, ''{"email":"new@admin.example","name":"Again"}'')',
    'SELECT auth.admin_create_user(%L, ''{"email":"bad","name":"Bad"}'')',
    'SELECT auth.admin_create_user(%L, ''{"email":"short@admin.example","name":"S","password":"x"}'')',
    'SELECT auth.admin_create_user(%L, ''{"email":"r@admin.example","name":"R","role":"Not A Role"}'')',
    'SELECT auth.admin_create_user(%L, ''{"email":7,"name":"N"}'')',
    'SELECT auth.admin_create_user(%L, ''[1]'')',
    'SELECT auth.admin_create_user(%L, NULL)']) f;
RESET ROLE;
SELECT count(*) AS users_named_like_refused FROM auth.users WHERE email IN ('short@admin.example', 'r@admin.example');
SET ROLE regress_pgauth_service;
SELECT auth.admin_update_user(:'boss_tok', :'u3', '{"name":"Cy Renamed","emailVerified":true}')::jsonb
       - 'id' - 'createdAt' - 'updatedAt' AS updated;
SELECT try(format('SELECT auth.admin_update_user(%L, %L, %L)', :'boss_tok', :'u3', '{"password":"x"}')) AS not_updatable,
       try(format('SELECT auth.admin_update_user(%L, %L, %L)', :'boss_tok', :'u3', '{"email":"u1@admin.example"}')) AS taken_email,
       try(format('SELECT auth.admin_update_user(%L, %L, %L)', :'boss_tok', :'u3', '{"name":""}')) AS empty_name;
SELECT auth.admin_set_role(:'boss_tok', :'u3', '["support", "user"]')::jsonb #>> '{user,role}' AS list_role;
SELECT try(format('SELECT auth.admin_set_role(%L, %L, %L)', :'boss_tok', :'u3', '{"a":1}')) AS bad_role,
       try(format('SELECT auth.admin_set_role(%L, %L, %L)', :'boss_tok', :'u3', '"admin;drop"')) AS bad_role_text;
SELECT auth.admin_set_user_password(:'boss_tok', :'u3', 'reset-by-admin-1') AS set_password;
SELECT try(format('SELECT auth.admin_set_user_password(%L, %L, %L)', :'boss_tok', :'u3', 'short')) AS short_password;
RESET ROLE;
SELECT user_id = :'u3' AS new_password_works FROM auth.sign_in_email('u3@admin.example', 'reset-by-admin-1');

-- ---- ban: the sessions die at once, sign-in answers BANNED_USER, validate_session refuses
SET ROLE regress_pgauth_service;
SELECT count(*) AS u1_live_before FROM auth.validate_session(:'u1_tok');
SELECT (auth.admin_ban_user(:'boss_tok', :'u1', 'spam', NULL)::jsonb -> 'user')
       - 'id' - 'createdAt' - 'updatedAt' AS banned_user;
SELECT count(*) AS u1_live_after FROM auth.validate_session(:'u1_tok');
SELECT body, session_token, error_code FROM auth.sign_in_response('u1@admin.example', 'user-password-1', true, NULL, NULL);
SELECT try($$SELECT auth.sign_in_email('u1@admin.example', 'user-password-1')$$) AS direct_sign_in;
SELECT try(format('SELECT auth.admin_ban_user(%L, %L)', :'boss_tok', :'boss')) AS ban_myself,
       try(format('SELECT auth.admin_ban_user(%L, %L, NULL, -5)', :'boss_tok', :'u2')) AS negative_expiry,
       try(format('SELECT auth.admin_ban_user(%L, %L, repeat(''x'', 501))', :'boss_tok', :'u2')) AS long_reason;
RESET ROLE;
SELECT count(*) AS u1_sessions_in_table FROM auth.sessions WHERE user_id = :'u1';
SELECT banned FROM auth.users WHERE id = :'u2';  -- the refused bans wrote nothing
-- no path creates a session for a banned user (the session insert refuses it)
SELECT try(format('SELECT auth.create_session(%L, true, NULL, NULL)', :'u1')) AS any_path;
-- a session that outlived a ban (written around the rules) is refused by validate_session,
-- get-session and the RLS helpers: the ban is read from the row the lookup reads anyway
SELECT session_token AS u2_tok2 FROM auth.sign_in_email('u2@admin.example', 'user-password-2') \gset
UPDATE auth.users SET banned = true WHERE id = :'u2';
SELECT count(*) AS validate_banned FROM auth.validate_session(:'u2_tok2');
SELECT count(*) AS get_session_banned FROM auth.get_session(:'u2_tok2');
-- an expired ban no longer counts
UPDATE auth.users SET ban_expires = now() - interval '1 second' WHERE id = :'u2';
SELECT count(*) AS validate_after_expiry FROM auth.validate_session(:'u2_tok2');
SELECT error_code IS NULL AS sign_in_after_expiry FROM auth.sign_in_response('u2@admin.example', 'user-password-2', true, NULL, NULL);
UPDATE auth.users SET banned = false, ban_expires = NULL WHERE id = :'u2';
-- a ban with an expiry, then unban
SET ROLE regress_pgauth_service;
SELECT (auth.admin_ban_user(:'boss_tok', :'u2', NULL, 3600)::jsonb #>> '{user,banExpires}')::timestamptz
       BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes' AS expires_in_an_hour;
SELECT auth.admin_unban_user(:'boss_tok', :'u1')::jsonb #> '{user,banned}' AS unbanned;
SELECT session_token AS u1_tok2, error_code IS NULL AS signs_in_again
  FROM auth.sign_in_response('u1@admin.example', 'user-password-1', true, NULL, NULL) \gset
SELECT :'signs_in_again' AS signs_in_again;
SELECT auth.admin_unban_user(:'boss_tok', :'u2') IS NOT NULL AS u2_unbanned;
RESET ROLE;

-- ---- list-users: search, filter, sort, limit/offset, total
SET ROLE regress_pgauth_service;
SELECT j ->> 'total' AS total, j ->> 'limit' AS lim, j ->> 'offset' AS off,
       (SELECT string_agg(u ->> 'email', ' ' ORDER BY n) FROM json_array_elements(j -> 'users') WITH ORDINALITY e(u, n)) AS emails
  FROM (SELECT auth.admin_list_users(:'boss_tok', q) AS j, q FROM unnest(ARRAY[
      '{"searchValue":"admin.example","sortBy":"email"}',
      '{"searchValue":"@ADMIN.example","searchField":"email","searchOperator":"ends_with","sortBy":"email","sortDirection":"desc"}',
      '{"searchValue":"U2@","searchField":"email","searchOperator":"starts_with"}',
      '{"searchValue":"b two","searchField":"name"}',
      '{"searchValue":"%","searchField":"name"}',
      '{"searchValue":"@admin.example","filterField":"role","filterValue":"admin"}',
      '{"searchValue":"@admin.example","filterField":"role","filterValue":"support","filterOperator":"contains","sortBy":"email"}',
      '{"searchValue":"@admin.example","filterField":"emailVerified","filterValue":"true","sortBy":"email"}',
      '{"searchValue":"@admin.example","sortBy":"email","limit":"2","offset":"1"}']::jsonb[]) q) x;
SELECT q, try(format('SELECT auth.admin_list_users(%L, %L)', :'boss_tok', q)) AS refused FROM unnest(ARRAY[
    '{"limit":"abc"}', '{"limit":"0"}', '{"limit":"5000"}', '{"offset":"-1"}', '{"sortBy":"password_hash"}',
    '{"sortDirection":"sideways"}', '{"searchValue":"a","searchField":"role"}',
    '{"searchValue":"a","searchOperator":"regex"}', '{"filterField":"id; DROP TABLE auth.users","filterValue":"x"}',
    '{"filterField":"createdAt","filterValue":"yesterday-ish"}', '{"filterField":"banned","filterValue":"maybe"}',
    '[1,2]']) q;

-- ---- sessions of a user, revoke one, revoke all
SELECT session_token AS u2_a FROM auth.sign_in_email('u2@admin.example', 'user-password-2') \gset
SELECT session_token AS u2_b FROM auth.sign_in_email('u2@admin.example', 'user-password-2') \gset
SELECT json_array_length(auth.admin_list_user_sessions(:'boss_tok', :'u2') -> 'sessions') AS u2_sessions;
SELECT auth.admin_revoke_user_session(:'boss_tok', :'u2_a') AS revoke_by_token;
SELECT auth.admin_revoke_user_session(:'boss_tok',
           auth.admin_list_user_sessions(:'boss_tok', :'u2') #>> '{sessions,0,id}') AS revoke_by_id;
SELECT json_array_length(auth.admin_list_user_sessions(:'boss_tok', :'u2') -> 'sessions') AS u2_sessions_left;
SELECT session_token AS u2_c FROM auth.sign_in_email('u2@admin.example', 'user-password-2') \gset
SELECT auth.admin_revoke_user_sessions(:'boss_tok', :'u2') AS revoke_all;
SELECT count(*) AS u2_live FROM auth.validate_session(:'u2_c');
SELECT try(format('SELECT auth.admin_revoke_user_session(%L, %L)', :'boss_tok', '')) AS empty_token;
RESET ROLE;

-- ---- impersonation: a marked session of 1 hour, never of another admin, stop restores the admin
SET ROLE regress_pgauth_service;
SELECT body::jsonb #>> '{session,impersonatedBy}' = :'boss' AS marked,
       body::jsonb #>> '{user,id}' = :'u2' AS as_u2,
       max_age BETWEEN 3590 AND 3600 AS one_hour,
       session_token AS imp_tok
  FROM auth.admin_impersonate_user(:'boss_tok', :'u2', '10.0.0.1', 'ua') \gset
SELECT :'marked' AS marked, :'as_u2' AS as_u2, :'one_hour' AS one_hour;
SELECT user_id = :'u2' AS imp_validates FROM auth.validate_session(:'imp_tok');
SELECT body::jsonb #>> '{session,impersonatedBy}' = :'boss' AS get_session_shows_impersonator,
       body::jsonb #> '{user,banned}' AS banned, body::jsonb #> '{user,twoFactorEnabled}' AS two_factor
  FROM auth.get_session(:'imp_tok');
SELECT try(format('SELECT auth.admin_impersonate_user(%L, %L)', :'imp_tok', :'u3')) AS impersonated_is_no_admin;
RESET ROLE;
SELECT auth.grant_admin('u3@admin.example') IS NOT NULL AS u3_admin;
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.admin_impersonate_user(%L, %L)', :'boss_tok', :'u3')) AS other_admin;
RESET ROLE;
SET pgauth.admin_impersonate_admins = on;
SELECT count(*) AS allowed_by_setting FROM auth.admin_impersonate_user(:'boss_tok', :'u3');
RESET pgauth.admin_impersonate_admins;
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.admin_stop_impersonating(%L, %L)', :'boss_tok', :'boss_tok')) AS not_impersonating;
SELECT body::jsonb #>> '{user,id}' = :'boss' AS back_to_admin, session_token = :'boss_tok' AS admin_token
  FROM auth.admin_stop_impersonating(:'imp_tok', :'boss_tok');
SELECT count(*) AS imp_gone FROM auth.validate_session(:'imp_tok');
RESET ROLE;

-- ---- roles in RLS policies: auth.has_role for whoever is signed in
SELECT auth.session_init(:'boss_tok', true);
SELECT auth.has_role('admin') AS boss_is_admin, auth.has_role('user') AS boss_is_user;
SELECT auth.session_reset();
SELECT auth.session_init(:'u1_tok2', true);
SELECT auth.has_role('admin') AS u1_is_admin, auth.has_role('user') AS u1_is_user;
SELECT auth.session_reset();
SELECT auth.has_role('admin') AS nobody_signed_in;

-- ---- has-permission (Better-Auth's default statements)
SET ROLE regress_pgauth_service;
SELECT b, auth.admin_has_permission(:'boss_tok', b::jsonb) AS as_admin, auth.admin_has_permission(:'u1_tok2', b::jsonb) AS as_user
  FROM unnest(ARRAY[
      '{"permissions":{"user":["ban","list"]}}', '{"permission":{"session":["revoke"]}}',
      '{"permissions":{"user":["fly"]}}', '{"permissions":{"project":["create"]}}']) b;
SELECT auth.admin_has_permission(NULL, '{"role":"admin","permissions":{"user":["create"]}}') AS role_admin,
       auth.admin_has_permission(NULL, '{"role":"user","permissions":{"user":["create"]}}') AS role_user;
SELECT try($$SELECT auth.admin_has_permission(NULL, '{"permissions":"all"}')$$) AS bad_permissions,
       try($$SELECT auth.admin_has_permission(NULL, '{"permissions":{"user":[1]}}')$$) AS bad_actions;

-- ---- remove-user
SELECT try(format('SELECT auth.admin_remove_user(%L, %L)', :'boss_tok', :'boss')) AS remove_myself;
SELECT auth.admin_remove_user(:'boss_tok', :'u2') AS removed;
SELECT try(format('SELECT auth.admin_remove_user(%L, %L)', :'boss_tok', :'u2')) AS removed_twice;
RESET ROLE;

-- ---- every admin action above is in the audit log, with the admin as actor
SELECT event, count(*) AS n, bool_and(actor_id = :'boss') AS by_boss
  FROM auth.audit_log
 WHERE id > :start AND event IN ('ban', 'unban', 'role_change', 'impersonation_start', 'impersonation_stop', 'admin_session_revoked',
                 'admin_sessions_revoked', 'user_created', 'user_updated', 'user_removed', 'password_set_by_admin')
 GROUP BY event ORDER BY event;
