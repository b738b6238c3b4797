-- pgauth 0.1.0: core identity — users, credential accounts, sessions, passwords.
\echo Use "CREATE EXTENSION pgauth" to load this file. \quit

-- ---------------------------------------------------------------- roles
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgauth_reader') THEN
        CREATE ROLE pgauth_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgauth_service') THEN
        CREATE ROLE pgauth_service NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgauth_admin') THEN
        CREATE ROLE pgauth_admin NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO pgauth_reader, pgauth_service, pgauth_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA auth REVOKE ALL ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA auth REVOKE ALL ON TABLES FROM PUBLIC;

-- ---------------------------------------------------------------- errors
CREATE TABLE auth.error_codes (
    code        text PRIMARY KEY,
    sqlstate    text NOT NULL CHECK (sqlstate ~ '^PA[0-9A-Z]{3}$'),
    http_status integer NOT NULL CHECK (http_status BETWEEN 400 AND 599),
    message     text NOT NULL
);
COMMENT ON TABLE auth.error_codes IS
  'Every error pgauth raises: Better-Auth-style code (errdetail), SQLSTATE (class PA), HTTP status and message.';

INSERT INTO auth.error_codes (code, sqlstate, http_status, message) VALUES
  ('BAD_REQUEST',                           'PA400', 400, 'Bad request'),
  ('VALIDATION_ERROR',                      'PA400', 400, 'Invalid input'),
  ('INVALID_EMAIL',                         'PA400', 400, 'Invalid email'),
  ('PASSWORD_TOO_SHORT',                    'PA400', 400, 'Password too short'),
  ('PASSWORD_TOO_LONG',                     'PA400', 400, 'Password too long'),
  ('INVALID_PASSWORD',                      'PA400', 400, 'Invalid password'),
  ('INVALID_PASSWORD_HASH',                 'PA400', 400, 'Unrecognised password hash format'),
  ('INVALID_EMAIL_OR_PASSWORD',             'PA401', 401, 'Invalid email or password'),
  ('UNAUTHORIZED',                          'PA401', 401, 'Unauthorized'),
  ('SESSION_EXPIRED',                       'PA401', 401, 'Session expired. Re-authenticate to perform this action.'),
  ('INVALID_TOKEN',                         'PA401', 401, 'Invalid token'),
  ('FORBIDDEN',                             'PA403', 403, 'Forbidden'),
  ('USER_NOT_FOUND',                        'PA404', 404, 'User not found'),
  ('USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', 'PA422', 422, 'User already exists. Use another email.'),
  ('RATE_LIMITED',                          'PA429', 429, 'Too many requests. Please try again later.'),
  ('INTERNAL_ERROR',                        'PA500', 500, 'Internal error');

