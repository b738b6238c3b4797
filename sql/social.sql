-- Social accounts (issue 15): flows (state, PKCE, nonce, browser binding), sign-in, linking
-- rules, sealed provider tokens, list / unlink / tokens. Errors that are answers come back
-- as error_code; the others are raised (shown with try()).
SHOW pgauth.social_trusted_providers;
SHOW pgauth.social_flow_expires_in;
SHOW pgauth.social_disable_sign_up;
SET pgauth.social_trusted_providers = ' google , acme';
SET pgauth.social_flow_expires_in = '2min';
SELECT expires_in FROM auth.social_flow_start('google', 'sign-in', NULL, NULL, NULL, NULL);
RESET pgauth.social_flow_expires_in;

-- ---------------------------------------------------------------- flows
SET ROLE regress_pgauth_service;
SELECT state, code_challenge, nonce, binding, expires_in
  FROM auth.social_flow_start('google', 'sign-in', NULL, 'https://app.example/done', 'https://app.example/oops', 'https://app.example/welcome') \gset f1_
SELECT length(:'f1_state') AS state_len, length(:'f1_binding') AS binding_len, length(:'f1_nonce') AS nonce_len,
       :'f1_code_challenge' ~ '^[A-Za-z0-9_-]{43}$' AS challenge_is_s256_shape, :f1_expires_in AS expires_in,
       :'f1_state' <> :'f1_binding' AS distinct_values;
-- bad starts
SELECT try($$SELECT * FROM auth.social_flow_start('google', 'link', NULL, NULL, NULL, NULL)$$) AS link_without_session,
       try($$SELECT * FROM auth.social_flow_start('google', 'link', 'nope', NULL, NULL, NULL)$$) AS link_dead_session,
       try($$SELECT * FROM auth.social_flow_start('google', 'sign-up', NULL, NULL, NULL, NULL)$$) AS bad_kind,
       try($$SELECT * FROM auth.social_flow_start('credential', 'sign-in', NULL, NULL, NULL, NULL)$$) AS credential_provider,
       try($$SELECT * FROM auth.social_flow_start('a b', 'sign-in', NULL, NULL, NULL, NULL)$$) AS bad_provider,
       try(format('SELECT * FROM auth.social_flow_start(%L, %L, NULL, %L, NULL, NULL)', 'google', 'sign-in', repeat('x', 2049))) AS long_url;
RESET ROLE;
-- the table holds digests and a sealed verifier: no state, binding or verifier in a dump
SELECT count(*) AS flows,
       bool_and(position(:'f1_state' IN f::text) = 0 AND position(:'f1_binding' IN f::text) = 0
                AND position(encode(convert_to(:'f1_state', 'UTF8'), 'hex') IN f::text) = 0) AS no_secret_in_dump,
       bool_and(octet_length(f.state_digest) = 32) AND bool_or(f.state_digest = sha256(convert_to(:'f1_state', 'UTF8'))) AS state_is_sha256
  FROM auth.social_flows f;
SET ROLE regress_pgauth_service;

-- take: garbled, unknown, foreign binding (used once even so), other provider, expired
SELECT error_code AS garbled, flow_id IS NULL AS no_flow FROM auth.social_flow_take('not a state', :'f1_binding', 'google');
SELECT error_code AS unknown FROM auth.social_flow_take(repeat('A', 43), :'f1_binding', 'google');
SELECT error_code AS null_state FROM auth.social_flow_take(NULL, :'f1_binding', 'google');
SELECT error_code AS foreign_binding, code_verifier IS NULL AS no_verifier, error_callback_url
  FROM auth.social_flow_take(:'f1_state', repeat('B', 43), 'google');
SELECT error_code AS then_the_right_binding FROM auth.social_flow_take(:'f1_state', :'f1_binding', 'google');

SELECT state, binding FROM auth.social_flow_start('google', 'sign-in', NULL, NULL, NULL, NULL) \gset f2_
SELECT error_code AS missing_binding FROM auth.social_flow_take(:'f2_state', NULL, 'google');
SELECT state, binding FROM auth.social_flow_start('google', 'sign-in', NULL, NULL, NULL, NULL) \gset f3_
SELECT error_code AS other_provider FROM auth.social_flow_take(:'f3_state', :'f3_binding', 'github');
SELECT state, binding FROM auth.social_flow_start('google', 'sign-in', NULL, NULL, 'https://app.example/oops', NULL) \gset f4_
RESET ROLE;
UPDATE auth.social_flows SET expires_at = now() - interval '1 second'
 WHERE state_digest = sha256(convert_to(:'f4_state', 'UTF8'));
