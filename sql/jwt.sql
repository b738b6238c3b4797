-- JWT: signing keys (sealed under pgauth.key_file), JWKS, sign_jwt / session_jwt / verify_jwt
-- and every rejection rule of verify_jwt.
CREATE FUNCTION pg_temp.b64url(bytea) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(rtrim(replace(encode($1, 'base64'), E'\n', ''), '='), '+/', '-_') $$;
CREATE FUNCTION pg_temp.b64url(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.b64url(convert_to($1, 'UTF8')) $$;
CREATE FUNCTION pg_temp.unb64url(text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_from(decode(translate($1, '-_', '+/') || repeat('=', (4 - length($1) % 4) % 4), 'base64'), 'UTF8')::jsonb $$;
CREATE FUNCTION pg_temp.header(text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT pg_temp.unb64url(split_part($1, '.', 1)) $$;
CREATE FUNCTION pg_temp.payload(text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT pg_temp.unb64url(split_part($1, '.', 2)) $$;
-- the token with its header replaced (the signature is kept)
CREATE FUNCTION pg_temp.reheader(tok text, header jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.b64url(header::text) || '.' || split_part(tok, '.', 2) || '.' || split_part(tok, '.', 3) $$;
SELECT session_token AS tok, user_id AS uid FROM auth.sign_up_email('jwt@example.com', 'jwt-password-1', 'Jay') \gset

-- ------------------------------------------------------------ the key file
SET pgauth.key_file = '';
SELECT try($$SELECT auth.rotate_signing_key()$$) AS key_file_unset;
SET pgauth.key_file = '/nonexistent/pgauth.key';
SELECT try($$SELECT auth.rotate_signing_key()$$) AS key_file_missing;
SET pgauth.key_file = '/etc/passwd';
SELECT try($$SELECT auth.rotate_signing_key()$$) AS key_file_world_readable;
SELECT count(*) AS no_key_was_written FROM auth.jwks;
RESET pgauth.key_file;

-- ------------------------------------------------------------ first use creates a key
SELECT jsonb_array_length(auth.jwks() -> 'keys') AS published_keys;
SELECT k ->> 'kty' AS kty, k ->> 'crv' AS crv, k ->> 'alg' AS alg, k ->> 'use' AS use, k ? 'd' AS has_private,
       length(k ->> 'x') AS x_len, k ->> 'kid' = (SELECT kid FROM auth.jwks) AS kid_matches
  FROM jsonb_array_elements(auth.jwks() -> 'keys') k;
-- the private key at rest is sealed: nonce (24) + Ed25519 seed (32) + tag (16), never the seed itself
SELECT alg, length(private_key) AS sealed_len, public_jwk ? 'd' AS public_has_d FROM auth.jwks;

-- ------------------------------------------------------------ sign and verify
SELECT auth.sign_jwt('{"sub": "user-1", "scope": "read"}') AS t1 \gset
SELECT pg_temp.header(:'t1') - 'kid' AS header, pg_temp.header(:'t1') ->> 'kid' = (SELECT kid FROM auth.jwks) AS kid_is_current;
SELECT c ->> 'sub' AS sub, c ->> 'scope' AS scope, c ->> 'iss' AS iss,
       (c ->> 'exp')::bigint - (c ->> 'iat')::bigint AS lifetime, c ? 'aud' AS has_aud
  FROM auth.verify_jwt(:'t1') c;
-- the caller cannot choose iat, exp or iss; expires_in and audience are parameters
SELECT c ->> 'iss' AS iss, (c ->> 'exp')::bigint - (c ->> 'iat')::bigint AS lifetime, c ->> 'aud' AS aud,
       abs((c ->> 'iat')::bigint - extract(epoch FROM now())::bigint) < 5 AS iat_is_now
  FROM auth.verify_jwt(auth.sign_jwt('{"iss": "evil", "exp": 99999999999, "iat": 1}', interval '1 hour', 'api://orders'),
                       'api://orders') c;
SELECT try($$SELECT auth.sign_jwt('[1, 2]')$$) AS claims_not_object;
SELECT array(SELECT jsonb_object_keys(auth.verify_jwt(auth.sign_jwt(NULL))) ORDER BY 1) AS null_claims_sign_the_registered_ones;
SELECT try($$SELECT auth.verify_jwt(NULL)$$) AS verify_null;

-- ------------------------------------------------------------ every rejection rule
SELECT try(format('SELECT auth.verify_jwt(%L)', repeat('a', 8193))) AS oversize;
SELECT try($$SELECT auth.verify_jwt('abc.def')$$) AS two_segments;
SELECT try($$SELECT auth.verify_jwt('a.b.c.d')$$) AS four_segments;
SELECT try($$SELECT auth.verify_jwt('e*J.e30.AA')$$) AS bad_base64url;
SELECT try(format('SELECT auth.verify_jwt(%L)', pg_temp.b64url('[1]') || '.e30.AA')) AS header_not_object;
SELECT try(format('SELECT auth.verify_jwt(%L)', pg_temp.b64url('{"kid":"x"}') || '.e30.AA')) AS header_without_alg;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'none', 'kid', pg_temp.header(:'t1') ->> 'kid')))) AS alg_none;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.b64url(jsonb_build_object('alg', 'none', 'kid', pg_temp.header(:'t1') ->> 'kid')::text) || '.'
    || split_part(:'t1', '.', 2) || '.')) AS alg_none_unsigned;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'HS256', 'kid', pg_temp.header(:'t1') ->> 'kid')))) AS alg_hs256;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'ES256', 'kid', pg_temp.header(:'t1') ->> 'kid')))) AS alg_mismatch;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'EdDSA', 'kid', pg_temp.header(:'t1') ->> 'kid', 'crit', '["exp"]'::jsonb)))) AS crit;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'EdDSA')))) AS no_kid;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    pg_temp.reheader(:'t1', jsonb_build_object('alg', 'EdDSA', 'kid', repeat('A', 43))))) AS unknown_kid;