-- ---------------------------------------------------------------- tables
CREATE TABLE auth.users (
    id             uuid CONSTRAINT users_pkey PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email          text NOT NULL UNIQUE CHECK (email = pg_catalog.lower(email)),
    name           text NOT NULL,
    image          text,
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE auth.users IS 'One row per identity. Email is stored trimmed and lower-cased.';

CREATE TABLE auth.accounts (
    id            uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    provider_id   text NOT NULL,
    account_id    text NOT NULL,
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (provider_id, account_id)
);
CREATE INDEX accounts_user_id_idx ON auth.accounts (user_id);
COMMENT ON TABLE auth.accounts IS
  'Ways a user signs in. provider_id = ''credential'' holds the password hash (argon2id; legacy scrypt/bcrypt until rehashed).';

CREATE TABLE auth.sessions (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE CHECK (pg_catalog.octet_length(token_hash) = 32),
    expires_at  timestamptz NOT NULL,
    remember_me boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    ip          inet,
    user_agent  text
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);
COMMENT ON TABLE auth.sessions IS 'Sessions. Only SHA-256(token) is stored; the token is returned once, at sign-in.';

-- Extension tables are skipped by pg_dump unless registered: without this a
-- backup would silently lose every user. (error_codes is rebuilt by CREATE EXTENSION.)
SELECT pg_catalog.pg_extension_config_dump('auth.users', '');
SELECT pg_catalog.pg_extension_config_dump('auth.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('auth.sessions', '');

REVOKE ALL ON auth.error_codes, auth.users, auth.accounts, auth.sessions FROM PUBLIC;
GRANT SELECT ON auth.error_codes TO pgauth_reader, pgauth_service, pgauth_admin;

-- ---------------------------------------------------------------- C++ primitives
CREATE FUNCTION auth.hash_token(token text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgauth_hash_token' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.hash_token(text) IS 'SHA-256 of a token: the only form in which tokens are stored.';

CREATE FUNCTION auth.hash_password(password text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_hash_password' LANGUAGE C VOLATILE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.hash_password(text) IS
  'argon2id PHC string of NFKC(password) at pgauth.argon2_opslimit / pgauth.argon2_memlimit.';

CREATE FUNCTION auth.verify_password(hash text, password text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_verify_password' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.verify_password(text, text) IS
  'True if NFKC(password) matches hash: argon2id, Better-Auth scrypt (salthex:keyhex) or bcrypt ($2a$/$2b$/$2y$). False for NULLs or unknown formats.';

CREATE FUNCTION auth.password_needs_rehash(hash text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_password_needs_rehash' LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.password_needs_rehash(text) IS
  'True when hash is not argon2id at the current pgauth.argon2_* parameters.';

CREATE FUNCTION auth.password_hash_kind(hash text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_password_hash_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.password_hash_kind(text) IS
  'argon2id, scrypt (Better-Auth) or bcrypt; NULL for an unrecognised format.';

CREATE FUNCTION auth.dummy_verify(password text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_dummy_verify' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.dummy_verify(text) IS
  'Spends one argon2id verification, so an unknown account costs what a known one does.';

CREATE FUNCTION auth.check_password_policy(password text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_check_password_policy' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.check_password_policy(text) IS
  'Raises PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG against pgauth.password_min_length / password_max_length.';

CREATE FUNCTION auth.create_session(user_id uuid, remember_me boolean, ip inet, user_agent text,
                                    OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz)
    AS 'MODULE_PATHNAME', 'pgauth_create_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.create_session(uuid, boolean, inet, text) IS
  'Creates a session for a user and returns its token (stored only as SHA-256). Internal: sign-in and sign-up call it.';

CREATE FUNCTION auth.validate_session(token text,
    OUT user_id uuid, OUT email text, OUT name text, OUT image text, OUT email_verified boolean,
    OUT user_created_at timestamptz, OUT user_updated_at timestamptz,
    OUT session_id uuid, OUT expires_at timestamptz, OUT session_created_at timestamptz,
    OUT session_updated_at timestamptz, OUT ip inet, OUT user_agent text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_validate_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.validate_session(text) IS
  'The user and session for a session token; no row if unknown, revoked or expired. Extends the session (sliding expiry) unless on a standby or in a read-only transaction.';

CREATE FUNCTION auth.selftest_boundary(kind text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_selftest_boundary' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.selftest_boundary(text) IS
  'Superuser self-test: forces a failure of the given kind (std_exception, bad_alloc, unknown_exception, auth_error, postgres_error, crypto_failure) through the C++ boundary; each must surface as a clean SQL error.';

-- ---------------------------------------------------------------- plpgsql helpers
CREATE FUNCTION auth.raise(code text, reason text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    e auth.error_codes;
BEGIN
    SELECT * INTO e FROM auth.error_codes WHERE error_codes.code = raise.code;
    IF NOT FOUND THEN
        SELECT * INTO e FROM auth.error_codes WHERE error_codes.code = 'INTERNAL_ERROR';
    END IF;
    RAISE EXCEPTION USING ERRCODE = e.sqlstate, MESSAGE = coalesce(reason, e.message), DETAIL = e.code;
END
$$;
COMMENT ON FUNCTION auth.raise(text, text) IS
  'Raises the auth.error_codes error named by code (SQLSTATE, message, DETAIL = code); reason overrides the message.';

CREATE FUNCTION auth.normalize_email(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text := lower(btrim(email, E' \t\r\n'));
BEGIN
    IF v IS NULL OR v = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'email is required');
    END IF;
    IF octet_length(v) > 254
       OR v !~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$'
       OR split_part(v, '@', 1) ~ '(^\.|\.$|\.\.)' THEN
        PERFORM auth.raise('INVALID_EMAIL');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.normalize_email(text) IS
  'Trims and lower-cases an email and checks its syntax; raises VALIDATION_ERROR (empty) or INVALID_EMAIL.';

CREATE FUNCTION auth.get_user(user_id uuid,
    OUT id uuid, OUT email text, OUT name text, OUT image text, OUT email_verified boolean,
    OUT created_at timestamptz, OUT updated_at timestamptz)
    RETURNS SETOF record
-- VOLATILE so that it sees rows written earlier in the same statement:
-- SELECT ... FROM auth.sign_up_email(...) s, auth.get_user(s.user_id) u
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp ROWS 1 AS $$
    SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.updated_at
      FROM auth.users u WHERE u.id = get_user.user_id
$$;
COMMENT ON FUNCTION auth.get_user(uuid) IS 'The public profile of a user (no secrets); no row if unknown.';

-- ---------------------------------------------------------------- sign-up / sign-in
CREATE FUNCTION auth.sign_up_email(email text, password text, name text, image text DEFAULT NULL,
                                   ip inet DEFAULT NULL, user_agent text DEFAULT NULL,
    OUT user_id uuid, OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(sign_up_email.email);
    v_name  text := btrim(sign_up_email.name);
    s record;
BEGIN
    IF v_name IS NULL OR v_name = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name is required');
    END IF;
    IF char_length(v_name) > 255 OR char_length(sign_up_email.image) > 2048 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name or image is too long');
    END IF;
    PERFORM auth.check_password_policy(sign_up_email.password);
    BEGIN
        INSERT INTO auth.users (email, name, image) VALUES (v_email, v_name, sign_up_email.image)
        RETURNING users.id INTO user_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL');
    END;
    INSERT INTO auth.accounts (user_id, provider_id, account_id, password_hash)
    VALUES (sign_up_email.user_id, 'credential', sign_up_email.user_id::text,
            auth.hash_password(sign_up_email.password));
    SELECT * INTO s FROM auth.create_session(sign_up_email.user_id, true, sign_up_email.ip,
                                             left(sign_up_email.user_agent, 512));
    session_id := s.session_id;
    session_token := s.session_token;
    expires_at := s.expires_at;
END
$$;
COMMENT ON FUNCTION auth.sign_up_email(text, text, text, text, inet, text) IS
  'Creates a user, its credential account (argon2id) and a session in one transaction; returns the session token once.';

CREATE FUNCTION auth.sign_in_email(email text, password text, remember_me boolean DEFAULT true,
                                   ip inet DEFAULT NULL, user_agent text DEFAULT NULL,
    OUT user_id uuid, OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(sign_in_email.email);
    v_account auth.accounts;
    s record;
BEGIN
    IF sign_in_email.password IS NULL OR sign_in_email.password = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'password is required');
    END IF;
    SELECT a.* INTO v_account
      FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id AND a.provider_id = 'credential'
     WHERE u.email = v_email;
    -- Same error and the same argon2id cost whether the account is unknown or the password wrong.
    IF NOT FOUND OR v_account.password_hash IS NULL
       OR octet_length(sign_in_email.password) > 16384 THEN
        PERFORM auth.dummy_verify(sign_in_email.password);
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    IF NOT auth.verify_password(v_account.password_hash, sign_in_email.password) THEN
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
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
COMMENT ON FUNCTION auth.sign_in_email(text, text, boolean, inet, text) IS
  'Verifies email and password and creates a session (1 day when remember_me is false). Legacy or weaker hashes are upgraded to argon2id.';

-- ---------------------------------------------------------------- sessions
CREATE FUNCTION auth.revoke_session(token text) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    WITH gone AS (DELETE FROM auth.sessions s WHERE s.token_hash = auth.hash_token(revoke_session.token) RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;
COMMENT ON FUNCTION auth.revoke_session(text) IS 'Ends the session with this token; true if one was ended.';

CREATE FUNCTION auth.revoke_user_sessions(user_id uuid, keep_token text DEFAULT NULL) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    WITH gone AS (
        DELETE FROM auth.sessions s
         WHERE s.user_id = revoke_user_sessions.user_id
           AND (revoke_user_sessions.keep_token IS NULL
                OR s.token_hash <> auth.hash_token(revoke_user_sessions.keep_token))
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;
COMMENT ON FUNCTION auth.revoke_user_sessions(uuid, text) IS
  'Ends every session of a user except the one whose token is keep_token; returns how many ended.';

CREATE FUNCTION auth.revoke_user_session(user_id uuid, token_or_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    IF token_or_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        DELETE FROM auth.sessions s WHERE s.user_id = revoke_user_session.user_id AND s.id = token_or_id::uuid;
    ELSE
        DELETE FROM auth.sessions s
         WHERE s.user_id = revoke_user_session.user_id AND s.token_hash = auth.hash_token(token_or_id);
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END
$$;
COMMENT ON FUNCTION auth.revoke_user_session(uuid, text) IS
  'Ends one session of this user, named by its token or by its id (as list_sessions shows it); true if one was ended.';

CREATE FUNCTION auth.list_sessions(user_id uuid,
    OUT session_id uuid, OUT expires_at timestamptz, OUT created_at timestamptz, OUT updated_at timestamptz,
    OUT ip inet, OUT user_agent text)
    RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT s.id, s.expires_at, s.created_at, s.updated_at, s.ip, s.user_agent
      FROM auth.sessions s
     WHERE s.user_id = list_sessions.user_id AND s.expires_at > now()
     ORDER BY s.created_at, s.id
$$;
COMMENT ON FUNCTION auth.list_sessions(uuid) IS 'The active sessions of a user, oldest first (no tokens: they are not stored).';

CREATE FUNCTION auth.purge_expired_sessions() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    WITH gone AS (DELETE FROM auth.sessions s WHERE s.expires_at <= now() RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;
COMMENT ON FUNCTION auth.purge_expired_sessions() IS 'Deletes expired sessions; returns how many. Schedule it (e.g. pg_cron).';

-- ---------------------------------------------------------------- users
CREATE FUNCTION auth.check_user_password(user_id uuid, password text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_hash text;
BEGIN
    SELECT a.password_hash INTO v_hash FROM auth.accounts a
     WHERE a.user_id = check_user_password.user_id AND a.provider_id = 'credential';
    IF v_hash IS NULL THEN
        PERFORM auth.dummy_verify(password);
        RETURN false;
    END IF;
    RETURN auth.verify_password(v_hash, password);
END
$$;
COMMENT ON FUNCTION auth.check_user_password(uuid, text) IS
  'True if password is this user''s current password (for re-authentication before sensitive actions).';

CREATE FUNCTION auth.change_password(user_id uuid, current_password text, new_password text,
                                     revoke_other_sessions boolean DEFAULT false, keep_token text DEFAULT NULL)
    RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_account auth.accounts;
BEGIN
    PERFORM auth.check_password_policy(new_password);
    SELECT a.* INTO v_account FROM auth.accounts a
     WHERE a.user_id = change_password.user_id AND a.provider_id = 'credential'
     FOR UPDATE;
    IF NOT FOUND OR v_account.password_hash IS NULL THEN
        PERFORM auth.dummy_verify(current_password);
        PERFORM auth.raise('INVALID_PASSWORD');
    END IF;
    IF NOT auth.verify_password(v_account.password_hash, current_password) THEN
        PERFORM auth.raise('INVALID_PASSWORD');
    END IF;
    UPDATE auth.accounts SET password_hash = auth.hash_password(new_password), updated_at = now()
     WHERE id = v_account.id;
    IF revoke_other_sessions THEN
        PERFORM auth.revoke_user_sessions(change_password.user_id, keep_token);
    END IF;
END
$$;
COMMENT ON FUNCTION auth.change_password(uuid, text, text, boolean, text) IS
  'Replaces the password after checking the current one (INVALID_PASSWORD); optionally ends every other session.';

CREATE FUNCTION auth.update_user(user_id uuid, name text, image text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF name IS NOT NULL AND (btrim(name) = '' OR char_length(name) > 255) THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name must be 1 to 255 characters');
    END IF;
    IF char_length(image) > 2048 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'image is too long');
    END IF;
    UPDATE auth.users u
       SET name = coalesce(btrim(update_user.name), u.name),
           image = coalesce(update_user.image, u.image),
           updated_at = now()
     WHERE u.id = update_user.user_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION auth.update_user(uuid, text, text) IS
  'Updates name and/or image (NULL keeps the current value); false if the user does not exist.';

CREATE FUNCTION auth.delete_user(user_id uuid) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    WITH gone AS (DELETE FROM auth.users u WHERE u.id = delete_user.user_id RETURNING 1)
    SELECT count(*) > 0 FROM gone
$$;
COMMENT ON FUNCTION auth.delete_user(uuid) IS 'Deletes a user with its accounts and sessions; false if unknown.';

CREATE FUNCTION auth.import_user(email text, name text, password_hash text DEFAULT NULL,
                                 email_verified boolean DEFAULT false, created_at timestamptz DEFAULT now())
    RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(import_user.email);
    v_id uuid;
BEGIN
    IF import_user.password_hash IS NOT NULL AND auth.password_hash_kind(import_user.password_hash) IS NULL THEN
        PERFORM auth.raise('INVALID_PASSWORD_HASH',
            'Unrecognised password hash format: expected argon2id PHC, Better-Auth scrypt (salthex:keyhex) or bcrypt ($2a$/$2b$/$2y$)');
    END IF;
    IF import_user.name IS NULL OR btrim(import_user.name) = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name is required');
    END IF;
    BEGIN
        INSERT INTO auth.users (email, name, email_verified, created_at, updated_at)
        VALUES (v_email, btrim(import_user.name), coalesce(import_user.email_verified, false),
                coalesce(import_user.created_at, now()), now())
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL');
    END;
    IF import_user.password_hash IS NOT NULL THEN
        INSERT INTO auth.accounts (user_id, provider_id, account_id, password_hash)
        VALUES (v_id, 'credential', v_id::text, import_user.password_hash);
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION auth.import_user(text, text, text, boolean, timestamptz) IS
  'Migration path: creates a user with an existing hash (argon2id, Better-Auth scrypt or bcrypt), rehashed to argon2id at first sign-in.';

-- ---------------------------------------------------------------- settings
CREATE FUNCTION auth.settings(OUT name text, OUT setting text, OUT description text) RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT s.name, s.setting || coalesce(s.unit, ''), s.short_desc
      FROM pg_catalog.pg_settings s
     WHERE s.name LIKE 'pgauth.%' AND auth.hash_token('') IS NOT NULL  -- loads the module, defining its settings
     ORDER BY s.name
$$;
COMMENT ON FUNCTION auth.settings() IS 'The pgauth.* settings in effect, with units and descriptions.';

-- ---------------------------------------------------------------- privileges
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    auth.validate_session(text), auth.hash_token(text), auth.get_user(uuid), auth.list_sessions(uuid),
    auth.settings()
  TO pgauth_reader, pgauth_service, pgauth_admin;

GRANT EXECUTE ON FUNCTION
    auth.sign_up_email(text, text, text, text, inet, text),
    auth.sign_in_email(text, text, boolean, inet, text),
    auth.revoke_session(text), auth.revoke_user_sessions(uuid, text), auth.revoke_user_session(uuid, text),
    auth.change_password(uuid, text, text, boolean, text), auth.update_user(uuid, text, text),
    auth.delete_user(uuid), auth.check_user_password(uuid, text),
    auth.hash_password(text), auth.verify_password(text, text)
  TO pgauth_service, pgauth_admin;

GRANT EXECUTE ON FUNCTION
    auth.import_user(text, text, text, boolean, timestamptz), auth.purge_expired_sessions(),
    auth.password_needs_rehash(text), auth.password_hash_kind(text)
  TO pgauth_admin;
