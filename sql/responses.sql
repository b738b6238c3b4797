-- The Better-Auth bodies built by the extension: sign_up_response, sign_in_response,
-- get_session, list_sessions_response, change_password_response.
\set iso '''^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$'''
CREATE FUNCTION pg_temp.iso(t timestamptz) RETURNS text LANGUAGE sql AS
  $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- sign-up: {"token","user"} with exactly Better-Auth's user fields
SELECT body::text AS up_body, session_token AS up_token, max_age AS up_max_age
  FROM auth.sign_up_response(' Resp@Example.com', 'correct-horse-battery', 'Resp', NULL, '198.51.100.4', 'resp/1.0') \gset
SELECT (SELECT array_agg(k) FROM json_object_keys(:'up_body'::json) k) AS body_keys,
       (SELECT array_agg(k) FROM json_object_keys(:'up_body'::json -> 'user') k) AS user_keys,
       :'up_body'::json ->> 'token' = :'up_token' AS token_in_body,
       :up_max_age BETWEEN 604700 AND 604800 AS seven_days;
SELECT u.email = j ->> 'email' AS email, u.id::text = j ->> 'id' AS id, j -> 'image' AS image,
       (j ->> 'emailVerified')::boolean AS email_verified,
       pg_temp.iso(u.created_at) = j ->> 'createdAt' AS created_at_iso,
       j ->> 'updatedAt' ~ :iso AS iso_format
  FROM auth.users u, (SELECT :'up_body'::json -> 'user' AS j) b WHERE u.email = 'resp@example.com';

-- sign-in: {"redirect","token","user"}; with a callback URL also "url" and redirect true
SELECT body::text AS in_body, session_token AS in_token, max_age AS in_max_age
  FROM auth.sign_in_response('resp@example.com', 'correct-horse-battery', false, NULL, NULL) \gset
SELECT (SELECT array_agg(k) FROM json_object_keys(:'in_body'::json) k) AS body_keys,
       :'in_body'::json ->> 'redirect' AS redirect, :'in_body'::json ->> 'token' = :'in_token' AS token_in_body,
       :in_max_age BETWEEN 86300 AND 86400 AS one_day;
SELECT (SELECT array_agg(k) FROM json_object_keys(body) k) AS body_keys, body ->> 'redirect' AS redirect,
       body ->> 'url' AS url
  FROM auth.sign_in_response('resp@example.com', 'correct-horse-battery', true, NULL, NULL, 'http://127.0.0.1:3000/home');
SELECT body ->> 'redirect' AS empty_callback FROM auth.sign_in_response('resp@example.com', 'correct-horse-battery', true, NULL, NULL, '');
SELECT * FROM auth.sign_in_response('resp@example.com', 'wrong-password-1', true, NULL, NULL);

-- get-session: one lookup gives the body, refreshed, max_age and (on request) the JWT
SELECT (SELECT array_agg(k) FROM json_object_keys(body) k) AS body_keys,
       (SELECT array_agg(k) FROM json_object_keys(body -> 'session') k) AS session_keys,
       (SELECT array_agg(k) FROM json_object_keys(body -> 'user') k) AS user_keys,
       body -> 'session' ->> 'token' = :'up_token' AS token, body -> 'session' ->> 'ipAddress' AS ip,
       body -> 'session' ->> 'userAgent' AS user_agent, body -> 'user' ->> 'role' AS role,
       body -> 'user' -> 'paraWalletId' AS para_wallet_id, jwt, jwt_error, refreshed,
       max_age BETWEEN 604700 AND 604800 AS max_age
  FROM auth.get_session(:'up_token');
SELECT s.id::text = g.body -> 'session' ->> 'id' AS session_id, s.user_id::text = g.body -> 'session' ->> 'userId' AS user_id,
       pg_temp.iso(s.expires_at) = g.body -> 'session' ->> 'expiresAt' AS expires_at,
       pg_temp.iso(s.created_at) = g.body -> 'session' ->> 'createdAt' AS created_at
  FROM auth.get_session(:'up_token') g JOIN auth.sessions s ON s.token_hash = auth.hash_token(:'up_token');
-- the same body as validate_session's row says
SELECT v.email = g.body -> 'user' ->> 'email' AS same_user, v.session_id::text = g.body -> 'session' ->> 'id' AS same_session
  FROM auth.validate_session(:'up_token') v, auth.get_session(:'up_token') g;
-- sliding expiry: refreshed is true only for the call that extended the session
UPDATE auth.sessions SET expires_at = now() + interval '1 hour', updated_at = now() - interval '2 days'
 WHERE token_hash = auth.hash_token(:'up_token');
SELECT refreshed, max_age, body -> 'session' ->> 'updatedAt' = pg_temp.iso(now()) AS updated_now
  FROM auth.get_session(:'up_token');