SET ROLE regress_pgauth_service;
SELECT error_code AS expired, error_callback_url FROM auth.social_flow_take(:'f4_state', :'f4_binding', 'google');

-- a good take: the verifier matches the challenge (S256), then the state is spent
SELECT state, code_challenge, nonce, binding FROM auth.social_flow_start('google', 'sign-in', NULL, 'https://app.example/done', 'https://app.example/oops', 'https://app.example/welcome') \gset f5_
SELECT flow_id, code_verifier, nonce AS taken_nonce FROM auth.social_flow_take(:'f5_state', :'f5_binding', 'google') \gset f5_
SELECT length(:'f5_code_verifier') AS verifier_len,
       translate(rtrim(encode(sha256(convert_to(:'f5_code_verifier', 'UTF8')), 'base64'), '='), '+/', '-_') = :'f5_code_challenge' AS s256,
       :'f5_taken_nonce' = :'f5_nonce' AS nonce_kept;
SELECT error_code AS replayed, flow_id IS NULL AS no_flow FROM auth.social_flow_take(:'f5_state', :'f5_binding', 'google');

-- ---------------------------------------------------------------- sign-in
-- a new user: created with the provider's verified email, an account, sealed tokens, a session
SELECT body::jsonb #- '{token}' #- '{user,id}' #- '{user,createdAt}' #- '{user,updatedAt}' AS body,
       body::jsonb ->> 'token' = session_token AS token_in_body, max_age, new_user, linked, error_code
  FROM auth.social_sign_in('google', '{"sub": "g-100", "email": " Ann@Example.COM ", "email_verified": true, "name": "Ann", "picture": "https://img.example/ann.png"}',
                           '{"access_token": "ya29.access-one", "refresh_token": "1//refresh-one", "id_token": "eyJ.id-one", "expires_in": 3599, "scope": "openid email profile"}',
                           :'f5_flow_id', '10.0.0.1', 'test-agent');
RESET ROLE;
SELECT u.email, u.name, u.email_verified, a.provider_id, a.account_id, a.scope,
       a.access_token_expires_at BETWEEN now() + interval '3598 s' AND now() + interval '3600 s' AS expiry,
       (SELECT count(*) FROM auth.sessions s WHERE s.user_id = u.id) AS sessions
  FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id WHERE u.email = 'ann@example.com';
SET ROLE regress_pgauth_service;
-- the flow is completed: a second sign-in with it is refused, and nothing is written
SELECT error_code AS completed_flow FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com"}', NULL, :'f5_flow_id', NULL, NULL);
-- a flow not taken, an unknown flow, a flow of another provider
SELECT state, binding FROM auth.social_flow_start('google', 'sign-in', NULL, NULL, NULL, NULL) \gset f6_
RESET ROLE;
SELECT id AS f6_id FROM auth.social_flows WHERE state_digest = sha256(convert_to(:'f6_state', 'UTF8')) \gset
SET ROLE regress_pgauth_service;
SELECT error_code AS not_taken FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com"}', NULL, :'f6_id', NULL, NULL);
SELECT error_code AS unknown_flow FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com"}', NULL, gen_random_uuid(), NULL, NULL);
SELECT flow_id AS f6_flow FROM auth.social_flow_take(:'f6_state', :'f6_binding', 'google') \gset
SELECT error_code AS flow_of_other_provider FROM auth.social_sign_in('github', '{"sub": "g-100", "email": "ann@example.com"}', NULL, :'f6_flow', NULL, NULL);

-- returning user (id-token sign-in, no flow): same user, tokens replaced, a refresh token not sent is kept
SELECT new_user, linked, error_code, body::jsonb -> 'user' ->> 'email' AS email
  FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com", "email_verified": true}',
                           '{"access_token": "ya29.access-two", "expires_in": 60}', NULL, NULL, NULL);
