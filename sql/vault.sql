-- Vault: per-user secrets, sealed under the KEK, write-only for the service, read by pgauth_vault.
SELECT session_token AS tok, user_id AS uid FROM auth.sign_up_email('vault@example.com', 'vault-password-1', 'Vault') \gset
SELECT session_token AS tok2, user_id AS uid2 FROM auth.sign_up_email('vault2@example.com', 'vault-password-1', 'Vault Two') \gset
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_vault') THEN
        CREATE ROLE regress_pgauth_vault NOLOGIN IN ROLE pgauth_vault;
    END IF;
END
$$;

-- the masking rule: at most a third of the characters, at most the first 8 and last 4
SELECT n, auth.vault_mask(left('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ', n)) AS masked
  FROM unnest(ARRAY[1, 5, 6, 7, 9, 12, 18, 24, 35, 36, 46]) n;
SELECT auth.vault_mask('ключ-секрет-значение') AS multibyte;

-- set, mask and replace (as the service role)
SET ROLE regress_pgauth_service;
SELECT auth.vault_set(:'tok', '{"togetherAI": "sk-abc12345678901234567890wxyz", "codeRabbit": "cr-0123456789"}')::jsonb #- '{keys,0,updatedAt}' #- '{keys,1,updatedAt}' AS set_two;
SELECT auth.vault_set(:'tok', '{"togetherAI": "sk-new00000000000000000000000000abcd"}')::jsonb -> 'keys' -> 1 ->> 'masked' AS replaced;
SELECT jsonb_path_query_array(auth.vault_list(:'tok')::jsonb, '$.keys[*].name') AS names,
       auth.vault_list(:'tok')::jsonb -> 'keys' -> 0 ->> 'updatedAt' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS iso_time;
-- the list never holds a value
SELECT position('sk-new0000000000' IN auth.vault_list(:'tok')::text) AS value_in_list;
-- delete with null (an unknown name with null is no error)
SELECT auth.vault_set(:'tok', '{"codeRabbit": null, "neverSet": null}')::jsonb -> 'keys' -> 0 ->> 'name' AS left_after_delete,
       json_array_length(auth.vault_list(:'tok') -> 'keys') AS count;
-- a token that names no live session: NULL
SELECT auth.vault_list('nope') IS NULL AS list_no_session, auth.vault_set('nope', '{"a": "b"}') IS NULL AS set_no_session;
-- bad input: nothing is written
SELECT try($$SELECT auth.vault_set('$$ || :'tok' || $$', '["a"]')$$) AS not_object,
       try($$SELECT auth.vault_set('$$ || :'tok' || $$', '{"a": 1}')$$) AS number_value,
       try($$SELECT auth.vault_set('$$ || :'tok' || $$', '{"a": ""}')$$) AS empty_value,
       try($$SELECT auth.vault_set('$$ || :'tok' || $$', NULL)$$) AS null_body;
SELECT name, try(format('SELECT auth.vault_set(%L, %L)', :'tok', jsonb_build_object('ok1', 'v', name, 'v'))) AS result
  FROM unnest(ARRAY['1abc', '_x', 'a b', 'a/b', 'a''b', 'a;DROP', '', repeat('a', 64) || 'b', 'ä', E'a\nb', 'a..b-c_d']) name;
SELECT try(format('SELECT auth.vault_set(%L, %L)', :'tok', jsonb_build_object('big', repeat('x', 8193), 'ok2', 'v'))) AS too_large,
       try(format('SELECT auth.vault_set(%L, %L)', :'tok', jsonb_build_object('big', repeat('x', 8192)))) AS at_limit;
SELECT jsonb_path_query_array(auth.vault_list(:'tok')::jsonb, '$.keys[*].name') AS names_after_bad_input;
SELECT auth.vault_set(:'tok', '{"big": null, "a..b-c_d": null}') IS NOT NULL AS cleaned;
-- at most pgauth.vault_max_entries (50) entries: 2 + 48 fit; one more call over 50 is refused whole
SELECT json_array_length(auth.vault_set(:'tok', (SELECT jsonb_object_agg('k' || i, 'value-' || i) FROM generate_series(1, 48) i)) -> 'keys') AS full;
SELECT try(format('SELECT auth.vault_set(%L, %L)', :'tok', '{"k50": null, "one": "v"}')) AS over_limit,
       json_array_length(auth.vault_list(:'tok') -> 'keys') AS still,
       auth.vault_list(:'tok')::text LIKE '%"one"%' AS one_written;
