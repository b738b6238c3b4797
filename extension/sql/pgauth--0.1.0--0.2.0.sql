-- pgauth 0.1.0 -> 0.2.0: lazy external avatars (OASIS), Para wallet links, profile fields.
\echo Use "ALTER EXTENSION pgauth UPDATE" to load this file. \quit

-- ---------------------------------------------------------------- avatars (OASIS) and wallets (Para)
INSERT INTO auth.error_codes (code, sqlstate, http_status, message) VALUES
  ('AVATAR_CLAIM_INVALID',         'PA409', 409, 'The avatar claim is unknown, already used or expired'),
  ('AVATAR_ALREADY_LINKED',        'PA409', 409, 'This avatar is already linked to another user'),
  ('WALLET_ALREADY_LINKED',        'PA409', 409, 'This wallet is already linked to another user'),
  ('AVATAR_PROVIDER_UNAVAILABLE',  'PA503', 503, 'The avatar provider is unavailable. Try again later.');

-- Profile fields products keep beside the identity.
ALTER TABLE auth.users
    ADD COLUMN role text NOT NULL DEFAULT 'user' CHECK (role ~ '^[a-z][a-z0-9_-]{0,31}$'),
    ADD COLUMN kyc_status text NOT NULL DEFAULT 'pending'
        CHECK (kyc_status IN ('pending', 'submitted', 'verified', 'rejected')),
    ADD COLUMN is_active boolean NOT NULL DEFAULT true,
    ADD COLUMN para_wallet_id text CONSTRAINT users_para_wallet_id_key UNIQUE
        CHECK (char_length(para_wallet_id) BETWEEN 1 AND 200);

CREATE TABLE auth.avatar_links (
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    provider   text NOT NULL DEFAULT 'oasis' CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
    avatar_id  text CHECK (char_length(avatar_id) BETWEEN 1 AND 200),
    state      text NOT NULL CHECK (state IN ('pending', 'linked', 'failed')),
    claim      uuid UNIQUE,
    claimed_at timestamptz,
    error      text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (user_id, provider),
    UNIQUE (provider, avatar_id),
    CHECK ((state = 'linked') = (avatar_id IS NOT NULL)),
    CHECK ((state = 'pending') = (claim IS NOT NULL))
);
COMMENT ON TABLE auth.avatar_links IS
  'One external avatar per (user, provider), created lazily: pending (one claim holder registers it) -> linked | failed.';
SELECT pg_catalog.pg_extension_config_dump('auth.avatar_links', '');
REVOKE ALL ON auth.avatar_links FROM PUBLIC;

CREATE FUNCTION auth.claim_avatar(user_id uuid, provider text DEFAULT 'oasis',
                                  OUT state text, OUT avatar_id text, OUT claim uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_timeout interval := coalesce(current_setting('pgauth.avatar_claim_timeout', true), '60s')::interval;
    v_link auth.avatar_links;
BEGIN
    IF claim_avatar.user_id IS NULL OR claim_avatar.provider IS NULL THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'user_id and provider are required');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = claim_avatar.user_id) THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    -- The first caller inserts the pending row and holds the claim; a concurrent
    -- caller blocks on the primary key until that commits, then sees the row.
    INSERT INTO auth.avatar_links AS l (user_id, provider, state, claim, claimed_at)
    VALUES (claim_avatar.user_id, claim_avatar.provider, 'pending', gen_random_uuid(), now())
    ON CONFLICT ON CONSTRAINT avatar_links_pkey DO NOTHING
    RETURNING l.claim INTO claim_avatar.claim;
    IF FOUND THEN
        state := 'claimed';
        RETURN;
    END IF;
    SELECT * INTO v_link FROM auth.avatar_links l
     WHERE l.user_id = claim_avatar.user_id AND l.provider = claim_avatar.provider
       FOR UPDATE;
    IF v_link.state = 'linked' THEN
        state := 'linked';
        avatar_id := v_link.avatar_id;
    ELSIF v_link.state = 'failed' OR v_link.claimed_at < now() - v_timeout THEN
        -- a failed attempt, or a claim whose holder went away: hand out a new claim
        UPDATE auth.avatar_links l
           SET state = 'pending', claim = gen_random_uuid(), claimed_at = now(), error = NULL, updated_at = now()
         WHERE l.user_id = claim_avatar.user_id AND l.provider = claim_avatar.provider
        RETURNING l.claim INTO claim_avatar.claim;
        state := 'claimed';
    ELSE
        state := 'in_progress';
    END IF;
