-- pgauth 0.4.0 -> 0.5.0: email flows through a transactional outbox, compiled API-key checks,
-- social accounts.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.5.0'" to load this file. \quit

-- ---------------------------------------------------------------- email: verification records and the outbox (0.5.0)

-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)

-- ---------------------------------------------------------------- API keys: end

-- ---------------------------------------------------------------- social accounts (0.5.0)
-- Social sign-in (issue 15). pgauth-http talks to the providers (discovery, the code
-- exchange with PKCE, id_token checks, GitHub's /user/emails); the extension keeps the flow
-- state and decides who signs in, which account is linked and who is created. Provider
-- tokens and PKCE verifiers are sealed under the KEK (auth.social_seal).
ALTER TABLE auth.accounts
    ADD COLUMN access_token_sealed bytea,
    ADD COLUMN refresh_token_sealed bytea,
    ADD COLUMN id_token_sealed bytea,
    ADD COLUMN access_token_expires_at timestamptz,
    ADD COLUMN refresh_token_expires_at timestamptz,
    ADD COLUMN scope text CHECK (char_length(scope) <= 4096);
COMMENT ON COLUMN auth.accounts.access_token_sealed IS
  'The provider''s access token sealed under the KEK (XChaCha20-Poly1305, associated data = this row''s id and the column name).';
COMMENT ON COLUMN auth.accounts.refresh_token_sealed IS 'The provider''s refresh token, sealed as access_token_sealed.';
COMMENT ON COLUMN auth.accounts.id_token_sealed IS 'The provider''s id_token, sealed as access_token_sealed.';
COMMENT ON COLUMN auth.accounts.scope IS 'Granted scopes, comma-separated (Better-Auth''s account.scope).';

CREATE TABLE auth.social_flows (
    id                    uuid PRIMARY KEY,
    state_digest          bytea NOT NULL CONSTRAINT social_flows_state_digest_key UNIQUE
                          CHECK (octet_length(state_digest) = 32),
    binding_digest        bytea NOT NULL CHECK (octet_length(binding_digest) = 32),
    provider              text NOT NULL CHECK (provider ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    kind                  text NOT NULL CHECK (kind IN ('sign-in', 'link')),
    link_user_id          uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    code_verifier_sealed  bytea NOT NULL,
    nonce                 text NOT NULL,
    callback_url          text CHECK (char_length(callback_url) <= 2048),
    error_callback_url    text CHECK (char_length(error_callback_url) <= 2048),
    new_user_callback_url text CHECK (char_length(new_user_callback_url) <= 2048),
    created_at            timestamptz NOT NULL DEFAULT now(),
    expires_at            timestamptz NOT NULL,
    taken_at              timestamptz,
    completed_at          timestamptz,
    CHECK ((kind = 'link') = (link_user_id IS NOT NULL))
);
CREATE INDEX social_flows_expires_at_idx ON auth.social_flows (expires_at);
CREATE INDEX social_flows_link_user_id_idx ON auth.social_flows (link_user_id);
COMMENT ON TABLE auth.social_flows IS
  'Social sign-in and link flows: SHA-256 of the state and of the browser-binding cookie value (never the values), the PKCE verifier sealed under the KEK (associated data = id, ''code_verifier''), the nonce and callback URLs. Taken once (taken_at) by the callback, completed once (completed_at) by auth.social_sign_in; expires after pgauth.social_flow_expires_in.';
REVOKE ALL ON auth.social_flows FROM PUBLIC;

CREATE FUNCTION auth.social_seal(row_id uuid, column_name text, value text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgauth_social_seal' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.social_seal(uuid, text, text) IS
  'Internal: seals a provider token or PKCE verifier under the KEK, bound to (row_id, column_name). SIGNING_KEY_UNAVAILABLE without a KEK.';

CREATE FUNCTION auth.social_open(row_id uuid, column_name text, sealed bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_social_open' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.social_open(uuid, text, bytea) IS
  'Internal: opens what auth.social_seal sealed; SOCIAL_TOKEN_UNREADABLE if it was sealed for another (row_id, column_name), altered, or sealed under another KEK.';

CREATE FUNCTION auth.social_random(bytes integer) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_social_random' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.social_random(integer) IS
  'Internal: bytes (16 to 96) random bytes from libsodium''s CSPRNG, base64url without padding.';

CREATE FUNCTION auth.social_check_provider(p_provider text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_provider IS NULL OR p_provider !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'provider must be 1 to 64 letters, digits, ''_'', ''.'' or ''-''');
    END IF;
    -- the password account is not a social provider: a "credential" sign-in naming a user
    -- id as its subject would otherwise open that user's account
    IF p_provider = 'credential' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'credential is not a social provider');
    END IF;
END
$$;
COMMENT ON FUNCTION auth.social_check_provider(text) IS
  'Internal: VALIDATION_ERROR unless p_provider is a social provider id (not ''credential'').';

CREATE FUNCTION auth.social_put_tokens(p_account_id uuid, p_tokens jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    f text;
    v_access text := p_tokens ->> 'access_token';
    v_refresh text := p_tokens ->> 'refresh_token';
    v_id text := p_tokens ->> 'id_token';
    v_scope text;
BEGIN
    IF p_tokens IS NULL OR jsonb_typeof(p_tokens) = 'null' THEN
        RETURN;
    END IF;
    IF jsonb_typeof(p_tokens) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'tokens must be an object');
    END IF;
    FOREACH f IN ARRAY ARRAY['access_token', 'refresh_token', 'id_token', 'scope'] LOOP
        IF jsonb_typeof(p_tokens -> f) NOT IN ('string', 'null') THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a string', f));
        END IF;
        IF octet_length(p_tokens ->> f) > 16384 THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s is too long', f));
        END IF;
    END LOOP;
    FOREACH f IN ARRAY ARRAY['expires_in', 'refresh_token_expires_in'] LOOP
        IF jsonb_typeof(p_tokens -> f) NOT IN ('number', 'null') THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a number of seconds', f));
        END IF;
        IF jsonb_typeof(p_tokens -> f) = 'number' AND (p_tokens ->> f)::numeric NOT BETWEEN 0 AND 315360000 THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a number of seconds', f));
        END IF;
    END LOOP;
    -- OAuth scopes are space-separated; Better-Auth keeps them comma-separated
    v_scope := nullif(array_to_string(regexp_split_to_array(btrim(p_tokens ->> 'scope', E' ,\t'), '[\s,]+'), ','), '');
    -- a token the provider did not send keeps the stored one (Google sends a refresh token once)
    UPDATE auth.accounts a SET
        access_token_sealed = CASE WHEN v_access IS NULL THEN a.access_token_sealed
                                   ELSE auth.social_seal(a.id, 'access_token', v_access) END,
        access_token_expires_at = CASE WHEN v_access IS NULL THEN a.access_token_expires_at
                                       ELSE now() + make_interval(secs => (p_tokens ->> 'expires_in')::double precision) END,
        refresh_token_sealed = CASE WHEN v_refresh IS NULL THEN a.refresh_token_sealed
                                    ELSE auth.social_seal(a.id, 'refresh_token', v_refresh) END,
        refresh_token_expires_at = CASE WHEN v_refresh IS NULL THEN a.refresh_token_expires_at
                                        ELSE now() + make_interval(secs => (p_tokens ->> 'refresh_token_expires_in')::double precision) END,
        id_token_sealed = CASE WHEN v_id IS NULL THEN a.id_token_sealed
                               ELSE auth.social_seal(a.id, 'id_token', v_id) END,
        scope = coalesce(v_scope, a.scope),
        updated_at = now()
     WHERE a.id = p_account_id;
END
$$;
COMMENT ON FUNCTION auth.social_put_tokens(uuid, jsonb) IS
  'Internal: seals and stores provider tokens {"access_token","refresh_token","id_token","expires_in","refresh_token_expires_in","scope"} on an account; a token not sent keeps the stored one.';

CREATE FUNCTION auth.social_user_json(p_user_id uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT json_build_object('name', u.name, 'email', u.email, 'emailVerified', u.email_verified, 'image', u.image,
                             'createdAt', auth.iso_time(u.created_at), 'updatedAt', auth.iso_time(u.updated_at),
                             'id', u.id)
      FROM auth.users u WHERE u.id = p_user_id
$$;
COMMENT ON FUNCTION auth.social_user_json(uuid) IS 'Internal: Better-Auth''s user object of a sign-in body.';

CREATE FUNCTION auth.social_flow_start(p_provider text, p_kind text, p_session_token text, p_callback_url text,
                                       p_error_callback_url text, p_new_user_callback_url text)
    RETURNS TABLE (state text, code_challenge text, nonce text, binding text, expires_in integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    v_user uuid;
    v_state text := auth.social_random(32);
    v_verifier text := auth.social_random(32);  -- 43 characters (RFC 7636: 43 to 128)
    v_nonce text := auth.social_random(32);
    v_binding text := auth.social_random(32);
    v_ttl integer := coalesce((SELECT g.setting::integer FROM pg_settings g
                                WHERE g.name = 'pgauth.social_flow_expires_in'), 600);
BEGIN
    PERFORM auth.social_check_provider(p_provider);
    IF p_kind IS NULL OR p_kind NOT IN ('sign-in', 'link') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'kind must be sign-in or link');
    END IF;
    IF char_length(p_callback_url) > 2048 OR char_length(p_error_callback_url) > 2048
       OR char_length(p_new_user_callback_url) > 2048 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'a callback URL is too long');
    END IF;
    IF p_kind = 'link' THEN
        SELECT s.user_id INTO v_user FROM auth.validate_session(p_session_token) s;
        IF v_user IS NULL THEN
            PERFORM auth.raise('UNAUTHORIZED');
        END IF;
    END IF;
    -- flows that ended over an hour ago go, a few at a time
    DELETE FROM auth.social_flows x
     WHERE x.id IN (SELECT o.id FROM auth.social_flows o WHERE o.expires_at < now() - interval '1 hour'
                     ORDER BY o.expires_at LIMIT 20 FOR UPDATE SKIP LOCKED);
    INSERT INTO auth.social_flows AS x (id, state_digest, binding_digest, provider, kind, link_user_id,
                                        code_verifier_sealed, nonce, callback_url, error_callback_url,
                                        new_user_callback_url, expires_at)
    VALUES (v_id, auth.hash_token(v_state), auth.hash_token(v_binding), p_provider, p_kind, v_user,
            auth.social_seal(v_id, 'code_verifier', v_verifier), v_nonce, nullif(p_callback_url, ''),
            nullif(p_error_callback_url, ''), nullif(p_new_user_callback_url, ''),
            now() + make_interval(secs => v_ttl));
    RETURN QUERY SELECT v_state, translate(rtrim(encode(sha256(convert_to(v_verifier, 'UTF8')), 'base64'), '='), '+/', '-_'),
                        v_nonce, v_binding, v_ttl;
END
$$;
COMMENT ON FUNCTION auth.social_flow_start(text, text, text, text, text, text) IS
  'Starts a social sign-in (p_kind ''sign-in'') or link (''link'', needs the live session p_session_token, else UNAUTHORIZED) flow for p_provider: state (32 random bytes, base64url) for the authorization URL, code_challenge (PKCE S256 of a sealed 43-character verifier), nonce, binding (the value of the short-lived HttpOnly cookie that ties the flow to this browser) and expires_in (pgauth.social_flow_expires_in). Stores digests only. The caller checks the URLs against trusted origins first.';

CREATE FUNCTION auth.social_flow_take(p_state text, p_binding text, p_provider text)
    RETURNS TABLE (flow_id uuid, code_verifier text, nonce text, kind text, callback_url text,
                   error_callback_url text, new_user_callback_url text, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    f auth.social_flows;
BEGIN
    IF p_state IS NULL OR p_state !~ '^[A-Za-z0-9_-]{43}$' THEN
        RETURN QUERY SELECT NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            'INVALID_STATE'::text;
        RETURN;
    END IF;
    SELECT x.* INTO f FROM auth.social_flows x WHERE x.state_digest = auth.hash_token(p_state) FOR UPDATE;
    IF NOT FOUND OR f.taken_at IS NOT NULL THEN
        RETURN QUERY SELECT NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            'INVALID_STATE'::text;
        RETURN;
    END IF;
    -- used once, whatever follows: the mark commits with the answer (errors are values here)
    UPDATE auth.social_flows x SET taken_at = now() WHERE x.id = f.id;
    IF p_binding IS NULL OR f.binding_digest <> auth.hash_token(p_binding) OR f.provider IS DISTINCT FROM p_provider THEN
        RETURN QUERY SELECT NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, f.error_callback_url, NULL::text,
                            'STATE_MISMATCH'::text;
        RETURN;
    END IF;
    IF f.expires_at <= now() THEN
        RETURN QUERY SELECT NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, f.error_callback_url, NULL::text,
                            'STATE_EXPIRED'::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT f.id, auth.social_open(f.id, 'code_verifier', f.code_verifier_sealed), f.nonce, f.kind,
                        f.callback_url, f.error_callback_url, f.new_user_callback_url, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.social_flow_take(text, text, text) IS
  'The callback''s first step: takes the flow named by p_state once and returns its PKCE verifier, nonce, kind and URLs. Refusals are a row with error_code and the other columns NULL (error_callback_url kept when the flow was found), and the flow stays used: INVALID_STATE (garbled, unknown or already taken), STATE_MISMATCH (p_binding missing or not this flow''s, or another provider), STATE_EXPIRED.';

-- The rules of a sign-in or link, raising catalog errors; auth.social_sign_in runs it in a
-- subtransaction, so an error leaves nothing behind.
CREATE FUNCTION auth.social_apply(p_provider text, p_claims jsonb, p_tokens jsonb, p_link_user_id uuid,
                                  OUT user_id uuid, OUT new_user boolean, OUT linked boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v_sub text;
    v_email text;
    v_verified boolean;
    v_name text;
    v_image text;
    v_trusted boolean;
    v_account_id uuid;
    v_active boolean;
    a auth.accounts;
    u auth.users;
    attempt integer := 0;
BEGIN
    PERFORM auth.social_check_provider(p_provider);
    IF p_claims IS NULL OR jsonb_typeof(p_claims) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'claims must be an object');
    END IF;
    IF coalesce(jsonb_typeof(p_claims -> 'sub'), 'absent') NOT IN ('string', 'number') OR btrim(p_claims ->> 'sub') = ''
       OR octet_length(p_claims ->> 'sub') > 255 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'sub must be a non-empty string of at most 255 bytes');
    END IF;
    v_sub := p_claims ->> 'sub';
    IF jsonb_typeof(p_claims -> 'email') IS DISTINCT FROM 'string' OR btrim(p_claims ->> 'email') = '' THEN
        PERFORM auth.raise('USER_EMAIL_NOT_FOUND');
    END IF;
    v_email := auth.normalize_email(p_claims ->> 'email');
    -- true, or the string "true" some providers send; anything else is unverified
    v_verified := coalesce(lower(p_claims ->> 'email_verified') = 'true', false);
    v_name := left(btrim(coalesce(CASE WHEN jsonb_typeof(p_claims -> 'name') = 'string' THEN p_claims ->> 'name' END, '')), 255);
    IF v_name = '' THEN
        v_name := split_part(v_email, '@', 1);
    END IF;
    v_image := CASE WHEN jsonb_typeof(p_claims -> 'picture') = 'string' AND char_length(p_claims ->> 'picture') <= 2048
                    THEN nullif(p_claims ->> 'picture', '') END;
    v_trusted := p_provider = ANY (SELECT btrim(t) FROM unnest(string_to_array(
                     coalesce(current_setting('pgauth.social_trusted_providers', true), ''), ',')) t);
    IF p_link_user_id IS NOT NULL THEN
        SELECT x.is_active INTO v_active FROM auth.users x WHERE x.id = p_link_user_id FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            PERFORM auth.raise('USER_NOT_FOUND');
        ELSIF NOT v_active THEN
            PERFORM auth.raise('USER_INACTIVE');
        END IF;
    END IF;
    -- A first sign-in races others for the same (provider, sub) or the same new email: the
    -- unique constraints decide, and the loser looks again (and finds the winner's rows).
    LOOP
        attempt := attempt + 1;
        BEGIN
            new_user := false;
            linked := false;
            -- no row lock here: a user row is always locked before an account row (below,
            -- the email_verified UPDATE before the tokens' UPDATE; unlink_account), so no deadlock
            SELECT x.* INTO a FROM auth.accounts x WHERE x.provider_id = p_provider AND x.account_id = v_sub;
            IF FOUND THEN
                IF p_link_user_id IS NOT NULL AND a.user_id <> p_link_user_id THEN
                    PERFORM auth.raise('SOCIAL_ACCOUNT_ALREADY_LINKED');
                END IF;
                SELECT x.* INTO u FROM auth.users x WHERE x.id = a.user_id;
                IF NOT u.is_active THEN
                    PERFORM auth.raise('USER_INACTIVE');
                END IF;
                -- as Better-Auth: the provider vouches for the address the user already has
                IF v_verified AND NOT u.email_verified AND u.email = v_email THEN
                    UPDATE auth.users x SET email_verified = true, updated_at = now() WHERE x.id = u.id;
                END IF;
                user_id := a.user_id;
                PERFORM auth.social_put_tokens(a.id, p_tokens);
            ELSE
                IF p_link_user_id IS NOT NULL THEN
                    -- linking from a signed-in session: the session holder proved both sides
                    user_id := p_link_user_id;
                ELSE
                    SELECT x.* INTO u FROM auth.users x WHERE x.email = v_email;
                    IF FOUND THEN
                        -- automatic linking only on an address this trusted provider verified
                        IF NOT (v_verified AND v_trusted) THEN
                            PERFORM auth.raise('ACCOUNT_NOT_LINKED');
                        END IF;
                        IF NOT u.is_active THEN
                            PERFORM auth.raise('USER_INACTIVE');
                        END IF;
                        user_id := u.id;
                    ELSE
                        IF coalesce(current_setting('pgauth.social_disable_sign_up', true), 'off')::boolean THEN
                            PERFORM auth.raise('SIGNUP_DISABLED');
                        END IF;
                        INSERT INTO auth.users AS x (email, name, image, email_verified)
                        VALUES (v_email, v_name, v_image, v_verified)
                        ON CONFLICT (email) DO NOTHING
                        RETURNING x.id INTO user_id;
                        IF user_id IS NULL THEN
                            RAISE EXCEPTION 'social sign-in lost a race' USING ERRCODE = 'PAXRT';
                        END IF;
                        new_user := true;
                    END IF;
                END IF;
                v_account_id := gen_random_uuid();
                INSERT INTO auth.accounts AS x (id, user_id, provider_id, account_id)
                VALUES (v_account_id, user_id, p_provider, v_sub)
                ON CONFLICT (provider_id, account_id) DO NOTHING;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'social sign-in lost a race' USING ERRCODE = 'PAXRT';
                END IF;
                PERFORM auth.social_put_tokens(v_account_id, p_tokens);
                linked := NOT new_user;
            END IF;
            EXIT;
        EXCEPTION WHEN SQLSTATE 'PAXRT' THEN
            IF attempt >= 3 THEN
                PERFORM auth.raise('INTERNAL_ERROR', 'social sign-in kept losing races; try again');
            END IF;
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION auth.social_apply(text, jsonb, jsonb, uuid) IS
  'Internal: the rules of auth.social_sign_in (find, link or create), raising catalog errors.';

CREATE FUNCTION auth.social_sign_in(p_provider text, p_claims jsonb, p_tokens jsonb, p_flow_id uuid, p_ip inet,
                                    p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint, new_user boolean, linked boolean, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    f auth.social_flows;
    r record;
    s record;
    v_state text;
    v_code text;
BEGIN
    IF p_flow_id IS NOT NULL THEN
        SELECT x.* INTO f FROM auth.social_flows x WHERE x.id = p_flow_id FOR UPDATE;
        IF NOT FOUND OR f.taken_at IS NULL OR f.completed_at IS NOT NULL OR f.provider IS DISTINCT FROM p_provider THEN
            RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, NULL::boolean, NULL::boolean, 'INVALID_STATE'::text;
            RETURN;
        END IF;
        -- completed once, whatever follows (this mark commits; the sign-in below may not)
        UPDATE auth.social_flows x SET completed_at = now() WHERE x.id = f.id;
    END IF;
    BEGIN
        SELECT * INTO r FROM auth.social_apply(p_provider, p_claims, p_tokens, f.link_user_id);
        IF f.kind IS DISTINCT FROM 'link' THEN
            SELECT * INTO s FROM auth.create_session(r.user_id, true, p_ip, left(p_user_agent, 512));
        END IF;
    EXCEPTION WHEN OTHERS THEN
        -- a refusal (4xx) is an answer: the subtransaction is rolled back, so nothing of the
        -- sign-in remains (no user, account, token or session), and the flow stays completed
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_code = PG_EXCEPTION_DETAIL;
        IF v_state LIKE 'PA4%' AND EXISTS (SELECT 1 FROM auth.error_codes e WHERE e.code = v_code) THEN
            RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, NULL::boolean, NULL::boolean, v_code;
            RETURN;
        END IF;
        RAISE;
    END;
    IF f.kind = 'link' THEN
        RETURN QUERY SELECT json_build_object('status', true), NULL::text, NULL::bigint, r.new_user, r.linked, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT json_build_object('redirect', false, 'token', s.session_token,
                                          'user', auth.social_user_json(r.user_id)),
                        s.session_token, round(extract(epoch FROM s.expires_at - now()))::bigint,
                        r.new_user, r.linked, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.social_sign_in(text, jsonb, jsonb, uuid, inet, text) IS
  'Signs in with a provider identity that pgauth-http verified. p_claims {"sub","email","email_verified","name","picture"}; p_tokens {"access_token","refresh_token","id_token","expires_in","refresh_token_expires_in","scope"} (sealed and stored). p_flow_id: a flow taken by auth.social_flow_take and not yet completed (completed by this call), or NULL for an id-token sign-in. Sign-in: the account (provider, sub), else the user with that email only if email_verified and the provider is in pgauth.social_trusted_providers (else ACCOUNT_NOT_LINKED), else a new user (SIGNUP_DISABLED under pgauth.social_disable_sign_up). Link flows link to the flow''s user (SOCIAL_ACCOUNT_ALREADY_LINKED if another user has it), body {"status":true} and no session. body = Better-Auth''s sign-in body {"redirect":false,"token","user"}. Refusals are a row with error_code and nothing written: INVALID_STATE, USER_EMAIL_NOT_FOUND, VALIDATION_ERROR, INVALID_EMAIL, ACCOUNT_NOT_LINKED, SOCIAL_ACCOUNT_ALREADY_LINKED, SIGNUP_DISABLED, USER_INACTIVE. Concurrent first sign-ins create one user.';

-- The session user for the account functions: UNAUTHORIZED if the token names no live session.
CREATE FUNCTION auth.social_session_user(p_session_token text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_session_token) s;
    IF v_user IS NULL THEN
        PERFORM auth.raise('UNAUTHORIZED');
    END IF;
    RETURN v_user;
END
$$;
COMMENT ON FUNCTION auth.social_session_user(text) IS
  'Internal: the user of a live session token; UNAUTHORIZED otherwise.';

CREATE FUNCTION auth.list_accounts(p_session_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.social_session_user(p_session_token);
BEGIN
    RETURN (SELECT coalesce(json_agg(json_build_object(
                'id', a.id, 'providerId', a.provider_id, 'accountId', a.account_id, 'userId', a.user_id,
                'scopes', coalesce(to_json(string_to_array(a.scope, ',')), '[]'::json),
                'createdAt', auth.iso_time(a.created_at), 'updatedAt', auth.iso_time(a.updated_at))
              ORDER BY a.created_at, a.id), '[]'::json)
              FROM auth.accounts a WHERE a.user_id = v_user);
END
$$;
COMMENT ON FUNCTION auth.list_accounts(text) IS
  'Better-Auth list-accounts: the session user''s accounts (credential included), oldest first, as [{"id","providerId","accountId","userId","scopes","createdAt","updatedAt"}]; never a token. UNAUTHORIZED without a live session.';

CREATE FUNCTION auth.unlink_account(p_session_token text, p_provider_id text, p_account_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.social_session_user(p_session_token);
    v_ways integer;
    v_id uuid;
    v_is_way boolean;
BEGIN
    IF p_provider_id IS NULL AND p_account_id IS NULL THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'providerId or accountId is required');
    END IF;
    -- one unlink per user at a time: two concurrent unlinks cannot both pass the count
    PERFORM 1 FROM auth.users u WHERE u.id = v_user FOR NO KEY UPDATE;
    SELECT a.id, (a.provider_id <> 'credential' OR a.password_hash IS NOT NULL) INTO v_id, v_is_way
      FROM auth.accounts a
     WHERE a.user_id = v_user AND (p_provider_id IS NULL OR a.provider_id = p_provider_id)
       AND (p_account_id IS NULL OR a.id::text = p_account_id OR a.account_id = p_account_id)
     ORDER BY a.id::text = p_account_id DESC, a.created_at, a.id LIMIT 1;
    IF v_id IS NULL THEN
        PERFORM auth.raise('ACCOUNT_NOT_FOUND');
    END IF;
    -- ways to sign in: social accounts, and the credential account when it has a password
    SELECT count(*) INTO v_ways FROM auth.accounts a
     WHERE a.user_id = v_user AND (a.provider_id <> 'credential' OR a.password_hash IS NOT NULL);
    IF v_ways - v_is_way::integer < 1 THEN
        PERFORM auth.raise('FAILED_TO_UNLINK_LAST_ACCOUNT');
    END IF;
    DELETE FROM auth.accounts a WHERE a.id = v_id;
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.unlink_account(text, text, text) IS
  'Better-Auth unlink-account: removes the session user''s account named by p_provider_id and/or p_account_id (the account row id, as list-accounts'' id and Better-Auth 1.7''s client send it, or the provider''s account id); {"status":true}. FAILED_TO_UNLINK_LAST_ACCOUNT when it would leave no way to sign in (a credential account without a password does not count), ACCOUNT_NOT_FOUND, VALIDATION_ERROR (neither given), UNAUTHORIZED.';

CREATE FUNCTION auth.social_account_tokens(p_session_token text, p_provider_id text, p_account_id text)
    RETURNS TABLE (account_row_id uuid, account_id text, access_token text, refresh_token text, id_token text,
                   access_token_expires_at timestamptz, refresh_token_expires_at timestamptz, scopes text[],
                   needs_refresh boolean, provider_id text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.social_session_user(p_session_token);
    a auth.accounts;
BEGIN
    IF p_provider_id IS NULL AND p_account_id IS NULL THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'providerId or accountId is required');
    END IF;
    SELECT x.* INTO a FROM auth.accounts x
     WHERE x.user_id = v_user AND (p_provider_id IS NULL OR x.provider_id = p_provider_id)
       AND x.provider_id <> 'credential'
       AND (p_account_id IS NULL OR x.id::text = p_account_id OR x.account_id = p_account_id)
     ORDER BY x.id::text = p_account_id DESC, x.created_at, x.id LIMIT 1;
    IF NOT FOUND THEN
        PERFORM auth.raise('ACCOUNT_NOT_FOUND');
    END IF;
    RETURN QUERY SELECT a.id, a.account_id,
        auth.social_open(a.id, 'access_token', a.access_token_sealed),
        auth.social_open(a.id, 'refresh_token', a.refresh_token_sealed),
        auth.social_open(a.id, 'id_token', a.id_token_sealed),
        a.access_token_expires_at, a.refresh_token_expires_at,
        coalesce(string_to_array(a.scope, ','), '{}'::text[]),
        a.refresh_token_sealed IS NOT NULL AND a.access_token_expires_at IS NOT NULL
            AND a.access_token_expires_at < clock_timestamp() + interval '5 seconds',
        a.provider_id;
END
$$;
COMMENT ON FUNCTION auth.social_account_tokens(text, text, text) IS
  'The session user''s provider tokens, opened, for the account named by p_provider_id and/or p_account_id (the account row id, or the provider''s account id): for get-access-token, refresh-token and account-info. VALIDATION_ERROR when neither is given. needs_refresh when the access token expires within 5 s and a refresh token is stored. ACCOUNT_NOT_FOUND, UNAUTHORIZED, SOCIAL_TOKEN_UNREADABLE.';

CREATE FUNCTION auth.social_store_tokens(p_session_token text, p_account_row_id uuid, p_tokens jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.social_session_user(p_session_token);
    a auth.accounts;
BEGIN
    SELECT x.* INTO a FROM auth.accounts x
     WHERE x.id = p_account_row_id AND x.user_id = v_user AND x.provider_id <> 'credential' FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('ACCOUNT_NOT_FOUND');
    END IF;
    IF p_tokens IS NULL OR jsonb_typeof(p_tokens) <> 'object' OR jsonb_typeof(p_tokens -> 'access_token') IS DISTINCT FROM 'string' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'tokens must be an object with an access_token');
    END IF;
    PERFORM auth.social_put_tokens(a.id, p_tokens);
    SELECT x.* INTO a FROM auth.accounts x WHERE x.id = p_account_row_id;
    RETURN json_build_object(
        'accessToken', auth.social_open(a.id, 'access_token', a.access_token_sealed),
        'accessTokenExpiresAt', auth.iso_time(a.access_token_expires_at),
        'scopes', coalesce(to_json(string_to_array(a.scope, ',')), '[]'::json),
        'idToken', auth.social_open(a.id, 'id_token', a.id_token_sealed));
END
$$;
COMMENT ON FUNCTION auth.social_store_tokens(text, uuid, jsonb) IS
  'Seals refreshed provider tokens on the session user''s account (a refresh token not sent keeps the stored one) and returns Better-Auth''s get-access-token body {"accessToken","accessTokenExpiresAt","scopes","idToken"}. ACCOUNT_NOT_FOUND, VALIDATION_ERROR, UNAUTHORIZED.';

REVOKE ALL ON FUNCTION auth.social_seal(uuid, text, text), auth.social_open(uuid, text, bytea),
    auth.social_random(integer), auth.social_check_provider(text), auth.social_put_tokens(uuid, jsonb),
    auth.social_user_json(uuid), auth.social_flow_start(text, text, text, text, text, text),
    auth.social_flow_take(text, text, text), auth.social_apply(text, jsonb, jsonb, uuid),
    auth.social_sign_in(text, jsonb, jsonb, uuid, inet, text), auth.social_session_user(text),
    auth.list_accounts(text), auth.unlink_account(text, text, text), auth.social_account_tokens(text, text, text),
    auth.social_store_tokens(text, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.social_flow_start(text, text, text, text, text, text),
    auth.social_flow_take(text, text, text), auth.social_sign_in(text, jsonb, jsonb, uuid, inet, text),
    auth.list_accounts(text), auth.unlink_account(text, text, text), auth.social_account_tokens(text, text, text),
    auth.social_store_tokens(text, uuid, jsonb)
  TO pgauth_service;

-- ---------------------------------------------------------------- social accounts: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
