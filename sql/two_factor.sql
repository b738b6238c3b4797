-- Two-factor (issue 16): TOTP (RFC 6238, sealed secret, no replay, ±1 step), backup codes
-- (digests, single use), the sign-in challenge (no session until a verify; 5 wrong codes kill
-- it; it expires), trusted devices, OTP by mail, disable, and no other path to a session.
-- TOTP codes are computed here from the secret read back as the owner (auth.totp_code).
SET pgauth.email_max_per_address = 0;
-- RFC 6238's SHA-1 test key (base32 of "12345678901234567890") at T = 59 s: 94287082 -> 6 digits 287082
SELECT auth.totp_code('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1) AS rfc6238_t59;
SELECT try($$SELECT auth.totp_code('not base32!', 1)$$) AS bad_secret;
CREATE FUNCTION pg_temp.step(p_offset integer DEFAULT 0) RETURNS bigint LANGUAGE sql AS $$
    SELECT floor(extract(epoch FROM now()) / 30)::bigint + p_offset
$$;
CREATE FUNCTION pg_temp.secret(p_user uuid) RETURNS text LANGUAGE sql AS $$
    SELECT auth.vault_open(t.user_id, 'two-factor:totp', t.secret_sealed) FROM auth.two_factors t WHERE t.user_id = p_user
$$;

SELECT user_id AS tf, session_token AS tf_tok FROM auth.sign_up_email('tf@two.example', 'tf-password-1', 'Tia Factor') \gset
SELECT user_id AS other, session_token AS other_tok FROM auth.sign_up_email('other@two.example', 'other-password-1', 'Other') \gset

-- ---- enable: password checked, a sealed secret and 10 backup codes; not on until a TOTP verifies
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.two_factor_enable(%L, %L)', :'tf_tok', 'wrong-password')) AS wrong_password,
       try(format('SELECT auth.two_factor_enable(%L, NULL)', :'tf_tok')) AS no_password,
       auth.two_factor_enable('no-such-session', 'tf-password-1') IS NULL AS no_session,
       try(format('SELECT auth.two_factor_get_totp_uri(%L, %L)', :'tf_tok', 'tf-password-1')) AS uri_before_enable,
       try(format('SELECT auth.two_factor_enable(%L, %L, %L)', :'tf_tok', 'tf-password-1', repeat('i', 101))) AS long_issuer;
SELECT auth.two_factor_enable(:'tf_tok', 'tf-password-1', 'My App', '10.1.1.1', 'ua') AS enabled \gset
RESET ROLE;
SELECT :'enabled'::jsonb ->> 'totpURI' ~ '^otpauth://totp/My%20App:tf%40two\.example\?secret=[A-Z2-7]{32}&issuer=My%20App&algorithm=SHA1&digits=6&period=30$' AS uri_shape,
       :'enabled'::jsonb ->> 'totpURI' LIKE '%secret=' || pg_temp.secret(:'tf') || '&%' AS uri_has_secret,
       jsonb_array_length(:'enabled'::jsonb -> 'backupCodes') AS backup_codes,
       (SELECT bool_and(c ~ '^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$') FROM jsonb_array_elements_text(:'enabled'::jsonb -> 'backupCodes') c) AS code_shape;
SELECT :'enabled'::jsonb #>> '{backupCodes,0}' AS bc1, :'enabled'::jsonb #>> '{backupCodes,1}' AS bc2 \gset
-- stored sealed and digested: neither the secret nor a code appears in the row
SELECT position(convert_to(pg_temp.secret(:'tf'), 'UTF8') IN t.secret_sealed) = 0 AS secret_sealed,
       NOT EXISTS (SELECT 1 FROM unnest(t.backup_codes) d WHERE position(convert_to(:'bc1', 'UTF8') IN d) > 0) AS codes_digested,
       cardinality(t.backup_codes) AS digests
  FROM auth.two_factors t WHERE t.user_id = :'tf';
SELECT two_factor_enabled AS on_before_verify FROM auth.users WHERE id = :'tf';
-- not yet on: sign-in still gives a session
SELECT session_token IS NOT NULL AS session_before_verify, two_factor_token IS NULL AS no_challenge
  FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL);

-- ---- verify-totp with the session turns it on; the same code never works twice
SELECT auth.totp_code(pg_temp.secret(:'tf'), pg_temp.step()) AS code_now,
       auth.totp_code(pg_temp.secret(:'tf'), pg_temp.step(-1)) AS code_prev,
       auth.totp_code(pg_temp.secret(:'tf'), pg_temp.step(1)) AS code_next,
       auth.totp_code(pg_temp.secret(:'tf'), pg_temp.step(3)) AS code_far \gset
SET ROLE regress_pgauth_service;
SELECT body::jsonb ->> 'token' = :'tf_tok' AS same_token, session_token, error_code
  FROM auth.two_factor_verify('totp', :'code_now', :'tf_tok', NULL);
