-- Sign-up, sign-in, validate_session (sliding expiry), revocation, users.
SELECT length(session_token) AS token_length,
       expires_at BETWEEN now() + interval '7 days' - interval '1 minute' AND now() + interval '7 days' AS seven_days
  FROM auth.sign_up_email('  Alice@Example.COM ', 'correct-horse-battery', 'Alice', NULL, '203.0.113.7', 'regress/1.0') \gset s_
SELECT :s_token_length AS token_length, :'s_seven_days' AS seven_days;

-- email is stored trimmed and lower-cased; the token is stored only as its SHA-256
SELECT email, name, image, email_verified FROM auth.users WHERE email = 'alice@example.com';
SELECT count(*) AS sessions, bool_and(octet_length(token_hash) = 32) AS digests FROM auth.sessions s
  JOIN auth.users u ON u.id = s.user_id WHERE u.email = 'alice@example.com';

-- sign-in: same email in any case, one session per sign-in
SELECT session_token AS alice_token, user_id AS alice_id
  FROM auth.sign_in_email('ALICE@example.com', 'correct-horse-battery', true, '2001:db8::1', 'regress/2.0') \gset
SELECT count(*) AS stored_as_digest FROM auth.sessions WHERE token_hash = auth.hash_token(:'alice_token');
SELECT count(*) AS plaintext_anywhere FROM auth.sessions s
 WHERE s.user_agent = :'alice_token' OR s.token_hash = convert_to(:'alice_token', 'UTF8');
SELECT encode(auth.hash_token('abc'), 'hex') AS sha256_abc;

-- validate_session: user and session columns
SELECT user_id = :'alice_id' AS same_user, email, name, email_verified, ip, user_agent,
       expires_at > now() + interval '6 days' AS long_lived
  FROM auth.validate_session(:'alice_token');
