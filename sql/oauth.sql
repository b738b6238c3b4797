-- OAuth 2.1 / OpenID Connect provider (issue 13): the authorization state machine, consent,
-- the token endpoint (PKCE, code replay, refresh rotation and reuse, client_credentials, client
-- authentication), userinfo, introspection, revocation, end-session, discovery,
-- verify_access_token, bad input, digests only at rest.
SET pgauth.base_url = 'https://auth.example';
SET pgauth.oauth_refresh_reuse_interval = '10s';
-- the claims of a JWT (not verified: for looking)
CREATE FUNCTION pg_temp.claims(t text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT convert_from(decode(rpad(translate(split_part(t, '.', 2), '-_', '+/'),
                                    (length(split_part(t, '.', 2)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb
$$;
CREATE FUNCTION pg_temp.header(t text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT convert_from(decode(rpad(translate(split_part(t, '.', 1), '-_', '+/'),
                                    (length(split_part(t, '.', 1)) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb
$$;
CREATE FUNCTION pg_temp.s256(v text) RETURNS text LANGUAGE sql AS $$
    SELECT rtrim(translate(encode(sha256(convert_to(v, 'UTF8')), 'base64'), '+/', '-_'), '=')
$$;
-- an answer with the random parts masked
CREATE FUNCTION pg_temp.shape(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN j ? 'url' THEN j || jsonb_build_object('url', regexp_replace(j ->> 'url', '(code|consent_code)=[A-Za-z0-9_-]+', '\1=X'))
                WHEN j -> 'consent' ? 'consent_code' THEN jsonb_set(j, '{consent,consent_code}', '"X"')
                ELSE j END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.claims(text), pg_temp.header(text), pg_temp.s256(text), pg_temp.shape(jsonb) TO PUBLIC;

SELECT user_id AS alice, session_token AS alice_tok FROM auth.sign_up_email('oauth-alice@example.com', 'alice-password-1', 'Alice') \gset
SELECT user_id AS bob, session_token AS bob_tok FROM auth.sign_up_email('oauth-bob@example.com', 'bob-password-1', 'Bob') \gset
SELECT auth.jwks() AS our_jwks \gset
SELECT pg_temp.header(auth.sign_jwt('{"sub": "x"}')) ->> 'alg' AS session_alg \gset

SET ROLE regress_pgauth_admin;
SELECT auth.oauth_create_client('{"client_id": "rp-conf", "client_name": "Relying Party", "redirect_uris": ["https://rp.example/cb"],
    "post_logout_redirect_uris": ["https://rp.example/bye"], "grant_types": ["authorization_code", "refresh_token"]}')::json ->> 'client_secret' AS conf_secret \gset
SELECT auth.oauth_create_client('{"client_id": "rp-pub", "client_name": "Public", "redirect_uris": ["http://127.0.0.1:9999/cb"],
    "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none",
    "id_token_signed_response_alg": "EdDSA"}') IS NOT NULL AS public_client;
SELECT auth.oauth_create_client('{"client_id": "svc", "client_name": "Worker", "grant_types": ["client_credentials"],
    "token_endpoint_auth_method": "client_secret_post", "scope": "read write"}')::json ->> 'client_secret' AS svc_secret \gset
SELECT auth.oauth_create_client(jsonb_build_object('client_id', 'rp-jwt', 'client_name', 'Key client',
    'redirect_uris', jsonb_build_array('https://jwt.example/cb'), 'grant_types', jsonb_build_array('client_credentials'),
    'token_endpoint_auth_method', 'private_key_jwt', 'jwks', :'our_jwks'::jsonb, 'scope', 'read')) IS NOT NULL AS key_client;
RESET ROLE;
SELECT event, detail ->> 'client_id' AS client_id, detail ->> 'source' AS source FROM auth.audit_log
 WHERE event = 'oauth_client_registered' AND detail ->> 'client_id' IN ('rp-conf', 'rp-pub', 'svc', 'rp-jwt') ORDER BY id;

SELECT 'verifier-0123456789-0123456789-0123456789-abcdef' AS verifier \gset
SELECT pg_temp.s256(:'verifier') AS challenge \gset

SET ROLE regress_pgauth_service;
-- ---- authorize: problems with the client or redirect URI are shown, never redirected
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "nope", "redirect_uri": "https://rp.example/cb", "response_type": "code"}') AS unknown_client;
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "rp-conf", "redirect_uri": "https://evil.example/cb", "response_type": "code"}') AS unregistered_redirect;
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb/", "response_type": "code"}') AS not_exact;
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": ["rp-conf"], "redirect_uri": "https://rp.example/cb"}') AS client_id_array;
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "rp-conf", "redirect_uri": ["https://rp.example/cb"]}') AS redirect_array;
-- ---- everything else at the redirect URI, with state and iss
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "token", "state": "s 1"}') AS token_flow;
SELECT auth.oauth_authorize(:'alice_tok', '{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "code", "state": "s1"}') AS pkce_required;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'code_challenge_method', 'plain', 'state', 's2')) AS plain_refused;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'scope', 'openid admin', 'state', 's3')) AS bad_scope;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'resource', 'https://api.example/#frag', 'state', 's4')) AS bad_resource;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'prompt', 'none login', 'state', 's5')) AS prompt_none_login;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', E's\x01')) AS control_in_state;
-- ---- the user: none, prompt=none, prompt=login, max_age
SELECT auth.oauth_authorize(NULL, jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's6', 'login_hint', 'alice')) AS no_session;
SELECT auth.oauth_authorize('not-a-session', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's7', 'prompt', 'none')) AS prompt_none_no_session;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's8', 'prompt', 'login consent')) AS prompt_login;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's9', 'max_age', '0')) -> 'action' AS max_age_exceeded;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's9', 'max_age', 'soon')) AS max_age_not_a_number;
-- ---- consent: prompt=none without it, then asked, denied, given, remembered, asked again
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's10', 'prompt', 'none')) AS consent_required;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's11', 'scope', 'openid profile email offline_access', 'nonce', 'n-11')) AS ask \gset
SELECT pg_temp.shape(:'ask') AS consent_asked;
SELECT try(format('SELECT auth.oauth_consent(%L, %L, true)', :'bob_tok', (:'ask')::jsonb #>> '{consent,consent_code}')) AS other_user;
SELECT auth.oauth_consent(:'alice_tok', (:'ask')::jsonb #>> '{consent,consent_code}', false) AS denied;
SELECT try(format('SELECT auth.oauth_consent(%L, %L, true)', :'alice_tok', (:'ask')::jsonb #>> '{consent,consent_code}')) AS consent_code_single_use;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's12', 'scope', 'openid profile email offline_access', 'nonce', 'n-12')) #>> '{consent,consent_code}' AS cc \gset
SELECT try(format('SELECT auth.oauth_consent(%L, %L, true, ARRAY[''profile'', ''admin''])', :'alice_tok', :'cc')) AS wider_scopes_refused;
SELECT auth.oauth_consent(:'alice_tok', :'cc', true) AS given \gset
SELECT pg_temp.shape(:'given') AS consent_given;
SELECT substring((:'given')::jsonb ->> 'url' FROM 'code=([A-Za-z0-9_-]+)') AS code1 \gset
SELECT pg_temp.shape(auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's13', 'scope', 'openid email', 'prompt', 'none'))) AS consent_remembered;
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's14', 'prompt', 'consent')) -> 'action' AS prompt_consent_asks_again;
SELECT pg_temp.shape(auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'response_type', 'code',
    'code_challenge', :'challenge', 'state', 's15', 'max_age', '3600', 'prompt', 'none'))) AS max_age_met_and_sole_redirect_uri;
