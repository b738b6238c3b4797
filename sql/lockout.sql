-- Sign-in lockout (ASVS V2.2.1): from pgauth.lockout_threshold consecutive failures on, an
-- email is locked for 2^(failures - threshold) seconds (up to pgauth.lockout_max_delay):
-- ACCOUNT_LOCKED (429), without checking the password. A success or a new password resets it.
SET pgauth.lockout_threshold = 3;
SELECT user_id AS lo_id FROM auth.sign_up_email('lock@example.com', 'lock-password-1', 'Lock') \gset
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-1')$$) AS failure_1;
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-2')$$) AS failure_2;
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-3')$$) AS failure_3;
-- locked: even the right password is refused, in any case of the email, saying for how long
SELECT try($$SELECT auth.sign_in_email(' LOCK@example.com', 'lock-password-1')$$) ~
       '^PA429 ACCOUNT_LOCKED: Too many failed sign-in attempts. Try again in 1 second.$' AS locked;
SELECT try($$SELECT * FROM auth.sign_in_response('lock@example.com', 'lock-password-1', true, NULL, NULL)$$) ~
       '^PA429 ACCOUNT_LOCKED' AS locked_response;
SELECT sqlstate, http_status FROM auth.error_codes WHERE code = 'ACCOUNT_LOCKED';
-- an unknown email is counted and locked the same way: the answers do not tell whether it exists
SELECT try($$SELECT auth.sign_in_email('nobody@example.com', 'wrong-password-1')$$) AS unknown_1;
SELECT try($$SELECT auth.sign_in_email('nobody@example.com', 'wrong-password-2')$$) AS unknown_2;
SELECT try($$SELECT auth.sign_in_email('nobody@example.com', 'wrong-password-3')$$) AS unknown_3;
SELECT try($$SELECT auth.sign_in_email('nobody@example.com', 'wrong-password-4')$$) ~ '^PA429 ACCOUNT_LOCKED' AS unknown_locked;
-- the delay doubles with each failure past the threshold, up to pgauth.lockout_max_delay
SET pgauth.lockout_max_delay = '10s';
SELECT array_agg(auth.sign_in_failed('delay@example.com') ORDER BY i) AS lock_seconds FROM generate_series(1, 8) i;
-- the lock ends by itself
SET pgauth.lockout_max_delay = '1s';
SELECT auth.sign_in_failed('lock@example.com') AS locked_for_one_second;
SELECT pg_sleep(1.2);
SELECT count(*) AS signed_in_after_the_lock FROM auth.sign_in_email('lock@example.com', 'lock-password-1');
RESET pgauth.lockout_max_delay;
-- a success resets the count: two failures, a success, two failures do not lock
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-1')$$) AS again_1;
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-2')$$) AS again_2;
SELECT count(*) AS success FROM auth.sign_in_email('lock@example.com', 'lock-password-1');
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-3')$$) AS again_3;
SELECT try($$SELECT auth.sign_in_email('lock@example.com', 'wrong-password-4')$$) AS again_4;
SELECT count(*) AS not_locked FROM auth.sign_in_email('lock@example.com', 'lock-password-1');
-- a new password resets it too
SELECT auth.sign_in_failed('lock@example.com') + auth.sign_in_failed('lock@example.com') + auth.sign_in_failed('lock@example.com') > 0 AS locked_again;
SELECT auth.change_password(:'lo_id', 'lock-password-1', 'lock-password-2');
SELECT count(*) AS signed_in_with_the_new_password FROM auth.sign_in_email('lock@example.com', 'lock-password-2');
-- pgauth.lockout_threshold = 0 turns it off
SET pgauth.lockout_threshold = 0;
SELECT auth.sign_in_failed('off@example.com') + auth.sign_in_failed('off@example.com') AS no_lock, auth.sign_in_lock('off@example.com') AS left;
RESET pgauth.lockout_threshold;
-- the counters are internal: no pgauth role may call them
SET ROLE regress_pgauth_admin;
SELECT try($$SELECT auth.sign_in_reset('lock@example.com')$$) AS admin_reset;
RESET ROLE;