-- a changed payload or signature
SELECT try(format('SELECT auth.verify_jwt(%L)', split_part(:'t1', '.', 1) || '.'
    || pg_temp.b64url((pg_temp.payload(:'t1') || '{"sub": "admin"}')::text) || '.' || split_part(:'t1', '.', 3))) AS payload_changed;
SELECT try(format('SELECT auth.verify_jwt(%L)', split_part(:'t1', '.', 1) || '.' || split_part(:'t1', '.', 2) || '.'
    || pg_temp.b64url(decode(repeat('00', 64), 'hex')))) AS signature_zeroed;
SELECT try(format('SELECT auth.verify_jwt(%L)', split_part(:'t1', '.', 1) || '.' || split_part(:'t1', '.', 2) || '.'
    || substr(split_part(:'t1', '.', 3), 1, 40))) AS signature_truncated;
-- time: exp is required and checked with pgauth.jwt_leeway (60 s); nbf likewise
SELECT try(format('SELECT auth.verify_jwt(%L)', auth.sign_jwt('{}', interval '-2 minutes'))) AS expired;
SELECT try(format('SELECT auth.verify_jwt(%L)', auth.sign_jwt('{}', interval '-30 seconds'))) AS expired_within_leeway;
SET pgauth.jwt_leeway = 0;
SELECT try(format('SELECT auth.verify_jwt(%L)', auth.sign_jwt('{}', interval '-30 seconds'))) AS expired_no_leeway;
RESET pgauth.jwt_leeway;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    auth.sign_jwt(jsonb_build_object('nbf', extract(epoch FROM now())::bigint + 300)))) AS not_yet_valid;
SELECT try(format('SELECT auth.verify_jwt(%L)',
    auth.sign_jwt(jsonb_build_object('nbf', extract(epoch FROM now())::bigint + 30)))) AS nbf_within_leeway;
SELECT try(format('SELECT auth.verify_jwt(%L)', auth.sign_jwt('{"nbf": "soon"}'))) AS nbf_not_a_number;
-- issuer: pgauth.issuer, or pgauth.base_url when it is empty
SET pgauth.issuer = 'https://auth.example.com';
SELECT auth.verify_jwt(auth.sign_jwt('{}')) ->> 'iss' AS configured_issuer;
SELECT try(format('SELECT auth.verify_jwt(%L)', :'t1')) AS wrong_issuer;
RESET pgauth.issuer;
-- audience: checked when the caller names one (string or array claim)
SELECT auth.sign_jwt('{}', NULL, 'api://a') AS t_aud \gset
SELECT auth.verify_jwt(:'t_aud', 'api://a') ->> 'aud' AS right_audience;
SELECT auth.verify_jwt(:'t_aud') ->> 'aud' AS audience_not_asked;
SELECT try(format('SELECT auth.verify_jwt(%L, %L)', :'t_aud', 'api://b')) AS wrong_audience;
SELECT try(format('SELECT auth.verify_jwt(%L, %L)', :'t1', 'api://a')) AS missing_audience;
SELECT auth.verify_jwt(auth.sign_jwt('{"aud": ["api://x", "api://a"]}'), 'api://a') -> 'aud' AS audience_in_array;
-- errors carry the documented code
SELECT e.code, e.http_status FROM auth.error_codes e WHERE e.code = 'INVALID_TOKEN';