-- more values in one call than the vault can hold: refused before sealing any (so even
-- without a KEK the answer is VAULT_FULL, not SIGNING_KEY_UNAVAILABLE)
RESET ROLE;
SET pgauth.key_file = '';
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.vault_set(%L, %L)', :'tok', (SELECT jsonb_object_agg('x' || i, 'v') FROM generate_series(1, 51) i))) AS too_many_at_once;
RESET ROLE;
RESET pgauth.key_file;
SET ROLE regress_pgauth_service;
-- a delete and a set in one call: the count after the call is what counts
SELECT json_array_length(auth.vault_set(:'tok', '{"k48": null, "one": "v"}') -> 'keys') AS swap_fits;
SELECT jsonb_path_query_array(auth.vault_set(:'tok', (SELECT jsonb_object_agg('k' || i, NULL) FROM generate_series(1, 47) i) || '{"one": null}')::jsonb,
                              '$.keys[*].name') AS back_to_two;
RESET ROLE;

-- reading: pgauth_vault only
SET ROLE regress_pgauth_vault;
SELECT auth.vault_read(:'uid', 'togetherAI') AS plaintext, auth.vault_read(:'uid', 'missing') AS missing,
       auth.vault_read(:'uid2', 'togetherAI') AS other_user;
RESET ROLE;
SELECT r, try(format('SELECT auth.vault_read(%L, ''togetherAI'')', :'uid')) AS vault_read,
       try(format('SELECT auth.vault_open(%L, ''togetherAI'', ''\x00''::bytea)', :'uid')) AS vault_open,
       try('SELECT count(*) FROM auth.vault') AS vault_table
  FROM unnest(ARRAY['regress_pgauth_reader', 'regress_pgauth_service', 'regress_pgauth_admin', 'regress_pgauth_nobody']) r,
       LATERAL (SELECT set_config('role', r, false)) s;
RESET ROLE;
-- and pgauth_vault cannot list, set, or read the table
SET ROLE regress_pgauth_vault;
SELECT try(format('SELECT auth.vault_list(%L)', :'tok')) AS list, try('SELECT count(*) FROM auth.vault') AS vault_table,
       try('SELECT count(*) FROM auth.audit_log') AS audit_table;
RESET ROLE;

-- the audit: one row per read (found or not), who and whose, never the value
SELECT actor = session_user AS actor_ok, role, event, user_id = :'uid'::uuid AS own_user, detail
  FROM auth.audit_log WHERE event = 'vault_read' ORDER BY id;
SELECT count(*) AS audit_rows_with_a_value FROM auth.audit_log WHERE detail::text LIKE '%sk-new%';
-- no role can read, rewrite or delete the audit (only the owner)
SELECT r, try('SELECT count(*) FROM auth.audit_log') AS sel, try('UPDATE auth.audit_log SET detail = ''{}''') AS upd,
       try('DELETE FROM auth.audit_log') AS del,
       try('INSERT INTO auth.audit_log (actor, role, event) VALUES (''x'', ''y'', ''z'')') AS ins
  FROM unnest(ARRAY['regress_pgauth_reader', 'regress_pgauth_service', 'regress_pgauth_admin', 'regress_pgauth_vault']) r,
       LATERAL (SELECT set_config('role', r, false)) s;
RESET ROLE;

-- sealed: the row holds no plaintext; a ciphertext moved to another name or user does not open
SELECT position(convert_to('sk-new', 'UTF8') IN sealed) AS plaintext_in_row, length(sealed) > 40 AS sealed_len
  FROM auth.vault WHERE user_id = :'uid' AND name = 'togetherAI';
SET ROLE regress_pgauth_service;
SELECT auth.vault_set(:'tok', '{"other": "other-secret-value"}') IS NOT NULL AS set_other,
       auth.vault_set(:'tok2', '{"togetherAI": "second-user-secret"}') IS NOT NULL AS set_second_user;
