-- pgauth 0.5.0, the full current script: users, credential accounts, sessions, passwords,
-- avatars and wallets, JWT signing keys and row-level security helpers.
-- Upgrades from older versions run pgauth--<a>--<b>.sql; sql/upgrade.sql checks that
-- both paths give the same catalog.
\echo Use "CREATE EXTENSION pgauth" to load this file. \quit

-- ---------------------------------------------------------------- preconditions
-- Emails, names, passwords (NFKC) and every JSON body are UTF-8: in another encoding
-- CREATE EXTENSION would succeed and then every sign-up would fail.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
        RAISE EXCEPTION 'pgauth needs a UTF8 database; this database''s encoding is %', pg_catalog.getdatabaseencoding()
            USING HINT = 'Create the database with ENCODING ''UTF8'' (TEMPLATE template0) and install pgauth there.';
    END IF;
END
$$;

-- ---------------------------------------------------------------- schema
-- The script creates the schema, so it is a member of the extension and DROP EXTENSION
-- removes it. An existing schema auth is used only when it is empty and a superuser owns
-- it (as an install upgraded from 0.3.0 or older leaves it after DROP EXTENSION); it then
-- stays when the extension is dropped.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'auth') THEN
        CREATE SCHEMA auth;
    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                   WHERE n.nspname OPERATOR(pg_catalog.=) 'auth' AND NOT r.rolsuper)
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) 'auth'::pg_catalog.regnamespace)
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) 'auth'::pg_catalog.regnamespace)
          OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) 'auth'::pg_catalog.regnamespace) THEN
        RAISE EXCEPTION 'a schema named auth already exists and is not empty or not owned by a superuser'
            USING HINT = 'pgauth installs into its own schema auth: rename or drop the existing one.';
    END IF;
END
$$;

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