-- a token without openid: userinfo answers insufficient_scope
SELECT substring(auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-pub', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'scope', 'profile', 'prompt', 'none')) ->> 'url' FROM 'code=([A-Za-z0-9_-]+)') AS code_p \gset
SELECT try(format('SELECT auth.oauth_userinfo(%L)', auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', :'code_p',
    'redirect_uri', 'http://127.0.0.1:9999/cb', 'code_verifier', :'verifier'), '{"method": "none", "client_id": "rp-pub"}') ->> 'access_token')) AS userinfo_without_openid;
RESET ROLE;
SELECT user_id = :'alice' AS consent_user, client_id, scopes FROM auth.oauth_consents;
SET ROLE regress_pgauth_service;

-- ---- the code exchange: PKCE, redirect_uri, client, then replay
SELECT try(format('SELECT auth.oauth_token(%L, ''{"method": "none", "client_id": "rp-pub"}'')',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/cb',
                       'code_verifier', 'wrong-verifier-0123456789-0123456789-0123456789'))) AS wrong_verifier;
SELECT try(format('SELECT auth.oauth_token(%L, ''{"method": "none", "client_id": "rp-pub"}'')',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/cb'))) AS missing_verifier;
SELECT try(format('SELECT auth.oauth_token(%L, ''{"method": "none", "client_id": "rp-pub"}'')',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/other',
                       'code_verifier', :'verifier'))) AS redirect_mismatch;
SELECT try(format('SELECT auth.oauth_token(%L, %L)',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/cb', 'code_verifier', :'verifier'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret'))) AS another_client;
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/cb',
    'code_verifier', :'verifier'), '{"method": "none", "client_id": "rp-pub"}') AS tok \gset
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'tok')::jsonb) k) AS token_response_keys,
       (:'tok')::jsonb -> 'token_type' AS token_type, (:'tok')::jsonb -> 'expires_in' AS expires_in, (:'tok')::jsonb -> 'scope' AS scope;
SELECT (:'tok')::jsonb ->> 'access_token' AS at1, (:'tok')::jsonb ->> 'refresh_token' AS rt1, (:'tok')::jsonb ->> 'id_token' AS idt \gset
SELECT pg_temp.header(:'idt') - 'kid' AS id_token_header,
       pg_temp.claims(:'idt') - ARRAY['iat', 'exp', 'auth_time', 'sub', 'sid', 'at_hash'] AS id_token_claims,
       pg_temp.claims(:'idt') ->> 'sub' = :'alice' AS sub_is_alice,
       pg_temp.claims(:'idt') ->> 'at_hash' = rtrim(translate(encode(substr(sha512(convert_to(:'at1', 'UTF8')), 1, 32), 'base64'), E'+/\n', '-_'), '=') AS at_hash_ok,
       (pg_temp.claims(:'idt') ->> 'exp')::bigint - (pg_temp.claims(:'idt') ->> 'iat')::bigint AS id_token_lifetime;