RESET ROLE;
UPDATE auth.vault SET sealed = (SELECT sealed FROM auth.vault WHERE user_id = :'uid' AND name = 'togetherAI')
 WHERE user_id = :'uid' AND name = 'other';
UPDATE auth.vault SET sealed = (SELECT sealed FROM auth.vault WHERE user_id = :'uid' AND name = 'togetherAI')
 WHERE user_id = :'uid2' AND name = 'togetherAI';
SET ROLE regress_pgauth_vault;
SELECT try(format('SELECT auth.vault_read(%L, ''other'')', :'uid')) AS swapped_name,
       try(format('SELECT auth.vault_read(%L, ''togetherAI'')', :'uid2')) AS swapped_user,
       auth.vault_read(:'uid', 'togetherAI') AS original_still_opens;
RESET ROLE;
-- a flipped byte does not open either
UPDATE auth.vault SET sealed = set_byte(sealed, 30, get_byte(sealed, 30) # 1) WHERE user_id = :'uid' AND name = 'other';
SET ROLE regress_pgauth_vault;
SELECT try(format('SELECT auth.vault_read(%L, ''other'')', :'uid')) AS tampered;
RESET ROLE;
-- without a KEK nothing is sealed (and nothing written)
SET pgauth.key_file = '';
SET ROLE regress_pgauth_service;
SELECT try(format('SELECT auth.vault_set(%L, ''{"nokek": "value"}'')', :'tok')) AS no_kek;
RESET ROLE;
RESET pgauth.key_file;
SELECT count(*) AS nokek_rows FROM auth.vault WHERE name = 'nokek';

-- deleting a user deletes their vault (the audit stays)
SELECT count(*) AS before FROM auth.vault WHERE user_id = :'uid2';
SELECT auth.delete_user(:'uid2');
SELECT count(*) AS after FROM auth.vault WHERE user_id = :'uid2';
SELECT auth.delete_user(:'uid');
SELECT count(*) AS vault_rows_left FROM auth.vault WHERE user_id IN (:'uid', :'uid2');
SELECT count(*) > 0 AS audit_kept FROM auth.audit_log WHERE user_id = :'uid';

-- ---------------------------------------------------------------- rotating the KEK online
-- A second key file beside the data directory, readable by the server only (COPY ... TO
-- PROGRAM with umask 077: a file COPY writes itself would be readable by others).
SELECT current_setting('pgauth.key_file') AS kek_a, current_setting('data_directory') || '/regress-kek-b.key' AS kek_b \gset
COPY (SELECT encode(sha256(gen_random_uuid()::text::bytea), 'hex')) TO PROGRAM 'umask 077 && cat > regress-kek-b.key';
SELECT session_token AS rtok, user_id AS ruid FROM auth.sign_up_email('rotate@example.com', 'rotate-password-1', 'Rotate') \gset
SELECT auth.session_jwt(:'rtok') IS NOT NULL AS a_signing_key_exists;  -- created under A when there is none
-- a social provider's tokens and a queued mail, sealed under A too
SELECT session_token AS stok FROM auth.social_sign_in('acme',
    '{"sub": "rotate-sub", "email": "rotate-social@example.com", "email_verified": true}',
    '{"access_token": "at-rotate-123", "refresh_token": "rt-rotate-456"}', NULL, NULL, NULL) \gset
SELECT auth.magic_link_request('rotate-mail@example.com', NULL, '/', NULL, NULL) IS NOT NULL AS mail_queued_under_a;
SET ROLE regress_pgauth_service;
SELECT auth.vault_set(:'rtok', '{"togetherAI": "sk-rotate-0123456789"}') IS NOT NULL AS sealed_under_a;
RESET ROLE;
SELECT (auth.key_status()).status AS status_a;
-- the new KEK alone: what A sealed does not open (this is what the previous KEK is for)
SET pgauth.key_file = :'kek_b';
SET ROLE regress_pgauth_vault;
SELECT try(format('SELECT auth.vault_read(%L, ''togetherAI'')', :'ruid')) AS b_alone;
RESET ROLE;
SELECT (auth.key_status()).status AS status_b_alone;
-- B current, A previous: everything opens
SET pgauth.previous_key_file = :'kek_a';
SET ROLE regress_pgauth_vault;
SELECT auth.vault_read(:'ruid', 'togetherAI') AS opens_with_previous;
RESET ROLE;
SELECT (auth.key_status()).status AS status_with_previous;
SELECT access_token AS social_opens_with_previous FROM auth.social_account_tokens(:'stok', 'acme', NULL);
-- a value set now is sealed under B
SET ROLE regress_pgauth_service;
SELECT auth.vault_set(:'rtok', '{"codeRabbit": "cr-rotate-abcdefghij"}') IS NOT NULL AS sealed_under_b;
RESET ROLE;
-- re-seal: every value sealed under A moves to B (codeRabbit already is)
SELECT kind, CASE kind WHEN 'vault' THEN resealed::text ELSE (resealed > 0)::text END AS resealed, current
  FROM auth.reseal() ORDER BY kind;
-- a second call finds nothing left under A
SELECT kind, resealed, current > 0 AS all_current FROM auth.reseal() ORDER BY kind;
-- without the previous KEK everything still opens
RESET pgauth.previous_key_file;
SET ROLE regress_pgauth_vault;
SELECT auth.vault_read(:'ruid', 'togetherAI') AS opens_after_reseal, auth.vault_read(:'ruid', 'codeRabbit') AS set_under_b;
RESET ROLE;
SELECT (auth.key_status()).status AS status_after_reseal;
SELECT auth.session_jwt(:'rtok') ~ '^[\w-]+\.[\w-]+\.[\w-]+$' AS signs_after_reseal;
SELECT access_token, refresh_token FROM auth.social_account_tokens(:'stok', 'acme', NULL);
SELECT count(*) FILTER (WHERE c.vars ->> 'url' LIKE '/magic-link/verify?token=%') AS mail_opens_after_reseal
  FROM auth.outbox_claim('rotate-worker', 10) c;
DELETE FROM auth.outbox WHERE recipient = 'rotate-mail@example.com';  -- (later tests count the outbox and accounts)
DELETE FROM auth.verifications WHERE email = 'rotate-mail@example.com';
DELETE FROM auth.users WHERE email = 'rotate-social@example.com';
-- the old KEK alone no longer opens them
SET pgauth.key_file = :'kek_a';
SET ROLE regress_pgauth_vault;
SELECT try(format('SELECT auth.vault_read(%L, ''togetherAI'')', :'ruid')) AS a_alone;
RESET ROLE;
-- a value that opens with neither KEK: reseal refuses and changes nothing
SET pgauth.previous_key_file = '/nonexistent/kek';
SELECT try('SELECT auth.reseal()') AS previous_file_missing;
RESET pgauth.previous_key_file;
SELECT try('SELECT auth.reseal()') AS neither_opens;
-- and back to A (the cluster's KEK) for the tests that follow
SET pgauth.previous_key_file = :'kek_b';
SELECT kind, resealed > 0 AS some_resealed FROM auth.reseal() ORDER BY kind;
RESET pgauth.previous_key_file;
RESET pgauth.key_file;
SELECT (auth.key_status()).status AS status_back_on_a;
-- only superusers see or set the previous key file
SELECT count(*) AS superuser_sees_previous FROM auth.settings() WHERE name = 'pgauth.previous_key_file';
CREATE ROLE regress_pgauth_admin_login LOGIN IN ROLE pgauth_admin;
SET SESSION AUTHORIZATION regress_pgauth_admin_login;
SELECT try('SHOW pgauth.previous_key_file') AS admin_show_previous,
       try($$SET pgauth.previous_key_file = '/tmp/mine'$$) AS admin_set_previous,
       (SELECT count(*) FROM auth.settings() WHERE name = 'pgauth.previous_key_file') AS admin_settings_rows;
RESET SESSION AUTHORIZATION;
DROP ROLE regress_pgauth_admin_login;
SELECT auth.delete_user(:'ruid');
COPY (SELECT 1) TO PROGRAM 'rm -f regress-kek-b.key';
