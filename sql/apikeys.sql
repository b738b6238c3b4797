-- API keys: Better-Auth apiKey plugin bodies, digest-only storage, verify_api_key.
SELECT session_token AS tok, user_id AS uid FROM auth.sign_up_email('keys@example.com', 'keys-password-1', 'Keys') \gset
SELECT session_token AS tok2, user_id AS uid2 FROM auth.sign_up_email('keys2@example.com', 'keys-password-1', 'Keys Two') \gset
-- the fields that vary from run to run, masked
CREATE FUNCTION pg_temp.shape(j json) RETURNS jsonb LANGUAGE sql AS $$
    SELECT (j::jsonb - ARRAY['id', 'key', 'start', 'referenceId', 'userId', 'createdAt', 'updatedAt', 'expiresAt',
                             'lastRequest', 'lastRefillAt'])
           || jsonb_build_object('times', (SELECT jsonb_object_agg(f, j::jsonb ->> f ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
                                             FROM unnest(ARRAY['createdAt', 'updatedAt', 'expiresAt', 'lastRequest', 'lastRefillAt']) f
                                            WHERE j::jsonb ->> f IS NOT NULL))
$$;

SET ROLE regress_pgauth_service;
-- create: Better-Auth's defaults (64 letters, no prefix, start = 6 chars, rate limit 10 per day)
SELECT auth.api_key_create(:'tok', '{}') AS k1 \gset
SELECT pg_temp.shape(:'k1') AS created,
       (:'k1')::json ->> 'key' ~ '^[a-zA-Z]{64}$' AS key_is_64_letters,
       (:'k1')::json ->> 'start' = left((:'k1')::json ->> 'key', 6) AS start_is_its_first_6,
       (:'k1')::json ->> 'userId' = :'uid' AS own;
-- with options
SELECT auth.api_key_create(:'tok', '{"name": "ci", "prefix": "pga_", "expiresIn": 86400, "metadata": {"team": "x"},
                                     "permissions": {"files": ["read", "write"]}, "remaining": 3,
                                     "refillAmount": 5, "refillInterval": 3600000, "rateLimitEnabled": false}') AS k2 \gset
SELECT pg_temp.shape(:'k2') AS created_with_options, (:'k2')::json ->> 'key' ~ '^pga_[a-zA-Z]{64}$' AS prefixed,
       ((:'k2')::json ->> 'expiresAt')::timestamptz BETWEEN now() + interval '23 hours' AND now() + interval '25 hours' AS expires_in_a_day;
-- bad input
SELECT b, try(format('SELECT auth.api_key_create(%L, %L)', :'tok', b)) AS result FROM unnest(ARRAY[
    '[]', '{"name": ""}', '{"name": "123456789012345678901234567890123"}', '{"name": 5}', '{"prefix": ""}',
    '{"prefix": "a b"}', '{"prefix": "123456789012345678901234567890123"}', '{"metadata": "x"}', '{"expiresIn": 60}',
    '{"expiresIn": 31622400}', '{"expiresIn": "1d"}', '{"remaining": -1}', '{"refillAmount": 5}', '{"refillInterval": 1000}',
    '{"permissions": {"files": "read"}}', '{"permissions": ["read"]}', '{"userId": "someone"}', '{"rateLimitMax": 0}',
    '{"enabled": "yes"}', '{"remaining": 1.5}']) b;
SELECT json_array_length(auth.api_key_list(:'tok') -> 'apiKeys') AS keys_after_bad_input;
-- list, get: never the key nor its digest
SELECT (auth.api_key_list(:'tok') ->> 'total')::int AS total,
       position((:'k1')::json ->> 'key' IN auth.api_key_list(:'tok')::text) AS key_in_list,
       position('digest' IN auth.api_key_list(:'tok')::text) AS digest_in_list;
SELECT pg_temp.shape(auth.api_key_get(:'tok', (:'k2')::json ->> 'id')) AS got;
SELECT try(format('SELECT auth.api_key_get(%L, %L)', :'tok2', (:'k2')::json ->> 'id')) AS other_users_key,
       try(format('SELECT auth.api_key_get(%L, ''not-a-uuid'')', :'tok')) AS bad_id,
       try(format('SELECT auth.api_key_get(%L, %L)', :'tok', gen_random_uuid())) AS unknown_id;
SELECT auth.api_key_list('nope') IS NULL AS no_session_list, auth.api_key_get('nope', 'x') IS NULL AS no_session_get,
       auth.api_key_create('nope', '{}') IS NULL AS no_session_create;
-- update
SELECT pg_temp.shape(auth.api_key_update(:'tok', jsonb_build_object('keyId', (:'k2')::json ->> 'id', 'name', 'renamed',
       'metadata', NULL, 'expiresIn', NULL, 'permissions', '{"files": ["read"]}'::jsonb))) AS updated;
SELECT try(format('SELECT auth.api_key_update(%L, %L)', :'tok', jsonb_build_object('keyId', (:'k2')::json ->> 'id'))) AS nothing,
       try(format('SELECT auth.api_key_update(%L, %L)', :'tok2', jsonb_build_object('keyId', (:'k2')::json ->> 'id', 'name', 'x'))) AS other_user,
       try(format('SELECT auth.api_key_update(%L, %L)', :'tok', jsonb_build_object('keyId', (:'k2')::json ->> 'id', 'remaining', 0))) AS remaining_0,
       try(format('SELECT auth.api_key_update(%L, ''{"name": "x"}'')', :'tok')) AS no_key_id;
RESET ROLE;

-- at rest: the digest only
SELECT count(*) AS rows_holding_the_key FROM auth.api_keys a WHERE position((:'k1')::json ->> 'key' IN a::text) > 0;
SELECT a.digest = sha256(convert_to((:'k1')::json ->> 'key', 'UTF8')) AS digest_is_sha256 FROM auth.api_keys a
 WHERE a.id = ((:'k1')::json ->> 'id')::uuid;

-- verify_api_key from SQL (pgauth_reader may call it)
SET ROLE regress_pgauth_reader;
SELECT valid, error_code, key_id = ((:'k1')::json ->> 'id')::uuid AS key_ok, user_id = :'uid'::uuid AS user_ok, remaining, permissions
  FROM auth.verify_api_key((:'k1')::json ->> 'key');
SELECT valid, error_code FROM auth.verify_api_key('nope');
SELECT valid, error_code FROM auth.verify_api_key(NULL);
SELECT valid, error_code FROM auth.verify_api_key(left((:'k1')::json ->> 'key', 63));
-- permissions: all requested actions must be granted (files: read only now)
SELECT p, valid, error_code FROM unnest(ARRAY['{"files": ["read"]}', '{"files": ["write"]}', '{"files": ["read", "write"]}',
       '{"users": ["read"]}', '{}']::jsonb[]) p, LATERAL auth.verify_api_key((:'k2')::json ->> 'key', p);
SELECT valid, error_code FROM auth.verify_api_key((:'k1')::json ->> 'key', '{"files": ["read"]}');  -- a key without permissions
RESET ROLE;
SELECT remaining FROM auth.api_keys WHERE id = ((:'k2')::json ->> 'id')::uuid;

-- remaining: k2 had 3; the two permission checks that passed used 2 (refused ones use none)
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k2')::json ->> 'key');
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k2')::json ->> 'key');
-- refill: after refillInterval since the last refill (or creation), remaining becomes refillAmount
UPDATE auth.api_keys SET created_at = now() - interval '2 hours' WHERE id = ((:'k2')::json ->> 'id')::uuid;
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k2')::json ->> 'key');
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k2')::json ->> 'key');
SELECT last_refill_at IS NOT NULL AS refilled_at_set FROM auth.api_keys WHERE id = ((:'k2')::json ->> 'id')::uuid;
-- no refill: remaining 0 is the end
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok', '{"remaining": 1, "rateLimitEnabled": false}') AS k3 \gset
RESET ROLE;
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k3')::json ->> 'key');
SELECT valid, error_code, remaining FROM auth.verify_api_key((:'k3')::json ->> 'key');

-- the per-key rate limit: k1 has the default, 10 per day; one used above
-- (left(i::text, 0) is '': it makes each row call the function again)
SELECT i, valid, error_code FROM generate_series(2, 11) i, LATERAL auth.verify_api_key(((:'k1')::json ->> 'key') || left(i::text, 0));
SELECT request_count FROM auth.api_keys WHERE id = ((:'k1')::json ->> 'id')::uuid;
-- the window ends: counting starts again
UPDATE auth.api_keys SET last_request = now() - interval '25 hours' WHERE id = ((:'k1')::json ->> 'id')::uuid;
SELECT valid, error_code FROM auth.verify_api_key((:'k1')::json ->> 'key');
SELECT request_count FROM auth.api_keys WHERE id = ((:'k1')::json ->> 'id')::uuid;
-- a key with neither remaining nor rate limit is not written by a verify
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok', '{"rateLimitEnabled": false}') AS k4 \gset
RESET ROLE;
SELECT xmin AS xmin_before FROM auth.api_keys WHERE id = ((:'k4')::json ->> 'id')::uuid \gset
SELECT valid FROM auth.verify_api_key((:'k4')::json ->> 'key');
SELECT xmin = :'xmin_before' AS not_written, updated_at = created_at AS unchanged FROM auth.api_keys WHERE id = ((:'k4')::json ->> 'id')::uuid;

-- expiry
UPDATE auth.api_keys SET expires_at = now() - interval '1 second' WHERE id = ((:'k4')::json ->> 'id')::uuid;
SELECT valid, error_code FROM auth.verify_api_key((:'k4')::json ->> 'key');
-- revoked: disabled, then deleted, dies at once
SET ROLE regress_pgauth_service;
SELECT (auth.api_key_update(:'tok', jsonb_build_object('keyId', (:'k3')::json ->> 'id', 'enabled', false)) ->> 'enabled') AS enabled;
RESET ROLE;
SELECT valid, error_code FROM auth.verify_api_key((:'k3')::json ->> 'key');
SET ROLE regress_pgauth_service;
SELECT auth.api_key_delete(:'tok', jsonb_build_object('keyId', (:'k1')::json ->> 'id')) AS deleted;
SELECT try(format('SELECT auth.api_key_delete(%L, %L)', :'tok', jsonb_build_object('keyId', (:'k1')::json ->> 'id'))) AS deleted_again,
       try(format('SELECT auth.api_key_delete(%L, %L)', :'tok2', jsonb_build_object('keyId', (:'k2')::json ->> 'id'))) AS other_user,
       try(format('SELECT auth.api_key_delete(%L, ''{}'')', :'tok')) AS no_key_id;
RESET ROLE;
SELECT valid, error_code FROM auth.verify_api_key((:'k1')::json ->> 'key');
-- a deactivated user's keys do not verify
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok2', '{"rateLimitEnabled": false}') AS k5 \gset
RESET ROLE;
UPDATE auth.users SET is_active = false WHERE id = :'uid2';
SELECT valid, error_code FROM auth.verify_api_key((:'k5')::json ->> 'key');
UPDATE auth.users SET is_active = true WHERE id = :'uid2';

-- the /api-key/verify body and the x-api-key session
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok', '{"rateLimitEnabled": false, "remaining": 5}') AS k6 \gset
SELECT r::jsonb - 'key' AS verify_body, pg_temp.shape((r -> 'key')::json) AS key_shape
  FROM auth.api_key_verify_response(jsonb_build_object('key', (:'k6')::json ->> 'key')) r;
SELECT auth.api_key_verify_response('{"key": "nope"}') AS invalid_body,
       auth.api_key_verify_response(jsonb_build_object('key', (:'k6')::json ->> 'key', 'permissions', '{"a": ["b"]}'::jsonb)) AS not_permitted;
SELECT try('SELECT auth.api_key_verify_response(''{}'')') AS no_key, try('SELECT auth.api_key_verify_response(''{"key": 1}'')') AS number_key;
SELECT error_code, body -> 'user' ->> 'email' AS email, body -> 'session' ->> 'userId' = :'uid' AS user_ok,
       body -> 'session' ->> 'token' = (:'k6')::json ->> 'id' AS token_is_the_key_id,
       position((:'k6')::json ->> 'key' IN body::text) AS key_in_body
  FROM auth.get_session_by_api_key((:'k6')::json ->> 'key');
SELECT body, error_code FROM auth.get_session_by_api_key('nope');
RESET ROLE;
SELECT remaining FROM auth.api_keys WHERE id = ((:'k6')::json ->> 'id')::uuid;

-- 0.5.0: verify_api_key and get_session_by_api_key are compiled: no SET clause, so no re-planning per call
SELECT p.oid::regprocedure AS fn, l.lanname, p.proconfig IS NULL AS no_set_clause, p.prosecdef AS security_definer
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid IN ('auth.verify_api_key(text,jsonb)'::regprocedure, 'auth.get_session_by_api_key(text)'::regprocedure)
 ORDER BY 1;

-- an API key as a credential: "apikey:<key>" is accepted by every function taking p_token,
-- through auth.session_user_id, and consumes one use of the key
CREATE FUNCTION pg_temp.try_hint(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    det text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN det || ' / ' || coalesce(nullif(hint, ''), 'no hint');
END
$$;
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok', '{"rateLimitEnabled": false, "remaining": 6}') AS kc \gset
SELECT 'apikey:' || ((:'kc')::json ->> 'key') AS cred \gset
SELECT auth.session_user_id(:'cred') = :'uid'::uuid AS key_user,
       auth.session_user_id(:'tok') = :'uid'::uuid AS session_user,
       auth.session_user_id('nope') IS NULL AS unknown_token;
SELECT user_id = :'uid'::uuid AS own, email, session_id = ((:'kc')::json ->> 'id')::uuid AS session_is_the_key, ip
  FROM auth.validate_session(:'cred');
SELECT body -> 'session' ->> 'token' = (:'kc')::json ->> 'id' AS token_is_the_key_id, jwt IS NULL AS no_jwt, refreshed,
       position((:'kc')::json ->> 'key' IN body::text) AS key_in_body
  FROM auth.get_session(:'cred', true);
SELECT auth.vault_list(:'cred') AS vault_by_key, (auth.api_key_list(:'cred') ->> 'total')::int AS keys_listed_by_key;
RESET ROLE;
SELECT remaining AS left_after_five_uses FROM auth.api_keys WHERE id = ((:'kc')::json ->> 'id')::uuid;
-- a key cannot manage keys, change the password or mint a session JWT
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.api_key_create(%L, ''{}'')', :'cred')) AS create_by_key,
       try(format('SELECT auth.api_key_update(%L, %L)', :'cred', jsonb_build_object('keyId', (:'kc')::json ->> 'id', 'remaining', 100))) AS update_by_key,
       try(format('SELECT auth.api_key_delete(%L, %L)', :'cred', jsonb_build_object('keyId', (:'kc')::json ->> 'id'))) AS delete_by_key,
       try(format('SELECT auth.change_password_response(%L, ''keys-password-1'', ''keys-password-2'', false)', :'cred')) AS change_password_by_key,
       try(format('SELECT auth.session_user_id(%L, false)', :'cred')) AS refused_helper;
RESET ROLE;
SELECT try(format('SELECT auth.session_jwt(%L)', :'cred')) AS jwt_by_key,
       try(format('SELECT auth.session_init(%L)', :'cred')) AS rls_by_key;
SELECT remaining AS refusals_used_nothing FROM auth.api_keys WHERE id = ((:'kc')::json ->> 'id')::uuid;
-- a refused key raises its code
SELECT auth.session_user_id(:'cred') IS NOT NULL AS last_use;
SELECT try(format('SELECT auth.session_user_id(%L)', :'cred')) AS used_up,
       try('SELECT auth.session_user_id(''apikey:nope'')') AS unknown_key,
       try('SELECT * FROM auth.validate_session(''apikey:'')') AS empty_key;
-- a rate-limited key says when to retry: the HINT "Retry-After: <seconds>"
SET ROLE regress_pgauth_service;
SELECT 'apikey:' || (auth.api_key_create(:'tok', '{"rateLimitMax": 1, "rateLimitTimeWindow": 60000}') ->> 'key') AS cred_rl \gset
RESET ROLE;
SELECT auth.session_user_id(:'cred_rl') IS NOT NULL AS first_passes,
       pg_temp.try_hint(format('SELECT auth.session_user_id(%L)', :'cred_rl')) ~ '^RATE_LIMITED / Retry-After: (59|60)$' AS retry_after_hint;
SELECT pg_temp.try_hint('SELECT auth.raise(''ACCOUNT_LOCKED'', ''locked'', 30)') AS raise_with_retry,
       pg_temp.try_hint('SELECT auth.raise(''ACCOUNT_LOCKED'', ''locked'')') AS raise_without;

-- at most pgauth.api_key_max_per_user keys per user
SELECT count(*) AS keys_now FROM auth.api_keys WHERE user_id = :'uid' \gset
SET pgauth.api_key_max_per_user = :keys_now;
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.api_key_create(%L, ''{}'')', :'tok')) AS over_the_limit;
RESET ROLE;
-- concurrent creators queue on the user's row lock (specs/api_key_limit_race.spec)
SELECT count(*) + 1 AS keys2_next FROM auth.api_keys WHERE user_id = :'uid2' \gset
SET pgauth.api_key_max_per_user = :keys2_next;
SET ROLE regress_pgauth_service;
SELECT auth.api_key_create(:'tok2', '{}') IS NOT NULL AS other_user_first_key;
SELECT try(format('SELECT auth.api_key_create(%L, ''{}'')', :'tok2')) AS other_user_second_key;
RESET ROLE;
RESET pgauth.api_key_max_per_user;
SHOW pgauth.api_key_max_per_user;

-- privileges: the key functions are the service's; verify_api_key also the reader's
SELECT f, r, has_function_privilege(r, f, 'EXECUTE') AS can FROM unnest(ARRAY[
    'auth.api_key_create(text,jsonb)', 'auth.verify_api_key(text,jsonb)', 'auth.api_key_generate(text)']) f,
    unnest(ARRAY['regress_pgauth_reader', 'regress_pgauth_service', 'regress_pgauth_admin', 'regress_pgauth_nobody']) r ORDER BY 1, 2;

-- user deletion removes their keys
SELECT auth.delete_user(:'uid');
SELECT count(*) AS keys_left FROM auth.api_keys WHERE user_id = :'uid';
SELECT auth.delete_user(:'uid2');
