-- pgauth 0.4.0, the full current script: users, credential accounts, sessions, passwords,
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