-- The catalog is compiled into the library (extension/core/error_codes.cpp): raising
-- an error runs no SQL. The table is filled from it, for SQL readers and the HTTP layer.
CREATE FUNCTION auth.error_code_catalog(OUT code text, OUT sqlstate text, OUT http_status integer, OUT message text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_error_code_catalog' LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.error_code_catalog() IS
  'The error catalog compiled into the library; auth.error_codes holds the same rows.';
INSERT INTO auth.error_codes (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c;

-- ---------------------------------------------------------------- tables
CREATE TABLE auth.users (
    id             uuid CONSTRAINT users_pkey PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    email          text NOT NULL UNIQUE CHECK (email = pg_catalog.lower(email)),
    name           text NOT NULL,
    image          text,
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- profile fields products keep beside the identity
    role           text NOT NULL DEFAULT 'user' CHECK (role ~ '^[a-z][a-z0-9_-]{0,31}$'),
    kyc_status     text NOT NULL DEFAULT 'pending'
                   CHECK (kyc_status IN ('pending', 'submitted', 'verified', 'rejected')),
    is_active      boolean NOT NULL DEFAULT true,
    para_wallet_id text CONSTRAINT users_para_wallet_id_key UNIQUE
                   CHECK (char_length(para_wallet_id) BETWEEN 1 AND 200)
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


-- Signing keys. The public JWK is in the clear; the private key is sealed with
-- XChaCha20-Poly1305 under the KEK from pgauth.key_file (nonce || ciphertext,
-- the kid as associated data). private_key is NULL for a key imported for
-- verification only. The signing key is the newest row with retires_at NULL
-- and a private key; rotation gives the previous one a retires_at, after which
-- it is neither published nor accepted.
CREATE TABLE auth.jwks (
    kid         text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{43}$'),
    alg         text NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
    public_jwk  jsonb NOT NULL CHECK (NOT public_jwk ? 'd'),
    private_key bytea,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    retires_at  timestamptz
);
COMMENT ON TABLE auth.jwks IS
  'JWT signing keys: public JWK in the clear, private key sealed under the KEK of pgauth.key_file (never stored here).';
REVOKE ALL ON auth.jwks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.jwks', '');

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
  'True if NFKC(password) matches hash: argon2id, Better-Auth scrypt (salthex:keyhex) or bcrypt ($2a$/$2b$/$2y$). False for NULLs or unknown formats. PASSWORD_HASH_UNVERIFIABLE, without hashing, for a hash above the cost limits.';

CREATE FUNCTION auth.password_needs_rehash(hash text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_password_needs_rehash' LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.password_needs_rehash(text) IS
  'True when hash is not argon2id at the current pgauth.argon2_* parameters.';

CREATE FUNCTION auth.password_hash_kind(hash text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_password_hash_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.password_hash_kind(text) IS
  'argon2id, scrypt (Better-Auth) or bcrypt; NULL for an unrecognised format.';

CREATE FUNCTION auth.check_password_hash(hash text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_check_password_hash' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.check_password_hash(text) IS
  'Import check without hashing: INVALID_PASSWORD_HASH for an unknown format, PASSWORD_HASH_TOO_EXPENSIVE for a cost above pgauth.argon2_max_memlimit / argon2_max_opslimit / bcrypt_max_cost / scrypt_max_n.';

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
    OUT session_updated_at timestamptz, OUT ip inet, OUT user_agent text,
    OUT role text, OUT para_wallet_id text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_validate_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.validate_session(text) IS
  'The user and session for a session token; no row if unknown, revoked, expired or the user is deactivated. Extends the session (sliding expiry) unless on a standby or in a read-only transaction.';

CREATE FUNCTION auth.selftest_boundary(kind text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_selftest_boundary' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.selftest_boundary(text) IS
  'Superuser self-test: forces a failure of the given kind (std_exception, bad_alloc, unknown_exception, auth_error, postgres_error, crypto_failure) through the C++ boundary; each must surface as a clean SQL error.';

-- ---------------------------------------------------------------- plpgsql helpers
CREATE FUNCTION auth.raise(code text, reason text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_raise' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.raise(text, text) IS
  'Raises the catalog error named by code (SQLSTATE, message, DETAIL = code); reason overrides the message. Unknown codes raise INTERNAL_ERROR.';

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

-- ---------------------------------------------------------------- sign-in lockout
-- Internal (no grant): sign_in_email and change_password call them. The counts are in
-- memory (shared with shared_preload_libraries = 'pgauth'): a failed sign-in's error
-- rolls back table writes.
CREATE FUNCTION auth.sign_in_lock(email text) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_lock' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_lock(text) IS
  'Internal: seconds a normalized email stays locked after failed sign-ins; 0 if it is not.';
CREATE FUNCTION auth.sign_in_failed(email text) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_failed' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_failed(text) IS
  'Internal: counts a failed sign-in for a normalized email; returns the lock it starts in seconds (0 for none).';
CREATE FUNCTION auth.sign_in_reset(email text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_reset' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_reset(text) IS
  'Internal: forgets the failed sign-ins of a normalized email (after a success or a new password).';

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
    v_active boolean;
    v_locked integer;
    s record;
BEGIN
    IF sign_in_email.password IS NULL OR sign_in_email.password = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'password is required');
    END IF;
    -- Lockout (ASVS V2.2.1), counted per email whether or not an account has it: refused
    -- without checking the password; the answer does not tell whether the account exists.
    v_locked := auth.sign_in_lock(v_email);
    IF v_locked > 0 THEN
        PERFORM auth.raise('ACCOUNT_LOCKED',
            format('Too many failed sign-in attempts. Try again in %s second%s.', v_locked,
                   CASE WHEN v_locked = 1 THEN '' ELSE 's' END));
    END IF;
    SELECT a.* INTO v_account
      FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id AND a.provider_id = 'credential'
     WHERE u.email = v_email;
    -- Same error and the same argon2id cost whether the account is unknown or the password wrong.
    IF NOT FOUND OR v_account.password_hash IS NULL OR octet_length(sign_in_email.password) > 16384 THEN
        PERFORM auth.dummy_verify(sign_in_email.password);
        PERFORM auth.sign_in_failed(v_email);  -- kept in memory: the error below rolls back only table writes
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    IF NOT auth.verify_password(v_account.password_hash, sign_in_email.password) THEN
        PERFORM auth.sign_in_failed(v_email);
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    PERFORM auth.sign_in_reset(v_email);
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
COMMENT ON FUNCTION auth.sign_in_email(text, text, boolean, inet, text) IS
  'Verifies email and password and creates a session (1 day when remember_me is false). Legacy or weaker hashes are upgraded to argon2id. After pgauth.lockout_threshold consecutive failures for an email it is locked (ACCOUNT_LOCKED) for 2^(failures - threshold) seconds, up to pgauth.lockout_max_delay.';

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
    PERFORM auth.sign_in_reset(u.email) FROM auth.users u WHERE u.id = change_password.user_id;  -- a new password clears the lockout
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
COMMENT ON FUNCTION auth.delete_user(uuid) IS
  'Admin: deletes a user with its accounts and sessions without a password check; false if unknown.';

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


CREATE FUNCTION auth.import_user(email text, name text, password_hash text DEFAULT NULL,
                                 email_verified boolean DEFAULT false, created_at timestamptz DEFAULT now())
    RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(import_user.email);
    v_id uuid;
BEGIN
    IF import_user.password_hash IS NOT NULL THEN
        PERFORM auth.check_password_hash(import_user.password_hash);
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
  'Migration path: creates a user with an existing hash (argon2id, Better-Auth scrypt or bcrypt), rehashed to argon2id at first sign-in. A hash whose cost is above the pgauth.*_max_* limits is refused (PASSWORD_HASH_TOO_EXPENSIVE).';

-- ---------------------------------------------------------------- avatars (OASIS), Para wallets, profile fields
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

-- ---------------------------------------------------------------- JWT signing keys, tokens, row-level security
-- Every change reaches every backend's key cache (through a relcache invalidation).
CREATE FUNCTION auth.jwks_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgauth_jwks_changed' LANGUAGE C;
COMMENT ON FUNCTION auth.jwks_changed() IS 'Trigger: tells every backend to reload its cached signing keys.';
CREATE TRIGGER jwks_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.jwks
    FOR EACH STATEMENT EXECUTE FUNCTION auth.jwks_changed();

-- ---------------------------------------------------------------- keys
CREATE FUNCTION auth.rotate_signing_key(alg text DEFAULT 'EdDSA') RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_rotate_signing_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.rotate_signing_key(text) IS
  'Creates a new signing key (EdDSA, ES256 or RS256) and makes it current; the previous one stays published for pgauth.jwt_key_grace_period. Returns its kid (RFC 7638 thumbprint).';

CREATE FUNCTION auth.import_signing_key(jwk jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_import_signing_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.import_signing_key(jsonb) IS
  'Imports a JWK. With its private part ("d") it is sealed and becomes the signing key (as a rotation); without, it is published and accepted for verification only. Returns the kid.';

CREATE FUNCTION auth.retire_signing_key(kid text, retires_at timestamptz DEFAULT pg_catalog.now()) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    WITH retired AS (
        UPDATE auth.jwks SET retires_at = retire_signing_key.retires_at
         WHERE jwks.kid = retire_signing_key.kid
        RETURNING 1)
    SELECT count(*) > 0 FROM retired;
$$;
COMMENT ON FUNCTION auth.retire_signing_key(text, timestamptz) IS
  'Stops publishing and accepting a key from retires_at (default now); true if the kid exists.';

CREATE FUNCTION auth.jwks() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_jwks' LANGUAGE C VOLATILE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.jwks() IS
  'The JWKS document {"keys": [...]}: the published public keys, newest first. Creates the first EdDSA key when there is none and the server is writable.';

-- ---------------------------------------------------------------- tokens
CREATE FUNCTION auth.sign_jwt(claims jsonb, expires_in interval DEFAULT NULL, audience text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_sign_jwt' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_jwt(jsonb, interval, text) IS
  'Signs claims with the current key, adding iat, exp (expires_in, default pgauth.jwt_expires_in), iss (pgauth.issuer) and aud when given.';

CREATE FUNCTION auth.session_jwt(session_token text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_session_jwt' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.session_jwt(text) IS
  'The Better-Auth jwt-plugin token for a live session: the user object plus sub, iss and aud = pgauth.base_url, pgauth.jwt_expires_in. UNAUTHORIZED without a live session.';

CREATE FUNCTION auth.verify_jwt(token text, audience text DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_verify_jwt' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER
    PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.verify_jwt(text, text) IS
  'The claims of a JWT signed by a published key, or INVALID_TOKEN with the reason. The key pins the algorithm; exp, nbf, iat (with pgauth.jwt_leeway), iss and, when given, aud are checked.';

-- ---------------------------------------------------------------- row-level security
CREATE FUNCTION auth.jwt_session_init(jwt text, session_wide boolean DEFAULT false, audience text DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_jwt_session_init' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.jwt_session_init(text, boolean, text) IS
  'Verifies a JWT (aud must be audience, default pgauth.base_url; a sid claim must name a live session) and signs its subject in for this transaction (or, with session_wide, this connection) for auth.jwt(), auth.user_id() and auth.session().';

CREATE FUNCTION auth.session_init(session_token text, session_wide boolean DEFAULT false) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_session_init' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.session_init(text, boolean) IS
  'Signs the user of a live session token in for this transaction (or connection); UNAUTHORIZED otherwise.';

CREATE FUNCTION auth.session_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_session_reset' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.session_reset() IS 'Signs out whoever jwt_session_init or session_init signed in.';

CREATE FUNCTION auth.jwt() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_jwt' LANGUAGE C STABLE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.jwt() IS 'The verified claims given to jwt_session_init, or NULL.';

CREATE FUNCTION auth.user_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_user_id' LANGUAGE C STABLE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.user_id() IS
  'The signed-in user (sub of the verified JWT or the session''s user), or NULL. For RLS policies: USING (owner_id = auth.user_id()).';

CREATE FUNCTION auth.session() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_session' LANGUAGE C STABLE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.session() IS
  'The claims of whoever is signed in: the JWT''s, or for session_init the user object with sub and sid; NULL if nobody.';

-- ---------------------------------------------------------------- settings
CREATE FUNCTION auth.settings(OUT name text, OUT setting text, OUT description text) RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT s.name, s.setting || coalesce(s.unit, ''), s.short_desc
      FROM pg_catalog.pg_settings s
     WHERE s.name LIKE 'pgauth.%' AND auth.hash_token('') IS NOT NULL  -- loads the module, defining its settings
       -- superuser-only settings (pgauth.key_file) only for a superuser login: this function runs
       -- as its owner, so the caller is judged by session_user, which only a superuser can change
       AND (s.name <> 'pgauth.key_file'
            OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false))
     ORDER BY s.name
$$;
COMMENT ON FUNCTION auth.settings() IS
  'The pgauth.* settings in effect, with units and descriptions; pgauth.key_file only for superusers.';

-- ---------------------------------------------------------------- Better-Auth responses
-- The extension builds every Better-Auth JSON body (one C++ place for the user object and
-- the time format); pgauth-http passes them through.
CREATE FUNCTION auth.get_session(p_token text, p_want_jwt boolean DEFAULT false)
    RETURNS TABLE (body json, jwt text, jwt_error text, refreshed boolean, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_get_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.get_session(text, boolean) IS
  'Better-Auth get-session from one lookup: body {"session","user"}, refreshed when this call extended the session (sliding expiry), max_age = seconds left. With p_want_jwt, jwt is the session JWT, or NULL with jwt_error (e.g. SIGNING_KEY_UNAVAILABLE): keys never fail the call. No row if the token names no live session.';

CREATE FUNCTION auth.sign_up_response(p_email text, p_password text, p_name text, p_image text, p_ip inet,
                                      p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_sign_up_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_up_response(text, text, text, text, inet, text) IS
  'auth.sign_up_email with Better-Auth''s sign-up body {"token","user"}, the session token and the cookie''s max_age.';

CREATE FUNCTION auth.sign_in_response(p_email text, p_password text, p_remember_me boolean, p_ip inet,
                                      p_user_agent text, p_callback_url text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_response(text, text, boolean, inet, text, text) IS
  'auth.sign_in_email with Better-Auth''s sign-in body {"redirect","token","url"?,"user"} (redirect and url when p_callback_url is not empty; the caller checks it against trusted origins), the session token and the cookie''s max_age.';

CREATE FUNCTION auth.list_sessions_response(p_token text) RETURNS json
    AS 'MODULE_PATHNAME', 'pgauth_list_sessions_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.list_sessions_response(text) IS
  'Better-Auth list-sessions: the live sessions of the token''s user as a JSON array (token = the session id: tokens are not stored); NULL if the token names no live session.';

CREATE FUNCTION auth.change_password_response(p_token text, p_current text, p_new text, p_revoke_others boolean)
    RETURNS json
    AS 'MODULE_PATHNAME', 'pgauth_change_password_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.change_password_response(text, text, text, boolean) IS
  'auth.change_password for the token''s user with Better-Auth''s body {"token": p_token when p_revoke_others else null, "user"}; NULL if the token names no live session.';

CREATE FUNCTION auth.key_status(OUT status text, OUT reason text)
    AS 'MODULE_PATHNAME', 'pgauth_key_status' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.key_status() IS
  'For health checks: ''ok'' when session JWTs can be signed, else SIGNING_KEY_UNAVAILABLE with the reason (pgauth.key_file unset, unreadable, of the wrong size or not opening the sealed key; no key yet on a read-only server). Never shows a secret; writes nothing.';

-- ---------------------------------------------------------------- shared rate limits
-- Optional: pgauth-http instances that share one database can share their rate limits
-- here instead of each counting in memory. UNLOGGED: no WAL per hit, emptied by a crash
-- (a rate limit may forget), not replicated, not dumped.
CREATE UNLOGGED TABLE auth.rate_limits (
    key       text PRIMARY KEY CHECK (pg_catalog.octet_length(key) <= 512),
    resets_at timestamptz NOT NULL,
    hits      integer NOT NULL
);
COMMENT ON TABLE auth.rate_limits IS
  'Fixed-window hit counters of auth.rate_limit_hit, one row per key; rows whose window ended are pruned by later calls.';
REVOKE ALL ON auth.rate_limits FROM PUBLIC;

CREATE FUNCTION auth.rate_limit_hit(p_key text, p_limit integer, p_window_seconds integer,
                                    OUT allowed boolean, OUT retry_after integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_hits integer;
    v_resets_at timestamptz;
BEGIN
    IF p_key IS NULL OR p_key = '' OR octet_length(p_key) > 512 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_key must be 1 to 512 bytes');
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_window_seconds IS NULL OR p_window_seconds NOT BETWEEN 1 AND 86400 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_limit must be at least 1 and p_window_seconds between 1 and 86400');
    END IF;
    -- One atomic upsert: the row lock orders concurrent hits on one key. A window starts at
    -- its first hit; hits past the limit are refused and not counted (as the in-memory limiter).
    INSERT INTO auth.rate_limits AS r (key, resets_at, hits)
    VALUES (p_key, clock_timestamp() + make_interval(secs => p_window_seconds), 1)
    ON CONFLICT (key) DO UPDATE
       SET resets_at = CASE WHEN r.resets_at <= clock_timestamp() THEN excluded.resets_at ELSE r.resets_at END,
           hits = CASE WHEN r.resets_at <= clock_timestamp() THEN 1 ELSE least(r.hits + 1, p_limit + 1) END
    RETURNING r.hits, r.resets_at INTO v_hits, v_resets_at;
    allowed := v_hits <= p_limit;
    retry_after := CASE WHEN allowed THEN 0
                        ELSE greatest(1, ceil(extract(epoch FROM v_resets_at - clock_timestamp())))::integer END;
    -- Pruning, about once per 100 new windows: at most 100 ended rows, skipping rows in use.
    IF v_hits = 1 AND random() < 0.01 THEN
        DELETE FROM auth.rate_limits d
         WHERE d.key IN (SELECT o.key FROM auth.rate_limits o WHERE o.resets_at < clock_timestamp()
                          LIMIT 100 FOR UPDATE SKIP LOCKED);
    END IF;
END
$$;
COMMENT ON FUNCTION auth.rate_limit_hit(text, integer, integer) IS
  'Counts one hit on p_key in a fixed window of p_window_seconds starting at its first hit: allowed while at most p_limit hits, else retry_after = seconds until the window ends. One atomic upsert; concurrent callers never let more than p_limit through.';

-- ---------------------------------------------------------------- privileges
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    auth.validate_session(text), auth.hash_token(text), auth.get_user(uuid), auth.list_sessions(uuid),
    auth.settings(), auth.error_code_catalog(), auth.avatar_for(uuid, text), auth.get_user_profile(uuid),
    auth.jwks(), auth.verify_jwt(text, text),
    auth.jwt_session_init(text, boolean, text), auth.session_init(text, boolean), auth.session_reset(),
    auth.jwt(), auth.user_id(), auth.session()
  TO pgauth_reader, pgauth_service, pgauth_admin;

GRANT EXECUTE ON FUNCTION
    auth.sign_up_email(text, text, text, text, inet, text),
    auth.sign_in_email(text, text, boolean, inet, text),
    auth.revoke_session(text), auth.revoke_user_sessions(uuid, text), auth.revoke_user_session(uuid, text),
    auth.change_password(uuid, text, text, boolean, text), auth.update_user(uuid, text, text),
    auth.delete_user(uuid, text), auth.check_user_password(uuid, text),
    auth.hash_password(text), auth.verify_password(text, text),
    auth.claim_avatar(uuid, text), auth.complete_avatar(uuid, text), auth.fail_avatar(uuid, text),
    auth.link_para_wallet(uuid, text),
    auth.sign_jwt(jsonb, interval, text), auth.session_jwt(text)
  TO pgauth_service, pgauth_admin;

GRANT EXECUTE ON FUNCTION
    auth.delete_user(uuid), auth.import_user(text, text, text, boolean, timestamptz), auth.purge_expired_sessions(),
    auth.password_needs_rehash(text), auth.password_hash_kind(text), auth.check_password_hash(text),
    auth.link_avatar(uuid, text, text), auth.set_user_profile(uuid, text, text, boolean),
    auth.rotate_signing_key(text), auth.import_signing_key(jsonb), auth.retire_signing_key(text, timestamptz)
  TO pgauth_admin;

GRANT EXECUTE ON FUNCTION
    auth.get_session(text, boolean), auth.sign_up_response(text, text, text, text, inet, text),
    auth.sign_in_response(text, text, boolean, inet, text, text), auth.list_sessions_response(text),
    auth.change_password_response(text, text, text, boolean)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.key_status() TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.rate_limit_hit(text, integer, integer) TO pgauth_service, pgauth_admin;

-- ---------------------------------------------------------------- settings
-- The pgauth.* settings exist in a session only once the library is loaded; preloading it
-- makes ALTER SYSTEM SET pgauth.* and SHOW pgauth.* work in every session.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(pg_catalog.string_to_array(
                       pg_catalog.current_setting('shared_preload_libraries'), ',')) l
                    WHERE pg_catalog.btrim(l, ' "') OPERATOR(pg_catalog.=) ANY ('{pgauth,$libdir/pgauth}'::text[])) THEN
        -- a WARNING: CREATE EXTENSION runs its script with client_min_messages at least warning
        RAISE WARNING 'pgauth is not in shared_preload_libraries: until a session calls an auth.* function, the pgauth.* settings are unknown to it (ALTER SYSTEM SET pgauth.* fails, SHOW pgauth.* is empty)'
            USING HINT = 'Add shared_preload_libraries = ''pgauth'' to postgresql.conf and restart the server.';
    END IF;
END
$$;

-- ---------------------------------------------------------------- vault (issue 18)
-- Per-user secrets for outside services. Write-only over HTTP (vault_list shows masks);
-- only pgauth_vault reads a value (auth.vault_read), and every read is audited.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgauth_vault') THEN
        CREATE ROLE pgauth_vault NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA auth TO pgauth_vault;

CREATE TABLE auth.vault (
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name ~ '^[A-Za-z][A-Za-z0-9_.-]{0,63}$'),
    sealed     bytea NOT NULL,
    masked     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, name)
);
COMMENT ON TABLE auth.vault IS
  'Per-user secrets: sealed = XChaCha20-Poly1305 under the KEK (pgauth.key_file), associated data = user id (16 bytes) || name; masked = the display form computed when the value was set.';
REVOKE ALL ON auth.vault FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.vault', '');

CREATE TABLE auth.audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    role    text NOT NULL,
    event   text NOT NULL,
    user_id uuid,
    detail  jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE auth.audit_log IS
  'Append-only audit, readable by the owner only: actor = session_user, role = the caller''s role (SET ROLE) or login role, event (vault_read, vault_set, vault_delete), whose user_id, detail (names, never a value). No role is granted any privilege on it; kept when the user is deleted.';
REVOKE ALL ON auth.audit_log FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('auth.audit_log_id_seq', '');

CREATE FUNCTION auth.vault_seal(user_id uuid, name text, value text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgauth_vault_seal' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.vault_seal(uuid, text, text) IS
  'Internal: seals a vault value under the KEK bound to (user_id, name). SIGNING_KEY_UNAVAILABLE without a KEK.';

CREATE FUNCTION auth.vault_open(user_id uuid, name text, sealed bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_vault_open' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.vault_open(uuid, text, bytea) IS
  'Internal: opens a sealed vault value; VAULT_VALUE_UNREADABLE if it was sealed for another (user_id, name), altered, or sealed under another KEK.';

CREATE FUNCTION auth.vault_mask(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    -- Reveal at most a third of the characters, and at most the first 8 and last 4:
    -- n <= 6 -> an ellipsis (U+2026) alone; else r = least(12, n / 3) shown, last least(4, r / 2), first least(8, r - last).
    SELECT CASE WHEN n <= 6 THEN chr(8230)
                ELSE substr(value, 1, least(8, r - least(4, r / 2))) || chr(8230)
                     || substr(value, n - least(4, r / 2) + 1, least(4, r / 2)) END
      FROM (SELECT char_length(value) AS n, least(12, char_length(value) / 3) AS r) s
$$;
COMMENT ON FUNCTION auth.vault_mask(text) IS
  'The display form of a vault value: at most a third of its characters and at most the first 8 and last 4 (12 chars -> 2 + … + 2; 6 or fewer -> …).';

CREATE FUNCTION auth.vault_body(p_user_id uuid) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT json_build_object('keys', coalesce(json_agg(json_build_object(
               'name', v.name, 'masked', v.masked,
               'updatedAt', to_char(v.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
             ORDER BY v.name COLLATE "C"), '[]'::json))
      FROM auth.vault v WHERE v.user_id = p_user_id
$$;
COMMENT ON FUNCTION auth.vault_body(uuid) IS
  'Internal: the vault_list body of a user, {"keys":[{name, masked, updatedAt}]} sorted by name.';

CREATE FUNCTION auth.vault_list(p_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN auth.vault_body(v_user);
END
$$;
COMMENT ON FUNCTION auth.vault_list(text) IS
  'The vault of the token''s user, masked: {"keys":[{"name","masked","updatedAt"}]} sorted by name; NULL if the token names no live session. Never a value.';

CREATE FUNCTION auth.vault_set(p_token text, p_entries jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_max_bytes integer := coalesce(nullif(current_setting('pgauth.vault_max_value_bytes', true), '')::integer, 8192);
    v_max_entries integer := coalesce(nullif(current_setting('pgauth.vault_max_entries', true), '')::integer, 50);
    e record;
    v_value text;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_entries IS NULL OR jsonb_typeof(p_entries) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the body must be an object {name: "value" | null}');
    END IF;
    -- check everything before writing anything
    FOR e IN SELECT key, value FROM jsonb_each(p_entries) LOOP
        IF e.key !~ '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' THEN
            PERFORM auth.raise('INVALID_VAULT_NAME');
        END IF;
        IF jsonb_typeof(e.value) NOT IN ('string', 'null') THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('the value of %s must be a string or null', e.key));
        END IF;
        IF jsonb_typeof(e.value) = 'string' THEN
            v_value := e.value #>> '{}';
            IF v_value = '' THEN
                PERFORM auth.raise('VALIDATION_ERROR', format('the value of %s is empty (null deletes a key)', e.key));
            END IF;
            IF octet_length(v_value) > v_max_bytes THEN
                PERFORM auth.raise('VAULT_VALUE_TOO_LARGE');
            END IF;
        END IF;
    END LOOP;
    -- more new values than the vault can hold: refused before any sealing
    IF (SELECT count(*) FROM jsonb_each(p_entries) j WHERE jsonb_typeof(j.value) = 'string') > v_max_entries THEN
        PERFORM auth.raise('VAULT_FULL');
    END IF;
    -- one writer per user at a time, so the entry count holds
    PERFORM 1 FROM auth.users u WHERE u.id = v_user FOR NO KEY UPDATE;
    FOR e IN SELECT key, value FROM jsonb_each(p_entries) ORDER BY key COLLATE "C" LOOP
        IF jsonb_typeof(e.value) = 'null' THEN
            DELETE FROM auth.vault v WHERE v.user_id = v_user AND v.name = e.key;
            IF FOUND THEN
                INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
                VALUES (session_user, coalesce(nullif(current_setting('role'), 'none'), session_user::text), 'vault_delete', v_user, jsonb_build_object('name', e.key));
            END IF;
        ELSE
            v_value := e.value #>> '{}';
            INSERT INTO auth.vault AS v (user_id, name, sealed, masked)
            VALUES (v_user, e.key, auth.vault_seal(v_user, e.key, v_value), auth.vault_mask(v_value))
            ON CONFLICT (user_id, name) DO UPDATE
               SET sealed = excluded.sealed, masked = excluded.masked, updated_at = now();
            INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
            VALUES (session_user, coalesce(nullif(current_setting('role'), 'none'), session_user::text), 'vault_set', v_user, jsonb_build_object('name', e.key));
        END IF;
    END LOOP;
    IF (SELECT count(*) FROM auth.vault v WHERE v.user_id = v_user) > v_max_entries THEN
        PERFORM auth.raise('VAULT_FULL');
    END IF;
    RETURN auth.vault_body(v_user);
END
$$;
COMMENT ON FUNCTION auth.vault_set(text, jsonb) IS
  'Sets (string) or deletes (null) vault entries of the token''s user, all or nothing, and returns the vault_list body; NULL if the token names no live session. VALIDATION_ERROR, INVALID_VAULT_NAME, VAULT_VALUE_TOO_LARGE (pgauth.vault_max_value_bytes), VAULT_FULL (pgauth.vault_max_entries), SIGNING_KEY_UNAVAILABLE.';

CREATE FUNCTION auth.vault_read(p_user_id uuid, p_name text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_sealed bytea;
BEGIN
    SELECT v.sealed INTO v_sealed FROM auth.vault v WHERE v.user_id = p_user_id AND v.name = p_name;
    -- role: the caller's role (SET ROLE), else its login role; current_user here is the owner
    INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
    VALUES (session_user, coalesce(nullif(current_setting('role'), 'none'), session_user::text), 'vault_read', p_user_id,
            jsonb_build_object('name', p_name, 'found', v_sealed IS NOT NULL));
    IF v_sealed IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN auth.vault_open(p_user_id, p_name, v_sealed);
END
$$;
COMMENT ON FUNCTION auth.vault_read(uuid, text) IS
  'For pgauth_vault only: the plaintext of a user''s vault entry, or NULL if there is none. Every call (found or not) appends an auth.audit_log row (actor, role, user, name; never the value).';

REVOKE ALL ON FUNCTION auth.vault_seal(uuid, text, text), auth.vault_open(uuid, text, bytea), auth.vault_mask(text),
    auth.vault_body(uuid), auth.vault_list(text), auth.vault_set(text, jsonb), 
    auth.vault_read(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.vault_list(text), auth.vault_set(text, jsonb) TO pgauth_service;
GRANT EXECUTE ON FUNCTION auth.vault_read(uuid, text) TO pgauth_vault;

-- ---------------------------------------------------------------- API keys (issue 18)
-- Better-Auth apiKey plugin compatible keys for pgauth's own API. Only the SHA-256 digest
-- of a key is stored; `start` (its first 6 characters, prefix included) is kept for display.
CREATE TABLE auth.api_keys (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    digest                 bytea NOT NULL CHECK (octet_length(digest) = 32),
    name                   text CHECK (char_length(name) BETWEEN 1 AND 32),
    prefix                 text CHECK (prefix ~ '^[a-zA-Z0-9_-]{1,32}$'),
    start                  text,
    enabled                boolean NOT NULL DEFAULT true,
    rate_limit_enabled     boolean NOT NULL DEFAULT true,
    rate_limit_time_window bigint CHECK (rate_limit_time_window > 0),
    rate_limit_max         integer CHECK (rate_limit_max > 0),
    request_count          integer NOT NULL DEFAULT 0,
    last_request           timestamptz,
    remaining              integer CHECK (remaining >= 0),
    refill_amount          integer CHECK (refill_amount > 0),
    refill_interval        bigint CHECK (refill_interval > 0),
    last_refill_at         timestamptz,
    expires_at             timestamptz,
    permissions            jsonb,
    metadata               jsonb,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_keys_digest_key ON auth.api_keys (digest);
CREATE INDEX api_keys_user_id_idx ON auth.api_keys (user_id);
COMMENT ON TABLE auth.api_keys IS
  'API keys (Better-Auth apiKey plugin): digest = SHA-256 of the key (never the key), start = its first 6 characters for display; time windows and intervals in milliseconds.';
REVOKE ALL ON auth.api_keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.api_keys', '');

CREATE FUNCTION auth.api_key_generate(prefix text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_api_key_generate' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.api_key_generate(text) IS
  'Internal: a new API key, prefix followed by 64 random letters [a-zA-Z].';

CREATE FUNCTION auth.iso_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
COMMENT ON FUNCTION auth.iso_time(timestamptz) IS 'Internal: Better-Auth''s time format (UTC, milliseconds, Z).';

CREATE FUNCTION auth.api_key_body(k auth.api_keys) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT jsonb_build_object(
        'id', k.id, 'configId', 'default', 'name', k.name, 'start', k.start, 'prefix', k.prefix,
        'referenceId', k.user_id, 'userId', k.user_id,
        'refillInterval', k.refill_interval, 'refillAmount', k.refill_amount,
        'lastRefillAt', auth.iso_time(k.last_refill_at), 'enabled', k.enabled,
        'rateLimitEnabled', k.rate_limit_enabled, 'rateLimitTimeWindow', k.rate_limit_time_window,
        'rateLimitMax', k.rate_limit_max, 'requestCount', k.request_count, 'remaining', k.remaining,
        'lastRequest', auth.iso_time(k.last_request), 'expiresAt', auth.iso_time(k.expires_at),
        'createdAt', auth.iso_time(k.created_at), 'updatedAt', auth.iso_time(k.updated_at),
        'metadata', k.metadata, 'permissions', k.permissions)
$$;
COMMENT ON FUNCTION auth.api_key_body(auth.api_keys) IS
  'Internal: Better-Auth''s API key object (never the key or its digest).';

-- The checks shared by create and update; p_body is an object.
CREATE FUNCTION auth.api_key_check(p_body jsonb, p_update boolean) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    f text;
    r record;
BEGIN
    IF p_body ? 'userId' THEN
        PERFORM auth.raise('UNAUTHORIZED_SESSION');
    END IF;
    FOREACH f IN ARRAY ARRAY['expiresIn', 'remaining', 'refillAmount', 'refillInterval', 'rateLimitTimeWindow', 'rateLimitMax'] LOOP
        IF p_body ? f AND jsonb_typeof(p_body -> f) NOT IN ('number', 'null') THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a number', f));
        END IF;
        IF jsonb_typeof(p_body -> f) = 'number' AND ((p_body ->> f)::numeric <> trunc((p_body ->> f)::numeric)
                OR (p_body ->> f)::numeric NOT BETWEEN -1e15 AND 1e15) THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a whole number', f));
        END IF;
    END LOOP;
    FOREACH f IN ARRAY ARRAY['enabled', 'rateLimitEnabled'] LOOP
        IF p_body ? f AND jsonb_typeof(p_body -> f) <> 'boolean' THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be a boolean', f));
        END IF;
    END LOOP;
    IF p_body ? 'name' AND jsonb_typeof(p_body -> 'name') <> 'string' AND NOT (NOT p_update AND jsonb_typeof(p_body -> 'name') = 'null') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name must be a string');
    END IF;
    IF jsonb_typeof(p_body -> 'name') = 'string' AND char_length(p_body ->> 'name') NOT BETWEEN 1 AND 32 THEN
        PERFORM auth.raise('INVALID_NAME_LENGTH');
    END IF;
    IF p_body ? 'metadata' AND jsonb_typeof(p_body -> 'metadata') NOT IN ('object', 'null') THEN
        PERFORM auth.raise('INVALID_METADATA_TYPE');
    END IF;
    IF jsonb_typeof(p_body -> 'expiresIn') = 'number' THEN
        IF (p_body ->> 'expiresIn')::numeric < 86400 THEN
            PERFORM auth.raise('EXPIRES_IN_IS_TOO_SMALL');
        ELSIF (p_body ->> 'expiresIn')::numeric > 365 * 86400 THEN
            PERFORM auth.raise('EXPIRES_IN_IS_TOO_LARGE');
        END IF;
    END IF;
    IF jsonb_typeof(p_body -> 'remaining') = 'number'
       AND (p_body ->> 'remaining')::numeric NOT BETWEEN (CASE WHEN p_update THEN 1 ELSE 0 END) AND 2147483647 THEN
        PERFORM auth.raise('INVALID_REMAINING');
    END IF;
    IF jsonb_typeof(p_body -> 'refillAmount') = 'number' AND jsonb_typeof(p_body -> 'refillInterval') IS DISTINCT FROM 'number' THEN
        PERFORM auth.raise('REFILL_AMOUNT_AND_INTERVAL_REQUIRED');
    END IF;
    IF jsonb_typeof(p_body -> 'refillInterval') = 'number' AND jsonb_typeof(p_body -> 'refillAmount') IS DISTINCT FROM 'number' THEN
        PERFORM auth.raise('REFILL_INTERVAL_AND_AMOUNT_REQUIRED');
    END IF;
    FOREACH f IN ARRAY ARRAY['refillAmount', 'rateLimitMax'] LOOP
        IF jsonb_typeof(p_body -> f) = 'number' AND (p_body ->> f)::numeric NOT BETWEEN 1 AND 2147483647 THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be between 1 and 2147483647', f));
        END IF;
    END LOOP;
    FOREACH f IN ARRAY ARRAY['refillInterval', 'rateLimitTimeWindow'] LOOP
        IF jsonb_typeof(p_body -> f) = 'number' AND (p_body ->> f)::numeric NOT BETWEEN 1 AND 366 * 86400000::numeric THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s must be between 1 and 366 days in milliseconds', f));
        END IF;
    END LOOP;
    IF p_body ? 'permissions' AND jsonb_typeof(p_body -> 'permissions') <> 'null' THEN
        IF jsonb_typeof(p_body -> 'permissions') <> 'object' THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
        END IF;
        FOR r IN SELECT key, value FROM jsonb_each(p_body -> 'permissions') LOOP
            IF jsonb_typeof(r.value) <> 'array'
               OR EXISTS (SELECT 1 FROM jsonb_array_elements(r.value) a WHERE jsonb_typeof(a) <> 'string') THEN
                PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
            END IF;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION auth.api_key_check(jsonb, boolean) IS
  'Internal: the Better-Auth checks of an API key create (p_update false) or update body.';

CREATE FUNCTION auth.api_key_create(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_prefix text;
    v_key text;
    k auth.api_keys;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_body IS NULL THEN
        p_body := '{}';
    END IF;
    IF jsonb_typeof(p_body) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the body must be an object');
    END IF;
    PERFORM auth.api_key_check(p_body, false);
    IF p_body ? 'prefix' AND jsonb_typeof(p_body -> 'prefix') <> 'null' THEN
        IF jsonb_typeof(p_body -> 'prefix') <> 'string' THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'prefix must be a string');
        END IF;
        v_prefix := p_body ->> 'prefix';
        IF char_length(v_prefix) NOT BETWEEN 1 AND 32 THEN
            PERFORM auth.raise('INVALID_PREFIX_LENGTH');
        END IF;
        IF v_prefix !~ '^[a-zA-Z0-9_-]+$' THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'Invalid prefix format, must be alphanumeric and contain only underscores and hyphens.');
        END IF;
    END IF;
    v_key := auth.api_key_generate(coalesce(v_prefix, ''));
    INSERT INTO auth.api_keys AS a (user_id, digest, name, prefix, start, rate_limit_enabled, rate_limit_time_window,
                                    rate_limit_max, remaining, refill_amount, refill_interval, expires_at,
                                    permissions, metadata)
    VALUES (v_user, sha256(convert_to(v_key, 'UTF8')), p_body ->> 'name', v_prefix, left(v_key, 6),
            coalesce((p_body ->> 'rateLimitEnabled')::boolean, true),
            coalesce((p_body ->> 'rateLimitTimeWindow')::bigint, 86400000),
            coalesce((p_body ->> 'rateLimitMax')::integer, 10),
            CASE WHEN p_body ? 'remaining' THEN (p_body ->> 'remaining')::integer
                 ELSE (p_body ->> 'refillAmount')::integer END,
            (p_body ->> 'refillAmount')::integer, (p_body ->> 'refillInterval')::bigint,
            now() + make_interval(secs => (p_body ->> 'expiresIn')::double precision),
            nullif(p_body -> 'permissions', 'null'), nullif(p_body -> 'metadata', 'null'))
    RETURNING a.* INTO k;
    RETURN (auth.api_key_body(k) || jsonb_build_object('key', v_key))::json;
END
$$;
COMMENT ON FUNCTION auth.api_key_create(text, jsonb) IS
  'Better-Auth /api-key/create for the token''s user: p_body {name?, expiresIn? (seconds), prefix?, metadata?, permissions?, remaining?, refillAmount?, refillInterval? (ms), rateLimitEnabled?, rateLimitTimeWindow? (ms), rateLimitMax?}; returns the key object with "key" (shown once; only its SHA-256 is stored). NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_get(p_token text, p_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    k auth.api_keys;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_id IS NULL OR p_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    SELECT a.* INTO k FROM auth.api_keys a WHERE a.id = p_id::uuid AND a.user_id = v_user;
    IF NOT FOUND THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    RETURN auth.api_key_body(k)::json;
END
$$;
COMMENT ON FUNCTION auth.api_key_get(text, text) IS
  'Better-Auth /api-key/get: the key object of one of the token''s user''s keys; KEY_NOT_FOUND for an unknown id or another user''s key; NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_list(p_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_keys jsonb;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(jsonb_agg(auth.api_key_body(a) ORDER BY a.created_at, a.id), '[]') INTO v_keys
      FROM auth.api_keys a WHERE a.user_id = v_user;
    RETURN jsonb_build_object('apiKeys', v_keys, 'total', jsonb_array_length(v_keys))::json;
END
$$;
COMMENT ON FUNCTION auth.api_key_list(text) IS
  'Better-Auth /api-key/list: {"apiKeys": [key objects, oldest first], "total": n} for the token''s user; NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_update(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    k auth.api_keys;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_body IS NULL OR jsonb_typeof(p_body) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the body must be an object');
    END IF;
    IF jsonb_typeof(p_body -> 'keyId') IS DISTINCT FROM 'string' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'keyId is required');
    END IF;
    PERFORM auth.api_key_check(p_body, true);
    IF (p_body ->> 'keyId') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    SELECT a.* INTO k FROM auth.api_keys a WHERE a.id = (p_body ->> 'keyId')::uuid AND a.user_id = v_user FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    IF NOT (p_body ?| ARRAY['name', 'enabled', 'remaining', 'refillAmount', 'refillInterval', 'metadata', 'expiresIn',
                            'rateLimitEnabled', 'rateLimitTimeWindow', 'rateLimitMax', 'permissions']) THEN
        PERFORM auth.raise('NO_VALUES_TO_UPDATE');
    END IF;
    UPDATE auth.api_keys a SET
        name = CASE WHEN p_body ? 'name' THEN p_body ->> 'name' ELSE a.name END,
        enabled = coalesce((p_body ->> 'enabled')::boolean, a.enabled),
        remaining = CASE WHEN p_body ? 'remaining' THEN (p_body ->> 'remaining')::integer ELSE a.remaining END,
        refill_amount = CASE WHEN p_body ? 'refillAmount' THEN (p_body ->> 'refillAmount')::integer ELSE a.refill_amount END,
        refill_interval = CASE WHEN p_body ? 'refillInterval' THEN (p_body ->> 'refillInterval')::bigint ELSE a.refill_interval END,
        metadata = CASE WHEN p_body ? 'metadata' THEN nullif(p_body -> 'metadata', 'null') ELSE a.metadata END,
        expires_at = CASE WHEN p_body ? 'expiresIn'
                          THEN now() + make_interval(secs => (p_body ->> 'expiresIn')::double precision)
                          ELSE a.expires_at END,
        rate_limit_enabled = coalesce((p_body ->> 'rateLimitEnabled')::boolean, a.rate_limit_enabled),
        rate_limit_time_window = coalesce((p_body ->> 'rateLimitTimeWindow')::bigint, a.rate_limit_time_window),
        rate_limit_max = coalesce((p_body ->> 'rateLimitMax')::integer, a.rate_limit_max),
        permissions = CASE WHEN p_body ? 'permissions' THEN nullif(p_body -> 'permissions', 'null') ELSE a.permissions END,
        updated_at = now()
     WHERE a.id = k.id
    RETURNING a.* INTO k;
    RETURN auth.api_key_body(k)::json;
END
$$;
COMMENT ON FUNCTION auth.api_key_update(text, jsonb) IS
  'Better-Auth /api-key/update: p_body {keyId, name?, enabled?, remaining?, refillAmount?, refillInterval?, metadata?, expiresIn? (null: never), rateLimitEnabled?, rateLimitTimeWindow?, rateLimitMax?, permissions? (null: none)}; returns the key object. KEY_NOT_FOUND, NO_VALUES_TO_UPDATE; NULL if the token names no live session. Disabling takes effect on the next verify.';

CREATE FUNCTION auth.api_key_delete(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
BEGIN
    SELECT s.user_id INTO v_user FROM auth.validate_session(p_token) s;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_body IS NULL OR jsonb_typeof(p_body) <> 'object' OR jsonb_typeof(p_body -> 'keyId') IS DISTINCT FROM 'string' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'keyId is required');
    END IF;
    IF (p_body ->> 'keyId') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    DELETE FROM auth.api_keys a WHERE a.id = (p_body ->> 'keyId')::uuid AND a.user_id = v_user;
    IF NOT FOUND THEN
        PERFORM auth.raise('KEY_NOT_FOUND');
    END IF;
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.api_key_delete(text, jsonb) IS
  'Better-Auth /api-key/delete: p_body {keyId}; {"success": true}, KEY_NOT_FOUND for an unknown id or another user''s key; NULL if the token names no live session. The key fails verification at once.';

CREATE FUNCTION auth.verify_api_key(p_key text, p_permissions jsonb DEFAULT NULL)
    RETURNS TABLE (valid boolean, error_code text, key_id uuid, user_id uuid, remaining integer, permissions jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    k auth.api_keys;
    v_now timestamptz := clock_timestamp();
    v_remaining integer;
    v_refilled boolean := false;
    v_count integer;
    v_limited boolean;
    r record;
BEGIN
    IF p_key IS NULL OR p_key = '' OR octet_length(p_key) > 1024 THEN
        RETURN QUERY SELECT false, 'INVALID_API_KEY'::text, NULL::uuid, NULL::uuid, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    SELECT a.* INTO k FROM auth.api_keys a WHERE a.digest = sha256(convert_to(p_key, 'UTF8'));
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, 'INVALID_API_KEY'::text, NULL::uuid, NULL::uuid, NULL::integer, NULL::jsonb;
        RETURN;
    END IF;
    v_limited := k.rate_limit_enabled AND k.rate_limit_time_window IS NOT NULL AND k.rate_limit_max IS NOT NULL;
    IF k.remaining IS NOT NULL OR v_limited THEN
        -- usage is consumed: take the row lock and read the row as it is now (a concurrent
        -- verify, update or delete has finished), so concurrent calls never overspend
        SELECT a.* INTO k FROM auth.api_keys a WHERE a.id = k.id FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT false, 'INVALID_API_KEY'::text, NULL::uuid, NULL::uuid, NULL::integer, NULL::jsonb;
            RETURN;
        END IF;
        v_limited := k.rate_limit_enabled AND k.rate_limit_time_window IS NOT NULL AND k.rate_limit_max IS NOT NULL;
    END IF;
    IF NOT k.enabled THEN
        RETURN QUERY SELECT false, 'KEY_DISABLED'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
        RETURN;
    END IF;
    IF k.expires_at IS NOT NULL AND k.expires_at <= v_now THEN
        RETURN QUERY SELECT false, 'KEY_EXPIRED'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = k.user_id AND u.is_active) THEN
        RETURN QUERY SELECT false, 'USER_INACTIVE'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
        RETURN;
    END IF;
    -- permissions: every requested action of every requested resource must be granted
    -- (Better-Auth answers KEY_NOT_FOUND when they are not)
    IF p_permissions IS NOT NULL AND jsonb_typeof(p_permissions) = 'object' AND p_permissions <> '{}' THEN
        IF k.permissions IS NULL THEN
            RETURN QUERY SELECT false, 'KEY_NOT_FOUND'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
            RETURN;
        END IF;
        FOR r IN SELECT key, value FROM jsonb_each(p_permissions) LOOP
            IF jsonb_typeof(r.value) <> 'array' OR jsonb_typeof(k.permissions -> r.key) IS DISTINCT FROM 'array'
               OR NOT (k.permissions -> r.key) @> r.value THEN
                RETURN QUERY SELECT false, 'KEY_NOT_FOUND'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
                RETURN;
            END IF;
        END LOOP;
    ELSIF p_permissions IS NOT NULL AND jsonb_typeof(p_permissions) NOT IN ('object', 'null') THEN
        RETURN QUERY SELECT false, 'KEY_NOT_FOUND'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
        RETURN;
    END IF;
    -- remaining, with refill
    v_remaining := k.remaining;
    IF v_remaining IS NOT NULL THEN
        IF v_remaining = 0 AND k.refill_amount IS NULL THEN
            RETURN QUERY SELECT false, 'USAGE_EXCEEDED'::text, k.id, k.user_id, 0, NULL::jsonb;
            RETURN;
        END IF;
        IF k.refill_amount IS NOT NULL AND k.refill_interval IS NOT NULL
           AND v_now - coalesce(k.last_refill_at, k.created_at) > make_interval(secs => k.refill_interval / 1000.0) THEN
            v_remaining := k.refill_amount;
            v_refilled := true;
        END IF;
        IF v_remaining = 0 THEN
            RETURN QUERY SELECT false, 'USAGE_EXCEEDED'::text, k.id, k.user_id, 0, NULL::jsonb;
            RETURN;
        END IF;
        v_remaining := v_remaining - 1;
    END IF;
    -- the per-key rate limit: a window of rate_limit_time_window ms from the last request
    -- that opened one, at most rate_limit_max requests in it
    v_count := k.request_count;
    IF v_limited THEN
        IF k.last_request IS NULL OR v_now - k.last_request > make_interval(secs => k.rate_limit_time_window / 1000.0) THEN
            v_count := 1;
        ELSIF k.request_count >= k.rate_limit_max THEN
            RETURN QUERY SELECT false, 'RATE_LIMITED'::text, k.id, k.user_id, k.remaining, NULL::jsonb;
            RETURN;
        ELSE
            v_count := k.request_count + 1;
        END IF;
    END IF;
    IF k.remaining IS NOT NULL OR v_limited THEN
        UPDATE auth.api_keys a
           SET remaining = v_remaining, request_count = v_count,
               last_request = CASE WHEN v_limited THEN v_now ELSE a.last_request END,
               last_refill_at = CASE WHEN v_refilled THEN v_now ELSE a.last_refill_at END
         WHERE a.id = k.id;
    END IF;
    RETURN QUERY SELECT true, NULL::text, k.id, k.user_id, v_remaining, k.permissions;
END
$$;
COMMENT ON FUNCTION auth.verify_api_key(text, jsonb) IS
  'Checks an API key in one call and consumes one use: valid, or error_code INVALID_API_KEY, KEY_DISABLED, KEY_EXPIRED, USER_INACTIVE, KEY_NOT_FOUND (permissions not granted, as Better-Auth), USAGE_EXCEEDED, RATE_LIMITED. p_permissions {resource: [action, ...]}: all must be granted. A unique-index lookup on the digest; keys with remaining or a rate limit are counted under the row lock (no overspend); others are not written.';

CREATE FUNCTION auth.api_key_verify_response(p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v record;
    k auth.api_keys;
BEGIN
    IF p_body IS NULL OR jsonb_typeof(p_body) <> 'object' OR jsonb_typeof(p_body -> 'key') IS DISTINCT FROM 'string' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'key is required');
    END IF;
    IF p_body ? 'permissions' AND jsonb_typeof(p_body -> 'permissions') NOT IN ('object', 'null') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
    END IF;
    SELECT * INTO v FROM auth.verify_api_key(p_body ->> 'key', nullif(p_body -> 'permissions', 'null'));
    IF NOT v.valid THEN
        RETURN json_build_object('valid', false, 'error',
            json_build_object('message', (SELECT e.message FROM auth.error_codes e WHERE e.code = v.error_code),
                              'code', v.error_code),
            'key', NULL);
    END IF;
    SELECT a.* INTO k FROM auth.api_keys a WHERE a.id = v.key_id;
    RETURN json_build_object('valid', true, 'error', NULL, 'key', auth.api_key_body(k));
END
$$;
COMMENT ON FUNCTION auth.api_key_verify_response(jsonb) IS
  'Better-Auth /api-key/verify: p_body {key, permissions?}; {"valid", "error": {message, code} | null, "key": key object | null}, consuming one use as auth.verify_api_key.';

CREATE FUNCTION auth.get_session_by_api_key(p_key text) RETURNS TABLE (body json, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v record;
    u auth.users;
    v_expires timestamptz;
BEGIN
    SELECT * INTO v FROM auth.verify_api_key(p_key);
    IF NOT v.valid THEN
        RETURN QUERY SELECT NULL::json, v.error_code;
        RETURN;
    END IF;
    SELECT x.* INTO u FROM auth.users x WHERE x.id = v.user_id;
    SELECT coalesce(a.expires_at, now() + make_interval(secs => coalesce((SELECT g.setting::integer FROM pg_settings g WHERE g.name = 'pgauth.session_expires_in'), 604800)))
      INTO v_expires FROM auth.api_keys a WHERE a.id = v.key_id;
    RETURN QUERY SELECT json_build_object(
        'session', json_build_object(
            'expiresAt', auth.iso_time(v_expires), 'token', v.key_id, 'createdAt', auth.iso_time(now()),
            'updatedAt', auth.iso_time(now()), 'ipAddress', NULL, 'userAgent', NULL, 'userId', u.id, 'id', v.key_id),
        'user', json_build_object(
            'name', u.name, 'email', u.email, 'emailVerified', u.email_verified, 'image', u.image,
            'createdAt', auth.iso_time(u.created_at), 'updatedAt', auth.iso_time(u.updated_at),
            'role', u.role, 'paraWalletId', u.para_wallet_id, 'id', u.id)), NULL::text;
END
$$;
COMMENT ON FUNCTION auth.get_session_by_api_key(text) IS
  'get-session for a request carrying x-api-key (Better-Auth enableSessionForAPIKeys): body {"session": {id and token = the key id (never the key), userId, expiresAt = the key''s or now + pgauth.session_expires_in}, "user"}, consuming one use as auth.verify_api_key; when invalid body NULL and error_code the reason.';

REVOKE ALL ON FUNCTION auth.api_key_generate(text), auth.iso_time(timestamptz), auth.api_key_body(auth.api_keys),
    auth.api_key_check(jsonb, boolean), auth.api_key_create(text, jsonb), auth.api_key_get(text, text),
    auth.api_key_list(text), auth.api_key_update(text, jsonb), auth.api_key_delete(text, jsonb),
    auth.verify_api_key(text, jsonb), auth.api_key_verify_response(jsonb), auth.get_session_by_api_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.api_key_create(text, jsonb), auth.api_key_get(text, text), auth.api_key_list(text),
    auth.api_key_update(text, jsonb), auth.api_key_delete(text, jsonb), auth.api_key_verify_response(jsonb),
    auth.get_session_by_api_key(text)
  TO pgauth_service;
GRANT EXECUTE ON FUNCTION auth.verify_api_key(text, jsonb) TO pgauth_reader, pgauth_service;

-- ================================================================ 0.5.0
-- Each area added in 0.5.0 keeps its objects between its own markers, in this file and in
-- pgauth--0.4.0--0.5.0.sql alike.

-- ---------------------------------------------------------------- email: verification records and the outbox (0.5.0)

-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)

-- ---------------------------------------------------------------- API keys: end

-- ---------------------------------------------------------------- social accounts (0.5.0)

-- ---------------------------------------------------------------- social accounts: end

-- ---------------------------------------------------------------- OAuth clients (0.5.0)
-- The clients of the OAuth 2.1 / OpenID Connect provider (issue 13): pre-registered by an
-- admin, registered dynamically (RFC 7591, managed with RFC 7592), or named by a Client ID
-- Metadata Document URL (CIMD) that pgauth-http fetches and auth.oauth_cimd_store caches.
-- Client secrets and registration access tokens are stored only as SHA-256 digests.
-- OAuth errors are catalog codes OAUTH_<ERROR>: the RFC `error` value is lower(<ERROR>)
-- (OAUTH_INVALID_REDIRECT_URI -> invalid_redirect_uri) and the raised message is the
-- `error_description`.
CREATE TABLE auth.oauth_clients (
    client_id                    text PRIMARY KEY CHECK (char_length(client_id) BETWEEN 1 AND 2048),
    secret_digest                bytea CHECK (octet_length(secret_digest) = 32),
    registration_token_digest    bytea CHECK (octet_length(registration_token_digest) = 32),
    redirect_uris                text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris    text[] NOT NULL DEFAULT '{}',
    grant_types                  text[] NOT NULL,
    response_types               text[] NOT NULL,
    token_endpoint_auth_method   text NOT NULL CHECK (token_endpoint_auth_method IN
                                     ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    application_type             text NOT NULL CHECK (application_type IN ('web', 'native')),
    client_name                  text,
    client_uri                   text,
    logo_uri                     text,
    policy_uri                   text,
    tos_uri                      text,
    scope                        text,
    contacts                     text[],
    jwks                         jsonb,
    jwks_uri                     text,
    id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
    software_id                  text,
    software_version             text,
    require_pkce                 boolean NOT NULL DEFAULT true,
    disabled                     boolean NOT NULL DEFAULT false,
    source                       text NOT NULL CHECK (source IN ('admin', 'dcr', 'cimd')),
    cimd_expires_at              timestamptz,
    client_id_issued_at          timestamptz NOT NULL DEFAULT now(),
    created_at                   timestamptz NOT NULL DEFAULT now(),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret_digest IS NOT NULL) = (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post'))),
    CHECK ((source = 'cimd') = (cimd_expires_at IS NOT NULL)),
    CHECK ((source = 'dcr') = (registration_token_digest IS NOT NULL)),
    CHECK (source <> 'cimd' OR secret_digest IS NULL)
);
COMMENT ON TABLE auth.oauth_clients IS
  'OAuth clients: admin (auth.oauth_create_client), dcr (RFC 7591/7592) or cimd (a cached Client ID Metadata Document, client_id = its URL). secret_digest and registration_token_digest are SHA-256 digests, never the values.';
REVOKE ALL ON auth.oauth_clients FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_clients', '');

CREATE FUNCTION auth.oauth_random_token(bytes integer) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_random_token' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_random_token(integer) IS
  'Internal: bytes (16 to 64) random bytes from libsodium, base64url without padding.';

CREATE FUNCTION auth.oauth_digest_equal(a bytea, b bytea) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_oauth_digest_equal' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_digest_equal(bytea, bytea) IS
  'Internal: true when both digests are present and equal, compared in constant time.';

-- A metadata string: NULL when absent or null; OAUTH_INVALID_CLIENT_METADATA when it is not a
-- string, is empty or longer than p_max characters, or holds control or bidirectional
-- formatting characters (hostile display names).
CREATE FUNCTION auth.oauth_text(p_metadata jsonb, p_field text, p_max integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text;
BEGIN
    IF jsonb_typeof(p_metadata -> p_field) IS NULL OR jsonb_typeof(p_metadata -> p_field) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_metadata -> p_field) <> 'string' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s must be a string', p_field));
    END IF;
    v := p_metadata ->> p_field;
    IF char_length(v) NOT BETWEEN 1 AND p_max THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s must have 1 to %s characters', p_field, p_max));
    END IF;
    IF v ~ '[\x01-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s holds control or formatting characters', p_field));
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.oauth_text(jsonb, text, integer) IS
  'Internal: a checked client metadata string (type, length, no control or bidirectional formatting characters).';

-- The checks on one URI. p_rule: 'redirect_web' (https), 'redirect_native' (https, http on a
-- loopback host, or a reverse-DNS private-use scheme), 'https' (other URIs in the metadata) or
-- 'cimd' (a Client ID Metadata Document URL: https with a path, no dot segments, no
-- fragment). p_code is the catalog code raised, with a description naming p_field.
CREATE FUNCTION auth.oauth_uri_check(p_uri text, p_field text, p_rule text, p_code text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    m text[];
    a text[];
    v_scheme text;
    v_host text;
    v_path text;
BEGIN
    IF p_uri IS NULL OR char_length(p_uri) NOT BETWEEN 1 AND 2048 THEN
        PERFORM auth.raise(p_code, format('%s must be a URI of 1 to 2048 characters', p_field));
    END IF;
    -- RFC 3986 characters only: no spaces, controls, quotes, angle brackets, backslashes or non-ASCII
    IF p_uri !~ '^[A-Za-z0-9._~:/?#@!$&''()*+,;=%\[\]-]+$' THEN
        PERFORM auth.raise(p_code, format('%s holds characters a URI may not contain', p_field));
    END IF;
    IF p_uri ~ '%(?![0-9A-Fa-f]{2})' THEN
        PERFORM auth.raise(p_code, format('%s holds a malformed percent-encoding', p_field));
    END IF;
    IF position('#' IN p_uri) > 0 THEN
        PERFORM auth.raise(p_code, format('%s must not have a fragment', p_field));
    END IF;
    m := regexp_match(p_uri, '^([A-Za-z][A-Za-z0-9+.-]*):(.+)$');
    IF m IS NULL THEN
        PERFORM auth.raise(p_code, format('%s must be an absolute URI', p_field));
    END IF;
    v_scheme := lower(m[1]);
    IF v_scheme IN ('http', 'https') THEN
        a := regexp_match(m[2], '^//([^/?]*)(.*)$');
        IF a IS NULL THEN
            PERFORM auth.raise(p_code, format('%s must be an absolute URI with a host', p_field));
        END IF;
        IF position('@' IN a[1]) > 0 THEN
            PERFORM auth.raise(p_code, format('%s must not hold credentials', p_field));
        END IF;
        m := regexp_match(a[1], '^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?$');
        IF m IS NULL OR (m[2] IS NOT NULL AND m[2]::integer NOT BETWEEN 1 AND 65535) THEN
            PERFORM auth.raise(p_code, format('%s has an invalid host or port', p_field));
        END IF;
        v_host := lower(m[1]);
        v_path := a[2];
    ELSIF v_scheme IN ('javascript', 'data', 'vbscript', 'file', 'about', 'blob', 'filesystem') THEN
        PERFORM auth.raise(p_code, format('%s uses a scheme that is never allowed', p_field));
    END IF;

    IF p_rule = 'redirect_web' THEN
        IF v_scheme <> 'https' THEN
            PERFORM auth.raise(p_code, format('%s must use https for a web client', p_field));
        END IF;
    ELSIF p_rule = 'redirect_native' THEN
        IF v_scheme = 'http' AND v_host NOT IN ('127.0.0.1', '[::1]', 'localhost') THEN
            PERFORM auth.raise(p_code, format('%s: a native client may use http only on a loopback host (127.0.0.1, [::1], localhost)', p_field));
        END IF;
        IF v_scheme NOT IN ('http', 'https') AND v_scheme !~ '^[a-z0-9-]+(\.[a-z0-9-]+)+$' THEN
            PERFORM auth.raise(p_code, format('%s: a private-use scheme must be reverse-DNS style (e.g. com.example.app:/callback)', p_field));
        END IF;
    ELSIF p_rule = 'https' THEN
        IF v_scheme <> 'https' THEN
            PERFORM auth.raise(p_code, format('%s must use https', p_field));
        END IF;
    ELSIF p_rule = 'cimd' THEN
        IF NOT (v_scheme = 'https'
                OR (v_scheme = 'http' AND v_host IN ('127.0.0.1', '[::1]', 'localhost')
                    AND current_setting('pgauth.oauth_cimd_allow_http_loopback')::boolean)) THEN
            PERFORM auth.raise(p_code, format('%s must be an https URL', p_field));
        END IF;
        IF v_path IS NULL OR v_path !~ '^/[^?]' THEN
            PERFORM auth.raise(p_code, format('%s must have a path', p_field));
        END IF;
        IF split_part(v_path, '?', 1) ~ '/\.\.?(/|$)' THEN
            PERFORM auth.raise(p_code, format('%s must not have . or .. path segments', p_field));
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION auth.oauth_uri_check(text, text, text, text) IS
  'Internal: checks one client URI against a rule (redirect_web, redirect_native, https, cimd); raises p_code with a description.';

-- A metadata array of strings: NULL when absent or null.
CREATE FUNCTION auth.oauth_text_array(p_metadata jsonb, p_field text, p_max_items integer, p_max_chars integer) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text[] := '{}';
    e jsonb;
BEGIN
    IF jsonb_typeof(p_metadata -> p_field) IS NULL OR jsonb_typeof(p_metadata -> p_field) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(p_metadata -> p_field) <> 'array' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s must be an array of strings', p_field));
    END IF;
    IF jsonb_array_length(p_metadata -> p_field) > p_max_items THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s has more than %s items', p_field, p_max_items));
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(p_metadata -> p_field) x LOOP
        IF jsonb_typeof(e) <> 'string' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s must be an array of strings', p_field));
        END IF;
        -- the same checks as a single string
        PERFORM auth.oauth_text(jsonb_build_object(p_field, e), p_field, p_max_chars);
        IF NOT (e #>> '{}') = ANY (v) THEN
            v := v || (e #>> '{}');
        END IF;
    END LOOP;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.oauth_text_array(jsonb, text, integer, integer) IS
  'Internal: a checked client metadata array of strings, duplicates dropped (order kept).';

-- Parses and checks client metadata (RFC 7591 section 2, OpenID Connect Registration) into a
-- row; the caller sets client_id, the digests and the times. p_source: admin (may also set
-- require_pkce and disabled), dcr, or cimd (public unless private_key_jwt; no client_secret).
CREATE FUNCTION auth.oauth_client_metadata(p_metadata jsonb, p_source text) RETURNS auth.oauth_clients
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    u text;
    f text;
    k jsonb;
    v_all_native boolean;
BEGIN
    IF p_metadata IS NULL OR jsonb_typeof(p_metadata) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the client metadata must be a JSON object');
    END IF;
    IF octet_length(p_metadata::text) > 32768 THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the client metadata is larger than 32768 bytes');
    END IF;
    c.source := p_source;

    -- redirect URIs: checked against the application type below
    IF p_metadata ? 'redirect_uris' AND jsonb_typeof(p_metadata -> 'redirect_uris') <> 'array' THEN
        PERFORM auth.raise('OAUTH_INVALID_REDIRECT_URI', 'redirect_uris must be an array of URIs');
    END IF;
    IF jsonb_array_length(coalesce(p_metadata -> 'redirect_uris', '[]')) > 20 THEN
        PERFORM auth.raise('OAUTH_INVALID_REDIRECT_URI', 'redirect_uris has more than 20 URIs');
    END IF;
    c.redirect_uris := '{}';
    FOR k IN SELECT x FROM jsonb_array_elements(coalesce(p_metadata -> 'redirect_uris', '[]')) x LOOP
        IF jsonb_typeof(k) <> 'string' THEN
            PERFORM auth.raise('OAUTH_INVALID_REDIRECT_URI', 'redirect_uris must be an array of URIs');
        END IF;
        PERFORM auth.oauth_uri_check(k #>> '{}', 'redirect_uris', 'any', 'OAUTH_INVALID_REDIRECT_URI');
        IF NOT (k #>> '{}') = ANY (c.redirect_uris) THEN
            c.redirect_uris := c.redirect_uris || (k #>> '{}');
        END IF;
    END LOOP;
    c.post_logout_redirect_uris := coalesce(auth.oauth_text_array(p_metadata, 'post_logout_redirect_uris', 20, 2048), '{}');
    FOREACH u IN ARRAY c.post_logout_redirect_uris LOOP
        PERFORM auth.oauth_uri_check(u, 'post_logout_redirect_uris', 'any', 'OAUTH_INVALID_CLIENT_METADATA');
    END LOOP;

    -- application_type (OpenID Connect Registration): web or native. When absent: native if
    -- every redirect URI is one only a native client may use (loopback http, private-use
    -- scheme), as MCP clients register without it; otherwise web.
    c.application_type := auth.oauth_text(p_metadata, 'application_type', 16);
    IF c.application_type IS NOT NULL AND c.application_type NOT IN ('web', 'native') THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'application_type must be web or native');
    END IF;
    IF c.application_type IS NULL THEN
        SELECT bool_and(x ~* '^http://(127\.0\.0\.1|\[::1\]|localhost)([:/?]|$)' OR x !~* '^https?:')
          INTO v_all_native FROM unnest(c.redirect_uris) x;
        c.application_type := CASE WHEN v_all_native THEN 'native' ELSE 'web' END;
    END IF;
    FOREACH u IN ARRAY c.redirect_uris LOOP
        PERFORM auth.oauth_uri_check(u, 'redirect_uris', 'redirect_' || c.application_type, 'OAUTH_INVALID_REDIRECT_URI');
    END LOOP;
    FOREACH u IN ARRAY c.post_logout_redirect_uris LOOP
        PERFORM auth.oauth_uri_check(u, 'post_logout_redirect_uris', 'redirect_' || c.application_type, 'OAUTH_INVALID_CLIENT_METADATA');
    END LOOP;

    -- token endpoint authentication
    c.token_endpoint_auth_method := coalesce(auth.oauth_text(p_metadata, 'token_endpoint_auth_method', 32),
                                             CASE WHEN p_source = 'cimd' THEN 'none' ELSE 'client_secret_basic' END);
    IF c.token_endpoint_auth_method NOT IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none') THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA',
            'token_endpoint_auth_method must be client_secret_basic, client_secret_post, private_key_jwt or none');
    END IF;
    IF p_source = 'cimd' AND c.token_endpoint_auth_method NOT IN ('none', 'private_key_jwt') THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA',
            'a Client ID Metadata Document client is public (none) or uses private_key_jwt: it has no shared secret');
    END IF;
    IF p_metadata ? 'jwks' AND jsonb_typeof(p_metadata -> 'jwks') <> 'null' THEN
        c.jwks := p_metadata -> 'jwks';
        IF jsonb_typeof(c.jwks) <> 'object' OR jsonb_typeof(c.jwks -> 'keys') IS DISTINCT FROM 'array'
           OR jsonb_array_length(c.jwks -> 'keys') NOT BETWEEN 1 AND 10 OR octet_length(c.jwks::text) > 16384 THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'jwks must be a JWK Set: {"keys": [1 to 10 keys]}, at most 16384 bytes');
        END IF;
        FOR k IN SELECT x FROM jsonb_array_elements(c.jwks -> 'keys') x LOOP
            IF jsonb_typeof(k) <> 'object' OR jsonb_typeof(k -> 'kty') IS DISTINCT FROM 'string' THEN
                PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'every key in jwks must be a JWK with a kty');
            END IF;
            IF k ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] THEN
                PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'jwks must hold public keys only');
            END IF;
        END LOOP;
    END IF;
    c.jwks_uri := auth.oauth_text(p_metadata, 'jwks_uri', 2048);
    IF c.jwks_uri IS NOT NULL THEN
        PERFORM auth.oauth_uri_check(c.jwks_uri, 'jwks_uri', 'https', 'OAUTH_INVALID_CLIENT_METADATA');
    END IF;
    IF c.jwks IS NOT NULL AND c.jwks_uri IS NOT NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'jwks and jwks_uri must not both be present');
    END IF;
    IF c.token_endpoint_auth_method = 'private_key_jwt' AND c.jwks IS NULL AND c.jwks_uri IS NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'private_key_jwt needs jwks or jwks_uri');
    END IF;
    IF p_source = 'cimd' AND (p_metadata ? 'client_secret' OR p_metadata ? 'client_secret_expires_at') THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'a Client ID Metadata Document must not hold a client_secret');
    END IF;

    -- grant and response types (RFC 7591 section 2.1)
    c.grant_types := coalesce(auth.oauth_text_array(p_metadata, 'grant_types', 3, 32), ARRAY['authorization_code']);
    IF cardinality(c.grant_types) = 0 THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'grant_types must not be empty');
    END IF;
    FOREACH f IN ARRAY c.grant_types LOOP
        IF f NOT IN ('authorization_code', 'refresh_token', 'client_credentials') THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA',
                format('grant type %s is not supported (authorization_code, refresh_token, client_credentials)', f));
        END IF;
    END LOOP;
    c.response_types := coalesce(auth.oauth_text_array(p_metadata, 'response_types', 1, 32),
                                 CASE WHEN 'authorization_code' = ANY (c.grant_types) THEN ARRAY['code'] ELSE '{}'::text[] END);
    FOREACH f IN ARRAY c.response_types LOOP
        IF f <> 'code' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('response type %s is not supported (code)', f));
        END IF;
    END LOOP;
    IF ('authorization_code' = ANY (c.grant_types)) <> ('code' = ANY (c.response_types)) THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA',
            'grant_types and response_types disagree: authorization_code goes with the code response type');
    END IF;
    IF 'refresh_token' = ANY (c.grant_types) AND NOT 'authorization_code' = ANY (c.grant_types) THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the refresh_token grant needs the authorization_code grant');
    END IF;
    IF 'authorization_code' = ANY (c.grant_types) AND cardinality(c.redirect_uris) = 0 THEN
        PERFORM auth.raise('OAUTH_INVALID_REDIRECT_URI', 'redirect_uris is required for the authorization_code grant');
    END IF;
    IF 'client_credentials' = ANY (c.grant_types) AND c.token_endpoint_auth_method = 'none' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the client_credentials grant needs an authenticated (confidential) client');
    END IF;

    -- descriptive metadata
    c.client_name := auth.oauth_text(p_metadata, 'client_name', 200);
    FOREACH f IN ARRAY ARRAY['client_uri', 'logo_uri', 'policy_uri', 'tos_uri'] LOOP
        u := auth.oauth_text(p_metadata, f, 2048);
        IF u IS NOT NULL THEN
            PERFORM auth.oauth_uri_check(u, f, 'https', 'OAUTH_INVALID_CLIENT_METADATA');
        END IF;
        CASE f
            WHEN 'client_uri' THEN c.client_uri := u;
            WHEN 'logo_uri' THEN c.logo_uri := u;
            WHEN 'policy_uri' THEN c.policy_uri := u;
            ELSE c.tos_uri := u;
        END CASE;
    END LOOP;
    c.scope := auth.oauth_text(p_metadata, 'scope', 1000);
    IF c.scope IS NOT NULL AND c.scope !~ '^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'scope must be scope tokens separated by single spaces');
    END IF;
    c.contacts := auth.oauth_text_array(p_metadata, 'contacts', 10, 254);
    c.software_id := auth.oauth_text(p_metadata, 'software_id', 200);
    c.software_version := auth.oauth_text(p_metadata, 'software_version', 100);
    c.id_token_signed_response_alg := coalesce(auth.oauth_text(p_metadata, 'id_token_signed_response_alg', 16), 'RS256');
    IF c.id_token_signed_response_alg NOT IN ('RS256', 'ES256', 'EdDSA') THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'id_token_signed_response_alg must be RS256, ES256 or EdDSA');
    END IF;

    -- admin-only switches; a registered or CIMD client always needs PKCE and starts enabled
    c.require_pkce := true;
    c.disabled := false;
    IF p_source = 'admin' THEN
        FOREACH f IN ARRAY ARRAY['require_pkce', 'disabled'] LOOP
            IF p_metadata ? f AND jsonb_typeof(p_metadata -> f) <> 'boolean' THEN
                PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', format('%s must be a boolean', f));
            END IF;
        END LOOP;
        c.require_pkce := coalesce((p_metadata ->> 'require_pkce')::boolean, true);
        c.disabled := coalesce((p_metadata ->> 'disabled')::boolean, false);
        IF NOT c.require_pkce AND c.token_endpoint_auth_method = 'none' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'a public client always requires PKCE');
        END IF;
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_metadata(jsonb, text) IS
  'Internal: checks client metadata (RFC 7591, OIDC Registration, RFC 8252) and returns it as an oauth_clients row; OAUTH_INVALID_REDIRECT_URI or OAUTH_INVALID_CLIENT_METADATA with a description.';

-- The registered metadata as RFC 7591 returns it (never a secret or a digest).
CREATE FUNCTION auth.oauth_client_body(c auth.oauth_clients) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'client_id', c.client_id,
        'client_id_issued_at', extract(epoch FROM c.client_id_issued_at)::bigint,
        'client_secret_expires_at', CASE WHEN c.secret_digest IS NOT NULL THEN 0 END,
        'redirect_uris', to_jsonb(c.redirect_uris),
        'post_logout_redirect_uris', CASE WHEN cardinality(c.post_logout_redirect_uris) > 0 THEN to_jsonb(c.post_logout_redirect_uris) END,
        'grant_types', to_jsonb(c.grant_types),
        'response_types', to_jsonb(c.response_types),
        'token_endpoint_auth_method', c.token_endpoint_auth_method,
        'application_type', c.application_type,
        'client_name', c.client_name, 'client_uri', c.client_uri, 'logo_uri', c.logo_uri,
        'policy_uri', c.policy_uri, 'tos_uri', c.tos_uri, 'scope', c.scope,
        'contacts', to_jsonb(c.contacts), 'jwks_uri', c.jwks_uri,
        'id_token_signed_response_alg', c.id_token_signed_response_alg,
        'software_id', c.software_id, 'software_version', c.software_version,
        'require_pkce', c.require_pkce, 'disabled', c.disabled))
        -- jwks is added after stripping, so a key's own members are kept as sent
        || CASE WHEN c.jwks IS NOT NULL THEN jsonb_build_object('jwks', c.jwks) ELSE '{}' END
$$;
COMMENT ON FUNCTION auth.oauth_client_body(auth.oauth_clients) IS
  'Internal: a client''s registered metadata as RFC 7591 answers it (no secret, no digest).';

-- RFC 7592's registration client URI: the issuer (pgauth.base_url + /api/auth) + /oauth2/register/<client_id>.
CREATE FUNCTION auth.oauth_registration_client_uri(p_client_id text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT rtrim(current_setting('pgauth.base_url'), '/') || '/api/auth/oauth2/register/' || p_client_id
$$;
COMMENT ON FUNCTION auth.oauth_registration_client_uri(text) IS
  'Internal: the RFC 7592 client configuration endpoint of a registered client, under pgauth.base_url.';

-- Inserts a new admin or dcr client with fresh credentials and returns RFC 7591's answer.
CREATE FUNCTION auth.oauth_insert_client(c auth.oauth_clients) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_secret text;
    v_token text;
    v_body jsonb;
BEGIN
    c.client_id := coalesce(c.client_id, auth.oauth_random_token(24));
    IF c.token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post') THEN
        v_secret := auth.oauth_random_token(32);
        c.secret_digest := auth.hash_token(v_secret);
    END IF;
    IF c.source = 'dcr' THEN
        v_token := auth.oauth_random_token(32);
        c.registration_token_digest := auth.hash_token(v_token);
    END IF;
    c.cimd_expires_at := NULL;
    c.client_id_issued_at := now();
    c.created_at := now();
    c.updated_at := now();
    BEGIN
        INSERT INTO auth.oauth_clients SELECT c.*;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'a client with this client_id already exists');
    END;
    v_body := auth.oauth_client_body(c);
    IF v_secret IS NOT NULL THEN
        v_body := v_body || jsonb_build_object('client_secret', v_secret);
    END IF;
    IF v_token IS NOT NULL THEN
        v_body := v_body || jsonb_build_object('registration_access_token', v_token,
                                               'registration_client_uri', auth.oauth_registration_client_uri(c.client_id));
    END IF;
    RETURN v_body::json;
END
$$;
COMMENT ON FUNCTION auth.oauth_insert_client(auth.oauth_clients) IS
  'Internal: stores a new client (digests only) and returns its RFC 7591 answer with the secret and registration access token, once.';

CREATE FUNCTION auth.oauth_create_client(p_metadata jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients := auth.oauth_client_metadata(p_metadata, 'admin');
BEGIN
    -- an admin may choose the client_id (not a URL: those name Client ID Metadata Documents)
    IF p_metadata ? 'client_id' THEN
        c.client_id := auth.oauth_text(p_metadata, 'client_id', 128);
        IF c.client_id !~ '^[A-Za-z0-9._~-]+$' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'client_id may hold only letters, digits and . _ ~ -');
        END IF;
    END IF;
    RETURN auth.oauth_insert_client(c);
END
$$;
COMMENT ON FUNCTION auth.oauth_create_client(jsonb) IS
  'Pre-registers an OAuth client from RFC 7591 metadata (plus client_id, require_pkce, disabled); returns the RFC 7591 answer, client_secret included once for a confidential client.';

CREATE FUNCTION auth.oauth_register_client(p_metadata jsonb, p_initial_access_token text DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    PERFORM auth.hash_token('');  -- loads the module (when not preloaded), defining the pgauth.oauth_* settings
    IF current_setting('pgauth.oauth_dynamic_registration') <> 'open' THEN
        PERFORM auth.raise('OAUTH_ACCESS_DENIED', 'dynamic client registration is disabled');
    END IF;
    -- every registration is a new client, even with metadata identical to an earlier one
    -- (MCP clients register again): nothing existing is changed
    RETURN auth.oauth_insert_client(auth.oauth_client_metadata(p_metadata, 'dcr'));
END
$$;
COMMENT ON FUNCTION auth.oauth_register_client(jsonb, text) IS
  'RFC 7591 dynamic registration (pgauth.oauth_dynamic_registration = open): a new client per call; returns client_id, client_secret (confidential clients), registration_access_token, registration_client_uri and the metadata. p_initial_access_token is reserved (no initial access tokens are issued yet) and ignored.';

-- The dcr client a registration access token manages; OAUTH_INVALID_TOKEN otherwise (an
-- unknown client, an admin or CIMD client, or a wrong token: one answer for all).
CREATE FUNCTION auth.oauth_registered_client(p_client_id text, p_registration_token text, p_lock boolean) RETURNS auth.oauth_clients
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    v_digest bytea := auth.hash_token(coalesce(p_registration_token, ''));
BEGIN
    IF p_lock THEN
        SELECT * INTO c FROM auth.oauth_clients o WHERE o.client_id = p_client_id AND o.source = 'dcr' FOR UPDATE;
    ELSE
        SELECT * INTO c FROM auth.oauth_clients o WHERE o.client_id = p_client_id AND o.source = 'dcr';
    END IF;
    -- an unknown client compares against its own digest's complement: the same work, always false
    IF NOT auth.oauth_digest_equal(coalesce(c.registration_token_digest, sha256(v_digest)), v_digest)
       OR c.client_id IS NULL OR coalesce(p_registration_token, '') = '' THEN
        PERFORM auth.raise('OAUTH_INVALID_TOKEN', 'the registration access token is invalid');
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION auth.oauth_registered_client(text, text, boolean) IS
  'Internal: the dynamically registered client a registration access token names (constant-time digest check); OAUTH_INVALID_TOKEN otherwise.';

CREATE FUNCTION auth.oauth_client_read(p_client_id text, p_registration_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients := auth.oauth_registered_client(p_client_id, p_registration_token, false);
BEGIN
    RETURN (auth.oauth_client_body(c)
            || jsonb_build_object('registration_client_uri', auth.oauth_registration_client_uri(c.client_id)))::json;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_read(text, text) IS
  'RFC 7592 read: the registered metadata of a dynamically registered client (its secret is stored only as a digest, so it is not returned); OAUTH_INVALID_TOKEN for a wrong token or client.';

CREATE FUNCTION auth.oauth_client_update(p_client_id text, p_registration_token text, p_metadata jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    old auth.oauth_clients := auth.oauth_registered_client(p_client_id, p_registration_token, true);
    c auth.oauth_clients;
    v_secret text;
    v_body jsonb;
BEGIN
    c := auth.oauth_client_metadata(p_metadata, 'dcr');
    -- RFC 7592 section 2.2: the body names the client, and a client_secret in it must be the current one
    IF jsonb_typeof(p_metadata -> 'client_id') IS DISTINCT FROM 'string' OR p_metadata ->> 'client_id' <> old.client_id THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'client_id must be present and equal the client''s');
    END IF;
    IF p_metadata ? 'client_secret' AND (jsonb_typeof(p_metadata -> 'client_secret') <> 'string'
            OR NOT auth.oauth_digest_equal(old.secret_digest, auth.hash_token(p_metadata ->> 'client_secret'))) THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'client_secret does not match the client''s');
    END IF;
    c.client_id := old.client_id;
    c.registration_token_digest := old.registration_token_digest;
    c.client_id_issued_at := old.client_id_issued_at;
    c.created_at := old.created_at;
    c.updated_at := now();
    IF c.token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post') THEN
        c.secret_digest := old.secret_digest;
        IF c.secret_digest IS NULL THEN  -- it becomes confidential: a secret is issued now
            v_secret := auth.oauth_random_token(32);
            c.secret_digest := auth.hash_token(v_secret);
        END IF;
    END IF;
    UPDATE auth.oauth_clients o SET
        secret_digest = c.secret_digest, redirect_uris = c.redirect_uris,
        post_logout_redirect_uris = c.post_logout_redirect_uris, grant_types = c.grant_types,
        response_types = c.response_types, token_endpoint_auth_method = c.token_endpoint_auth_method,
        application_type = c.application_type, client_name = c.client_name, client_uri = c.client_uri,
        logo_uri = c.logo_uri, policy_uri = c.policy_uri, tos_uri = c.tos_uri, scope = c.scope,
        contacts = c.contacts, jwks = c.jwks, jwks_uri = c.jwks_uri,
        id_token_signed_response_alg = c.id_token_signed_response_alg, software_id = c.software_id,
        software_version = c.software_version, updated_at = c.updated_at
     WHERE o.client_id = old.client_id;
    v_body := auth.oauth_client_body(c)
              || jsonb_build_object('registration_client_uri', auth.oauth_registration_client_uri(c.client_id));
    IF v_secret IS NOT NULL THEN
        v_body := v_body || jsonb_build_object('client_secret', v_secret);
    END IF;
    RETURN v_body::json;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_update(text, text, jsonb) IS
  'RFC 7592 update: replaces the metadata of a dynamically registered client (the body names client_id; a client_secret in it must match). A client that becomes confidential gets its client_secret in the answer, once.';

CREATE FUNCTION auth.oauth_client_delete(p_client_id text, p_registration_token text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients := auth.oauth_registered_client(p_client_id, p_registration_token, true);
BEGIN
    DELETE FROM auth.oauth_clients o WHERE o.client_id = c.client_id;
    RETURN true;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_delete(text, text) IS
  'RFC 7592 delete: removes a dynamically registered client; OAUTH_INVALID_TOKEN for a wrong token or client.';

-- What authorize and the consent page may show and use: the public metadata, the source, and
-- for a CIMD client whether its cached document must be fetched again.
CREATE FUNCTION auth.oauth_client_public(c auth.oauth_clients) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT (auth.oauth_client_body(c) - 'client_secret_expires_at'
            || jsonb_build_object('source', c.source)
            || CASE WHEN c.source = 'cimd'
                    THEN jsonb_build_object('cimd_stale', c.cimd_expires_at <= now(),
                                            'cimd_expires_at', extract(epoch FROM c.cimd_expires_at)::bigint)
                    ELSE '{}' END)::json
$$;
COMMENT ON FUNCTION auth.oauth_client_public(auth.oauth_clients) IS
  'Internal: a client''s public metadata with source, and cimd_stale / cimd_expires_at for a CIMD client.';

CREATE FUNCTION auth.oauth_client_get(p_client_id text) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT auth.oauth_client_public(c) FROM auth.oauth_clients c WHERE c.client_id = p_client_id
$$;
COMMENT ON FUNCTION auth.oauth_client_get(text) IS
  'A client''s public metadata (no secret), with source and, for a CIMD client, cimd_stale: true when its document must be fetched again; NULL for an unknown client.';

CREATE FUNCTION auth.oauth_cimd_store(p_url text, p_document jsonb, p_max_age_seconds integer) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    v_max integer;
BEGIN
    PERFORM auth.hash_token('');  -- loads the module (when not preloaded), defining the pgauth.oauth_* settings
    v_max := (SELECT s.setting::integer FROM pg_catalog.pg_settings s WHERE s.name = 'pgauth.oauth_cimd_max_age');
    PERFORM auth.oauth_uri_check(p_url, 'client_id', 'cimd', 'OAUTH_INVALID_CLIENT_METADATA');
    IF p_document IS NULL OR jsonb_typeof(p_document) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the client metadata document must be a JSON object');
    END IF;
    IF jsonb_typeof(p_document -> 'client_id') IS DISTINCT FROM 'string' OR p_document ->> 'client_id' <> p_url THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'the document''s client_id must equal its URL exactly');
    END IF;
    c := auth.oauth_client_metadata(p_document, 'cimd');
    c.client_id := p_url;
    c.client_id_issued_at := now();
    c.created_at := now();
    c.updated_at := now();
    c.cimd_expires_at := now() + make_interval(secs => greatest(0, least(coalesce(p_max_age_seconds, v_max), v_max)));
    INSERT INTO auth.oauth_clients AS o SELECT c.*
    ON CONFLICT (client_id) DO UPDATE SET
        redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
        grant_types = excluded.grant_types, response_types = excluded.response_types,
        token_endpoint_auth_method = excluded.token_endpoint_auth_method,
        application_type = excluded.application_type, client_name = excluded.client_name,
        client_uri = excluded.client_uri, logo_uri = excluded.logo_uri, policy_uri = excluded.policy_uri,
        tos_uri = excluded.tos_uri, scope = excluded.scope, contacts = excluded.contacts, jwks = excluded.jwks,
        jwks_uri = excluded.jwks_uri, id_token_signed_response_alg = excluded.id_token_signed_response_alg,
        software_id = excluded.software_id, software_version = excluded.software_version,
        cimd_expires_at = excluded.cimd_expires_at, updated_at = now()
     WHERE o.source = 'cimd'
    RETURNING * INTO c;
    IF NOT FOUND THEN  -- an admin or dcr client has this id: never overwritten
        PERFORM auth.raise('OAUTH_INVALID_CLIENT_METADATA', 'this client_id names a registered client');
    END IF;
    RETURN auth.oauth_client_public(c);
END
$$;
COMMENT ON FUNCTION auth.oauth_cimd_store(text, jsonb, integer) IS
  'Validates a fetched Client ID Metadata Document (client_id equal to its URL, redirect URIs, public or private_key_jwt, no client_secret) and caches it for min(p_max_age_seconds, pgauth.oauth_cimd_max_age) seconds; returns the client as auth.oauth_client_get does.';

-- Exact match (OAuth 2.1), with RFC 8252 section 7.3's one exception: for a native client's
-- loopback IP redirect URI (http://127.0.0.1 or http://[::1]) the port may differ.
CREATE FUNCTION auth.oauth_check_redirect(p_client_id text, p_redirect_uri text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT coalesce(bool_or(r = p_redirect_uri
                            OR (c.application_type = 'native'
                                AND r ~ '^http://(127\.0\.0\.1|\[::1\])[:/]'
                                AND regexp_replace(r, '^http://(127\.0\.0\.1|\[::1\])(:[0-9]+)?', 'http://\1')
                                    = regexp_replace(p_redirect_uri, '^http://(127\.0\.0\.1|\[::1\])(:[0-9]+)?', 'http://\1'))), false)
      FROM auth.oauth_clients c CROSS JOIN LATERAL unnest(c.redirect_uris) r
     WHERE c.client_id = p_client_id AND NOT c.disabled
$$;
COMMENT ON FUNCTION auth.oauth_check_redirect(text, text) IS
  'True when p_redirect_uri is registered for the (enabled) client: exact string match, except that a native client''s loopback IP (127.0.0.1, [::1]) http redirect URI matches on any port (RFC 8252 section 7.3).';

CREATE FUNCTION auth.oauth_delete_client(p_client_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    DELETE FROM auth.oauth_clients o WHERE o.client_id = p_client_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION auth.oauth_delete_client(text) IS
  'Removes a client of any source (admin, dcr, cimd); false when there was none.';

CREATE FUNCTION auth.oauth_set_client_disabled(p_client_id text, p_disabled boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_disabled IS NULL THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_disabled must be true or false');
    END IF;
    UPDATE auth.oauth_clients o SET disabled = p_disabled, updated_at = now() WHERE o.client_id = p_client_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION auth.oauth_set_client_disabled(text, boolean) IS
  'Disables (true) or enables (false) a client of any source: a disabled client matches no redirect URI. False when there is no such client.';

REVOKE ALL ON FUNCTION
    auth.oauth_random_token(integer), auth.oauth_digest_equal(bytea, bytea), auth.oauth_text(jsonb, text, integer),
    auth.oauth_uri_check(text, text, text, text), auth.oauth_text_array(jsonb, text, integer, integer),
    auth.oauth_client_metadata(jsonb, text), auth.oauth_client_body(auth.oauth_clients),
    auth.oauth_registration_client_uri(text), auth.oauth_insert_client(auth.oauth_clients),
    auth.oauth_registered_client(text, text, boolean), auth.oauth_client_public(auth.oauth_clients),
    auth.oauth_create_client(jsonb), auth.oauth_register_client(jsonb, text), auth.oauth_client_read(text, text),
    auth.oauth_client_update(text, text, jsonb), auth.oauth_client_delete(text, text), auth.oauth_client_get(text),
    auth.oauth_cimd_store(text, jsonb, integer), auth.oauth_check_redirect(text, text),
    auth.oauth_delete_client(text), auth.oauth_set_client_disabled(text, boolean)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.oauth_register_client(jsonb, text), auth.oauth_client_read(text, text),
    auth.oauth_client_update(text, text, jsonb), auth.oauth_client_delete(text, text), auth.oauth_client_get(text),
    auth.oauth_cimd_store(text, jsonb, integer), auth.oauth_check_redirect(text, text)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION
    auth.oauth_create_client(jsonb), auth.oauth_delete_client(text), auth.oauth_set_client_disabled(text, boolean)
  TO pgauth_admin;

-- ---------------------------------------------------------------- OAuth clients: end