END
$$;
COMMENT ON FUNCTION auth.claim_avatar(uuid, text) IS
  'Lazy avatar creation: returns (linked, avatar_id) if linked; otherwise exactly one concurrent caller gets (claimed, claim) and must call complete_avatar or fail_avatar; others get in_progress. A claim older than pgauth.avatar_claim_timeout (default 60s) or a failed one is handed out again.';

CREATE FUNCTION auth.complete_avatar(claim uuid, avatar_id text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_avatar text := btrim(complete_avatar.avatar_id);
BEGIN
    IF complete_avatar.claim IS NULL OR v_avatar IS NULL OR v_avatar = '' OR char_length(v_avatar) > 200 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'claim and avatar_id (1 to 200 characters) are required');
    END IF;
    BEGIN
        UPDATE auth.avatar_links l
           SET state = 'linked', avatar_id = v_avatar, claim = NULL, error = NULL, updated_at = now()
         WHERE l.claim = complete_avatar.claim AND l.state = 'pending';
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('AVATAR_ALREADY_LINKED');
    END;
    IF NOT FOUND THEN
        PERFORM auth.raise('AVATAR_CLAIM_INVALID');
    END IF;
    RETURN v_avatar;
END
$$;
COMMENT ON FUNCTION auth.complete_avatar(uuid, text) IS
  'Links the avatar registered under a claim; AVATAR_CLAIM_INVALID if the claim is unknown or was re-claimed, AVATAR_ALREADY_LINKED if another user has that avatar.';