SELECT refreshed AS again FROM auth.get_session(:'up_token');
-- remember_me = false sessions are not extended
SELECT refreshed AS short_session, max_age BETWEEN 86300 AND 86400 AS one_day FROM auth.get_session(:'in_token');
-- the JWT comes from the same lookup, verifies, names the user and equals session_jwt's (its memo)
SELECT jwt IS NOT NULL AS has_jwt, jwt_error, auth.verify_jwt(jwt) ->> 'sub' = body -> 'user' ->> 'id' AS sub,
       jwt = auth.session_jwt(:'up_token') AS same_as_session_jwt
  FROM auth.get_session(:'up_token', true);
-- no live session: no row, never an error
SELECT count(*) AS unknown FROM auth.get_session('not-a-token', true);
SELECT count(*) AS null_token FROM auth.get_session(NULL, true);
SELECT count(*) AS huge FROM auth.get_session(repeat('A', 100000));

-- list-sessions: the Better-Auth array, token = session id
SELECT json_array_length(l) AS sessions,
       (SELECT bool_and(e ->> 'token' = e ->> 'id' AND e ->> 'expiresAt' ~ :iso) FROM json_array_elements(l) e) AS ids,
       (SELECT array_agg(k) FROM json_object_keys(l -> 0) k) AS keys
  FROM auth.list_sessions_response(:'up_token') l;
SELECT auth.list_sessions_response('not-a-token') IS NULL AS unknown, auth.list_sessions_response(NULL) IS NULL AS null_token;

-- change-password: {"token": null | token, "user"}; errors as auth.change_password
SELECT auth.change_password_response(:'up_token', 'wrong-password-1', 'new-password-123', false);
SELECT auth.change_password_response(:'up_token', 'correct-horse-battery', 'short', false);
SELECT c -> 'token' AS token, (SELECT array_agg(k) FROM json_object_keys(c -> 'user') k) AS user_keys
  FROM auth.change_password_response(:'up_token', 'correct-horse-battery', 'new-password-123', false) c;
SELECT c ->> 'token' = :'up_token' AS token_kept
  FROM auth.change_password_response(:'up_token', 'new-password-123', 'newer-password-123', true) c;
SELECT (SELECT count(*) FROM auth.get_session(:'in_token')) AS other_sessions_left,
       (SELECT count(*) FROM auth.get_session(:'up_token')) AS own_session_left;
SELECT auth.change_password_response('not-a-token', 'a', 'b', false) IS NULL AS unknown;

-- without a usable KEK the session check still answers: jwt NULL with the code, key_status says why,
-- the JWKS is still published (a fresh connection: no key unsealed yet)
\c
SET pgauth.key_file = '';
SELECT body -> 'user' ->> 'email' AS email, jwt IS NULL AS no_jwt, jwt_error FROM auth.get_session(:'up_token', true);
SELECT status, reason FROM auth.key_status();
SELECT jsonb_array_length(auth.jwks() -> 'keys') > 0 AS jwks_published;
SET pgauth.key_file = '/nonexistent/pgauth.key';
SELECT status, reason FROM auth.key_status();
RESET pgauth.key_file;
SELECT jwt IS NOT NULL AS jwt_again, jwt_error FROM auth.get_session(:'up_token', true);
SELECT status, reason FROM auth.key_status();
SELECT sqlstate, http_status, message FROM auth.error_codes WHERE code = 'SIGNING_KEY_UNAVAILABLE';
-- with no key at all and no KEK, the JWKS is an empty set, not an error
BEGIN;
DELETE FROM auth.jwks;
SET LOCAL pgauth.key_file = '';
SELECT auth.jwks() AS empty_jwks, (SELECT status FROM auth.key_status()) AS status;
ROLLBACK;
SELECT jsonb_array_length(auth.jwks() -> 'keys') > 0 AS keys_back;
-- strings are escaped as JSON requires: quotes, backslashes, control characters; UTF-8 as is
SELECT session_token AS esc_token, body::text AS esc_body
  FROM auth.sign_up_response('esc@example.com', 'correct-horse-battery', E'Q " B \\ N \n T \t C \x01 é 😀 </script>',
                             E'https://img.example/a"b', NULL, E'ua\r\n"x"') \gset
SELECT (:'esc_body'::json -> 'user' ->> 'name') = E'Q " B \\ N \n T \t C \x01 é 😀 </script>' AS name_round_trips,
       (:'esc_body'::json -> 'user' ->> 'image') = E'https://img.example/a"b' AS image_round_trips,
       :'esc_body' LIKE '%\u0001%' AS control_as_u0001, :'esc_body' LIKE '%é 😀%' AS utf8_as_is;
SELECT body -> 'session' ->> 'userAgent' = E'ua\r\n"x"' AS user_agent_round_trips,
       body -> 'user' ->> 'name' = E'Q " B \\ N \n T \t C \x01 é 😀 </script>' AS name_in_get_session,
       auth.verify_jwt(jwt) ->> 'name' = E'Q " B \\ N \n T \t C \x01 é 😀 </script>' AS name_in_jwt
  FROM auth.get_session(:'esc_token', true);