-- ------------------------------------------------------------ session JWTs (Better-Auth jwt plugin payload)
SELECT auth.session_jwt(:'tok') AS st \gset
SELECT c ->> 'sub' = :'uid' AS sub_is_user, c ->> 'id' = :'uid' AS id_is_user, c ->> 'email' AS email, c ->> 'name' AS name,
       c -> 'emailVerified' AS email_verified, c -> 'image' AS image, c ->> 'iss' AS iss, c ->> 'aud' AS aud,
       (c ->> 'exp')::bigint - (c ->> 'iat')::bigint AS lifetime,
       c ->> 'createdAt' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS iso_created_at
  FROM auth.verify_jwt(:'st', 'http://127.0.0.1:8080') c;
SELECT array(SELECT jsonb_object_keys(auth.verify_jwt(:'st')) ORDER BY 1) AS claims;
SET pgauth.jwt_expires_in = '5min';
SELECT (c ->> 'exp')::bigint - (c ->> 'iat')::bigint AS configured_lifetime FROM auth.verify_jwt(auth.session_jwt(:'tok')) c;
RESET pgauth.jwt_expires_in;
-- get-session asks on every request: unchanged claims reuse the token issued moments ago
SELECT auth.session_jwt(:'tok') = auth.session_jwt(:'tok') AS reused;
SELECT auth.update_user(:'uid', 'Jay Renamed', NULL) AS renamed;
SELECT auth.verify_jwt(auth.session_jwt(:'tok')) ->> 'name' AS name_after_update;
SELECT try($$SELECT auth.session_jwt('not-a-session')$$) AS unknown_session;
SELECT try($$SELECT auth.session_jwt(NULL)$$) AS null_session;
SELECT try(format('SELECT auth.session_jwt(%L)', repeat('x', 5000))) AS oversize_session;
-- the session JWT names its session (sid), so jwt_session_init stops accepting it once the session ends
SELECT auth.verify_jwt(:'st') ->> 'sid' = (SELECT id::text FROM auth.sessions WHERE token_hash = auth.hash_token(:'tok')) AS sid_is_the_session;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'st')) AS live_session_jwt;
SELECT auth.revoke_session(:'tok') AS revoked;
SELECT try(format('SELECT auth.session_jwt(%L)', :'tok')) AS revoked_session;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'st')) AS revoked_session_jwt;

-- ------------------------------------------------------------ rotation, grace period, retirement
SELECT kid AS kid1 FROM auth.jwks \gset
SELECT auth.rotate_signing_key('ES256') AS kid2 \gset
SELECT auth.sign_jwt('{"n": 2}') AS t2 \gset
SELECT pg_temp.header(:'t2') ->> 'alg' AS alg, pg_temp.header(:'t2') ->> 'kid' = :'kid2' AS signed_with_new_key;
-- the old key stays published and accepted for pgauth.jwt_key_grace_period (30 days)
SELECT array(SELECT k ->> 'alg' FROM jsonb_array_elements(auth.jwks() -> 'keys') k) AS published;
SELECT retires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days' AS grace FROM auth.jwks WHERE kid = :'kid1';
SELECT auth.verify_jwt(:'t1') ->> 'scope' AS old_token_still_valid;
SELECT (SELECT k FROM jsonb_array_elements(auth.jwks() -> 'keys') k WHERE k ->> 'kid' = :'kid2') - 'kid' - 'x' - 'y' AS es256_jwk;
SELECT auth.retire_signing_key(:'kid1') AS retired, auth.retire_signing_key(repeat('Z', 43)) AS retired_unknown;
SELECT try(format('SELECT auth.verify_jwt(%L)', :'t1')) AS retired_key;
SELECT array(SELECT k ->> 'alg' FROM jsonb_array_elements(auth.jwks() -> 'keys') k) AS published_after_retire;
-- RS256, then a rotation with no grace at all
SELECT auth.rotate_signing_key('RS256') AS kid3 \gset
SELECT auth.sign_jwt('{}') AS t3 \gset
SELECT pg_temp.header(:'t3') ->> 'alg' AS rs256_alg,
       (SELECT length(k ->> 'n') FROM jsonb_array_elements(auth.jwks() -> 'keys') k WHERE k ->> 'kid' = :'kid3') AS modulus_b64_len;
