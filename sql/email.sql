-- Email flows and the outbox: verification records (digests only), single use, expiry,
-- OTP attempts, the per-address limit, the same answer for unknown addresses, sign-in and
-- sign-up under the verification settings, the outbox's claim/delivered/failed cycle.
-- The mail is read back as a worker would, through auth.outbox_open (superuser here).
SET pgauth.email_max_per_address = 0;
-- the newest mail to an address, with its secret part opened
CREATE FUNCTION pg_temp.mail(p_to text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT o.vars || coalesce(auth.outbox_open(o.id, o.recipient, o.template, o.sealed)::jsonb, '{}')
           || jsonb_build_object('template', o.template, 'status', o.status)
      FROM auth.outbox o WHERE o.recipient = p_to ORDER BY o.id DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.mails(p_to text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM auth.outbox o WHERE o.recipient = p_to
$$;
-- the settings and their defaults
SELECT name, setting FROM pg_settings
 WHERE name IN ('pgauth.email_require_verification', 'pgauth.email_send_on_sign_up',
                'pgauth.email_auto_sign_in_after_verification', 'pgauth.revoke_sessions_on_password_reset',
                'pgauth.magic_link_disable_sign_up', 'pgauth.email_otp_disable_sign_up',
                'pgauth.email_verification_expires_in', 'pgauth.password_reset_expires_in',
                'pgauth.magic_link_expires_in', 'pgauth.email_otp_expires_in', 'pgauth.email_otp_length',
                'pgauth.email_otp_attempts', 'pgauth.email_address_window', 'pgauth.outbox_max_attempts')
 ORDER BY name;
SELECT boot_val FROM pg_settings WHERE name = 'pgauth.email_max_per_address';
-- link values are encoded as encodeURIComponent does
SELECT auth.url_encode('a b/c?d=e&f#g~!*''()é-_.+%') AS encoded;

SELECT user_id AS uid, session_token AS tok FROM auth.sign_up_email('mail@mail.example', 'mail-password-1', 'Mail') \gset

-- ---- send-verification-email and verify-email
SET ROLE regress_pgauth_service;
SELECT auth.email_send_verification(NULL, ' Mail@Mail.example ', '/done?x=1') AS known,
       auth.email_send_verification(NULL, 'nobody@mail.example', '/done') AS unknown,
       auth.email_send_verification('not-a-session', 'nobody@mail.example', NULL) AS unknown_bad_session;
RESET ROLE;
SELECT pg_temp.mails('mail@mail.example') AS mails_known, pg_temp.mails('nobody@mail.example') AS mails_unknown;
SELECT pg_temp.mail('mail@mail.example') - 'url' - 'token' AS vars,
       pg_temp.mail('mail@mail.example') ->> 'url' ~ '^/verify-email\?token=[A-Za-z0-9_-]{43}&callbackURL=%2Fdone%3Fx%3D1$' AS url_shape,
       pg_temp.mail('mail@mail.example') ->> 'url' = '/verify-email?token=' || (pg_temp.mail('mail@mail.example') ->> 'token')
                                                     || '&callbackURL=%2Fdone%3Fx%3D1' AS url_carries_token;
SELECT pg_temp.mail('mail@mail.example') ->> 'token' AS vtoken \gset
-- what a dump holds: no token anywhere, only a keyed digest (not the plain SHA-256)
SELECT position(:'vtoken' IN (SELECT string_agg(v::text, ' ') FROM auth.verifications v)) AS token_in_verifications,
       position(:'vtoken' IN (SELECT string_agg(o::text, ' ') FROM auth.outbox o)) AS token_in_outbox,
       position(encode(convert_to(:'vtoken', 'UTF8'), 'hex') IN (SELECT string_agg(o::text, ' ') FROM auth.outbox o)) AS token_hex_in_outbox,
       (SELECT count(*) FROM auth.verifications v WHERE v.digest = sha256(convert_to(:'vtoken', 'UTF8'))) AS plain_sha256_digests,
       (SELECT octet_length(v.digest) FROM auth.verifications v WHERE v.email = 'mail@mail.example') AS digest_bytes;
-- a live session may only ask for its own address
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.email_send_verification(%L, %L, NULL)', :'tok', 'other@mail.example')) AS other_address,
       try($$SELECT auth.email_send_verification(NULL, 'not-an-email', NULL)$$) AS bad_email,
       try($$SELECT auth.email_send_verification(NULL, NULL, NULL)$$) AS no_email;
SELECT body::jsonb #- '{user,createdAt}' #- '{user,updatedAt}' #- '{user,id}' AS body, session_token, max_age, error_code
  FROM auth.email_verify(:'vtoken', '10.0.0.1', 'ua');
-- single use
SELECT error_code AS reused FROM auth.email_verify(:'vtoken', NULL, NULL);
SELECT error_code AS garbled FROM auth.email_verify(left(:'vtoken', 42) || 'x', NULL, NULL);
SELECT error_code AS empty FROM auth.email_verify('', NULL, NULL);
SELECT error_code AS null_token FROM auth.email_verify(NULL, NULL, NULL);
-- verified: the same answer, no mail
SELECT auth.email_send_verification(:'tok', 'mail@mail.example', NULL) AS verified_own;
RESET ROLE;
SELECT pg_temp.mails('mail@mail.example') AS mails_after_verified;

-- expiry, and sign-in after verification with pgauth.email_auto_sign_in_after_verification
SELECT user_id AS uid2 FROM auth.sign_up_email('mail2@mail.example', 'mail-password-1', 'Mail Two') \gset
SELECT auth.email_send_verification(NULL, 'mail2@mail.example', NULL) IS NOT NULL AS sent;
SELECT pg_temp.mail('mail2@mail.example') ->> 'token' AS vtoken2 \gset
SELECT pg_temp.mail('mail2@mail.example') ->> 'url' ~ '&callbackURL=%2F$' AS default_callback;
SELECT expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes' AS one_hour
  FROM auth.verifications WHERE email = 'mail2@mail.example';
UPDATE auth.verifications SET expires_at = now() - interval '1 second' WHERE email = 'mail2@mail.example';
SELECT error_code AS expired FROM auth.email_verify(:'vtoken2', NULL, NULL);
SELECT email_verified AS still_unverified FROM auth.users WHERE id = :'uid2';
SELECT auth.email_send_verification(NULL, 'mail2@mail.example', NULL) IS NOT NULL AS sent_again;
SELECT pg_temp.mail('mail2@mail.example') ->> 'token' AS vtoken2 \gset
SET pgauth.email_auto_sign_in_after_verification = on;
SELECT session_token IS NOT NULL AS signed_in, max_age BETWEEN 604700 AND 604800 AS max_age_7d, error_code,
       (SELECT count(*) FROM auth.sessions s WHERE s.user_id = :'uid2') AS sessions
  FROM auth.email_verify(:'vtoken2', '10.0.0.2', 'ua');
RESET pgauth.email_auto_sign_in_after_verification;

-- ---- password reset
SET ROLE regress_pgauth_service;
SELECT auth.email_request_password_reset('mail@mail.example', 'http://app.example/reset?a=b') AS known,
       auth.email_request_password_reset('nobody@mail.example', 'http://app.example/reset?a=b') AS unknown;
RESET ROLE;
SELECT pg_temp.mails('nobody@mail.example') AS mails_unknown,
       pg_temp.mail('mail@mail.example') ->> 'template' AS template,
       pg_temp.mail('mail@mail.example') ->> 'url' ~ '^/reset-password/[A-Za-z0-9_-]{43}\?callbackURL=http%3A%2F%2Fapp.example%2Freset%3Fa%3Db$' AS url_shape;
SELECT pg_temp.mail('mail@mail.example') ->> 'token' AS rtoken \gset
SELECT session_token AS tok_b FROM auth.sign_in_email('mail@mail.example', 'mail-password-1') \gset
SET ROLE regress_pgauth_service;
SELECT auth.email_check_reset_token(:'rtoken') AS live, auth.email_check_reset_token('nope') AS unknown,
       auth.email_check_reset_token(NULL) AS null_token;
-- the policy first: the token stays live
SELECT try(format('SELECT auth.email_reset_password(%L, %L)', :'rtoken', 'short')) AS too_short,
       try(format('SELECT auth.email_reset_password(%L, %L)', :'rtoken', repeat('x', 129))) AS too_long,
       auth.email_check_reset_token(:'rtoken') AS still_live;
SELECT try(format('SELECT auth.email_reset_password(%L, %L)', 'garbled', 'new-password-1')) AS garbled;
SELECT auth.email_reset_password(:'rtoken', 'new-password-2') AS reset;
SELECT try(format('SELECT auth.email_reset_password(%L, %L)', :'rtoken', 'new-password-3')) AS reused,
       auth.email_check_reset_token(:'rtoken') AS live_after_use;
RESET ROLE;
SELECT count(*) AS signs_in_with_new FROM auth.sign_in_email('mail@mail.example', 'new-password-2');
SELECT try($$SELECT auth.sign_in_email('mail@mail.example', 'mail-password-1')$$) AS old_password;
SELECT count(*) AS sessions_kept FROM auth.validate_session(:'tok_b');
-- with pgauth.revoke_sessions_on_password_reset every session ends
SET pgauth.revoke_sessions_on_password_reset = on;
SELECT auth.email_request_password_reset('mail@mail.example', NULL) IS NOT NULL AS requested;
SELECT pg_temp.mail('mail@mail.example') ->> 'url' ~ '\?callbackURL=$' AS empty_redirect;
SELECT auth.email_reset_password(pg_temp.mail('mail@mail.example') ->> 'token', 'new-password-4') AS reset;
SELECT count(*) AS sessions_left FROM auth.sessions WHERE user_id = :'uid';
RESET pgauth.revoke_sessions_on_password_reset;
-- a user without a password gets a credential account
SELECT auth.import_user('imported@mail.example', 'Imported') AS uid3 \gset
SELECT auth.email_request_password_reset('imported@mail.example', NULL) IS NOT NULL AS requested;
SELECT auth.email_reset_password(pg_temp.mail('imported@mail.example') ->> 'token', 'imported-password-1') AS reset;
SELECT count(*) AS credential_accounts FROM auth.accounts WHERE user_id = :'uid3' AND provider_id = 'credential';
-- expiry
SELECT auth.email_request_password_reset('imported@mail.example', NULL) IS NOT NULL AS requested;
UPDATE auth.verifications SET expires_at = now() WHERE email = 'imported@mail.example' AND consumed_at IS NULL;
SELECT auth.email_check_reset_token(pg_temp.mail('imported@mail.example') ->> 'token') AS live_expired,
       try(format('SELECT auth.email_reset_password(%L, %L)', pg_temp.mail('imported@mail.example') ->> 'token', 'imported-password-2')) AS expired;

-- ---- change email: only when the link to the new address is followed
SELECT session_token AS tok FROM auth.sign_in_email('mail@mail.example', 'new-password-4') \gset
SET ROLE regress_pgauth_service;
SELECT auth.email_change_request(:'tok', 'New@Mail.example', '/changed') AS requested,
       auth.email_change_request(:'tok', 'mail2@mail.example', '/changed') AS taken,
       auth.email_change_request('nope', 'x@mail.example', NULL) IS NULL AS no_session,
       try(format('SELECT auth.email_change_request(%L, %L, NULL)', :'tok', 'MAIL@mail.example')) AS same,
       try(format('SELECT auth.email_change_request(%L, %L, NULL)', :'tok', 'bad')) AS bad;
RESET ROLE;
SELECT pg_temp.mails('mail2@mail.example') AS mails_to_taken, pg_temp.mail('new@mail.example') - 'url' - 'token' AS vars,
       pg_temp.mail('new@mail.example') ->> 'url' ~ '^/verify-email\?token=[A-Za-z0-9_-]{43}&callbackURL=%2Fchanged$' AS url_shape,
       (SELECT email FROM auth.users WHERE id = :'uid') AS email_before;
SELECT body::json -> 'user' ->> 'email' AS new_email, body::json -> 'user' ->> 'emailVerified' AS verified,
       session_token IS NOT NULL AS signed_in, max_age, error_code
  FROM auth.email_verify(pg_temp.mail('new@mail.example') ->> 'token', NULL, NULL);
SELECT email, email_verified FROM auth.users WHERE id = :'uid';
SELECT error_code AS reused FROM auth.email_verify(pg_temp.mail('new@mail.example') ->> 'token', NULL, NULL);
-- the new address was taken meanwhile
SELECT auth.email_change_request(:'tok', 'race@mail.example', NULL) IS NOT NULL AS requested;
SELECT auth.import_user('race@mail.example', 'Racer') IS NOT NULL AS taken_meanwhile;
SELECT error_code AS taken_since FROM auth.email_verify(pg_temp.mail('race@mail.example') ->> 'token', NULL, NULL);
SELECT email FROM auth.users WHERE id = :'uid';

-- ---- magic link
SET ROLE regress_pgauth_service;
SELECT auth.magic_link_request('Magic@Mail.example', 'Magic Person', '/welcome', '/new-user', '/oops') AS requested;
RESET ROLE;
SELECT pg_temp.mail('magic@mail.example') - 'url' - 'token' AS vars,
       pg_temp.mail('magic@mail.example') ->> 'url' ~ '^/magic-link/verify\?token=[A-Za-z0-9_-]{43}&callbackURL=%2Fwelcome&newUserCallbackURL=%2Fnew-user&errorCallbackURL=%2Foops$' AS url_shape;
SELECT expires_at BETWEEN now() + interval '4 minutes' AND now() + interval '6 minutes' AS five_minutes
  FROM auth.verifications WHERE email = 'magic@mail.example';
SELECT pg_temp.mail('magic@mail.example') ->> 'token' AS mtoken \gset
SET ROLE regress_pgauth_service;
SELECT (body::jsonb #- '{user,createdAt}' #- '{user,updatedAt}' #- '{user,id}') - 'token' - 'session' AS body,
       body::json ->> 'token' = session_token AS token_in_body,
       (SELECT array_agg(k) FROM json_object_keys(body::json -> 'session') k) AS session_keys,
       body::json -> 'session' ->> 'token' = session_token AS session_token,
       body::json -> 'session' ->> 'ipAddress' AS ip, max_age, new_user, error_code
  FROM auth.magic_link_verify(:'mtoken', '10.0.0.3', 'ua');
SELECT error_code AS reused FROM auth.magic_link_verify(:'mtoken', NULL, NULL);
SELECT error_code AS garbled FROM auth.magic_link_verify('garbled', NULL, NULL);
-- a verify-email token is no magic link, and the reverse
SELECT error_code AS wrong_purpose FROM auth.email_verify(:'mtoken', NULL, NULL);
-- an existing user: no new user; the optional callbacks are left out
SELECT auth.magic_link_request('magic@mail.example', NULL, NULL, NULL, NULL) IS NOT NULL AS requested;
RESET ROLE;
SELECT pg_temp.mail('magic@mail.example') ->> 'url' ~ '^/magic-link/verify\?token=[A-Za-z0-9_-]{43}&callbackURL=%2F$' AS url_shape;
UPDATE auth.verifications SET expires_at = now() WHERE email = 'magic@mail.example' AND consumed_at IS NULL;
SELECT error_code AS expired FROM auth.magic_link_verify(pg_temp.mail('magic@mail.example') ->> 'token', NULL, NULL);
SELECT auth.magic_link_request('magic@mail.example', NULL, NULL, NULL, NULL) IS NOT NULL AS requested;
SELECT new_user, error_code FROM auth.magic_link_verify(pg_temp.mail('magic@mail.example') ->> 'token', NULL, NULL);
-- an unverified account someone made with this address: signing in by the link removes the
-- access made before the address was proven (Better-Auth's revokeUnprovenAccountAccess)
SELECT session_token AS squat_tok FROM auth.sign_up_email('squatted@mail.example', 'squatter-pass-1', 'Squatter') \gset
SELECT auth.magic_link_request('squatted@mail.example', NULL, NULL, NULL, NULL) IS NOT NULL AS requested;
SELECT new_user, error_code, body::json -> 'user' ->> 'emailVerified' AS verified
  FROM auth.magic_link_verify(pg_temp.mail('squatted@mail.example') ->> 'token', NULL, NULL);
SELECT (SELECT count(*) FROM auth.validate_session(:'squat_tok')) AS squatter_sessions,
       (SELECT count(*) FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id WHERE u.email = 'squatted@mail.example') AS accounts_left,
       try($$SELECT auth.sign_in_email('squatted@mail.example', 'squatter-pass-1')$$) AS squatter_password;
-- the same by a sign-in code; a verified user keeps its password and sessions
SELECT session_token AS squat_tok FROM auth.sign_up_email('squatted2@mail.example', 'squatter-pass-1', 'Squatter') \gset
SELECT auth.email_otp_send('squatted2@mail.example', 'sign-in') IS NOT NULL AS sent;
SELECT error_code FROM auth.email_otp_sign_in('squatted2@mail.example', pg_temp.mail('squatted2@mail.example') ->> 'otp', NULL, NULL);
SELECT (SELECT count(*) FROM auth.validate_session(:'squat_tok')) AS squatter_sessions,
       (SELECT count(*) FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id WHERE u.email = 'squatted2@mail.example') AS accounts_left;
SELECT auth.email_otp_send('squatted2@mail.example', 'sign-in') IS NOT NULL AS sent;
SELECT session_token AS owner_tok FROM auth.email_otp_sign_in('squatted2@mail.example', pg_temp.mail('squatted2@mail.example') ->> 'otp', NULL, NULL) \gset
SELECT auth.email_otp_send('squatted2@mail.example', 'sign-in') IS NOT NULL AS sent;
SELECT error_code FROM auth.email_otp_sign_in('squatted2@mail.example', pg_temp.mail('squatted2@mail.example') ->> 'otp', NULL, NULL);
SELECT count(*) AS verified_keeps_sessions FROM auth.validate_session(:'owner_tok');
-- pgauth.magic_link_disable_sign_up: no mail for an unknown address, the same answer
SET pgauth.magic_link_disable_sign_up = on;
SELECT auth.magic_link_request('stranger@mail.example', NULL, NULL, NULL, NULL) AS answer, pg_temp.mails('stranger@mail.example') AS mails;
RESET pgauth.magic_link_disable_sign_up;
SELECT try($$SELECT auth.magic_link_request('x@mail.example', repeat('n', 256), NULL, NULL, NULL)$$) AS long_name;

-- ---- email OTP
SET ROLE regress_pgauth_service;
SELECT auth.email_otp_send('otp@mail.example', 'sign-in') AS sign_in,
       try($$SELECT auth.email_otp_send('otp@mail.example', 'other')$$) AS bad_type,
       try($$SELECT auth.email_otp_send('otp@mail.example', NULL)$$) AS null_type,
       auth.email_otp_send('nobody@mail.example', 'email-verification') AS unknown_verification,
       auth.email_otp_send('nobody@mail.example', 'forget-password') AS unknown_forget;
RESET ROLE;
SELECT pg_temp.mail('otp@mail.example') - 'otp' AS vars, pg_temp.mail('otp@mail.example') ->> 'otp' ~ '^[0-9]{6}$' AS six_digits,
       pg_temp.mail('otp@mail.example') ? 'url' AS has_url, pg_temp.mails('nobody@mail.example') AS mails_unknown;
SELECT pg_temp.mail('otp@mail.example') ->> 'otp' AS otp \gset
SELECT (SELECT count(*) FROM auth.verifications v WHERE v.digest = sha256(convert_to(:'otp', 'UTF8'))) AS plain_sha256_digests,
       (SELECT count(*) FROM auth.verifications v WHERE v.payload::text LIKE '%' || :'otp' || '%') AS otp_in_payload;
-- wrong codes: each counted, and the count commits (returned as a value, not raised)
SET ROLE regress_pgauth_service;
SELECT error_code AS wrong_1 FROM auth.email_otp_sign_in('otp@mail.example', 'x' || :'otp', NULL, NULL);
SELECT try($$SELECT auth.email_otp_sign_in('otp@mail.example', '', NULL, NULL)$$) AS empty_otp;
SELECT error_code AS wrong_2 FROM auth.email_otp_sign_in('OTP@mail.example', '00000000000', NULL, NULL);
RESET ROLE;
SELECT attempts AS counted FROM auth.verifications WHERE email = 'otp@mail.example';
SET ROLE regress_pgauth_service;
SELECT error_code AS wrong_3 FROM auth.email_otp_sign_in('otp@mail.example', 'abc', NULL, NULL);
-- attempts used up: even the right code is refused, and the code is dead
SELECT error_code AS right_after_3 FROM auth.email_otp_sign_in('otp@mail.example', :'otp', NULL, NULL);
SELECT error_code AS right_again FROM auth.email_otp_sign_in('otp@mail.example', :'otp', NULL, NULL);
-- a new code: signs the new address up
SELECT auth.email_otp_send('otp@mail.example', 'sign-in') IS NOT NULL AS sent;
RESET ROLE;
SELECT pg_temp.mail('otp@mail.example') ->> 'otp' AS otp \gset
SET ROLE regress_pgauth_service;
SELECT error_code AS wrong FROM auth.email_otp_sign_in('otp@mail.example', 'nope', NULL, NULL);
SELECT (body::jsonb #- '{user,createdAt}' #- '{user,updatedAt}' #- '{user,id}') - 'token' AS body,
       body::json ->> 'token' = session_token AS token_in_body, max_age, error_code
  FROM auth.email_otp_sign_in('otp@mail.example', :'otp', '10.0.0.4', 'ua');
SELECT error_code AS reused FROM auth.email_otp_sign_in('otp@mail.example', :'otp', NULL, NULL);
-- a newer code replaces the older one, and its mail if not yet claimed
RESET ROLE;
SELECT count(*) AS pending_before FROM auth.outbox WHERE recipient = 'otp@mail.example' AND status = 'pending' \gset
SELECT auth.email_otp_send('otp@mail.example', 'sign-in') IS NOT NULL AS first;
SELECT pg_temp.mail('otp@mail.example') ->> 'otp' AS otp_old \gset
SELECT auth.email_otp_send('otp@mail.example', 'sign-in') IS NOT NULL AS second;
SELECT count(*) AS live_codes FROM auth.verifications WHERE email = 'otp@mail.example' AND consumed_at IS NULL;
SELECT count(*) - :pending_before AS new_pending_mails FROM auth.outbox WHERE recipient = 'otp@mail.example' AND status = 'pending';
SELECT error_code AS old_code FROM auth.email_otp_sign_in('otp@mail.example', :'otp_old', NULL, NULL)
 WHERE :'otp_old' <> pg_temp.mail('otp@mail.example') ->> 'otp';
-- expiry
UPDATE auth.verifications SET expires_at = now() WHERE email = 'otp@mail.example' AND consumed_at IS NULL;
SELECT error_code AS expired FROM auth.email_otp_sign_in('otp@mail.example', pg_temp.mail('otp@mail.example') ->> 'otp', NULL, NULL);
-- pgauth.email_otp_length
SET pgauth.email_otp_length = 8;
SELECT auth.email_otp_send('otp8@mail.example', 'sign-in') IS NOT NULL AS sent,
       pg_temp.mail('otp8@mail.example') ->> 'otp' ~ '^[0-9]{8}$' AS eight_digits;
RESET pgauth.email_otp_length;
-- pgauth.email_otp_disable_sign_up
SET pgauth.email_otp_disable_sign_up = on;
SELECT auth.email_otp_send('otp-stranger@mail.example', 'sign-in') AS answer, pg_temp.mails('otp-stranger@mail.example') AS mails;
RESET pgauth.email_otp_disable_sign_up;
-- verify-email by code
SELECT user_id AS uid4 FROM auth.sign_up_email('otpv@mail.example', 'otpv-password-1', 'Otp V') \gset
SELECT auth.email_otp_send('otpv@mail.example', 'email-verification') IS NOT NULL AS sent;
SELECT error_code AS wrong FROM auth.email_otp_verify_email('otpv@mail.example', '1', NULL, NULL);
SELECT body::jsonb #- '{user,createdAt}' #- '{user,updatedAt}' #- '{user,id}' AS body, session_token, max_age, error_code
  FROM auth.email_otp_verify_email('otpv@mail.example', pg_temp.mail('otpv@mail.example') ->> 'otp', NULL, NULL);
SELECT auth.email_otp_send('otpv@mail.example', 'email-verification') AS verified_answer,
       pg_temp.mails('otpv@mail.example') AS mails;
-- reset by code
SELECT session_token AS tok4 FROM auth.sign_in_email('otpv@mail.example', 'otpv-password-1') \gset
SELECT auth.email_otp_send('otpv@mail.example', 'forget-password') IS NOT NULL AS sent;
SELECT pg_temp.mail('otpv@mail.example') ->> 'otp' AS otp \gset
SELECT try(format('SELECT auth.email_otp_reset_password(%L, %L, %L)', 'otpv@mail.example', :'otp', 'short')) AS too_short,
       (SELECT attempts FROM auth.verifications WHERE email = 'otpv@mail.example' AND consumed_at IS NULL) AS not_counted;
SELECT * FROM auth.email_otp_reset_password('otpv@mail.example', '999', 'otpv-password-2');
SELECT * FROM auth.email_otp_reset_password('otpv@mail.example', :'otp', 'otpv-password-2');
SELECT count(*) AS signs_in FROM auth.sign_in_email('otpv@mail.example', 'otpv-password-2');
SELECT error_code AS reused FROM auth.email_otp_reset_password('otpv@mail.example', :'otp', 'otpv-password-3');
SELECT try($$SELECT auth.email_otp_reset_password('bad', '1', 'otpv-password-3')$$) AS bad_email;

-- ---- the per-address limit: counted whether or not the address has an account
SET pgauth.email_max_per_address = 2;
SELECT n, try($$SELECT auth.email_request_password_reset('limit-known@mail.example', NULL)$$) AS known,
       try($$SELECT auth.email_request_password_reset('limit-unknown@mail.example', NULL)$$) AS unknown
  FROM generate_series(1, 3) n;
SELECT try($$SELECT auth.magic_link_request('LIMIT-unknown@mail.example', NULL, NULL, NULL, NULL)$$) AS other_flow_same_address,
       try($$SELECT auth.email_otp_send('limit-other@mail.example', 'sign-in')$$) AS other_address;
-- a known unverified address and an unknown one spend the limit alike (the answer tells nothing)
SELECT user_id IS NOT NULL AS signed_up FROM auth.sign_up_email('limit-unverified@mail.example', 'limit-pass-1', 'Limit');
SELECT n, try($$SELECT auth.email_send_verification(NULL, 'limit-unverified@mail.example', NULL)$$) AS known_unverified,
       try($$SELECT auth.email_send_verification(NULL, 'limit-nobody@mail.example', NULL)$$) AS unknown
  FROM generate_series(1, 3) n;
SELECT pg_temp.mails('limit-unverified@mail.example') AS mails_known, pg_temp.mails('limit-nobody@mail.example') AS mails_unknown;
SET pgauth.email_max_per_address = 0;
-- a callback too long for a link
SELECT try(format('SELECT auth.magic_link_request(%L, NULL, %L, NULL, NULL)', 'long@mail.example', '/' || repeat('a', 9000))) AS long_callback,
       pg_temp.mails('long@mail.example') AS mails;

-- ---- sign-in and sign-up under the verification settings
SET pgauth.email_require_verification = on;
SET ROLE regress_pgauth_service;
SELECT body::jsonb #- '{user,createdAt}' #- '{user,updatedAt}' #- '{user,id}' AS body, session_token, max_age
  FROM auth.sign_up_response('unverified@mail.example', 'unverified-1', 'Unverified', NULL, '10.0.0.5', 'ua', '/after');
RESET ROLE;
SELECT count(*) AS sessions FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'unverified@mail.example';
SELECT pg_temp.mails('unverified@mail.example') AS mails, pg_temp.mail('unverified@mail.example') ->> 'url' ~ '&callbackURL=%2Fafter$' AS callback;
SET ROLE regress_pgauth_service;
-- the right password of an unverified user: EMAIL_NOT_VERIFIED as a value, and a new mail that commits
SELECT body, session_token, max_age, error_code
  FROM auth.sign_in_response('unverified@mail.example', 'unverified-1', true, '10.0.0.5', 'ua', '/signed-in');
SELECT error_code AS wrong_password FROM auth.sign_in_response('unverified@mail.example', 'wrong-password', true, NULL, NULL);
RESET ROLE;
SELECT pg_temp.mails('unverified@mail.example') AS mails, pg_temp.mail('unverified@mail.example') ->> 'url' ~ '&callbackURL=%2Fsigned-in$' AS callback;
SELECT count(*) AS plain_sign_in_rows, count(session_token) AS plain_sign_in_sessions
  FROM auth.sign_in_email('unverified@mail.example', 'unverified-1');
-- once verified, sign-in works
SELECT error_code FROM auth.email_verify(pg_temp.mail('unverified@mail.example') ->> 'token', NULL, NULL);
SELECT session_token IS NOT NULL AS signed_in, error_code
  FROM auth.sign_in_response('unverified@mail.example', 'unverified-1', true, NULL, NULL);
RESET pgauth.email_require_verification;
-- send-on-sign-up: a session and a mail, in one transaction
SET pgauth.email_send_on_sign_up = on;
SELECT session_token IS NOT NULL AS signed_in, body::json ->> 'token' = session_token AS token_in_body
  FROM auth.sign_up_response('onsignup@mail.example', 'onsignup-1', 'On Sign Up', NULL, NULL, NULL);
SELECT pg_temp.mail('onsignup@mail.example') ->> 'template' AS template,
       pg_temp.mail('onsignup@mail.example') ->> 'url' ~ '&callbackURL=%2F$' AS default_callback;
-- a failed sign-up leaves neither a user nor a mail
SELECT try($$SELECT * FROM auth.sign_up_response('onsignup@mail.example', 'onsignup-1', 'Again', NULL, NULL, NULL)$$) AS exists,
       try($$SELECT * FROM auth.sign_up_response('onsignup2@mail.example', 'short', 'Short', NULL, NULL, NULL)$$) AS short,
       pg_temp.mails('onsignup@mail.example') AS mails, pg_temp.mails('onsignup2@mail.example') AS mails2;
RESET pgauth.email_send_on_sign_up;
-- GUCs off: no mail on sign-up, sign-in of an unverified user works
SELECT session_token IS NOT NULL AS signed_in FROM auth.sign_up_response('plain@mail.example', 'plain-pass-1', 'Plain', NULL, NULL, NULL);
SELECT error_code, session_token IS NOT NULL AS signed_in FROM auth.sign_in_response('plain@mail.example', 'plain-pass-1', true, NULL, NULL);
SELECT pg_temp.mails('plain@mail.example') AS mails;

-- ---- no partial write: without a KEK nothing is written
SELECT count(*) AS verifications_before FROM auth.verifications \gset
SELECT count(*) AS outbox_before FROM auth.outbox \gset
SET pgauth.key_file = '';
SELECT try($$SELECT auth.magic_link_request('nokek@mail.example', NULL, NULL, NULL, NULL)$$) AS no_kek;
RESET pgauth.key_file;
SELECT (SELECT count(*) FROM auth.verifications) - :verifications_before AS new_verifications,
       (SELECT count(*) FROM auth.outbox) - :outbox_before AS new_mails;
-- every mail has its record and every record its mail
SELECT count(*) AS mails_without_record FROM auth.outbox o WHERE o.verification_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM auth.verifications v WHERE v.id = o.verification_id);
SELECT count(*) AS records_without_mail FROM auth.verifications v
 WHERE NOT EXISTS (SELECT 1 FROM auth.outbox o WHERE o.verification_id = v.id)
   AND NOT (v.purpose LIKE 'otp-%' AND v.consumed_at IS NOT NULL);  -- a replaced code's unsent mail is dropped

-- ---- the outbox
-- start from a known queue: everything so far delivered
SELECT count(*) > 0 AS claimed FROM auth.outbox_claim('setup', 1000);
SELECT count(*) > 0 AS delivered FROM auth.outbox o WHERE o.status = 'sending' AND auth.outbox_delivered(o.id, 'setup');
SELECT status, count(*), count(sealed) AS sealed FROM auth.outbox GROUP BY status ORDER BY status;
SELECT pending, oldest_pending_seconds, dead FROM auth.outbox_stats();
SELECT auth.magic_link_request(format('q%s@mail.example', n), NULL, NULL, NULL, NULL) IS NOT NULL AS queued
  FROM generate_series(1, 3) n;
SELECT pending, oldest_pending_seconds >= 0 AS has_age, dead FROM auth.outbox_stats();
SET ROLE regress_pgauth_service;
-- two workers: disjoint claims
SELECT recipient, template, attempts, vars::jsonb ? 'url' AS opened, vars::jsonb ->> 'url' LIKE '/magic-link/verify?token=%' AS link
  FROM auth.outbox_claim('w1', 2) ORDER BY id;
SELECT recipient, attempts FROM auth.outbox_claim('w2', 10) ORDER BY id;
SELECT count(*) AS nothing_left FROM auth.outbox_claim('w3', 10);
RESET ROLE;
SELECT id AS q1 FROM auth.outbox WHERE recipient = 'q1@mail.example' \gset
SELECT id AS q2 FROM auth.outbox WHERE recipient = 'q2@mail.example' \gset
SELECT id AS q3 FROM auth.outbox WHERE recipient = 'q3@mail.example' \gset
SET ROLE regress_pgauth_service;
SELECT auth.outbox_delivered(:q1, 'w2') AS by_other, auth.outbox_delivered(:q1, 'w1') AS by_claimer,
       auth.outbox_delivered(:q1, 'w1') AS twice;
SELECT try(format('SELECT auth.outbox_failed(%s, %L, %L)', :q2, 'w2', 'x')) AS failed_by_other,
       try(format('SELECT auth.outbox_failed(%s, %L, %L)', :q1, 'w1', 'x')) AS failed_when_sent;
SELECT round(extract(epoch FROM auth.outbox_failed(:q2, 'w1', 'smtp: 421 try later') - now())) AS retry_in_s;
RESET ROLE;
SELECT recipient, status, attempts, sealed IS NOT NULL AS sealed, last_error, sent_at IS NOT NULL AS sent_at
  FROM auth.outbox WHERE id IN (:q1, :q2, :q3) ORDER BY id;
-- not due yet: no claim; due: claimed again
SELECT count(*) AS not_due FROM auth.outbox_claim('w1', 10);
UPDATE auth.outbox SET next_attempt_at = now() WHERE id = :q2;
SELECT recipient, attempts FROM auth.outbox_claim('w1', 10);
SELECT round(extract(epoch FROM auth.outbox_failed(:q2, 'w1', 'again') - now())) AS second_retry_in_s;
-- a crashed worker: w2's lease on q3 ends, another worker takes the row over
SELECT count(*) AS leased FROM auth.outbox_claim('w4', 10);
UPDATE auth.outbox SET next_attempt_at = now() - interval '1 second', claimed_until = now() - interval '1 second' WHERE id = :q3;
SELECT recipient, attempts FROM auth.outbox_claim('w4', 10);
SELECT auth.outbox_delivered(:q3, 'w2') AS late_old_worker, auth.outbox_delivered(:q3, 'w4') AS new_worker;
-- dead after pgauth.outbox_max_attempts: the reason is kept, the payload wiped
SET pgauth.outbox_max_attempts = 3;
UPDATE auth.outbox SET next_attempt_at = now() WHERE id = :q2;
SELECT recipient, attempts FROM auth.outbox_claim('w1', 10);
SELECT auth.outbox_failed(:q2, 'w1', 'smtp: 550 mailbox unavailable') AS next_attempt;
SELECT status, attempts, sealed IS NULL AS wiped, last_error FROM auth.outbox WHERE id = :q2;
RESET pgauth.outbox_max_attempts;
SELECT pending, dead FROM auth.outbox_stats();
-- a sealed payload moved to another row, or a row sent elsewhere, does not open: dead, never sent
SELECT auth.magic_link_request(format('s%s@mail.example', n), NULL, NULL, NULL, NULL) IS NOT NULL AS queued
  FROM generate_series(1, 3) n;
UPDATE auth.outbox SET sealed = (SELECT sealed FROM auth.outbox WHERE recipient = 's1@mail.example')
 WHERE recipient = 's2@mail.example';
UPDATE auth.outbox SET recipient = 'attacker@mail.example' WHERE recipient = 's3@mail.example';
SELECT recipient FROM auth.outbox_claim('w1', 10);
SELECT recipient, status, sealed IS NULL AS wiped, last_error FROM auth.outbox
 WHERE recipient IN ('s2@mail.example', 'attacker@mail.example') ORDER BY recipient;
-- the mail of a deleted user is not sent: its link is void
SELECT user_id AS gone_uid FROM auth.sign_up_email('gone@mail.example', 'gone-pass-1', 'Gone') \gset
SELECT auth.email_request_password_reset('gone@mail.example', NULL) IS NOT NULL AS requested;
SELECT auth.delete_user(:'gone_uid') AS deleted;
SELECT count(*) AS claimed FROM auth.outbox_claim('w1', 10);
SELECT status, sealed IS NULL AS wiped, last_error FROM auth.outbox WHERE recipient = 'gone@mail.example';
-- a deactivated user and a live session asking for its own unverified address
SELECT user_id AS off_uid, session_token AS off_tok FROM auth.sign_up_email('off@mail.example', 'off-pass-1', 'Off') \gset
SELECT auth.email_send_verification(:'off_tok', 'off@mail.example', '/own') AS own_session;
SELECT pg_temp.mail('off@mail.example') ->> 'url' ~ '&callbackURL=%2Fown$' AS own_callback;
SELECT auth.set_user_profile(:'off_uid', NULL, NULL, false) AS deactivated;
SELECT auth.email_request_password_reset('off@mail.example', NULL) AS reset_answer,
       auth.magic_link_request('off@mail.example', NULL, NULL, NULL, NULL) AS magic_answer,
       auth.email_otp_send('off@mail.example', 'sign-in') AS otp_answer,
       pg_temp.mails('off@mail.example') AS mails;
-- bad worker arguments
SELECT try($$SELECT * FROM auth.outbox_claim('', 1)$$) AS empty_worker,
       try($$SELECT * FROM auth.outbox_claim('w', 0)$$) AS zero_limit,
       try($$SELECT * FROM auth.outbox_claim('w', 1, '0 seconds')$$) AS zero_lease;
-- the insert notifies the workers
SELECT tgname, pg_get_triggerdef(t.oid) ~ 'AFTER INSERT .* FOR EACH STATEMENT' AS per_statement
  FROM pg_trigger t WHERE tgrelid = 'auth.outbox'::regclass AND NOT tgisinternal;
-- purge
SELECT auth.email_purge('0 seconds') > 0 AS purged;
SELECT (SELECT count(*) FROM auth.outbox WHERE status IN ('sent', 'dead')) AS done_left,
       (SELECT count(*) FROM auth.outbox WHERE status IN ('pending', 'sending')) AS undelivered_kept;

-- ---- privileges: the tables are the owner's; nobody else reads a digest or a sealed payload
SET ROLE regress_pgauth_service;
SELECT try('SELECT * FROM auth.verifications') AS service_verifications, try('SELECT * FROM auth.outbox') AS service_outbox,
       try($$SELECT auth.outbox_open(1, 'a', 'b', '\x00')$$) AS service_open,
       try($$SELECT auth.email_issue('magic-link', 'x@mail.example', NULL, NULL, NULL, '/x?t={token}')$$) AS service_issue;
SET ROLE regress_pgauth_reader;
SELECT pending >= 0 AS reader_stats FROM auth.outbox_stats();
SELECT try($$SELECT auth.email_otp_send('x@mail.example', 'sign-in')$$) AS reader_send;
RESET ROLE;
RESET pgauth.email_max_per_address;