RESET ROLE;
SELECT count(*) AS ann_users FROM auth.users WHERE email = 'ann@example.com';
SET ROLE regress_pgauth_service;
SELECT session_token AS ann_tok FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com"}', NULL, NULL, NULL, NULL) \gset
SELECT account_id, access_token, refresh_token, id_token, scopes, needs_refresh
  FROM auth.social_account_tokens(:'ann_tok', 'google', NULL);

-- claims: a missing email, bad input; nothing is written
RESET ROLE;
SELECT count(*) AS users_before FROM auth.users \gset
SET ROLE regress_pgauth_service;
SELECT c AS claims, (SELECT error_code FROM auth.social_sign_in('google', c::jsonb, NULL, NULL, NULL, NULL)) AS error_code
  FROM unnest(ARRAY['{"sub": "g-200"}', '{"sub": "g-200", "email": ""}', '{"sub": "g-200", "email": 5}',
                    '{"sub": "g-200", "email": "not-an-email"}', '{"email": "x@example.com"}', '{"sub": "", "email": "x@example.com"}',
                    '{"sub": {"a": 1}, "email": "x@example.com"}', '[1]', 'null']) c;
SELECT error_code AS bad_provider FROM auth.social_sign_in('credential', '{"sub": "g-200", "email": "x@example.com"}', NULL, NULL, NULL, NULL);
-- an error after the user and account rows were written (bad tokens) leaves no partial user
SELECT t AS tokens, (SELECT error_code FROM auth.social_sign_in('google', '{"sub": "g-201", "email": "partial@example.com", "email_verified": true}', t::jsonb, NULL, NULL, NULL)) AS error_code
  FROM unnest(ARRAY['{"access_token": 5}', '{"expires_in": "soon"}', '{"expires_in": -1}', '"tok"']) t;
RESET ROLE;
SELECT count(*) - :users_before AS new_users, (SELECT count(*) FROM auth.accounts WHERE account_id IN ('g-200', 'g-201')) AS accounts
  FROM auth.users;
SET ROLE regress_pgauth_service;
-- an unverified address becomes verified when the provider later vouches for it
SELECT (body::jsonb -> 'user' ->> 'emailVerified') AS first_verified FROM auth.social_sign_in('gitlab', '{"sub": "gl-1", "email": "dee@example.com", "email_verified": false}', NULL, NULL, NULL, NULL);
SELECT (body::jsonb -> 'user' ->> 'emailVerified') AS then_verified FROM auth.social_sign_in('gitlab', '{"sub": "gl-1", "email": "dee@example.com", "email_verified": true}', NULL, NULL, NULL, NULL);
-- GitHub's numeric id as a JSON number is the same subject as its text
SELECT new_user, error_code FROM auth.social_sign_in('github', '{"sub": 4242, "email": "octo@example.com", "email_verified": true}', NULL, NULL, NULL, NULL);
SELECT new_user, error_code FROM auth.social_sign_in('github', '{"sub": "4242", "email": "octo@example.com", "email_verified": true}', NULL, NULL, NULL, NULL);

-- ---------------------------------------------------------------- linking rules
-- an email/password user exists; a social sign-in with that email links only when the
-- provider is trusted AND asserts email_verified
SELECT session_token AS bob_tok, user_id AS bob FROM auth.sign_up_email('bob@example.com', 'bob-password-1', 'Bob') \gset
SELECT p AS provider, v AS email_verified,
       (SELECT error_code FROM auth.social_sign_in(p, jsonb_build_object('sub', p || '-bob', 'email', 'BOB@example.com', 'email_verified', v), '{"access_token": "t"}', NULL, NULL, NULL)) AS error_code
  FROM (VALUES ('google', 'false'::jsonb), ('google', 'null'), ('google', '"no"'), ('github', 'true'), ('acmex', 'true')) x(p, v);
SELECT count(*) AS bob_accounts FROM auth.list_accounts(:'bob_tok') j, json_array_elements(j) e;
SELECT new_user, linked, error_code, (body::jsonb -> 'user' ->> 'id')::uuid = :'bob' AS same_user
  FROM auth.social_sign_in('acme', '{"sub": "acme-bob", "email": "bob@example.com", "email_verified": "true"}', '{"access_token": "t"}', NULL, NULL, NULL);