SET pgauth.jwt_key_grace_period = 0;
SELECT auth.rotate_signing_key() IS NOT NULL AS rotated;
SELECT try(format('SELECT auth.verify_jwt(%L)', :'t3')) AS no_grace;
SELECT auth.verify_jwt(:'t2') ->> 'n' AS earlier_key_keeps_its_grace;
RESET pgauth.jwt_key_grace_period;
SELECT try($$SELECT auth.rotate_signing_key('HS256')$$) AS symmetric_refused;
SELECT try($$SELECT auth.rotate_signing_key('none')$$) AS none_refused;

-- ------------------------------------------------------------ imported keys: RFC 8037 A.1 / RFC 7638 kid
SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}') AS rfc8037_kid;
SELECT alg, private_key IS NULL AS verify_only FROM auth.jwks WHERE kid = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
-- a verify-only key never becomes the signing key
SELECT pg_temp.header(auth.sign_jwt('{}')) ->> 'kid' <> 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k' AS still_signing_with_own_key;
SELECT try($$SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}')$$) AS duplicate;
SELECT try($$SELECT auth.import_signing_key('{"kty":"oct","k":"c2VjcmV0"}')$$) AS symmetric_key;
SELECT try($$SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","x":"short"}')$$) AS short_x;
SELECT try($$SELECT auth.import_signing_key('{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}')$$) AS bad_point;
SELECT try($$SELECT auth.import_signing_key('[]')$$) AS not_object;
SELECT try($$SELECT auth.import_signing_key(NULL)$$) AS null_jwk;
-- with "d" it becomes the signing key; the same RFC 8037 key signs, with its RFC 7638 kid
DELETE FROM auth.jwks WHERE kid = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}') AS imported_signing_kid;
SELECT pg_temp.header(auth.sign_jwt('{}')) ->> 'kid' AS signing_kid;
SELECT try($$SELECT auth.import_signing_key('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"AAAAne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}')$$) AS d_does_not_match_x;

-- (a key file of the wrong size and a different KEK are tested in tests/extension/run.sh, which can chmod)
-- verification needs no KEK at all
SET pgauth.key_file = '';
SELECT auth.verify_jwt(:'t2') ->> 'n' AS verified_without_kek;
RESET pgauth.key_file;
SELECT auth.rotate_signing_key() IS NOT NULL AS back_to_the_server_kek;

-- ------------------------------------------------------------ roles
SET ROLE regress_pgauth_reader;
SELECT jsonb_array_length(auth.jwks() -> 'keys') > 0 AS reader_jwks;
SELECT try($$SELECT auth.sign_jwt('{}')$$) AS reader_sign;
SELECT try(format('SELECT auth.session_jwt(%L)', 'x')) AS reader_session_jwt;
SELECT try($$SELECT auth.rotate_signing_key()$$) AS reader_rotate;
SELECT try('SELECT * FROM auth.jwks') AS reader_table;
SELECT try('SHOW pgauth.key_file') AS reader_show_key_file;
SELECT try($$SET pgauth.key_file = '/tmp/mine'$$) AS reader_set_key_file;
SELECT try($$SET pgauth.issuer = 'https://evil.example'$$) AS reader_set_issuer;
SELECT try($$SET pgauth.jwt_leeway = 100000$$) AS reader_set_leeway;
RESET ROLE;
SET ROLE regress_pgauth_service;
SELECT auth.verify_jwt(auth.sign_jwt('{"svc": 1}')) -> 'svc' AS service_sign_verify;
SELECT try($$SELECT auth.rotate_signing_key()$$) AS service_rotate;
SELECT try($$SELECT auth.import_signing_key('{}')$$) AS service_import;
RESET ROLE;
SET ROLE regress_pgauth_admin;
SELECT auth.rotate_signing_key('ES256') IS NOT NULL AS admin_rotate;
RESET ROLE;
SET ROLE regress_pgauth_nobody;
SELECT try($$SELECT auth.jwks()$$) AS nobody_jwks;
SELECT try($$SELECT auth.verify_jwt('a.b.c')$$) AS nobody_verify;
RESET ROLE;
