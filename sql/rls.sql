-- Row-level security keyed on the signed-in user: auth.session_init / auth.jwt_session_init
-- store a verified identity in backend memory; auth.user_id(), auth.jwt(), auth.session() read it.
SELECT session_token AS alice_tok, user_id AS alice FROM auth.sign_up_email('rls-alice@example.com', 'alice-password', 'Alice') \gset
SELECT session_token AS bob_tok, user_id AS bob FROM auth.sign_up_email('rls-bob@example.com', 'bob-password-1', 'Bob') \gset
SELECT auth.session_jwt(:'bob_tok') AS bob_jwt \gset

CREATE TABLE public.notes (id serial PRIMARY KEY, owner_id uuid NOT NULL, body text NOT NULL);
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON public.notes
    USING (owner_id = auth.user_id()) WITH CHECK (owner_id = auth.user_id());
INSERT INTO public.notes (owner_id, body) VALUES
    (:'alice', 'alice: groceries'), (:'alice', 'alice: dentist'), (:'bob', 'bob: rent');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_app') THEN
        CREATE ROLE regress_pgauth_app NOLOGIN IN ROLE pgauth_reader;
    END IF;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes TO regress_pgauth_app;
GRANT USAGE ON SEQUENCE public.notes_id_seq TO regress_pgauth_app;

SET ROLE regress_pgauth_app;
-- nobody signed in: no rows, and every helper is NULL
SELECT count(*) AS rows_seen FROM public.notes;
SELECT auth.user_id() IS NULL AS no_user, auth.jwt() IS NULL AS no_jwt, auth.session() IS NULL AS no_session;

-- Alice, from her opaque session token, for one transaction
BEGIN;
SELECT auth.session_init(:'alice_tok');
SELECT body FROM public.notes ORDER BY id;
SELECT auth.user_id() = :'alice' AS is_alice, auth.session() ->> 'email' AS email, auth.session() ->> 'sid' IS NOT NULL AS has_sid,
       auth.jwt() IS NULL AS jwt_only_from_jwt_init;
UPDATE public.notes SET body = body || ' (seen)' WHERE owner_id = :'bob' RETURNING id;
SELECT try(format('INSERT INTO public.notes (owner_id, body) VALUES (%L, %L)', :'bob', 'forged by alice')) AS write_as_bob;
COMMIT;
-- the identity ended with the transaction
SELECT count(*) AS rows_after_commit, auth.user_id() IS NULL AS no_user_after_commit FROM public.notes;

-- Bob, from a JWT: sees only his row; ROLLBACK ends the identity too
BEGIN;
SELECT auth.jwt_session_init(:'bob_jwt');
SELECT body FROM public.notes ORDER BY id;
SELECT auth.user_id() = :'bob' AS is_bob, auth.jwt() ->> 'email' AS jwt_email, auth.session() ->> 'email' AS session_email;
INSERT INTO public.notes (owner_id, body) VALUES (:'bob', 'bob: new note');
SELECT count(*) AS bobs_rows FROM public.notes;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM public.notes;

-- a hand-set setting impersonates nobody
SELECT set_config('request.jwt.claims', format('{"sub": "%s"}', :'alice'), false) IS NOT NULL AS set_request_claims;
SELECT set_config('request.jwt.claim.sub', :'alice', false) IS NOT NULL AS set_request_sub;
SELECT try(format('SET pgauth.user_id = %L', :'alice')) AS set_pgauth_user_id;
SELECT count(*) AS rows_seen_after_set, auth.user_id() IS NULL AS still_nobody FROM public.notes;
RESET request.jwt.claims;

-- forged, expired or revoked credentials are refused, and a failed init leaves nobody signed in
BEGIN;
SELECT auth.session_init(:'alice_tok');
-- Bob's JWT with Alice's id as sub (his signature kept)
SELECT try(format('SELECT auth.jwt_session_init(%L)', split_part(:'bob_jwt', '.', 1) || '.'
    || translate(rtrim(replace(encode(convert_to(format('{"sub":"%s","exp":99999999999}', :'alice'), 'UTF8'), 'base64'), E'\n', ''), '='), '+/', '-_')
    || '.' || split_part(:'bob_jwt', '.', 3))) AS forged_jwt;