SELECT json_agg(e ->> 'providerId' ORDER BY e ->> 'providerId') AS bob_providers FROM json_array_elements(auth.list_accounts(:'bob_tok')) e;
-- a deactivated user does not sign in socially
RESET ROLE;
UPDATE auth.users SET is_active = false WHERE email = 'octo@example.com';
SET ROLE regress_pgauth_service;
SELECT error_code AS inactive FROM auth.social_sign_in('github', '{"sub": "4242", "email": "octo@example.com"}', NULL, NULL, NULL, NULL);
-- sign-up off: existing accounts still sign in, a new identity is refused
RESET ROLE;
SET pgauth.social_disable_sign_up = on;
SET ROLE regress_pgauth_service;
SELECT error_code AS sign_up_disabled FROM auth.social_sign_in('google', '{"sub": "g-300", "email": "new@example.com", "email_verified": true}', NULL, NULL, NULL, NULL);
SELECT error_code AS returning_still_works FROM auth.social_sign_in('google', '{"sub": "g-100", "email": "ann@example.com"}', NULL, NULL, NULL, NULL);
RESET ROLE;
RESET pgauth.social_disable_sign_up;
SELECT count(*) AS new_users FROM auth.users WHERE email = 'new@example.com';
SET ROLE regress_pgauth_service;

-- link from a session: an unverified identity, another email; then nobody else can take it
SELECT state, binding FROM auth.social_flow_start('github', 'link', :'bob_tok', 'https://app.example/settings', NULL, NULL) \gset l1_
SELECT flow_id AS l1_flow, kind AS l1_kind FROM auth.social_flow_take(:'l1_state', :'l1_binding', 'github') \gset
SELECT :'l1_kind' AS kind, body, session_token IS NULL AS no_session, new_user, linked, error_code
  FROM auth.social_sign_in('github', '{"sub": "777", "email": "bob-personal@example.org", "email_verified": false}', '{"access_token": "gho_bob", "scope": "read:user,user:email"}', :'l1_flow', NULL, NULL);
SELECT e ->> 'accountId' AS account_id, e -> 'scopes' AS scopes, (e ->> 'userId')::uuid = :'bob' AS bobs,
       (SELECT array_agg(k ORDER BY k) FROM json_object_keys(e) k) AS keys
  FROM json_array_elements(auth.list_accounts(:'bob_tok')) e WHERE e ->> 'providerId' = 'github';
-- the unverified GitHub identity now signs in as Bob
SELECT (body::jsonb -> 'user' ->> 'id')::uuid = :'bob' AS signs_in_as_bob, new_user, linked
  FROM auth.social_sign_in('github', '{"sub": "777", "email": "bob-personal@example.org"}', NULL, NULL, NULL, NULL);
-- Ann tries to link Bob's GitHub account: refused, and Ann's flow is spent
SELECT state, binding FROM auth.social_flow_start('github', 'link', :'ann_tok', NULL, NULL, NULL) \gset l2_
SELECT flow_id AS l2_flow FROM auth.social_flow_take(:'l2_state', :'l2_binding', 'github') \gset
SELECT error_code AS linked_elsewhere FROM auth.social_sign_in('github', '{"sub": "777", "email": "ann@example.com", "email_verified": true}', NULL, :'l2_flow', NULL, NULL);
SELECT error_code AS flow_spent FROM auth.social_sign_in('github', '{"sub": "778", "email": "ann@example.com"}', NULL, :'l2_flow', NULL, NULL);
SELECT count(*) AS ann_github FROM json_array_elements(auth.list_accounts(:'ann_tok')) e WHERE e ->> 'providerId' = 'github';
-- re-linking one's own account only refreshes its tokens
SELECT state, binding FROM auth.social_flow_start('github', 'link', :'bob_tok', NULL, NULL, NULL) \gset l3_
SELECT flow_id AS l3_flow FROM auth.social_flow_take(:'l3_state', :'l3_binding', 'github') \gset
SELECT new_user, linked, error_code FROM auth.social_sign_in('github', '{"sub": "777", "email": "bob@example.com"}', '{"access_token": "gho_bob2"}', :'l3_flow', NULL, NULL);
SELECT access_token FROM auth.social_account_tokens(:'bob_tok', 'github', '777');