-- replay: invalid_grant, and what the code issued is revoked
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', :'code1', 'redirect_uri', 'http://127.0.0.1:9999/cb',
    'code_verifier', :'verifier'), '{"method": "none", "client_id": "rp-pub"}') AS code_replay;
SELECT count(*) AS replayed_access_token_rows FROM auth.verify_access_token(:'at1');
RESET ROLE;
SELECT event, detail ->> 'reason' AS reason, detail ->> 'client_id' AS client_id, (detail ->> 'tokens')::integer AS tokens
  FROM auth.audit_log WHERE event = 'oauth_family_revoked' ORDER BY id;
SET ROLE regress_pgauth_service;

-- ---- a confidential client (RS256 id_token), refresh rotation, reuse interval, reuse
SELECT auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-conf', 'redirect_uri', 'https://rp.example/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'scope', 'openid profile email offline_access', 'nonce', 'n-20',
    'resource', jsonb_build_array('https://api.example/mcp', 'https://api.example/other'))) #>> '{consent,consent_code}' AS cc \gset
SELECT substring(auth.oauth_consent(:'alice_tok', :'cc', true) ->> 'url' FROM 'code=([A-Za-z0-9_-]+)') AS code2 \gset
SELECT try(format('SELECT auth.oauth_token(%L, %L)',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code2', 'redirect_uri', 'https://rp.example/cb', 'code_verifier', :'verifier'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', 'wrong'))) AS wrong_secret;
SELECT try(format('SELECT auth.oauth_token(%L, %L)',
    jsonb_build_object('grant_type', 'authorization_code', 'code', :'code2', 'redirect_uri', 'https://rp.example/cb', 'code_verifier', :'verifier',
                       'resource', 'https://elsewhere.example/mcp'),
    jsonb_build_object('method', 'client_secret_post', 'client_id', 'rp-conf', 'client_secret', :'conf_secret'))) AS resource_not_authorized;
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', :'code2', 'redirect_uri', 'https://rp.example/cb',
    'code_verifier', :'verifier'), jsonb_build_object('method', 'client_secret_post', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS tok \gset
SELECT (:'tok')::jsonb ->> 'access_token' AS at2, (:'tok')::jsonb ->> 'refresh_token' AS rt2, (:'tok')::jsonb ->> 'id_token' AS idt2 \gset
SELECT pg_temp.header(:'idt2') ->> 'alg' AS id_token_alg, pg_temp.claims(:'idt2') ->> 'nonce' AS nonce,
       pg_temp.claims(:'idt2') ->> 'at_hash' = rtrim(translate(encode(substr(sha256(convert_to(:'at2', 'UTF8')), 1, 16), 'base64'), '+/', '-_'), '=') AS at_hash_ok,
       pg_temp.header(:'at2') ->> 'typ' AS access_token_typ, pg_temp.claims(:'at2') -> 'aud' AS access_token_aud,
       pg_temp.claims(:'at2') ->> 'client_id' AS access_token_client, pg_temp.claims(:'at2') ->> 'iss' AS access_token_iss;
-- verify_access_token: the right audience, another audience, no audience asked
SELECT subject = :'alice' AS subject_ok, client_id, scopes, audience FROM auth.verify_access_token(:'at2', 'https://api.example/mcp');
SELECT count(*) AS other_audience_rows FROM auth.verify_access_token(:'at2', 'https://elsewhere.example/mcp');
SELECT count(*) AS any_audience_rows FROM auth.verify_access_token(:'at2');
SELECT count(*) AS garbage_rows FROM auth.verify_access_token('garbage');
SELECT count(*) AS null_rows FROM auth.verify_access_token(NULL);
-- refresh: rotates; a narrower scope and one resource for this access token only
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt2', 'scope', 'openid email',
    'resource', 'https://api.example/mcp'), jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS tok \gset
SELECT (:'tok')::jsonb ->> 'refresh_token' AS rt3, (:'tok')::jsonb ->> 'access_token' AS at3 \gset
SELECT :'rt3' <> :'rt2' AS rotated, (:'tok')::jsonb ->> 'scope' AS scope, pg_temp.claims(:'at3') -> 'aud' AS aud,
       pg_temp.claims((:'tok')::jsonb ->> 'id_token') ? 'nonce' AS refreshed_id_token_has_nonce;
-- a retry of the rotated token within the reuse interval: the same successor
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt2'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) ->> 'refresh_token' = :'rt3' AS retry_same_successor;
-- the successor keeps the grant's scopes
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt3'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS tok \gset
SELECT (:'tok')::jsonb ->> 'refresh_token' AS rt4 \gset
SELECT (:'tok')::jsonb ->> 'scope' AS successor_scope, :'rt4' <> :'rt3' AS rotated_again;
-- another client's refresh token
SELECT try(format('SELECT auth.oauth_token(%L, ''{"method": "none", "client_id": "rp-pub"}'')',
    jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt4'))) AS foreign_refresh;
-- reuse outside the interval: the family is revoked
RESET ROLE;
SET pgauth.oauth_refresh_reuse_interval = 0;
SET ROLE regress_pgauth_service;
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt3'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS reuse;
SELECT try(format('SELECT auth.oauth_token(%L, %L)', jsonb_build_object('grant_type', 'refresh_token', 'refresh_token', :'rt4'),
    jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret'))) AS family_revoked;
SELECT count(*) AS revoked_access_rows FROM auth.verify_access_token(:'at2');
RESET ROLE;
SET pgauth.oauth_refresh_reuse_interval = '10s';
SELECT event, detail ->> 'reason' AS reason, detail ->> 'client_id' AS client_id FROM auth.audit_log
 WHERE event = 'oauth_family_revoked' ORDER BY id;
SET ROLE regress_pgauth_service;

-- ---- userinfo, introspection, revocation with a fresh grant
SELECT substring(auth.oauth_authorize(:'alice_tok', jsonb_build_object('client_id', 'rp-conf', 'redirect_uri', 'https://rp.example/cb', 'response_type', 'code',
    'code_challenge', :'challenge', 'scope', 'openid profile email offline_access')) ->> 'url' FROM 'code=([A-Za-z0-9_-]+)') AS code3 \gset
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'code', :'code3', 'redirect_uri', 'https://rp.example/cb',
    'code_verifier', :'verifier'), jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS tok \gset
SELECT (:'tok')::jsonb ->> 'access_token' AS at5, (:'tok')::jsonb ->> 'refresh_token' AS rt5, (:'tok')::jsonb ->> 'id_token' AS idt5 \gset
SELECT auth.oauth_userinfo(:'at5') - ARRAY['sub', 'updated_at'] AS userinfo, auth.oauth_userinfo(:'at5') ->> 'sub' = :'alice' AS sub_ok;
SELECT try('SELECT auth.oauth_userinfo(''nope'')') AS userinfo_bad_token, try('SELECT auth.oauth_userinfo(NULL)') AS userinfo_null;
SELECT auth.oauth_introspect(:'at5', NULL, jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret'))
       - ARRAY['sub', 'exp', 'iat', 'auth_time'] AS introspect_own;
SELECT auth.oauth_introspect(:'rt5', 'refresh_token', jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret'))
       ->> 'token_type' AS introspect_refresh;
SELECT auth.oauth_introspect(:'at5', NULL, jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret')) AS introspect_foreign;
SELECT try(format('SELECT auth.oauth_introspect(%L, NULL, ''{"method": "none", "client_id": "rp-conf"}'')', :'at5')) AS introspect_unauthenticated;
SELECT auth.oauth_revoke(:'rt5', NULL, jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret')) AS revoke_foreign_ignored;
SELECT count(*) AS still_live FROM auth.verify_access_token(:'at5');
SELECT auth.oauth_revoke(:'rt5', 'refresh_token', jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS revoked;
SELECT count(*) AS access_after_family_revoked FROM auth.verify_access_token(:'at5');
SELECT auth.oauth_introspect(:'rt5', NULL, jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS refresh_after_revoke;
SELECT auth.oauth_revoke('unknown-token', NULL, jsonb_build_object('method', 'client_secret_basic', 'client_id', 'rp-conf', 'client_secret', :'conf_secret')) AS unknown_revoked;

-- ---- client_credentials and private_key_jwt
SELECT auth.oauth_token('{"grant_type": "client_credentials", "scope": "read"}', jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret'))
       - 'access_token' AS client_credentials;
SELECT auth.oauth_token('{"grant_type": "client_credentials", "resource": "https://api.example/billing"}',
    jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret')) ->> 'access_token' AS cct \gset
SELECT subject IS NULL AS no_subject, client_id, scopes FROM auth.verify_access_token(:'cct', 'https://api.example/billing');
RESET ROLE;
SELECT auth.oauth_create_client('{"client_id": "svc2", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post"}')::json ->> 'client_secret' AS svc2_secret \gset
SET ROLE regress_pgauth_service;
SELECT auth.oauth_token('{"grant_type": "client_credentials"}', jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc2', 'client_secret', :'svc2_secret'))
       - 'access_token' AS no_scope_no_scope_member;
RESET ROLE;
SELECT auth.oauth_set_client_disabled('svc', true) AS disabled;
SET ROLE regress_pgauth_service;
SELECT count(*) AS disabled_client_rows FROM auth.verify_access_token(:'cct', 'https://api.example/billing');
RESET ROLE;
SELECT auth.oauth_set_client_disabled('svc', false) AS enabled;
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials", "scope": "openid"}'', %L)',
    jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret'))) AS cc_openid_refused;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "authorization_code", "code": "x"}'', %L)',
    jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret'))) AS grant_not_registered;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "password"}'', %L)',
    jsonb_build_object('method', 'client_secret_post', 'client_id', 'svc', 'client_secret', :'svc_secret'))) AS unsupported_grant;
SELECT try('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "none", "client_id": "rp-pub"}'')') AS public_client_credentials;
RESET ROLE;
-- an assertion signed with a key whose public part is the client's registered jwks
SELECT auth.oauth_sign(jsonb_build_object('iss', 'rp-jwt', 'sub', 'rp-jwt', 'aud', 'https://auth.example/api/auth/oauth2/token',
    'exp', extract(epoch FROM now())::bigint + 60, 'jti', 'jti-1'), NULL, 'JWT') AS assertion,
       auth.oauth_sign(jsonb_build_object('iss', 'rp-jwt', 'sub', 'rp-jwt', 'aud', 'https://other.example/token',
    'exp', extract(epoch FROM now())::bigint + 60, 'jti', 'jti-2'), NULL, 'JWT') AS wrong_aud,
       auth.oauth_sign(jsonb_build_object('iss', 'rp-jwt', 'sub', 'rp-jwt', 'aud', 'https://auth.example/api/auth',
    'exp', extract(epoch FROM now())::bigint - 3600, 'jti', 'jti-3'), NULL, 'JWT') AS expired \gset
SET ROLE regress_pgauth_service;
SELECT auth.oauth_token('{"grant_type": "client_credentials"}', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-jwt',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'assertion')) - 'access_token' AS private_key_jwt;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-jwt',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'assertion'))) AS assertion_replay;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-jwt',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'wrong_aud'))) AS assertion_wrong_aud;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-jwt',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'expired'))) AS assertion_expired;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-jwt',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'idt5'))) AS assertion_not_the_clients;
SELECT try(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'client_secret_post', 'client_id', 'rp-jwt',
    'client_secret', 'x'))) AS jwt_client_with_secret;

-- ---- private_key_jwt with a jwks_uri: the extension asks for the set (OAUTH_JWKS_FETCH_REQUIRED,
-- HINT 'jwks_uri: <url>'), caches what pgauth-http stores, and asks again at most every
-- pgauth.oauth_jwks_min_refresh: when there is none, it failed, it expired, or a kid is unknown
RESET ROLE;
CREATE FUNCTION pg_temp.fetch_asked(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; det text; msg text; h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN st || ' ' || coalesce(nullif(det, ''), '-') || ': ' || msg || coalesce(' [' || nullif(h, '') || ']', '');
END
$$;
CREATE FUNCTION pg_temp.uri_token(a text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt',
        'client_id', 'rp-uri', 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', a))
$$;
GRANT EXECUTE ON FUNCTION pg_temp.fetch_asked(text), pg_temp.uri_token(text) TO PUBLIC;
SELECT try(format('SELECT auth.oauth_create_client(%L)', '{"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://127.0.0.1:9/jwks"}'))
       AS http_jwks_uri_refused;
SET pgauth.oauth_cimd_allow_http_loopback = on;
SELECT auth.oauth_create_client('{"client_id": "rp-dev", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
    "jwks_uri": "http://127.0.0.1:9/jwks"}')::jsonb ->> 'jwks_uri' AS loopback_jwks_uri_in_development;
SELECT try(format('SELECT auth.oauth_create_client(%L)', '{"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://keys.example/jwks"}'))
       AS http_jwks_uri_elsewhere_refused;
RESET pgauth.oauth_cimd_allow_http_loopback;
SELECT auth.oauth_create_client(jsonb_build_object('client_id', 'rp-uri', 'grant_types', jsonb_build_array('client_credentials'),
    'token_endpoint_auth_method', 'private_key_jwt', 'jwks_uri', 'https://keys.example/jwks', 'scope', 'read')) IS NOT NULL AS uri_client;
CREATE FUNCTION pg_temp.uri_assertion(jti text) RETURNS text LANGUAGE sql AS $$
    SELECT auth.oauth_sign(jsonb_build_object('iss', 'rp-uri', 'sub', 'rp-uri', 'aud', 'https://auth.example/api/auth/oauth2/token',
        'exp', extract(epoch FROM now())::bigint + 60, 'jti', jti), NULL, 'JWT')
$$;
SELECT pg_temp.uri_assertion('uri-1') AS ua1, pg_temp.uri_assertion('uri-2') AS ua2, pg_temp.uri_assertion('uri-3') AS ua3,
       pg_temp.uri_assertion('uri-4') AS ua4, pg_temp.uri_assertion('uri-5') AS ua5 \gset
-- the set as published, and the same keys under another kid (a set that does not know the assertion's key)
SELECT jsonb_build_object('keys', (SELECT jsonb_agg(k || '{"kid": "rotated-away"}') FROM jsonb_array_elements(:'our_jwks'::jsonb -> 'keys') k)) AS old_jwks \gset
SET ROLE regress_pgauth_service;
-- first use: no set yet; keys the caller passes are never used
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS first_use;
SELECT pg_temp.fetch_asked(format('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', %L)', jsonb_build_object('method', 'private_key_jwt',
    'client_id', 'rp-uri', 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'ua1',
    'jwks', :'our_jwks'::jsonb))) AS caller_keys_ignored;
-- a failed fetch is stored: invalid_client, and no new fetch before pgauth.oauth_jwks_min_refresh
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', NULL, NULL, 'the JWK Set''s URL answered HTTP 404') AS failure_stored;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS failed_fetch;
-- another URL than the client's (its jwks_uri changed meanwhile) stores nothing
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://evil.example/jwks', :'our_jwks'::jsonb, 60) AS other_url_stored;
SELECT auth.oauth_client_jwks_store('nope', 'https://keys.example/jwks', :'our_jwks'::jsonb, 60) AS unknown_client_stored;
RESET ROLE;
SELECT jwks_uri, jwks IS NULL AS no_keys, error FROM auth.oauth_client_jwks WHERE client_id = 'rp-uri';
UPDATE auth.oauth_client_jwks SET fetched_at = fetched_at - interval '61 seconds' WHERE client_id = 'rp-uri';
SET ROLE regress_pgauth_service;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS failure_older_than_min_refresh;
-- not a public JWK Set: stored as a failure
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "a", "d": "b"}]}', 60) AS private_set_stored,
       auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', '{"keys": []}', 60) AS empty_set_stored;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS invalid_set;
-- a good set (Cache-Control: max-age=300): the assertion verifies
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', :'old_jwks'::jsonb, 300) AS old_set_stored;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS unknown_kid_fetched_a_moment_ago;
RESET ROLE;
UPDATE auth.oauth_client_jwks SET fetched_at = fetched_at - interval '61 seconds' WHERE client_id = 'rp-uri';
SET ROLE regress_pgauth_service;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua1')) AS unknown_kid_asks_again;
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', :'our_jwks'::jsonb, 300) AS rotated_set_stored;
SELECT auth.oauth_token('{"grant_type": "client_credentials"}', jsonb_build_object('method', 'private_key_jwt', 'client_id', 'rp-uri',
    'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'ua1')) - 'access_token' AS jwks_uri_token;
-- a failed refetch keeps the last good set
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', NULL, NULL, 'fetching the JWK Set timed out') AS failed_refetch;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua2')) AS last_good_set_kept;
RESET ROLE;
SELECT jwks IS NOT NULL AS keys_kept, error, expires_at > now() + interval '200 seconds' AS max_age_honoured FROM auth.oauth_client_jwks WHERE client_id = 'rp-uri';
-- expired (and fetched longer ago than the minimum): asks again; max-age is bounded by pgauth.oauth_jwks_max_age
UPDATE auth.oauth_client_jwks SET fetched_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE client_id = 'rp-uri';
SET ROLE regress_pgauth_service;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua3')) AS expired_set;
SELECT auth.oauth_client_jwks_store('rp-uri', 'https://keys.example/jwks', :'our_jwks'::jsonb, 999999) AS long_max_age_stored;
RESET ROLE;
SELECT expires_at <= now() + interval '1 hour' AS bounded_by_max_age FROM auth.oauth_client_jwks WHERE client_id = 'rp-uri';
-- a new jwks_uri: the cached set is not used
UPDATE auth.oauth_clients SET jwks_uri = 'https://keys.example/jwks-2' WHERE client_id = 'rp-uri';
SET ROLE regress_pgauth_service;
SELECT pg_temp.fetch_asked(pg_temp.uri_token(:'ua3')) AS new_jwks_uri;
SELECT pg_temp.fetch_asked(format('SELECT auth.oauth_introspect(''x'', NULL, %L)', jsonb_build_object('method', 'private_key_jwt',
    'client_id', 'rp-uri', 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'ua4'))) AS introspection_asks_too;
SELECT pg_temp.fetch_asked(format('SELECT auth.oauth_revoke(''x'', NULL, %L)', jsonb_build_object('method', 'private_key_jwt',
    'client_id', 'rp-uri', 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion', :'ua5'))) AS revocation_asks_too;
RESET ROLE;
-- the set goes with its client
SELECT auth.oauth_delete_client('rp-uri') AS uri_client_deleted;
SELECT count(*) AS sets_left FROM auth.oauth_client_jwks WHERE client_id = 'rp-uri';
SET ROLE regress_pgauth_service;

-- ---- end-session
SELECT try(format('SELECT auth.oauth_end_session(NULL, %L)', jsonb_build_object('id_token_hint', :'idt5', 'post_logout_redirect_uri', 'https://evil.example/bye')))
       AS unregistered_post_logout;
SELECT try(format('SELECT auth.oauth_end_session(NULL, %L)', jsonb_build_object('id_token_hint', :'idt5', 'client_id', 'rp-pub'))) AS client_id_mismatch;
SELECT try('SELECT auth.oauth_end_session(NULL, ''{"id_token_hint": "a.b.c"}'')') AS bad_hint;
SELECT auth.oauth_end_session(NULL, '{"client_id": "rp-conf"}') AS no_redirect;
SELECT auth.oauth_end_session(:'alice_tok', jsonb_build_object('id_token_hint', :'idt5', 'post_logout_redirect_uri', 'https://rp.example/bye', 'state', 'bye 1')) AS ended;
SELECT count(*) AS session_gone FROM auth.validate_session(:'alice_tok');

-- ---- discovery
SELECT jsonb_pretty(auth.oauth_discovery('openid-configuration')) AS openid_configuration;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(auth.oauth_discovery('oauth-authorization-server')) k) AS as_metadata_keys;
SELECT try('SELECT auth.oauth_discovery(''webfinger'')') AS unknown_kind;
RESET ROLE;
SET ROLE regress_pgauth_reader;
SELECT auth.oauth_discovery('oauth-authorization-server') ->> 'issuer' AS reader_discovery;
RESET ROLE;

-- ---- keys: the id_token keys (RS256, EdDSA) are published; session JWTs keep their key
SELECT count(*) FILTER (WHERE k ->> 'kid' = pg_temp.header(:'idt2') ->> 'kid') AS rs256_id_token_key_published,
       count(*) FILTER (WHERE k ->> 'kid' = pg_temp.header(:'idt') ->> 'kid') AS eddsa_id_token_key_published
  FROM jsonb_array_elements(auth.jwks() -> 'keys') k;
SELECT pg_temp.header(auth.sign_jwt('{"sub": "x"}')) ->> 'alg' = :'session_alg' AS session_key_unchanged;
SELECT count(*) AS current_rs256_keys FROM auth.jwks WHERE alg = 'RS256' AND retires_at IS NULL AND private_key IS NOT NULL;

-- ---- digests only at rest
SELECT count(*) FILTER (WHERE position(:'at5' IN t::text) > 0 OR position(:'rt5' IN t::text) > 0) AS plaintext_tokens,
       count(*) FILTER (WHERE t.digest = auth.hash_token(:'rt5')) AS refresh_digest_rows
  FROM auth.oauth_tokens t;
SELECT count(*) FILTER (WHERE o.digest = auth.hash_token(:'code1')) AS code_digest_rows FROM auth.oauth_codes o;

-- ---- bad input: OAUTH_* errors with 4xx statuses, never an internal error, nothing written
SELECT (SELECT count(*) FROM auth.oauth_tokens) + (SELECT count(*) FROM auth.oauth_codes)
       + (SELECT count(*) FROM auth.oauth_consent_requests) + (SELECT count(*) FROM auth.oauth_consents)
       + (SELECT count(*) FROM auth.oauth_assertions) AS rows_before \gset
SET ROLE regress_pgauth_service;
SELECT n, left(regexp_replace(regexp_replace(q, '''[A-Za-z0-9_-]{43}''', '''<token>''', 'g'), '(.)\1{20,}', '\1...', 'g'), 100) AS call, try(q) AS result FROM (SELECT q, row_number() OVER () AS n FROM (VALUES
    ('SELECT auth.oauth_authorize(NULL, NULL)'),
    ('SELECT auth.oauth_authorize(NULL, ''[1, 2]'')'),
    ('SELECT auth.oauth_authorize(NULL, ''"client_id"'')'),
    ('SELECT auth.oauth_authorize(repeat(''x'', 100000), ''{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "code", "code_challenge": "' || repeat('a', 43) || '"}'') ->> ''action'''),
    ('SELECT auth.oauth_authorize(NULL, ''{"client_id": "' || repeat('x', 100000) || '"}'') ->> ''error'''),
    ('SELECT auth.oauth_authorize(NULL, ''{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "code", "scope": "' || repeat('x', 5000) || '"}'') ->> ''url'''),
    ('SELECT auth.oauth_authorize(NULL, ''{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "code", "nonce": {"a": 1}}'') ->> ''url'''),
    ('SELECT auth.oauth_authorize(NULL, ''{"client_id": "rp-conf", "redirect_uri": "https://rp.example/cb", "response_type": "code", "resource": [1]}'') ->> ''url'''),
    ('SELECT auth.oauth_consent(NULL, NULL, NULL)'),
    ('SELECT auth.oauth_consent(''' || :'bob_tok' || ''', repeat(''x'', 100000), true)'),
    ('SELECT auth.oauth_token(NULL, NULL)'),
    ('SELECT auth.oauth_token(''[]'', ''[]'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', NULL)'),
    ('SELECT auth.oauth_token(''{"grant_type": ["client_credentials"]}'', ''{"method": "none", "client_id": "rp-pub"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "refresh_token", "refresh_token": "' || repeat('r', 10000) || '"}'', ''{"method": "none", "client_id": "rp-pub"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "authorization_code", "code": "c\u0007"}'', ''{"method": "none", "client_id": "rp-pub"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "authorization_code"}'', ''{"method": "none", "client_id": "rp-pub"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "magic", "client_id": "svc"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "client_secret_post", "client_id": {"x": 1}, "client_secret": "s"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials", "client_id": "other"}'', ''{"method": "none", "client_id": "rp-pub"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "private_key_jwt", "client_id": "rp-jwt", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "' || repeat('a', 9000) || '"}'')'),
    ('SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "private_key_jwt", "client_id": "rp-jwt", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "e30.e30.AAAA"}'')'),
    ('SELECT auth.oauth_userinfo(repeat(''x'', 100000))'),
    ('SELECT auth.oauth_introspect(NULL, NULL, NULL)'),
    ('SELECT auth.oauth_revoke(NULL, NULL, ''{"method": "client_secret_post", "client_id": "svc", "client_secret": "' || :'svc_secret' || '"}'')'),
    ('SELECT auth.oauth_end_session(NULL, NULL)'),
    ('SELECT auth.oauth_end_session(NULL, ''{"id_token_hint": ["a"]}'')'),
    ('SELECT auth.oauth_end_session(NULL, ''{"post_logout_redirect_uri": "https://rp.example/bye"}'')'),
    ('SELECT auth.oauth_discovery(NULL)'),
    ('SELECT count(*) FROM auth.verify_access_token(repeat(''x'', 100000), repeat(''y'', 100000))')
) v(q)) x ORDER BY n;
RESET ROLE;
SELECT (SELECT count(*) FROM auth.oauth_tokens) + (SELECT count(*) FROM auth.oauth_codes)
       + (SELECT count(*) FROM auth.oauth_consent_requests) + (SELECT count(*) FROM auth.oauth_consents)
       + (SELECT count(*) FROM auth.oauth_assertions) = :rows_before AS nothing_written;
-- a parameter is one string without C0 or C1 controls or DEL, at most p_max characters (not bytes)
SELECT try($q$SELECT auth.oauth_param('{"code": "c\u0085"}', 'code')$q$) AS c1_control,
       try($q$SELECT auth.oauth_param('{"code": "c\u007f"}', 'code')$q$) AS del,
       auth.oauth_param('{"code": "\u00e9\u00e9"}', 'code', 2) AS two_chars,
       try($q$SELECT auth.oauth_param('{"code": "\u00e9\u00e9\u00e9"}', 'code', 2)$q$) AS three_chars,
       auth.oauth_param('{"code": "a\u00a0b"}', 'code') = E'a\u00a0b' AS nbsp_kept,
       auth.oauth_param('{"code": ""}', 'code') IS NULL AS empty_is_null,
       auth.oauth_param('{"code": null}', 'code') IS NULL AS null_is_null,
       auth.oauth_param('["code"]', 'code') IS NULL AS array_is_null,
       try($q$SELECT auth.oauth_param('{"code": 7}', 'code')$q$) AS number;
-- at_hash: the left half of the token's SHA-256 (SHA-512 for EdDSA), base64url; lifetimes in seconds
SELECT auth.oauth_at_hash('an-access-token', 'RS256')
         = rtrim(translate(encode(substr(sha256('an-access-token'::bytea), 1, 16), 'base64'), '+/', '-_'), '=') AS at_hash_rs256,
       auth.oauth_at_hash('an-access-token', 'EdDSA')
         = rtrim(translate(encode(substr(sha512('an-access-token'::bytea), 1, 32), 'base64'), E'+/\n', '-_'), '=') AS at_hash_eddsa,
       auth.oauth_seconds('pgauth.oauth_refresh_reuse_interval') AS reuse_seconds,
       auth.oauth_seconds('pgauth.oauth_access_token_expires_in') AS access_seconds,
       auth.oauth_seconds('pgauth.oauth_refresh_token_expires_in') AS refresh_seconds;

-- ---- privileges: the internal helpers are the owner's
SELECT p.proname, has_function_privilege('regress_pgauth_service', p.oid, 'EXECUTE') AS service,
       has_function_privilege('regress_pgauth_reader', p.oid, 'EXECUTE') AS reader
  FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace
   AND (p.proname LIKE 'oauth\_%' OR p.proname = 'verify_access_token')
   AND p.proname NOT IN (SELECT unnest(ARRAY['oauth_create_client', 'oauth_register_client', 'oauth_client_read', 'oauth_client_update',
        'oauth_client_delete', 'oauth_client_get', 'oauth_cimd_store', 'oauth_check_redirect', 'oauth_delete_client',
        'oauth_set_client_disabled', 'oauth_random_token', 'oauth_digest_equal', 'oauth_text', 'oauth_uri_check',
        'oauth_text_array', 'oauth_client_metadata', 'oauth_client_body', 'oauth_registration_client_uri',
        'oauth_insert_client', 'oauth_registered_client', 'oauth_client_public']))
 ORDER BY 1;

-- ---- cleanup: expired rows go
UPDATE auth.oauth_codes SET expires_at = now() - interval '2 hours';
UPDATE auth.oauth_tokens SET expires_at = now() - interval '2 days' WHERE client_id = 'rp-pub';
SELECT auth.oauth_cleanup() > 0 AS cleaned;
SELECT (SELECT count(*) FROM auth.oauth_codes) AS codes_left,
       (SELECT count(*) FROM auth.oauth_tokens WHERE client_id = 'rp-pub') AS rp_pub_tokens_left,
       (SELECT count(*) FROM auth.oauth_tokens WHERE client_id <> 'rp-pub') > 0 AS live_tokens_kept;

-- leave nothing behind for the next files
DELETE FROM auth.oauth_clients WHERE client_id IN ('rp-conf', 'rp-pub', 'svc', 'svc2', 'rp-jwt');
DELETE FROM auth.users WHERE email IN ('oauth-alice@example.com', 'oauth-bob@example.com');
RESET pgauth.base_url;
RESET pgauth.oauth_refresh_reuse_interval;

-- ---- the first key of a database made for an id_token still leaves a session key to be made
-- (an EdDSA id_token signed before any session JWT used to make the only EdDSA key a
-- secondary one, and every session JWT then failed with SIGNING_KEY_UNAVAILABLE)
BEGIN;
CREATE TEMP TABLE saved_jwks AS SELECT * FROM auth.jwks;
DELETE FROM auth.jwks;
SELECT auth.oauth_sign('{"sub": "first"}', 'EdDSA', 'JWT') IS NOT NULL AS id_token_signed;
SELECT auth.sign_jwt('{"sub": "x"}') IS NOT NULL AS session_jwt_signed,
       (SELECT count(*) FROM auth.jwks WHERE NOT secondary AND retires_at IS NULL) AS session_keys;
ROLLBACK;