CREATE FUNCTION auth.fail_avatar(claim uuid, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    UPDATE auth.avatar_links l
       SET state = 'failed', claim = NULL, error = left(fail_avatar.reason, 500), updated_at = now()
     WHERE l.claim = fail_avatar.claim AND l.state = 'pending';
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION auth.fail_avatar(uuid, text) IS
  'Releases a claim after a failed registration (the next claim_avatar retries); false if the claim was not current.';

CREATE FUNCTION auth.avatar_for(user_id uuid, provider text DEFAULT 'oasis') RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT l.avatar_id FROM auth.avatar_links l
     WHERE l.user_id = avatar_for.user_id AND l.provider = avatar_for.provider AND l.state = 'linked'
$$;
COMMENT ON FUNCTION auth.avatar_for(uuid, text) IS 'The linked avatar id of a user at a provider, or NULL.';

CREATE FUNCTION auth.link_avatar(user_id uuid, provider text, avatar_id text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF link_avatar.avatar_id IS NULL OR btrim(link_avatar.avatar_id) = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'avatar_id is required');
    END IF;
    BEGIN
        INSERT INTO auth.avatar_links AS l (user_id, provider, avatar_id, state)
        VALUES (link_avatar.user_id, coalesce(link_avatar.provider, 'oasis'), btrim(link_avatar.avatar_id), 'linked')
        ON CONFLICT ON CONSTRAINT avatar_links_pkey DO UPDATE
           SET avatar_id = excluded.avatar_id, state = 'linked', claim = NULL, error = NULL, updated_at = now();
    EXCEPTION
        WHEN unique_violation THEN PERFORM auth.raise('AVATAR_ALREADY_LINKED');
        WHEN foreign_key_violation THEN PERFORM auth.raise('USER_NOT_FOUND');
    END;
END
$$;
COMMENT ON FUNCTION auth.link_avatar(uuid, text, text) IS
  'Admin/migration: links a user to an avatar that already exists at the provider (replaces any pending or failed state).';

-- ---------------------------------------------------------------- Para wallets and profile fields
CREATE FUNCTION auth.link_para_wallet(user_id uuid, wallet_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_wallet text := btrim(link_para_wallet.wallet_id);
    v_current text;
BEGIN
    IF v_wallet IS NULL OR v_wallet = '' OR char_length(v_wallet) > 200 OR v_wallet ~ '[[:cntrl:]]' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'walletId must be 1 to 200 printable characters');
    END IF;
    SELECT u.para_wallet_id INTO v_current FROM auth.users u WHERE u.id = link_para_wallet.user_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    IF v_current IS NOT DISTINCT FROM v_wallet THEN
        RETURN false;  -- already linked to this wallet: idempotent
    END IF;
    BEGIN
        UPDATE auth.users u SET para_wallet_id = v_wallet, updated_at = now() WHERE u.id = link_para_wallet.user_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('WALLET_ALREADY_LINKED');
    END;
    RETURN true;
END
$$;
COMMENT ON FUNCTION auth.link_para_wallet(uuid, text) IS
  'Stores the user''s Para wallet id (one per user, unique across users; WALLET_ALREADY_LINKED otherwise). True if it changed.';

CREATE FUNCTION auth.set_user_profile(user_id uuid, role text DEFAULT NULL, kyc_status text DEFAULT NULL,
                                      is_active boolean DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    UPDATE auth.users u
       SET role = coalesce(set_user_profile.role, u.role),
           kyc_status = coalesce(set_user_profile.kyc_status, u.kyc_status),
           is_active = coalesce(set_user_profile.is_active, u.is_active),
           updated_at = now()
     WHERE u.id = set_user_profile.user_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF set_user_profile.is_active IS FALSE THEN
        DELETE FROM auth.sessions s WHERE s.user_id = set_user_profile.user_id;  -- deactivation signs out everywhere
    END IF;
    RETURN true;
EXCEPTION WHEN check_violation THEN
    PERFORM auth.raise('VALIDATION_ERROR', 'role must match ^[a-z][a-z0-9_-]{0,31}$ and kyc_status be pending, submitted, verified or rejected');
    RETURN false;
END
$$;
COMMENT ON FUNCTION auth.set_user_profile(uuid, text, text, boolean) IS
  'Admin: sets role, kyc_status and/or is_active (NULL keeps a field). Deactivating a user ends all their sessions and blocks sign-in.';

CREATE FUNCTION auth.get_user_profile(user_id uuid,
    OUT id uuid, OUT role text, OUT kyc_status text, OUT is_active boolean, OUT para_wallet_id text)
    RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp ROWS 1 AS $$
    SELECT u.id, u.role, u.kyc_status, u.is_active, u.para_wallet_id FROM auth.users u WHERE u.id = get_user_profile.user_id
$$;
COMMENT ON FUNCTION auth.get_user_profile(uuid) IS 'Role, KYC status, active flag and Para wallet id of a user.';

INSERT INTO auth.error_codes (code, sqlstate, http_status, message) VALUES
  ('USER_INACTIVE', 'PA403', 403, 'This account is deactivated');

-- errors the HTTP layer raises itself (its status and message come from here too)
INSERT INTO auth.error_codes (code, sqlstate, http_status, message) VALUES
  ('FAILED_TO_GET_SESSION',    'PA400', 400, 'Failed to get session'),
  ('EMAIL_CAN_NOT_BE_UPDATED', 'PA400', 400, 'Email can not be updated'),
  ('MISSING_OR_NULL_ORIGIN',   'PA403', 403, 'Missing or null Origin'),
  ('INVALID_ORIGIN',           'PA403', 403, 'Invalid origin'),
  ('INVALID_CALLBACKURL',      'PA403', 403, 'Invalid callbackURL'),
  ('NOT_FOUND',                'PA404', 404, 'Not found'),
  ('METHOD_NOT_ALLOWED',       'PA405', 405, 'Method not allowed'),
  ('PAYLOAD_TOO_LARGE',        'PA413', 413, 'Request body is too large'),
  ('UNSUPPORTED_MEDIA_TYPE',   'PA415', 415, 'Content-Type must be application/json'),
  ('SERVICE_UNAVAILABLE',      'PA503', 503, 'Service unavailable. Try again later.');

-- validate_session now also returns role and para_wallet_id, and no row for a deactivated user.
DROP FUNCTION auth.validate_session(text);
CREATE FUNCTION auth.validate_session(token text,
    OUT user_id uuid, OUT email text, OUT name text, OUT image text, OUT email_verified boolean,
    OUT user_created_at timestamptz, OUT user_updated_at timestamptz,
    OUT session_id uuid, OUT expires_at timestamptz, OUT session_created_at timestamptz,
    OUT session_updated_at timestamptz, OUT ip inet, OUT user_agent text,
    OUT role text, OUT para_wallet_id text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_validate_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.validate_session(text) IS
  'The user and session for a session token; no row if unknown, revoked, expired or the user is deactivated. Extends the session (sliding expiry) unless on a standby or in a read-only transaction.';

-- sign-in refuses deactivated users (after the password check, so the flag is not revealed to guessers)
CREATE OR REPLACE FUNCTION auth.sign_in_email(email text, password text, remember_me boolean DEFAULT true,
                                   ip inet DEFAULT NULL, user_agent text DEFAULT NULL,
    OUT user_id uuid, OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(sign_in_email.email);
    v_account auth.accounts;
    v_active boolean;
    s record;
BEGIN
    IF sign_in_email.password IS NULL OR sign_in_email.password = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'password is required');
    END IF;
    SELECT a.* INTO v_account
      FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id AND a.provider_id = 'credential'
     WHERE u.email = v_email;
    -- Same error and the same argon2id cost whether the account is unknown or the password wrong.
    IF NOT FOUND OR v_account.password_hash IS NULL OR octet_length(sign_in_email.password) > 16384 THEN
        PERFORM auth.dummy_verify(sign_in_email.password);
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    IF NOT auth.verify_password(v_account.password_hash, sign_in_email.password) THEN
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    SELECT u.is_active INTO v_active FROM auth.users u WHERE u.id = v_account.user_id;
    IF NOT v_active THEN
        PERFORM auth.raise('USER_INACTIVE');
    END IF;
    IF auth.password_needs_rehash(v_account.password_hash) THEN
        UPDATE auth.accounts SET password_hash = auth.hash_password(sign_in_email.password), updated_at = now()
         WHERE id = v_account.id;
    END IF;
    user_id := v_account.user_id;
    SELECT * INTO s FROM auth.create_session(v_account.user_id, coalesce(sign_in_email.remember_me, true),
                                             sign_in_email.ip, left(sign_in_email.user_agent, 512));
    session_id := s.session_id;
    session_token := s.session_token;
    expires_at := s.expires_at;
END
$$;

-- deleting an account after re-authentication, as Better-Auth's delete-user does
CREATE FUNCTION auth.delete_user(user_id uuid, password text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF delete_user.password IS NULL OR delete_user.password = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'password is required');
    END IF;
    IF NOT auth.check_user_password(delete_user.user_id, delete_user.password) THEN
        PERFORM auth.raise('INVALID_PASSWORD');
    END IF;
    RETURN auth.delete_user(delete_user.user_id);
END
$$;
COMMENT ON FUNCTION auth.delete_user(uuid, text) IS
  'Deletes a user after checking their password (INVALID_PASSWORD otherwise); accounts, sessions and links cascade.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.delete_user(uuid, text) TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.validate_session(text), auth.avatar_for(uuid, text), auth.get_user_profile(uuid)
  TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION
    auth.claim_avatar(uuid, text), auth.complete_avatar(uuid, text), auth.fail_avatar(uuid, text),
    auth.link_para_wallet(uuid, text)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.link_avatar(uuid, text, text), auth.set_user_profile(uuid, text, text, boolean)
  TO pgauth_admin;