-- ---------------------------------------------------------------- tokens
SELECT try(format('SELECT * FROM auth.social_account_tokens(%L, %L, NULL)', :'bob_tok', 'gitlab')) AS no_such_account,
       try(format('SELECT * FROM auth.social_account_tokens(%L, %L, NULL)', :'bob_tok', 'credential')) AS credential_has_none,
       try(format('SELECT * FROM auth.social_account_tokens(%L, %L, %L)', :'bob_tok', 'github', '778')) AS other_account_id,
       try($$SELECT * FROM auth.social_account_tokens('nope', 'github', NULL)$$) AS no_session;
SELECT account_row_id AS ann_google FROM auth.social_account_tokens(:'ann_tok', 'google', NULL) \gset
RESET ROLE;
UPDATE auth.accounts SET access_token_expires_at = now() - interval '1 minute' WHERE id = :'ann_google';
SET ROLE regress_pgauth_service;
SELECT needs_refresh FROM auth.social_account_tokens(:'ann_tok', 'google', :'ann_google');
-- Better-Auth 1.7's client names the account by its row id alone (list-accounts' id)
SELECT provider_id, account_id, access_token FROM auth.social_account_tokens(:'ann_tok', NULL, :'ann_google');
SELECT provider_id, account_id FROM auth.social_account_tokens(:'ann_tok', NULL, 'g-100') AS by_provider_account_id;
SELECT try(format('SELECT * FROM auth.social_account_tokens(%L, NULL, NULL)', :'ann_tok')) AS neither,
       try(format('SELECT * FROM auth.social_account_tokens(%L, NULL, %L)', :'bob_tok', :'ann_google')) AS anns_row_for_bob;
SELECT auth.social_store_tokens(:'ann_tok', :'ann_google', '{"access_token": "ya29.access-three", "expires_in": 3600, "scope": "openid email"}')::jsonb
       - 'accessTokenExpiresAt' AS refreshed;
SELECT access_token, refresh_token, needs_refresh, scopes,
       access_token_expires_at > now() + interval '3590 s' AS new_expiry
  FROM auth.social_account_tokens(:'ann_tok', 'google', NULL);
SELECT try(format('SELECT auth.social_store_tokens(%L, %L, %L)', :'bob_tok', :'ann_google', '{"access_token": "x"}')) AS not_yours,
       try(format('SELECT auth.social_store_tokens(%L, %L, %L)', :'ann_tok', :'ann_google', '{}')) AS no_access_token,
       try(format('SELECT auth.social_store_tokens(%L, %L, %L)', 'nope', :'ann_google', '{"access_token": "x"}')) AS no_session;
RESET ROLE;
-- a dump of the tables holds no usable provider token (nor in hex)
SELECT count(*) AS accounts_with_tokens,
       bool_and(position(t IN a::text) = 0 AND position(encode(convert_to(t, 'UTF8'), 'hex') IN a::text) = 0) AS no_token_in_dump
  FROM auth.accounts a,
       unnest(ARRAY['ya29.access-one', 'ya29.access-two', 'ya29.access-three', '1//refresh-one', 'eyJ.id-one', 'gho_bob', 'gho_bob2']) t
 WHERE a.access_token_sealed IS NOT NULL;
-- a sealed token copied onto another row, or into another column of its own row, does not open
SELECT account_row_id AS bob_github FROM auth.social_account_tokens(:'bob_tok', 'github', NULL) \gset
UPDATE auth.accounts SET access_token_sealed = (SELECT access_token_sealed FROM auth.accounts WHERE id = :'ann_google')
 WHERE id = :'bob_github';
SELECT try(format('SELECT * FROM auth.social_account_tokens(%L, %L, NULL)', :'bob_tok', 'github')) AS swapped_row;
UPDATE auth.accounts SET access_token_sealed = refresh_token_sealed WHERE id = :'ann_google';
SELECT try(format('SELECT * FROM auth.social_account_tokens(%L, %L, NULL)', :'ann_tok', 'google')) AS swapped_column;
SELECT try(format('SELECT auth.social_open(%L, %L, %L)', :'ann_google', 'refresh_token', '\x00'::bytea)) AS garbage;
SELECT auth.social_open(:'ann_google', 'refresh_token', refresh_token_sealed) AS own_place_opens
  FROM auth.accounts WHERE id = :'ann_google';
-- (the two swapped tokens are cleared: auth.reseal() refuses a value that opens with no KEK)
UPDATE auth.accounts SET access_token_sealed = NULL WHERE id IN (:'bob_github', :'ann_google');
SET ROLE regress_pgauth_service;

