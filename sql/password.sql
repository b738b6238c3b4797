-- Password hashing, verification of legacy formats, rehash on sign-in, policy.
SELECT auth.hash_password('correct-horse-battery') ~ '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' AS owasp_argon2id;
SELECT auth.hash_password('same-password') <> auth.hash_password('same-password') AS salted;
SELECT auth.verify_password(auth.hash_password('correct-horse-battery'), 'correct-horse-battery') AS right,
       auth.verify_password(auth.hash_password('correct-horse-battery'), 'correct-horse-batterY') AS wrong;
-- NFKC before hashing (as Better-Auth): the ligature U+FB01 matches "fi", fullwidth digits match ASCII
SELECT auth.verify_password(auth.hash_password(U&'\FB01ne-password-\FF11\FF12'), 'fine-password-12') AS nfkc;
-- NULLs and garbage never verify and never raise
SELECT auth.verify_password(NULL, 'x') AS null_hash, auth.verify_password('$argon2id$v=19$garbage', 'x') AS garbage,
       auth.verify_password('', '') AS empty, auth.verify_password('9f86d081884c7d659a2feaa0c55ad015:00', 'x') AS short_scrypt;

-- Better-Auth scrypt (N=16384 r=16 p=1 dkLen=64, salt = the hex string's bytes), produced by Node's scrypt
\set scrypt_hash '9f86d081884c7d659a2feaa0c55ad015:4b4815da219a591e627a09dfe77facc2f861d0f7e1134116667673bbee7bcb28346bafde8c93fe89f4993245be666a27d13ba76c59d4e274ae355547f4c70754'
SELECT auth.password_hash_kind(:'scrypt_hash') AS kind,
       auth.verify_password(:'scrypt_hash', 'correct-horse-battery') AS right,
       auth.verify_password(:'scrypt_hash', 'correct-horse-batter') AS wrong;
-- bcrypt: OpenBSD/JtR vector ("U*U") and a $2b$ hash from libxcrypt; $2y$ is the same algorithm
SELECT auth.verify_password('$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*U') AS a_right,
       auth.verify_password('$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*V') AS a_wrong,
       auth.verify_password('$2b$04$abcdefghijklmnopqrstuu6mK3xV1ZrtLJ32JnG9Bd5ARcQSnPl9i', 'legacy-bcrypt-pass') AS b_right,
       auth.verify_password('$2y$04$abcdefghijklmnopqrstuu6mK3xV1ZrtLJ32JnG9Bd5ARcQSnPl9i', 'legacy-bcrypt-pass') AS y_right,
       auth.password_hash_kind('$2y$04$abcdefghijklmnopqrstuu6mK3xV1ZrtLJ32JnG9Bd5ARcQSnPl9i') AS kind;

-- import + first sign-in replaces the legacy hash with current argon2id
SELECT auth.import_user('scrypt.user@example.com', 'Scrypt User', :'scrypt_hash', true) IS NOT NULL AS imported_scrypt;
SELECT auth.import_user('bcrypt.user@example.com', 'Bcrypt User',
       '$2b$04$abcdefghijklmnopqrstuu6mK3xV1ZrtLJ32JnG9Bd5ARcQSnPl9i') IS NOT NULL AS imported_bcrypt;
SELECT u.email, u.email_verified, auth.password_hash_kind(a.password_hash) AS kind
  FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id
 WHERE u.email LIKE '%crypt.user@example.com' ORDER BY u.email;
SELECT try($$SELECT auth.sign_in_email('scrypt.user@example.com', 'wrong-password-1')$$) AS wrong_password;
SELECT length(session_token) AS token_length FROM auth.sign_in_email('scrypt.user@example.com', 'correct-horse-battery');
SELECT length(session_token) AS token_length FROM auth.sign_in_email('BCRYPT.user@example.com', 'legacy-bcrypt-pass');
SELECT u.email, a.password_hash ~ '^\$argon2id\$v=19\$m=19456,t=2,p=1\$' AS rehashed
  FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id
 WHERE u.email LIKE '%crypt.user@example.com' ORDER BY u.email;
-- the new hash still accepts the same password, and no rehash happens twice
SELECT a.password_hash AS rehashed_once FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id
 WHERE u.email = 'scrypt.user@example.com' \gset
SELECT count(*) AS signed_in FROM auth.sign_in_email('scrypt.user@example.com', 'correct-horse-battery');
SELECT a.password_hash = :'rehashed_once' AS not_rehashed_again FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id
 WHERE u.email = 'scrypt.user@example.com';

-- an under-strength argon2id hash (t=1, m=8 MiB) is upgraded at sign-in
SET pgauth.argon2_opslimit = 1;
SET pgauth.argon2_memlimit = '8MB';
SELECT auth.import_user('weak.argon@example.com', 'Weak', auth.hash_password('weak-argon-pass')) IS NOT NULL AS imported;
RESET pgauth.argon2_opslimit;
RESET pgauth.argon2_memlimit;
SELECT a.password_hash ~ 'm=8192,t=1' AS weak_before FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id
 WHERE u.email = 'weak.argon@example.com';
SELECT count(*) AS signed_in FROM auth.sign_in_email('weak.argon@example.com', 'weak-argon-pass');
SELECT a.password_hash ~ 'm=19456,t=2,p=1' AS upgraded FROM auth.accounts a JOIN auth.users u ON u.id = a.user_id
 WHERE u.email = 'weak.argon@example.com';

-- unrecognised formats are refused at import, with a clear message
SELECT try($$SELECT auth.import_user('md5.user@example.com', 'Md5', 'md5$5f4dcc3b5aa765d61d8327deb882cf99')$$);
SELECT try($$SELECT auth.import_user('plain.user@example.com', 'Plain', 'hunter2')$$);
SELECT count(*) AS no_partial_user FROM auth.users WHERE email IN ('md5.user@example.com', 'plain.user@example.com');
-- a user imported without a password cannot sign in with any password
SELECT auth.import_user('nopass@example.com', 'No Password') IS NOT NULL AS imported;
SELECT try($$SELECT auth.sign_in_email('nopass@example.com', 'anything-at-all')$$);

-- policy: 8..128 characters by default, counted in characters, not bytes
SELECT try($$SELECT auth.check_password_policy('1234567')$$) AS seven,
       try($$SELECT auth.check_password_policy('12345678')$$) AS eight,
       try(format('SELECT auth.check_password_policy(%L)', repeat('x', 128))) AS max,
       try(format('SELECT auth.check_password_policy(%L)', repeat('x', 129))) AS over,
       try(format('SELECT auth.check_password_policy(%L)', repeat(U&'\00E9', 128))) AS max_multibyte,
       try($$SELECT auth.check_password_policy(NULL)$$) AS null_password;
SET pgauth.password_min_length = 12;
SELECT try($$SELECT auth.check_password_policy('12345678901')$$) AS eleven_under_12;
RESET pgauth.password_min_length;

-- unknown email costs one argon2id verification, like a wrong password (no timing oracle):
-- without the dummy verification the ratio would be ~0.01; argon2id at m=19 MiB keeps it near 1
DO $$
DECLARE
    t0 timestamptz; known interval := '0'; unknown interval := '0';
BEGIN
    FOR i IN 1..3 LOOP
        t0 := clock_timestamp();
        PERFORM public.try($q$SELECT auth.sign_in_email('scrypt.user@example.com', 'wrong-password-1')$q$);
        known := known + (clock_timestamp() - t0);
        t0 := clock_timestamp();
        PERFORM public.try($q$SELECT auth.sign_in_email('nobody.here@example.com', 'wrong-password-1')$q$);
        unknown := unknown + (clock_timestamp() - t0);
    END LOOP;
    RAISE NOTICE 'unknown/known cost ratio above 0.3: %',
        extract(epoch FROM unknown) / extract(epoch FROM known) > 0.3;
END
$$;
SELECT try($$SELECT auth.sign_in_email('nobody.here@example.com', 'wrong-password-1')$$) AS unknown_email,
       try($$SELECT auth.sign_in_email('scrypt.user@example.com', 'wrong-password-1')$$) AS wrong_password;

-- Cost limits: a hash declares its own cost and verifying runs it in full (libsodium cannot be
-- interrupted), so import refuses one above pgauth.argon2_max_* / bcrypt_max_cost / scrypt_max_n
-- and verification of one planted in the table fails at once, without hashing.
\set argon2_poison '$argon2id$v=19$m=262144,t=300,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
\set bcrypt_poison '$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'
SELECT try(format('SELECT auth.import_user(%L, %L, %L)', 'poison.argon@example.com', 'P', :'argon2_poison')) AS argon2_m256_t300,
       try(format('SELECT auth.import_user(%L, %L, %L)', 'poison.bcrypt@example.com', 'P', :'bcrypt_poison')) AS bcrypt_31;
SELECT try(format('SELECT auth.check_password_hash(%L)', '$argon2id$v=19$m=65536,t=11,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA')) AS argon2_t11,
       try(format('SELECT auth.check_password_hash(%L)', '$argon2id$v=19$m=65536,t=10,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA')) AS argon2_at_limits,
       try(format('SELECT auth.check_password_hash(%L)', '$2b$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')) AS bcrypt_15,
       try(format('SELECT auth.check_password_hash(%L)', '$2b$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')) AS bcrypt_14;
-- scrypt with its own N (e.g. N=2^20) has no supported format: only Better-Auth's fixed N=16384 is accepted
SELECT try(format('SELECT auth.check_password_hash(%L)', '$scrypt$ln=20,r=8,p=1$c2FsdA$aGFzaA')) AS scrypt_n_2_20;
SELECT count(*) AS no_poisoned_user FROM auth.users WHERE email LIKE 'poison.%';
-- planted behind import's back: sign-in fails fast with a clear code (no 85 s argon2 run)
SELECT user_id AS poison_id FROM auth.sign_up_email('poison@example.com', 'poison-password', 'Poison') \gset
UPDATE auth.accounts SET password_hash = :'argon2_poison' WHERE user_id = :'poison_id';
SELECT clock_timestamp() AS t0 \gset
SELECT try($$SELECT auth.sign_in_email('poison@example.com', 'poison-password')$$) AS argon2_sign_in,
       try(format('SELECT auth.verify_password(%L, %L)', :'bcrypt_poison', 'x')) AS bcrypt_verify;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '1 second' AS fast;
-- the limits are GUCs: raising one lets that cost through; the parameters for new hashes must fit under them
SET pgauth.bcrypt_max_cost = 15;
SELECT try(format('SELECT auth.check_password_hash(%L)', '$2b$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')) AS bcrypt_15_allowed;
RESET pgauth.bcrypt_max_cost;
SET pgauth.argon2_max_memlimit = '16MB';
SELECT try($$SELECT auth.hash_password('over-the-limit')$$) AS params_above_limit;
RESET pgauth.argon2_max_memlimit;
SET ROLE regress_pgauth_service;
SELECT try($$SET pgauth.argon2_max_opslimit = 64$$) AS service_cannot_raise;
RESET ROLE;