SELECT auth.user_id() IS NULL AS nobody_after_failed_init, count(*) AS rows_seen FROM public.notes;
COMMIT;
SELECT try($$SELECT auth.jwt_session_init('not.a.jwt')$$) AS garbage_jwt;
SELECT try($$SELECT auth.jwt_session_init(NULL)$$) AS null_jwt;
SELECT try($$SELECT auth.session_init('no-such-session')$$) AS unknown_session;
SELECT try($$SELECT auth.session_init(NULL)$$) AS null_session;
RESET ROLE;
SELECT auth.sign_jwt(jsonb_build_object('sub', :'alice'), interval '-5 minutes') AS expired_jwt \gset
SELECT auth.sign_jwt(jsonb_build_object('sub', 'not-a-uuid', 'role', 'robot')) AS odd_sub_jwt \gset
SET ROLE regress_pgauth_app;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'expired_jwt')) AS expired_jwt;
-- a valid JWT whose sub is not a user id: claims readable, user_id() NULL, no rows
BEGIN;
SELECT auth.jwt_session_init(:'odd_sub_jwt');
SELECT auth.jwt() ->> 'role' AS role, auth.user_id() IS NULL AS no_user_id, count(*) AS rows_seen FROM public.notes;
COMMIT;

-- session-wide identity: explicit, survives commits, ends with session_reset()
SELECT auth.session_init(:'alice_tok', session_wide => true);
SELECT count(*) AS alice_rows_in_next_statement FROM public.notes;
BEGIN;
SELECT count(*) AS alice_rows_in_next_transaction FROM public.notes;
COMMIT;
SELECT auth.session_reset();
SELECT count(*) AS rows_after_reset, auth.session() IS NULL AS no_session FROM public.notes;
-- a transaction-scoped init replaces a session-wide one and ends with its transaction
SELECT auth.session_init(:'alice_tok', true);
BEGIN;
SELECT auth.jwt_session_init(:'bob_jwt');
SELECT auth.user_id() = :'bob' AS is_bob;
COMMIT;
SELECT auth.user_id() IS NULL AS nobody_after;
RESET ROLE;

-- a revoked session can no longer sign anyone in
SELECT auth.revoke_session(:'alice_tok') AS revoked;
SET ROLE regress_pgauth_app;
SELECT try(format('SELECT auth.session_init(%L)', :'alice_tok')) AS revoked_session;
RESET ROLE;
-- PUBLIC cannot call the init functions
SET ROLE regress_pgauth_nobody;
SELECT try(format('SELECT auth.session_init(%L)', :'bob_tok')) AS nobody_init;
RESET ROLE;

-- jwt_session_init checks aud: pgauth.base_url by default, or the audience named
SELECT s.session_token AS carol_tok, s.user_id AS carol, s.session_id AS carol_sid
  FROM auth.sign_up_email('rls-carol@example.com', 'carol-password', 'Carol') s \gset
SELECT auth.sign_jwt(jsonb_build_object('sub', :'carol'), NULL, 'https://third-party.example') AS foreign_jwt,
       auth.sign_jwt(jsonb_build_object('sub', :'carol')) AS no_aud_jwt,
       auth.sign_jwt(jsonb_build_object('sub', :'carol', 'sid', :'carol_sid'), NULL, current_setting('pgauth.base_url')) AS sid_jwt,
       auth.sign_jwt(jsonb_build_object('sub', :'carol', 'sid', 'not-a-uuid'), NULL, current_setting('pgauth.base_url')) AS bad_sid_jwt
\gset
SET ROLE regress_pgauth_app;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'foreign_jwt')) AS foreign_audience,
       try(format('SELECT auth.jwt_session_init(%L)', :'no_aud_jwt')) AS no_audience;
SELECT auth.user_id() IS NULL AS nobody_after_refusals;
SELECT try(format('SELECT auth.jwt_session_init(%L, false, %L)', :'foreign_jwt', 'https://third-party.example')) AS named_audience,
       auth.user_id() = :'carol' AS is_carol;
-- a JWT naming a session (sid) works while that session lives, and stops when it is revoked or expires
BEGIN;
SELECT auth.jwt_session_init(:'sid_jwt');
SELECT auth.user_id() = :'carol' AS is_carol;
COMMIT;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'bad_sid_jwt')) AS malformed_sid;
RESET ROLE;
UPDATE auth.sessions SET expires_at = now() - interval '1 second' WHERE id = :'carol_sid';
SET ROLE regress_pgauth_app;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'sid_jwt')) AS expired_session;
RESET ROLE;
UPDATE auth.sessions SET expires_at = now() + interval '1 day' WHERE id = :'carol_sid';
SELECT auth.revoke_session(:'carol_tok') AS revoked;
SET ROLE regress_pgauth_app;
SELECT try(format('SELECT auth.jwt_session_init(%L)', :'sid_jwt')) AS revoked_session, auth.user_id() IS NULL AS nobody;
RESET ROLE;
DROP TABLE public.notes;