-- ---------------------------------------------------------------- unlink
-- Bob: credential + acme + github
SELECT try(format('SELECT auth.unlink_account(%L, %L, NULL)', :'bob_tok', 'gitlab')) AS not_found,
       try(format('SELECT auth.unlink_account(%L, %L, %L)', :'bob_tok', 'github', '778')) AS other_account_id,
       try($$SELECT auth.unlink_account('nope', 'github', NULL)$$) AS no_session;
SELECT e ->> 'id' AS bob_acme FROM json_array_elements(auth.list_accounts(:'bob_tok')) e WHERE e ->> 'providerId' = 'acme' \gset
SELECT try(format('SELECT auth.unlink_account(%L, NULL, NULL)', :'bob_tok')) AS neither,
       try(format('SELECT auth.unlink_account(%L, NULL, %L)', :'bob_tok', :'ann_google')) AS anns_row_for_bob;
-- by provider and the provider's account id, then by the row id alone (Better-Auth 1.7's client)
SELECT auth.unlink_account(:'bob_tok', 'github', '777') AS unlinked_github, auth.unlink_account(:'bob_tok', NULL, :'bob_acme') AS unlinked_acme;
SELECT try(format('SELECT auth.unlink_account(%L, %L, NULL)', :'bob_tok', 'credential')) AS last_way;
-- Ann: one Google account only
SELECT try(format('SELECT auth.unlink_account(%L, %L, NULL)', :'ann_tok', 'google')) AS ann_last;
-- a credential account without a password is no way to sign in
SELECT session_token AS carl_tok, body::jsonb -> 'user' ->> 'id' AS carl FROM auth.social_sign_in('acme', '{"sub": "acme-carl", "email": "carl@example.com", "email_verified": true}', NULL, NULL, NULL, NULL) \gset
SELECT (body::jsonb -> 'user' ->> 'id') AS carl_id FROM auth.social_sign_in('google', '{"sub": "g-carl", "email": "carl@example.com", "email_verified": true}', NULL, NULL, NULL, NULL) \gset
RESET ROLE;
INSERT INTO auth.accounts (user_id, provider_id, account_id) VALUES (:'carl_id', 'credential', :'carl_id');
SET ROLE regress_pgauth_service;
SELECT json_array_length(auth.list_accounts(:'carl_tok')) AS carl_accounts, auth.unlink_account(:'carl_tok', 'google', NULL) AS unlinked_google;
SELECT try(format('SELECT auth.unlink_account(%L, %L, NULL)', :'carl_tok', 'acme')) AS passwordless_credential_does_not_count;
RESET ROLE;

-- ---------------------------------------------------------------- privileges, deletion
SELECT p.oid::regprocedure AS function, has_function_privilege('pgauth_service', p.oid, 'EXECUTE') AS service,
       has_function_privilege('pgauth_reader', p.oid, 'EXECUTE') AS reader, has_function_privilege('pgauth_admin', p.oid, 'EXECUTE') AS admin,
       p.prosecdef AS definer
  FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace
   AND (p.proname LIKE 'social%' OR p.proname IN ('list_accounts', 'unlink_account'))
 ORDER BY p.proname;
SET ROLE regress_pgauth_service;
SELECT try('SELECT count(*) FROM auth.social_flows') AS flows_table, try('SELECT count(*) FROM auth.accounts') AS accounts_table,
       try($$SELECT auth.social_open(gen_random_uuid(), 'x', '\x00')$$) AS open_internal;
SELECT state, binding FROM auth.social_flow_start('google', 'link', :'carl_tok', NULL, NULL, NULL) \gset d1_
RESET ROLE;
-- deleting a user removes its accounts and its link flows
SELECT (SELECT count(*) FROM auth.accounts WHERE user_id = :'carl') AS accounts_before,
       (SELECT count(*) FROM auth.social_flows WHERE link_user_id = :'carl') AS link_flows_before;
SELECT auth.delete_user(:'carl') AS deleted;
SELECT (SELECT count(*) FROM auth.accounts WHERE user_id = :'carl') AS accounts,
       (SELECT count(*) FROM auth.social_flows WHERE link_user_id = :'carl') AS link_flows;
RESET pgauth.social_trusted_providers;