-- also callable in a select list
SELECT (auth.validate_session(:'alice_token')).email AS select_list;
-- unknown, empty, NULL, oversized and hostile tokens: zero rows, never an error
SELECT count(*) AS unknown FROM auth.validate_session('not-a-token');
SELECT count(*) AS empty FROM auth.validate_session('');
SELECT count(*) AS null_token FROM auth.validate_session(NULL);
SELECT count(*) AS huge FROM auth.validate_session(repeat('A', 100000));
SELECT count(*) AS hostile FROM auth.validate_session($$' OR 1=1 --$$);
SELECT count(*) AS prefix FROM auth.validate_session(left(:'alice_token', 42));

-- sliding expiry (Better-Auth's rule): extended once expires_at - expires_in + update_age <= now()
UPDATE auth.sessions SET expires_at = now() + interval '6 days 23 hours', updated_at = now() - interval '1 hour'
 WHERE token_hash = auth.hash_token(:'alice_token');
SELECT expires_at < now() + interval '7 days' - interval '30 minutes' AS not_yet_due FROM auth.validate_session(:'alice_token');
UPDATE auth.sessions SET expires_at = now() + interval '5 days', updated_at = now() - interval '2 days'
 WHERE token_hash = auth.hash_token(:'alice_token');
SELECT expires_at = now() + interval '7 days' AS extended, session_updated_at = now() AS touched
  FROM auth.validate_session(:'alice_token');
SELECT expires_at > now() + interval '6 days 23 hours' AS persisted FROM auth.sessions WHERE token_hash = auth.hash_token(:'alice_token');
-- in a read-only transaction (as on a hot standby) the answer comes without the write
UPDATE auth.sessions SET expires_at = now() + interval '5 days' WHERE token_hash = auth.hash_token(:'alice_token');
BEGIN TRANSACTION READ ONLY;
SELECT email, expires_at < now() + interval '6 days' AS not_extended FROM auth.validate_session(:'alice_token');
COMMIT;
SELECT expires_at < now() + interval '6 days' AS unchanged FROM auth.sessions WHERE token_hash = auth.hash_token(:'alice_token');
-- custom lifetimes
SET pgauth.session_expires_in = '1h';
SET pgauth.session_update_age = '10min';
UPDATE auth.sessions SET expires_at = now() + interval '40 minutes' WHERE token_hash = auth.hash_token(:'alice_token');
SELECT expires_at = now() + interval '1 hour' AS extended_by_guc FROM auth.validate_session(:'alice_token');
RESET pgauth.session_expires_in;
RESET pgauth.session_update_age;

-- remember_me = false: a 1-day session that sliding expiry does not extend
SELECT session_token AS short_token, expires_at = now() + interval '1 day' AS one_day
  FROM auth.sign_in_email('alice@example.com', 'correct-horse-battery', false) \gset
SELECT :'one_day' AS one_day;
UPDATE auth.sessions SET expires_at = now() + interval '1 hour' WHERE token_hash = auth.hash_token(:'short_token');
SELECT expires_at < now() + interval '2 hours' AS not_extended FROM auth.validate_session(:'short_token');

-- expiry
UPDATE auth.sessions SET expires_at = now() - interval '1 second' WHERE token_hash = auth.hash_token(:'short_token');
SELECT count(*) AS expired FROM auth.validate_session(:'short_token');
SELECT count(*) AS listed FROM auth.list_sessions(:'alice_id');
SELECT auth.purge_expired_sessions() AS purged;

-- revocation
SELECT session_token AS t2 FROM auth.sign_in_email('alice@example.com', 'correct-horse-battery') \gset
SELECT session_token AS t3 FROM auth.sign_in_email('alice@example.com', 'correct-horse-battery') \gset
SELECT count(*) AS active FROM auth.list_sessions(:'alice_id');
SELECT auth.revoke_session(:'t2') AS revoked, auth.revoke_session(:'t2') AS again, auth.revoke_session('nope') AS unknown;
SELECT count(*) AS after_revoke FROM auth.validate_session(:'t2');
SELECT auth.revoke_user_session(:'alice_id', session_id::text) AS by_id
  FROM auth.list_sessions(:'alice_id') l JOIN auth.sessions s ON s.id = l.session_id
 WHERE s.token_hash = auth.hash_token(:'t3');
SELECT auth.revoke_user_session(:'alice_id', 'not-a-session') AS unknown_id;
SELECT session_token AS t4 FROM auth.sign_in_email('alice@example.com', 'correct-horse-battery') \gset
SELECT session_token AS t5 FROM auth.sign_in_email('alice@example.com', 'correct-horse-battery') \gset
SELECT auth.revoke_user_sessions(:'alice_id', :'t5') AS revoked_others;
SELECT (SELECT count(*) FROM auth.validate_session(:'t5')) AS kept, (SELECT count(*) FROM auth.validate_session(:'t4')) AS gone;

-- another user's session cannot be revoked through revoke_user_session
SELECT user_id AS bob_id, session_token AS bob_token FROM auth.sign_up_email('bob@example.com', 'bobs-password-1', 'Bob') \gset
SELECT auth.revoke_user_session(:'alice_id', session_id::text) AS cross_user FROM auth.list_sessions(:'bob_id');
SELECT count(*) AS bob_still_in FROM auth.validate_session(:'bob_token');

-- sign-up rules
SELECT try($$SELECT auth.sign_up_email('BOB@example.com', 'another-pass-1', 'Bob 2')$$) AS duplicate;
SELECT try($$SELECT auth.sign_up_email('carol@example.com', 'short', 'Carol')$$) AS too_short;
SELECT try(format('SELECT auth.sign_up_email(%L, %L, %L)', 'carol@example.com', repeat('p', 129), 'Carol')) AS too_long;
SELECT replace(left(e, 24), E'\n', '\n') AS email, try(format('SELECT auth.sign_up_email(%L, %L, %L)', e, 'long-enough-pass', 'X')) AS result
  FROM unnest(ARRAY['', '   ', 'plainaddress', '@example.com', 'a@', 'a@b', 'a b@example.com', 'a@@example.com',
                    'a..b@example.com', '.a@example.com', 'a@-example.com', 'a@example..com',
                    'x@' || repeat('a', 250) || '.com', E'a\n@example.com', 'a@exam_ple.com']) AS e;
SELECT try($$SELECT auth.sign_up_email(NULL, 'long-enough-pass', 'X')$$) AS null_email,
       try($$SELECT auth.sign_up_email('dan@example.com', NULL, 'X')$$) AS null_password,
       try($$SELECT auth.sign_up_email('dan@example.com', 'long-enough-pass', NULL)$$) AS null_name,
       try($$SELECT auth.sign_up_email('dan@example.com', 'long-enough-pass', '  ')$$) AS blank_name;
SELECT count(*) AS no_partial_writes FROM auth.users WHERE email IN ('carol@example.com', 'dan@example.com');
-- hostile but valid strings are stored verbatim
SELECT count(*) AS created FROM auth.sign_up_email('erin+tag@example.com', 'long-enough-pass',
       $$Robert'); DROP TABLE auth.users;-- 🚀$$, 'javascript:alert(1)');
SELECT name, image FROM auth.users WHERE email = 'erin+tag@example.com';

-- sign-in errors are indistinguishable for unknown email and wrong password
SELECT try($$SELECT auth.sign_in_email('alice@example.com', 'wrong-password!')$$) AS wrong_password,
       try($$SELECT auth.sign_in_email('zed@example.com', 'wrong-password!')$$) AS unknown_email,
       try($$SELECT auth.sign_in_email('alice@example.com', '')$$) AS empty_password,
       try($$SELECT auth.sign_in_email('not an email', 'whatever-123')$$) AS bad_email;

-- users: update, change password, delete (cascades)
SELECT auth.update_user(:'alice_id', 'Alice Liddell', 'https://example.com/a.png') AS updated;
SELECT auth.update_user(:'alice_id', NULL, NULL) AS noop;
SELECT name, image FROM auth.get_user(:'alice_id');
SELECT try(format('SELECT auth.update_user(%L, %L, NULL)', :'alice_id', '')) AS blank_name;
SELECT auth.update_user('00000000-0000-0000-0000-000000000000', 'Nobody', NULL) AS unknown_user;
SELECT try(format('SELECT auth.change_password(%L, %L, %L)', :'alice_id', 'not-my-password', 'brand-new-pass-1')) AS wrong_current;
SELECT try(format('SELECT auth.change_password(%L, %L, %L)', :'alice_id', 'correct-horse-battery', 'short')) AS too_short;
SELECT auth.change_password(:'alice_id', 'correct-horse-battery', 'brand-new-pass-1', true, :'t5');
SELECT (SELECT count(*) FROM auth.validate_session(:'t5')) AS kept_session, (SELECT count(*) FROM auth.list_sessions(:'alice_id')) AS sessions;
SELECT try($$SELECT auth.sign_in_email('alice@example.com', 'correct-horse-battery')$$) AS old_password;
SELECT count(*) AS new_password FROM auth.sign_in_email('alice@example.com', 'brand-new-pass-1');
SELECT auth.check_user_password(:'alice_id', 'brand-new-pass-1') AS right, auth.check_user_password(:'alice_id', 'nope') AS wrong;
SELECT auth.delete_user(:'bob_id') AS deleted, auth.delete_user(:'bob_id') AS again;
SELECT (SELECT count(*) FROM auth.sessions WHERE user_id = :'bob_id') AS sessions,
       (SELECT count(*) FROM auth.accounts WHERE user_id = :'bob_id') AS accounts,
       (SELECT count(*) FROM auth.validate_session(:'bob_token')) AS valid;