SELECT error_code AS replayed FROM auth.two_factor_verify('totp', :'code_now', :'tf_tok', NULL);
SELECT error_code AS older_step FROM auth.two_factor_verify('totp', :'code_prev', :'tf_tok', NULL);
SELECT error_code AS far_step FROM auth.two_factor_verify('totp', :'code_far', :'tf_tok', NULL);
SELECT k, c, try(format('SELECT auth.two_factor_verify(%L, %L, %L, NULL)', k, c, :'tf_tok')) AS refused
  FROM (VALUES ('sms', '123456'), ('totp', ''), ('totp', repeat('1', 65)), (NULL, '123456'), ('totp', NULL)) v(k, c);
SELECT count(*) AS no_session_no_challenge FROM auth.two_factor_verify('totp', '123456', 'no-such', NULL);
RESET ROLE;
SELECT two_factor_enabled AS on_after_verify FROM auth.users WHERE id = :'tf';
SELECT body::jsonb #> '{user,twoFactorEnabled}' AS get_session_shows_it FROM auth.get_session(:'tf_tok');

-- ---- sign-in now answers a challenge and no session, by every path
SELECT count(*) AS sessions_before FROM auth.sessions WHERE user_id = :'tf' \gset
SET ROLE regress_pgauth_service;
SELECT body, session_token, max_age BETWEEN 290 AND 300 AS five_minutes, error_code, two_factor_token ~ '^[A-Za-z0-9_-]{43}$' AS challenge
  FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL);
SELECT two_factor_token AS ch1 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', false, '10.2.2.2', 'ua2') \gset
SELECT error_code AS wrong_password_no_challenge, two_factor_token FROM auth.sign_in_response('tf@two.example', 'nope-nope-1', true, NULL, NULL);
SELECT try($$SELECT auth.sign_in_email('tf@two.example', 'tf-password-1')$$) AS direct_sign_in;
RESET ROLE;
-- any other path that creates a session (magic link, email OTP, social) meets the session insert
SELECT try(format('SELECT auth.create_session(%L, true, NULL, NULL)', :'tf')) AS other_paths;
SELECT count(*) - :sessions_before AS new_sessions FROM auth.sessions WHERE user_id = :'tf';
SELECT position(convert_to(:'ch1', 'UTF8') IN c.token_hash) = 0 AS challenge_hashed
  FROM auth.two_factor_challenges c WHERE c.user_id = :'tf' ORDER BY c.created_at DESC LIMIT 1;

-- ---- a challenge dies after 5 wrong codes, even for the right one after
SET ROLE regress_pgauth_service;
SELECT n, v.error_code AS wrong
  FROM generate_series(1, 5) n, LATERAL auth.two_factor_verify('totp', lpad((n * 0)::text, 6, '0'), NULL, :'ch1') v;
SELECT error_code AS sixth_right_code FROM auth.two_factor_verify('totp', :'code_next', NULL, :'ch1');
SELECT error_code AS dead FROM auth.two_factor_verify('totp', :'code_next', NULL, :'ch1');
-- a live challenge and the next TOTP step (±1): a session, with the challenge's remember_me
SELECT two_factor_token AS ch2 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', false, NULL, NULL) \gset
SELECT body::jsonb #>> '{user,email}' AS email, body::jsonb ->> 'token' = session_token AS token_in_body,
       max_age BETWEEN 86000 AND 86400 AS short_session, trust_device_token, error_code
  FROM auth.two_factor_verify('totp', :'code_next', NULL, :'ch2');
SELECT error_code AS challenge_used FROM auth.two_factor_verify('totp', :'code_next', NULL, :'ch2');
RESET ROLE;

-- ---- backup codes: single use
SET ROLE regress_pgauth_service;
SELECT two_factor_token AS ch3 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL) \gset
SELECT session_token IS NOT NULL AS backup_signs_in, error_code FROM auth.two_factor_verify('backup', :'bc1', NULL, :'ch3');
SELECT two_factor_token AS ch4 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL) \gset
SELECT session_token, error_code AS used_code FROM auth.two_factor_verify('backup', :'bc1', NULL, :'ch4');
SELECT session_token IS NOT NULL AS second_code_works FROM auth.two_factor_verify('backup', :'bc2', NULL, :'ch4');
RESET ROLE;
SELECT cardinality(backup_codes) AS codes_left FROM auth.two_factors WHERE user_id = :'tf';
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.two_factor_generate_backup_codes(%L, %L)', :'tf_tok', 'bad-password')) AS regen_wrong_password;
SELECT json_array_length(auth.two_factor_generate_backup_codes(:'tf_tok', 'tf-password-1') -> 'backupCodes') AS regenerated;
RESET ROLE;
SELECT cardinality(backup_codes) AS codes_now FROM auth.two_factors WHERE user_id = :'tf';

-- ---- OTP by mail (template otp-two-factor) and the trusted device
SET ROLE regress_pgauth_service;
SELECT two_factor_token AS ch5 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL) \gset
SELECT auth.two_factor_send_otp(NULL, :'ch5') AS sent;
SELECT try(format('SELECT auth.two_factor_send_otp(NULL, %L)', 'not-a-challenge')) AS bad_challenge,
       auth.two_factor_send_otp(NULL, NULL) IS NULL AS neither;
