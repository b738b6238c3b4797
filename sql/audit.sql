-- Audit log (issue 16): written by the statement that changes state (sign-in success and
-- failure, sign-out, password change and reset, key rotation, OAuth client registration),
-- never by get-session; append-only for every role, the owner included, except the retention
-- purge; readable by pgauth_admin only.
SET pgauth.email_max_per_address = 0;
SELECT coalesce(max(id), 0) AS start FROM auth.audit_log \gset
SELECT user_id AS au, session_token AS au_tok FROM auth.sign_up_email('au@audit.example', 'audit-password-1', 'Audit') \gset

SET ROLE regress_pgauth_service;
SELECT error_code FROM auth.sign_in_response('au@audit.example', 'wrong-password-1', true, '192.0.2.1', 'bad agent');
SELECT error_code FROM auth.sign_in_response('nobody@audit.example', 'wrong-password-1', true, '192.0.2.2', 'bad agent');
SELECT session_token AS s2 FROM auth.sign_in_response('au@audit.example', 'audit-password-1', true, '192.0.2.3', 'good agent') \gset
SELECT count(*) AS get_session FROM auth.get_session(:'s2');
SELECT count(*) AS validate FROM auth.validate_session(:'s2');
SELECT auth.revoke_session(:'s2') AS signed_out;
SELECT auth.change_password(:'au', 'audit-password-1', 'audit-password-2') AS changed;
RESET ROLE;
SELECT event, user_id = :'au' AS subject, actor_id = :'au' AS actor_is_user, host(ip) AS ip, user_agent, detail - 'session_id' AS detail,
       actor = session_user AS actor_login, CASE WHEN role = session_user THEN '(login)' ELSE role END AS role
  FROM auth.audit_log WHERE id > :start ORDER BY id;
-- a password reset by mail
SELECT auth.email_set_password(:'au', 'audit-password-3');
SELECT event FROM auth.audit_log WHERE id > :start ORDER BY id DESC LIMIT 1;
-- key rotation and OAuth client registration, whatever path inserts them
SELECT auth.rotate_signing_key() IS NOT NULL AS rotated;
SELECT event, detail ? 'kid' AS has_kid, detail ? 'd' AS has_private FROM auth.audit_log WHERE id > :start AND event = 'key_rotation';
SELECT auth.oauth_create_client('{"client_id": "audit-client", "grant_types": ["client_credentials"]}') IS NOT NULL AS registered;
SELECT event, detail FROM auth.audit_log WHERE id > :start AND event = 'oauth_client_registered';
-- nothing secret: no row holds a password, a token or a hash
SELECT count(*) AS rows_with_a_secret FROM auth.audit_log
 WHERE detail::text ~ '(audit-password|wrong-password)' OR detail::text LIKE '%' || :'s2' || '%'
    OR user_agent LIKE '%password%';

-- ---- append-only: UPDATE, DELETE and TRUNCATE refused, the owner (superuser here) included
SELECT try($$UPDATE auth.audit_log SET event = 'nothing' WHERE id = (SELECT max(id) FROM auth.audit_log)$$) AS update_refused;
SELECT try($$DELETE FROM auth.audit_log WHERE id = (SELECT max(id) FROM auth.audit_log)$$) AS delete_refused;
SELECT try($$TRUNCATE auth.audit_log$$) AS truncate_refused;
SET ROLE regress_pgauth_service;
SELECT try($$SELECT count(*) FROM auth.audit_log$$) AS service_cannot_read,
       try($$SELECT count(*) FROM auth.audit_events()$$) AS service_cannot_list;
RESET ROLE;
SET ROLE regress_pgauth_admin;
SELECT try($$SELECT count(*) FROM auth.audit_log$$) AS admin_reads_through_functions_only;
SELECT event FROM auth.audit_events(:'au', 'sign_in_failed') ORDER BY id;
SELECT count(*) AS paged FROM auth.audit_events(:'au', NULL, NULL, NULL, 2, 0);
SELECT try($$SELECT count(*) FROM auth.audit_events(NULL, NULL, NULL, NULL, 0)$$) AS bad_limit,
       try($$SELECT count(*) FROM auth.audit_events(NULL, NULL, NULL, NULL, 10, -1)$$) AS bad_offset;
SELECT try($$SELECT auth.audit_purge()$$) AS purge_keeps_all;
RESET ROLE;

-- ---- retention: only rows older than pgauth.audit_retention go, and only those
INSERT INTO auth.audit_log (at, actor, role, event) VALUES (now() - interval '3 days', 'test', 'test', 'old_event');
SELECT auth.audit_purge() AS purged_with_retention_off;
SET pgauth.audit_retention = '2d';
SELECT auth.audit_purge() AS purged;
SELECT count(*) AS old_left FROM auth.audit_log WHERE event = 'old_event';
SELECT try($$DELETE FROM auth.audit_log WHERE id = (SELECT max(id) FROM auth.audit_log)$$) AS recent_still_refused;
RESET pgauth.audit_retention;

-- ---- GET /admin/audit-log: for admins only, filtered and paged
SELECT session_token AS boss_tok FROM auth.sign_up_email('boss@audit.example', 'boss-password-1', 'Boss') \gset
SELECT auth.grant_admin('boss@audit.example') IS NOT NULL AS boss;
SELECT session_token AS au_tok2 FROM auth.sign_in_email('au@audit.example', 'audit-password-3') \gset
SET ROLE regress_pgauth_service;
SELECT j ->> 'total' AS total, json_array_length(j -> 'events') AS events, j #>> '{events,0,event}' AS newest
  FROM (SELECT auth.admin_audit_log(:'boss_tok', format('{"userId":"%s","event":"sign_in_failed","limit":"1"}', :'au')::jsonb) AS j) x;
SELECT try(format('SELECT auth.admin_audit_log(%L, NULL)', :'au_tok2')) AS not_admin;
SELECT q, try(format('SELECT auth.admin_audit_log(%L, %L)', :'boss_tok', q)) AS refused FROM unnest(ARRAY[
    '{"userId":"x"}', '{"from":"not a time"}', '{"limit":"99999"}', '{"limit":"-1"}']) q;
RESET ROLE;
