-- Avatars (lazy OASIS mapping: claim state machine), Para wallets, profile fields.
SELECT user_id AS uid, session_token AS tok FROM auth.sign_up_email('avatar@example.com', 'avatar-password', 'Ava') \gset
SELECT user_id AS uid2 FROM auth.sign_up_email('avatar2@example.com', 'avatar-password', 'Ava Two') \gset

-- first call claims; while the claim is fresh every other call is told it is in progress
SELECT state, avatar_id, claim IS NOT NULL AS has_claim FROM auth.claim_avatar(:'uid') \gset c1_
SELECT :'c1_state' AS state, :'c1_has_claim' AS has_claim;
SELECT claim AS claim1 FROM auth.avatar_links WHERE user_id = :'uid' \gset
SELECT state, avatar_id, claim FROM auth.claim_avatar(:'uid');
SELECT auth.avatar_for(:'uid') AS not_yet;
-- a failed registration releases the claim; the next caller gets a new one
SELECT auth.fail_avatar(:'claim1', 'OASIS answered 500') AS failed, auth.fail_avatar(:'claim1', 'again') AS twice;
SELECT state, error FROM auth.avatar_links WHERE user_id = :'uid';
SELECT state, claim IS NOT NULL AND claim <> :'claim1' AS new_claim FROM auth.claim_avatar(:'uid');
SELECT claim AS claim2 FROM auth.avatar_links WHERE user_id = :'uid' \gset
-- the old claim can no longer complete; the current one can
SELECT try(format('SELECT auth.complete_avatar(%L, %L)', :'claim1', 'avatar-111')) AS stale_claim;
SELECT auth.complete_avatar(:'claim2', ' avatar-111 ') AS linked;
SELECT state, avatar_id, claim FROM auth.claim_avatar(:'uid');
SELECT auth.avatar_for(:'uid') AS avatar, auth.avatar_for(:'uid', 'other') AS other_provider;
SELECT try(format('SELECT auth.complete_avatar(%L, %L)', :'claim2', 'avatar-222')) AS reused_claim;

-- a stale claim (holder went away) is handed out again after pgauth.avatar_claim_timeout
SELECT claim AS c3 FROM auth.claim_avatar(:'uid2') \gset
SELECT state FROM auth.claim_avatar(:'uid2');
UPDATE auth.avatar_links SET claimed_at = now() - interval '61 seconds' WHERE user_id = :'uid2';
SELECT state, claim <> :'c3' AS fresh_claim FROM auth.claim_avatar(:'uid2');
SET pgauth.avatar_claim_timeout = '10min';
UPDATE auth.avatar_links SET claimed_at = now() - interval '5 minutes' WHERE user_id = :'uid2';
SELECT state FROM auth.claim_avatar(:'uid2') AS within_timeout;
RESET pgauth.avatar_claim_timeout;
SELECT claim AS c4 FROM auth.avatar_links WHERE user_id = :'uid2' \gset
-- one avatar belongs to one user per provider
SELECT try(format('SELECT auth.complete_avatar(%L, %L)', :'c4', 'avatar-111')) AS taken;
SELECT state FROM auth.avatar_links WHERE user_id = :'uid2';

-- bad input
SELECT try($$SELECT * FROM auth.claim_avatar('00000000-0000-0000-0000-000000000000')$$) AS unknown_user,
       try($$SELECT * FROM auth.claim_avatar(NULL)$$) AS null_user,
       try(format('SELECT auth.complete_avatar(%L, %L)', :'c4', '   ')) AS blank_avatar,
       try($$SELECT auth.complete_avatar('00000000-0000-0000-0000-000000000000', 'x')$$) AS unknown_claim,
       try($$SELECT * FROM auth.claim_avatar(gen_random_uuid(), 'BAD PROVIDER')$$) AS bad_provider;

-- migration: link an existing avatar (admin)
SELECT auth.link_avatar(:'uid2', 'oasis', 'avatar-333');
SELECT state, avatar_id, claim FROM auth.claim_avatar(:'uid2');
SELECT try(format('SELECT auth.link_avatar(%L, %L, %L)', :'uid2', 'oasis', 'avatar-111')) AS other_users_avatar;

-- Para wallets: one per user, unique across users, visible through validate_session
SELECT auth.link_para_wallet(:'uid', 'para-wallet-1') AS linked, auth.link_para_wallet(:'uid', 'para-wallet-1') AS idempotent;
SELECT email, para_wallet_id, role FROM auth.validate_session(:'tok');
SELECT try(format('SELECT auth.link_para_wallet(%L, %L)', :'uid2', 'para-wallet-1')) AS taken,
       try(format('SELECT auth.link_para_wallet(%L, %L)', :'uid2', '')) AS blank,
       try(format('SELECT auth.link_para_wallet(%L, %L)', :'uid2', repeat('w', 201))) AS too_long,
       try(format('SELECT auth.link_para_wallet(%L, %L)', :'uid2', E'w\x01')) AS control_char;

-- profile fields: defaults, admin changes, deactivation ends sessions and blocks sign-in
SELECT role, kyc_status, is_active, para_wallet_id FROM auth.get_user_profile(:'uid');
SELECT auth.set_user_profile(:'uid', 'admin', 'verified') AS updated;
SELECT role, kyc_status, is_active FROM auth.get_user_profile(:'uid');
SELECT try(format('SELECT auth.set_user_profile(%L, %L)', :'uid', 'Not A Role')) AS bad_role,
       try(format('SELECT auth.set_user_profile(%L, NULL, %L)', :'uid', 'maybe')) AS bad_kyc;
SELECT auth.set_user_profile(:'uid', is_active => false) AS deactivated;
SELECT count(*) AS sessions_after FROM auth.validate_session(:'tok');
SELECT try($$SELECT auth.sign_in_email('avatar@example.com', 'wrong-password')$$) AS wrong_password,
       try($$SELECT auth.sign_in_email('avatar@example.com', 'avatar-password')$$) AS inactive;
SELECT auth.set_user_profile(:'uid', is_active => true) AS reactivated;
SELECT count(*) AS signed_in FROM auth.sign_in_email('avatar@example.com', 'avatar-password');

-- privileges: the service claims, the reader reads, only the admin links or changes profiles
SET ROLE regress_pgauth_reader;
SELECT auth.avatar_for(:'uid') AS reader_reads;
SELECT try(format('SELECT * FROM auth.claim_avatar(%L)', :'uid')) AS reader_claims;
SELECT try('SELECT * FROM auth.avatar_links') AS reader_table;
RESET ROLE;
SET ROLE regress_pgauth_service;
SELECT state FROM auth.claim_avatar(:'uid');
SELECT try(format('SELECT auth.set_user_profile(%L, %L)', :'uid', 'admin')) AS service_profile,
       try(format('SELECT auth.link_avatar(%L, %L, %L)', :'uid', 'oasis', 'x')) AS service_link;
RESET ROLE;

-- deleting the user (after re-authentication) deletes its links
SELECT try(format('SELECT auth.delete_user(%L, %L)', :'uid', 'wrong-password')) AS wrong_password,
       try(format('SELECT auth.delete_user(%L, NULL::text)', :'uid')) AS no_password;
SELECT auth.delete_user(:'uid', 'avatar-password') AS deleted;
SELECT count(*) AS links_left FROM auth.avatar_links WHERE user_id = :'uid';