RESET ROLE;
SELECT o.template, o.vars, auth.outbox_open(o.id, o.recipient, o.template, o.sealed)::jsonb ->> 'otp' AS otp
  FROM auth.outbox o WHERE o.recipient = 'tf@two.example' ORDER BY o.id DESC LIMIT 1 \gset
SELECT :'template' AS template, :'vars' AS vars, :'otp' ~ '^[0-9]{6}$' AS otp_shape;
SET ROLE regress_pgauth_service;
SELECT error_code AS wrong_otp FROM auth.two_factor_verify('otp', '000000', NULL, :'ch5');
SELECT session_token IS NOT NULL AS otp_signs_in, trust_device_token AS trust
  FROM auth.two_factor_verify('otp', :'otp', NULL, :'ch5', true) \gset
SELECT :'otp_signs_in' AS otp_signs_in, :'trust' ~ '^[A-Za-z0-9_-]{43}$' AS trust_shape;
-- the trust cookie skips the second factor; an unknown one does not
SELECT session_token IS NOT NULL AS trusted_session, two_factor_token IS NULL AS no_challenge
  FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL, NULL, :'trust');
SELECT two_factor_token IS NOT NULL AS unknown_trust_challenged
  FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL, NULL, 'unknown-trust-token');
RESET ROLE;
SELECT position(convert_to(:'trust', 'UTF8') IN d.token_hash) = 0 AS trust_hashed,
       d.expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days' AS thirty_days
  FROM auth.two_factor_trusted_devices d WHERE d.user_id = :'tf';
UPDATE auth.two_factor_trusted_devices SET expires_at = now() - interval '1 second' WHERE user_id = :'tf';
SET ROLE regress_pgauth_service;
SELECT two_factor_token IS NOT NULL AS expired_trust_challenged, session_token
  FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL, NULL, :'trust');
-- an expired challenge
SELECT two_factor_token AS ch7 FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL) \gset
RESET ROLE;
UPDATE auth.two_factor_challenges SET expires_at = now() - interval '1 second' WHERE token_hash = auth.hash_token(:'ch7');
SET ROLE regress_pgauth_service;
SELECT error_code AS expired_challenge FROM auth.two_factor_verify('backup', 'aaaaa-aaaaa', NULL, :'ch7');
SELECT error_code AS unknown_challenge FROM auth.two_factor_verify('backup', 'aaaaa-aaaaa', NULL, 'nope');
RESET ROLE;

-- ---- proving an address is no second factor: verify-email (auto sign-in) and change-email
-- still verify for a two-factor user, without a session
SELECT user_id AS vf FROM auth.sign_up_email('vf@two.example', 'vf-password-1', 'Vera') \gset
UPDATE auth.users SET two_factor_enabled = true WHERE id = :'vf';
SELECT auth.email_queue_verification(:'vf', '/', false) AS queued;
SELECT auth.outbox_open(o.id, o.recipient, o.template, o.sealed)::jsonb ->> 'token' AS vf_token
  FROM auth.outbox o WHERE o.recipient = 'vf@two.example' ORDER BY o.id DESC LIMIT 1 \gset
SET pgauth.email_auto_sign_in_after_verification = on;
SELECT body, session_token, error_code FROM auth.email_verify(:'vf_token', NULL, NULL);
RESET pgauth.email_auto_sign_in_after_verification;
SELECT email_verified FROM auth.users WHERE id = :'vf';

-- ---- disable: password checked; secret, codes and trusted devices go; sign-in gives sessions again
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.two_factor_disable(%L, %L)', :'tf_tok', 'bad-password')) AS disable_wrong_password;
RESET ROLE;
SELECT two_factor_enabled AS still_on FROM auth.users WHERE id = :'tf';
SET ROLE regress_pgauth_service;
SELECT auth.two_factor_disable(:'tf_tok', 'tf-password-1') AS disabled;
SELECT session_token IS NOT NULL AS session_again, two_factor_token FROM auth.sign_in_response('tf@two.example', 'tf-password-1', true, NULL, NULL);
SELECT try(format('SELECT auth.two_factor_generate_backup_codes(%L, %L)', :'tf_tok', 'tf-password-1')) AS codes_when_off;
RESET ROLE;
SELECT u.two_factor_enabled, (SELECT count(*) FROM auth.two_factors t WHERE t.user_id = u.id) AS secrets,
       (SELECT count(*) FROM auth.two_factor_trusted_devices d WHERE d.user_id = u.id) AS trusted
  FROM auth.users u WHERE u.id = :'tf';

-- ---- audit: the two-factor events, none holding a code or a secret
SELECT event, count(*) AS n FROM auth.audit_log WHERE user_id = :'tf' AND event LIKE 'two_factor%' GROUP BY event ORDER BY event;
SELECT count(*) AS rows_with_a_secret FROM auth.audit_log
 WHERE detail::text LIKE '%' || :'bc1' || '%' OR detail::text LIKE '%' || :'otp' || '%'
    OR detail::text LIKE '%' || :'code_now' || '%' OR detail::text LIKE '%' || :'trust' || '%';
-- other users are untouched
SELECT two_factor_enabled FROM auth.users WHERE id = :'other';
