-- pgauth 0.7.0, the full current script: users, credential accounts, sessions, passwords,
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
    OUT role text, OUT para_wallet_id text, OUT active_organization_id uuid, OUT active_team_id uuid)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_validate_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.validate_session(text) IS
  'The user and session for a session token; no row if unknown, revoked, expired or the user is deactivated. Extends the session (sliding expiry) unless on a standby or in a read-only transaction. active_organization_id and active_team_id: the session''s active organization and team (NULL if none).';

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
    IF current_setting('pgauth.email_require_verification', true) = 'on' THEN
        RETURN;  -- no session until the address is verified (sign_up_response queues the mail)
    END IF;
    SELECT * INTO s FROM auth.create_session(sign_up_email.user_id, true, sign_up_email.ip,
                                             left(sign_up_email.user_agent, 512));
    session_id := s.session_id;
    session_token := s.session_token;
    expires_at := s.expires_at;
END
$$;
COMMENT ON FUNCTION auth.sign_up_email(text, text, text, text, inet, text) IS
  'Creates a user, its credential account (argon2id) and a session in one transaction; returns the session token once. Under pgauth.email_require_verification no session is created (session_id, session_token and expires_at NULL).';

CREATE FUNCTION auth.sign_in_email(email text, password text, remember_me boolean DEFAULT true,
                                   ip inet DEFAULT NULL, user_agent text DEFAULT NULL,
    OUT user_id uuid, OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(sign_in_email.email);
    v_account auth.accounts;
    v_active boolean;
    v_verified boolean;
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
                   CASE WHEN v_locked = 1 THEN '' ELSE 's' END), v_locked);  -- and the HINT "Retry-After: <v_locked>"
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
    SELECT u.is_active, u.email_verified INTO v_active, v_verified FROM auth.users u WHERE u.id = v_account.user_id;
    IF NOT v_active THEN
        PERFORM auth.raise('USER_INACTIVE');
    END IF;
    IF NOT v_verified AND current_setting('pgauth.email_require_verification', true) = 'on' THEN
        -- no session: sign_in_response answers EMAIL_NOT_VERIFIED and queues a new verification mail
        user_id := v_account.user_id;
        RETURN;
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
  'Verifies email and password and creates a session (1 day when remember_me is false). Legacy or weaker hashes are upgraded to argon2id. After pgauth.lockout_threshold consecutive failures for an email it is locked (ACCOUNT_LOCKED) for 2^(failures - threshold) seconds, up to pgauth.lockout_max_delay. Under pgauth.email_require_verification a user whose email is not verified gets no session (user_id only, session columns NULL).';

-- ---------------------------------------------------------------- sessions
CREATE FUNCTION auth.revoke_session(token text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_id uuid;
BEGIN
    DELETE FROM auth.sessions s WHERE s.token_hash = auth.hash_token(revoke_session.token)
    RETURNING s.user_id, s.id INTO v_user, v_id;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    PERFORM auth.audit_write('sign_out', v_user, v_user, NULL, NULL, jsonb_build_object('session_id', v_id));
    RETURN true;
END
$$;
COMMENT ON FUNCTION auth.revoke_session(text) IS 'Ends the session with this token (audited: sign_out); true if one was ended.';

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
    PERFORM auth.audit_write('password_change', change_password.user_id, change_password.user_id, NULL, NULL,
                             jsonb_build_object('revoke_other_sessions', coalesce(revoke_other_sessions, false)));
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

-- The readers below are SECURITY INVOKER, unlike every other API function: a policy calls them
-- once per row, and PostgreSQL's identity switch costs more than their answer from memory. They
-- read no table as the caller; the organization helpers load memberships as the function's
-- owner (docs/organizations.md, "Why the RLS helpers are SECURITY INVOKER").
CREATE FUNCTION auth.jwt() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_jwt' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.jwt() IS 'The verified claims given to jwt_session_init, or NULL.';

CREATE FUNCTION auth.user_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_user_id' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.user_id() IS
  'The signed-in user (sub of the verified JWT or the session''s user), or NULL. For RLS policies: USING (owner_id = auth.user_id()).';

CREATE FUNCTION auth.session() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_session' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
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
       AND (s.name NOT IN ('pgauth.key_file', 'pgauth.previous_key_file')
            OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false))
     ORDER BY s.name
$$;
COMMENT ON FUNCTION auth.settings() IS
  'The pgauth.* settings in effect, with units and descriptions; pgauth.key_file and pgauth.previous_key_file only for superusers.';

-- ---------------------------------------------------------------- Better-Auth responses
-- The extension builds every Better-Auth JSON body (one C++ place for the user object and
-- the time format); pgauth-http passes them through.
CREATE FUNCTION auth.get_session(p_token text, p_want_jwt boolean DEFAULT false)
    RETURNS TABLE (body json, jwt text, jwt_error text, refreshed boolean, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_get_session' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.get_session(text, boolean) IS
  'Better-Auth get-session from one lookup: body {"session","user"}, refreshed when this call extended the session (sliding expiry), max_age = seconds left. With p_want_jwt, jwt is the session JWT, or NULL with jwt_error (e.g. SIGNING_KEY_UNAVAILABLE): keys never fail the call. No row if the token names no live session.';

CREATE FUNCTION auth.sign_up_response(p_email text, p_password text, p_name text, p_image text, p_ip inet,
                                      p_user_agent text, p_callback_url text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_sign_up_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_up_response(text, text, text, text, inet, text, text) IS
  'auth.sign_up_email with Better-Auth''s sign-up body {"token","user"}, the session token and the cookie''s max_age. With pgauth.email_send_on_sign_up or pgauth.email_require_verification the verification mail (/verify-email?token=..&callbackURL=p_callback_url) is queued in the same transaction (skipped past the per-address limit); under require-verification the body is {"token":null,"user"} and session_token and max_age are NULL.';

CREATE FUNCTION auth.sign_in_response(p_email text, p_password text, p_remember_me boolean, p_ip inet,
                                      p_user_agent text, p_callback_url text DEFAULT NULL,
                                      p_trust_device text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint, error_code text, two_factor_token text)
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_response(text, text, boolean, inet, text, text, text) IS
  'Email sign-in (auth.sign_in_attempt) with Better-Auth''s sign-in body {"redirect","token","url"?,"user"} (redirect and url when p_callback_url is not empty; the caller checks it against trusted origins), the session token and the cookie''s max_age. Refusals come back as error_code with body and session NULL, so their audit row commits: INVALID_EMAIL_OR_PASSWORD, USER_INACTIVE, BANNED_USER, and under pgauth.email_require_verification EMAIL_NOT_VERIFIED (a new verification mail, callbackURL = p_callback_url or /, is queued). A two-factor user without a live trusted-device token (p_trust_device, the trust_device cookie) gets body {"twoFactorRedirect":true}, no session, two_factor_token = the pending challenge (the two-factor cookie) and max_age = its seconds left.';

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
    auth.get_session(text, boolean), auth.sign_up_response(text, text, text, text, inet, text, text),
    auth.sign_in_response(text, text, boolean, inet, text, text, text), auth.list_sessions_response(text),
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
    v_user := auth.session_user_id(p_token);
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN auth.vault_body(v_user);
END
$$;
COMMENT ON FUNCTION auth.vault_list(text) IS
  'The vault of the token''s user, masked: {"keys":[{"name","masked","updatedAt"}]} sorted by name; p_token may be ''apikey:<key>'' (auth.session_user_id); NULL if the token names no live session. Never a value.';

CREATE FUNCTION auth.vault_set(p_token text, p_entries jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_max_bytes integer := coalesce(nullif(current_setting('pgauth.vault_max_value_bytes', true), '')::integer, 8192);
    v_max_entries integer := coalesce(nullif(current_setting('pgauth.vault_max_entries', true), '')::integer, 50);
    e record;
    v_value text;
BEGIN
    v_user := auth.session_user_id(p_token);
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
  'Sets (string) or deletes (null) vault entries of the token''s user, all or nothing, and returns the vault_list body; p_token may be ''apikey:<key>'' (auth.session_user_id); NULL if the token names no live session. VALIDATION_ERROR, INVALID_VAULT_NAME, VAULT_VALUE_TOO_LARGE (pgauth.vault_max_value_bytes), VAULT_FULL (pgauth.vault_max_entries), SIGNING_KEY_UNAVAILABLE.';

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
    v_user := auth.session_user_id(p_token, false);
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
    -- at most pgauth.api_key_max_per_user keys: one creator per user at a time, so the count holds
    PERFORM 1 FROM auth.users u WHERE u.id = v_user FOR NO KEY UPDATE;
    IF (SELECT count(*) FROM auth.api_keys a WHERE a.user_id = v_user)
       >= coalesce(nullif(current_setting('pgauth.api_key_max_per_user', true), '')::integer, 100) THEN
        PERFORM auth.raise('TOO_MANY_API_KEYS');
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
  'Better-Auth /api-key/create for the token''s user: p_body {name?, expiresIn? (seconds), prefix?, metadata?, permissions?, remaining?, refillAmount?, refillInterval? (ms), rateLimitEnabled?, rateLimitTimeWindow? (ms), rateLimitMax?}; returns the key object with "key" (shown once; only its SHA-256 is stored). TOO_MANY_API_KEYS beyond pgauth.api_key_max_per_user keys; API_KEY_NOT_ALLOWED for an API-key credential. NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_get(p_token text, p_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    k auth.api_keys;
BEGIN
    v_user := auth.session_user_id(p_token);
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
  'Better-Auth /api-key/get: the key object of one of the token''s user''s keys; KEY_NOT_FOUND for an unknown id or another user''s key; p_token may be ''apikey:<key>'' (auth.session_user_id); NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_list(p_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_keys jsonb;
BEGIN
    v_user := auth.session_user_id(p_token);
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(jsonb_agg(auth.api_key_body(a) ORDER BY a.created_at, a.id), '[]') INTO v_keys
      FROM auth.api_keys a WHERE a.user_id = v_user;
    RETURN jsonb_build_object('apiKeys', v_keys, 'total', jsonb_array_length(v_keys))::json;
END
$$;
COMMENT ON FUNCTION auth.api_key_list(text) IS
  'Better-Auth /api-key/list: {"apiKeys": [key objects, oldest first], "total": n} for the token''s user; p_token may be ''apikey:<key>'' (auth.session_user_id); NULL if the token names no live session.';

CREATE FUNCTION auth.api_key_update(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    k auth.api_keys;
BEGIN
    v_user := auth.session_user_id(p_token, false);
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
  'Better-Auth /api-key/update: p_body {keyId, name?, enabled?, remaining?, refillAmount?, refillInterval?, metadata?, expiresIn? (null: never), rateLimitEnabled?, rateLimitTimeWindow?, rateLimitMax?, permissions? (null: none)}; returns the key object. KEY_NOT_FOUND, NO_VALUES_TO_UPDATE; API_KEY_NOT_ALLOWED for an API-key credential (a key cannot manage keys); NULL if the token names no live session. Disabling takes effect on the next verify.';

CREATE FUNCTION auth.api_key_delete(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
BEGIN
    v_user := auth.session_user_id(p_token, false);
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
  'Better-Auth /api-key/delete: p_body {keyId}; {"success": true}, KEY_NOT_FOUND for an unknown id or another user''s key; API_KEY_NOT_ALLOWED for an API-key credential (a key cannot manage keys); NULL if the token names no live session. The key fails verification at once.';

CREATE FUNCTION auth.verify_api_key(p_key text, p_permissions jsonb DEFAULT NULL)
    RETURNS TABLE (valid boolean, error_code text, key_id uuid, user_id uuid, remaining integer, permissions jsonb)
    AS 'MODULE_PATHNAME', 'pgauth_verify_api_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.verify_api_key(text, jsonb) IS
  'Checks an API key in one call and consumes one use: valid, or error_code INVALID_API_KEY, KEY_DISABLED, KEY_EXPIRED, USER_INACTIVE, KEY_NOT_FOUND (permissions not granted, as Better-Auth), USAGE_EXCEEDED, RATE_LIMITED. p_permissions {resource: [action, ...]}: all must be granted. C++: a unique-index lookup on the digest with a plan prepared once per backend; keys with remaining or a rate limit are counted under the row lock (no overspend); others are not written.';

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
    AS 'MODULE_PATHNAME', 'pgauth_get_session_by_api_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.get_session_by_api_key(text) IS
  'get-session for a request carrying x-api-key (Better-Auth enableSessionForAPIKeys): body {"session": {id and token = the key id (never the key), userId, expiresAt = the key''s or now + pgauth.session_expires_in}, "user"}, consuming one use as auth.verify_api_key; when invalid body NULL and error_code the reason. auth.get_session(''apikey:'' || key) answers the same body.';

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
-- Verification records and the transactional outbox. A flow that sends mail writes its
-- auth.verifications row and its auth.outbox row in one transaction (auth.email_issue), or
-- neither. Tokens and OTPs are stored only as keyed digests (HMAC-SHA256 under a subkey of
-- the KEK); the outbox's secret part (url, token, otp) is sealed under the KEK, bound to its
-- row, and wiped when the row is sent or dead. Docs: docs/email.md, docs/sql-api.md.
CREATE TABLE auth.verifications (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    purpose     text NOT NULL CHECK (purpose IN ('verify-email', 'change-email', 'reset-password', 'magic-link',
                                                 'otp-sign-in', 'otp-email-verification', 'otp-forget-password')),
    email       text NOT NULL CHECK (email = pg_catalog.lower(email)),
    user_id     uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    digest      bytea NOT NULL CHECK (pg_catalog.octet_length(digest) = 32),
    attempts    integer NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    payload     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX verifications_link_digest_key ON auth.verifications (digest)
    WHERE purpose IN ('verify-email', 'change-email', 'reset-password', 'magic-link');
CREATE INDEX verifications_email_purpose_idx ON auth.verifications (email, purpose, created_at);
CREATE INDEX verifications_user_id_idx ON auth.verifications (user_id);
COMMENT ON TABLE auth.verifications IS
  'Email tokens and one-time codes: digest = HMAC-SHA256 under a subkey of the KEK (never the token or code), single use (consumed_at), expires_at, attempts (OTPs), payload (e.g. the new address of a change-email).';
REVOKE ALL ON auth.verifications FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.verifications', '');

CREATE TABLE auth.outbox (
    id              bigserial PRIMARY KEY,
    verification_id uuid REFERENCES auth.verifications (id) ON DELETE SET NULL,
    recipient       text NOT NULL,
    template        text NOT NULL CHECK (template IN ('verify-email', 'change-email', 'reset-password', 'magic-link',
                                                      'otp-sign-in', 'otp-email-verification', 'otp-forget-password')),
    vars            jsonb NOT NULL DEFAULT '{}',
    sealed          bytea,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    claimed_by      text,
    claimed_until   timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    sent_at         timestamptz,
    CHECK (status IN ('pending', 'sending') OR sealed IS NULL)
);
-- due rows: pending ones at next_attempt_at, sending ones when their lease ends (claiming
-- sets next_attempt_at = claimed_until), so one index serves both
CREATE INDEX outbox_due_idx ON auth.outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_verification_id_idx ON auth.outbox (verification_id);
COMMENT ON TABLE auth.outbox IS
  'Mail to deliver, written in the transaction of its verification record: vars = the non-secret template variables, sealed = XChaCha20-Poly1305 of the secret part (url, token, otp) under the KEK, bound to (id, recipient, template), NULL once sent or dead. status pending -> sending (claimed, leased) -> sent | pending (retry) | dead.';
REVOKE ALL ON auth.outbox FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('auth.outbox_id_seq', '');

-- C++ primitives (internal: no role but the owner executes them)
CREATE FUNCTION auth.email_new_token() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_email_new_token' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.email_new_token() IS 'Internal: a new link token, 32 random bytes in base64url.';
CREATE FUNCTION auth.email_new_otp(p_length integer) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_email_new_otp' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.email_new_otp(integer) IS 'Internal: a new one-time code of p_length (4 to 10) uniform digits.';
CREATE FUNCTION auth.email_digest(p_kind text, p_secret text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgauth_email_digest' LANGUAGE C STABLE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.email_digest(text, text) IS
  'Internal: HMAC-SHA256 of (p_kind, p_secret) under a subkey derived from the KEK: the stored form of a token or code. SIGNING_KEY_UNAVAILABLE without a KEK.';
CREATE FUNCTION auth.email_digest_matches(p_digest bytea, p_kind text, p_secret text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_email_digest_matches' LANGUAGE C STABLE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.email_digest_matches(bytea, text, text) IS
  'Internal: whether p_secret is the secret of p_digest, compared in constant time.';
CREATE FUNCTION auth.outbox_seal(p_id bigint, p_recipient text, p_template text, p_secret text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'pgauth_outbox_seal' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.outbox_seal(bigint, text, text, text) IS
  'Internal: seals an outbox row''s secret part under the KEK, bound to (id, recipient, template).';
CREATE FUNCTION auth.outbox_open(p_id bigint, p_recipient text, p_template text, p_sealed bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_outbox_open' LANGUAGE C STABLE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.outbox_open(bigint, text, text, bytea) IS
  'Internal: opens an outbox row''s secret part; NULL if it was sealed for another row, altered, or sealed under another KEK; SIGNING_KEY_UNAVAILABLE without a KEK.';
CREATE FUNCTION auth.url_encode(p_value text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_url_encode' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.url_encode(text) IS 'Internal: JavaScript''s encodeURIComponent, for the values in mail links.';

CREATE FUNCTION auth.outbox_notify() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    PERFORM pg_notify('pgauth_outbox', '');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.outbox_notify() IS 'Internal: wakes the delivery workers (LISTEN pgauth_outbox) when mail is queued.';
CREATE TRIGGER outbox_notify AFTER INSERT ON auth.outbox FOR EACH STATEMENT EXECUTE FUNCTION auth.outbox_notify();

-- plpgsql helpers (internal)
CREATE FUNCTION auth.email_setting(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF current_setting(p_name, true) IS NULL THEN
        PERFORM auth.url_encode('');  -- loads the module, which defines its settings
    END IF;
    RETURN current_setting(p_name);
END
$$;
COMMENT ON FUNCTION auth.email_setting(text) IS 'Internal: a pgauth.* setting, loading the module first if needed.';

CREATE FUNCTION auth.email_user_json(p_user_id uuid) RETURNS json
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT json_build_object('name', u.name, 'email', u.email, 'emailVerified', u.email_verified, 'image', u.image,
                             'createdAt', auth.iso_time(u.created_at), 'updatedAt', auth.iso_time(u.updated_at),
                             'id', u.id)
      FROM auth.users u WHERE u.id = p_user_id
$$;
COMMENT ON FUNCTION auth.email_user_json(uuid) IS 'Internal: Better-Auth''s user object (as sign-in returns it).';

-- Counts one mail request for an address, known or not (so the answer leaks nothing), in
-- auth.rate_limits: at most pgauth.email_max_per_address per pgauth.email_address_window.
CREATE FUNCTION auth.email_address_hit(p_email text, p_raise boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_max integer := auth.email_setting('pgauth.email_max_per_address')::integer;
    v_window integer := extract(epoch FROM auth.email_setting('pgauth.email_address_window')::interval)::integer;
    v_allowed boolean;
BEGIN
    IF v_max = 0 THEN
        RETURN true;
    END IF;
    SELECT r.allowed INTO v_allowed FROM auth.rate_limit_hit('pgauth.email:' || p_email, v_max, v_window) r;
    IF NOT v_allowed AND p_raise THEN
        PERFORM auth.raise('RATE_LIMITED');
    END IF;
    RETURN v_allowed;
END
$$;
COMMENT ON FUNCTION auth.email_address_hit(text, boolean) IS
  'Internal: counts a mail request for a normalized address; false (or RATE_LIMITED with p_raise) past pgauth.email_max_per_address per pgauth.email_address_window.';

-- The cryptographic work of a mail, done and thrown away, for a request that sends none (an
-- unknown, verified or deactivated address): the answer takes about as long either way.
CREATE FUNCTION auth.email_dummy_work(p_email text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    PERFORM auth.email_digest('link', auth.email_new_token()),
            auth.outbox_seal(0, p_email, 'verify-email', '{"url": "/verify-email?token=0000000000000000000000000000000000000000000"}');
END
$$;
COMMENT ON FUNCTION auth.email_dummy_work(text) IS
  'Internal: spends what queueing a mail costs in cryptography (a digest and a seal) without writing anything.';

-- Writes a verification record and its outbox row, in the caller's transaction. p_link is
-- the path (relative to the public auth base URL) with {token} where the token goes; NULL
-- for a one-time code. Returns the verification id.
CREATE FUNCTION auth.email_issue(p_purpose text, p_email text, p_user_id uuid, p_payload jsonb, p_vars jsonb,
                                 p_link text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_lifetime interval := auth.email_setting(CASE p_purpose
        WHEN 'verify-email' THEN 'pgauth.email_verification_expires_in'
        WHEN 'change-email' THEN 'pgauth.email_verification_expires_in'
        WHEN 'reset-password' THEN 'pgauth.password_reset_expires_in'
        WHEN 'magic-link' THEN 'pgauth.magic_link_expires_in'
        ELSE 'pgauth.email_otp_expires_in' END)::interval;
    v_secret text;
    v_digest bytea;
    v_sealed text;
    v_vid uuid;
    v_oid bigint;
BEGIN
    IF octet_length(p_link) > 8192 OR octet_length(p_vars::text) > 16384 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'callbackURL is too long');
    END IF;
    IF p_purpose LIKE 'otp-%' THEN
        v_secret := auth.email_new_otp(auth.email_setting('pgauth.email_otp_length')::integer);
        v_digest := auth.email_digest(p_purpose || ':' || p_email, v_secret);
        v_sealed := json_build_object('otp', v_secret)::text;
        -- a new code replaces the previous ones for this address and purpose; their mail,
        -- if not yet handed to a worker, is not sent
        DELETE FROM auth.outbox o USING auth.verifications v
         WHERE o.verification_id = v.id AND o.status = 'pending'
           AND v.email = p_email AND v.purpose = p_purpose AND v.consumed_at IS NULL;
        UPDATE auth.verifications v SET consumed_at = now()
         WHERE v.email = p_email AND v.purpose = p_purpose AND v.consumed_at IS NULL;
    ELSE
        v_secret := auth.email_new_token();
        v_digest := auth.email_digest('link', v_secret);
        v_sealed := json_build_object('url', replace(p_link, '{token}', v_secret), 'token', v_secret)::text;
    END IF;
    INSERT INTO auth.verifications (purpose, email, user_id, digest, expires_at, payload)
    VALUES (p_purpose, p_email, p_user_id, v_digest, now() + v_lifetime, coalesce(p_payload, '{}'))
    RETURNING id INTO v_vid;
    v_oid := nextval('auth.outbox_id_seq');
    INSERT INTO auth.outbox (id, verification_id, recipient, template, vars, sealed)
    VALUES (v_oid, v_vid, p_email, p_purpose, coalesce(p_vars, '{}'), auth.outbox_seal(v_oid, p_email, p_purpose, v_sealed));
    RETURN v_vid;
END
$$;
COMMENT ON FUNCTION auth.email_issue(text, text, uuid, jsonb, jsonb, text) IS
  'Internal: writes a verification record (digest only) and its outbox row (secret part sealed) in the caller''s transaction; a new code replaces earlier live codes of the same address and purpose.';

-- The verify-email mail of a user (sign-up, refused sign-in, send-verification-email).
CREATE FUNCTION auth.email_queue_verification(p_user_id uuid, p_callback_url text, p_raise_on_limit boolean)
    RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    u auth.users;
BEGIN
    SELECT x.* INTO u FROM auth.users x WHERE x.id = p_user_id;
    IF NOT FOUND OR u.email_verified THEN
        RETURN false;
    END IF;
    IF NOT auth.email_address_hit(u.email, p_raise_on_limit) THEN
        RETURN false;
    END IF;
    PERFORM auth.email_issue('verify-email', u.email, u.id, NULL,
        json_build_object('email', u.email, 'name', u.name, 'callbackURL', coalesce(nullif(p_callback_url, ''), '/'))::jsonb,
        '/verify-email?token={token}&callbackURL=' || auth.url_encode(coalesce(nullif(p_callback_url, ''), '/')));
    RETURN true;
END
$$;
COMMENT ON FUNCTION auth.email_queue_verification(uuid, text, boolean) IS
  'Internal: queues the verify-email mail of an unverified user (none for a verified one); past the per-address limit RATE_LIMITED when p_raise_on_limit, else false.';

-- Sets a new password (creating the credential account if the user had none), clears the
-- sign-in lockout, kills outstanding reset tokens and codes, and ends the user's sessions when
-- pgauth.revoke_sessions_on_password_reset is on.
CREATE FUNCTION auth.email_set_password(p_user_id uuid, p_password text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    UPDATE auth.accounts a SET password_hash = auth.hash_password(p_password), updated_at = now()
     WHERE a.user_id = p_user_id AND a.provider_id = 'credential';
    IF NOT FOUND THEN
        INSERT INTO auth.accounts (user_id, provider_id, account_id, password_hash)
        VALUES (p_user_id, 'credential', p_user_id::text, auth.hash_password(p_password));
    END IF;
    PERFORM auth.sign_in_reset(u.email) FROM auth.users u WHERE u.id = p_user_id;
    UPDATE auth.verifications v SET consumed_at = now()
     WHERE v.user_id = p_user_id AND v.purpose IN ('reset-password', 'otp-forget-password') AND v.consumed_at IS NULL;
    IF auth.email_setting('pgauth.revoke_sessions_on_password_reset')::boolean THEN
        DELETE FROM auth.sessions s WHERE s.user_id = p_user_id;
    END IF;
    PERFORM auth.audit_write('password_reset', p_user_id, p_user_id, NULL, NULL, '{}');
END
$$;
COMMENT ON FUNCTION auth.email_set_password(uuid, text) IS
  'Internal: the password part of a reset (link or code).';

-- A link token: the live record of one of p_purposes, locked. error_code INVALID_TOKEN
-- (unknown, used, or of another purpose) or p_expired_code; the record is consumed when live.
CREATE FUNCTION auth.email_take_link(p_token text, p_purposes text[], p_expired_code text,
                                     OUT v auth.verifications, OUT error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_token IS NULL OR p_token = '' OR octet_length(p_token) > 256 THEN
        error_code := 'INVALID_TOKEN';
        RETURN;
    END IF;
    SELECT x.* INTO v FROM auth.verifications x
     WHERE x.digest = auth.email_digest('link', p_token)
       AND x.purpose IN ('verify-email', 'change-email', 'reset-password', 'magic-link')
       FOR UPDATE;
    IF NOT FOUND OR v.consumed_at IS NOT NULL OR NOT (v.purpose = ANY (p_purposes)) THEN
        v := NULL;
        error_code := 'INVALID_TOKEN';
    ELSIF v.expires_at <= now() THEN
        error_code := p_expired_code;
    ELSE
        UPDATE auth.verifications x SET consumed_at = now() WHERE x.id = v.id;
    END IF;
END
$$;
COMMENT ON FUNCTION auth.email_take_link(text, text[], text) IS
  'Internal: consumes a live link token of one of p_purposes, or gives the reason it cannot (INVALID_TOKEN, p_expired_code).';

-- A one-time code: the newest live code of (address, purpose), locked. The checks of
-- Better-Auth's emailOTP plugin: none -> INVALID_OTP; expired -> OTP_EXPIRED; attempts used
-- up -> TOO_MANY_ATTEMPTS (checked before the code); wrong -> INVALID_OTP and one attempt
-- more. The caller returns the error as a value so that the count commits.
CREATE FUNCTION auth.email_take_otp(p_purpose text, p_email text, p_otp text,
                                    OUT v auth.verifications, OUT error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_max integer := auth.email_setting('pgauth.email_otp_attempts')::integer;
BEGIN
    SELECT x.* INTO v FROM auth.verifications x
     WHERE x.email = p_email AND x.purpose = p_purpose AND x.consumed_at IS NULL
     ORDER BY x.created_at DESC LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        v := NULL;
        error_code := 'INVALID_OTP';
    ELSIF v.expires_at <= now() THEN
        UPDATE auth.verifications x SET consumed_at = now() WHERE x.id = v.id;
        error_code := 'OTP_EXPIRED';
    ELSIF v.attempts >= v_max THEN
        UPDATE auth.verifications x SET consumed_at = now() WHERE x.id = v.id;
        error_code := 'TOO_MANY_ATTEMPTS';
    ELSIF p_otp IS NULL OR octet_length(p_otp) > 64
          OR NOT auth.email_digest_matches(v.digest, p_purpose || ':' || p_email, p_otp) THEN
        UPDATE auth.verifications x SET attempts = x.attempts + 1 WHERE x.id = v.id;
        error_code := 'INVALID_OTP';
    ELSE
        UPDATE auth.verifications x SET consumed_at = now() WHERE x.id = v.id;
    END IF;
    IF error_code IS NOT NULL THEN
        v := NULL;
    END IF;
END
$$;
COMMENT ON FUNCTION auth.email_take_otp(text, text, text) IS
  'Internal: consumes the live one-time code of (address, purpose) when p_otp matches (constant-time); else INVALID_OTP (counted), OTP_EXPIRED or TOO_MANY_ATTEMPTS (pgauth.email_otp_attempts wrong tries used).';

-- The user of a proven address, created when new (magic link, OTP sign-in), marked verified.
CREATE FUNCTION auth.email_proven_user(p_email text, p_name text, p_may_sign_up boolean, p_sign_in boolean,
                                       OUT user_id uuid, OUT new_user boolean, OUT error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    u auth.users;
BEGIN
    new_user := false;
    SELECT x.* INTO u FROM auth.users x WHERE x.email = p_email FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        IF NOT p_may_sign_up THEN
            error_code := 'USER_NOT_FOUND';
            RETURN;
        END IF;
        INSERT INTO auth.users AS x (email, name, email_verified)
        VALUES (p_email, coalesce(nullif(btrim(p_name), ''), ''), true)
        ON CONFLICT (email) DO NOTHING
        RETURNING x.* INTO u;
        IF FOUND THEN
            new_user := true;
        ELSE
            SELECT x.* INTO u FROM auth.users x WHERE x.email = p_email FOR NO KEY UPDATE;
        END IF;
    END IF;
    IF NOT u.is_active THEN
        error_code := 'USER_INACTIVE';
        RETURN;
    END IF;
    IF NOT u.email_verified THEN
        IF p_sign_in THEN
            -- Better-Auth's revokeUnprovenAccountAccess: whoever signs in by proving the address
            -- inherits no password, social link or session made before it was proven (an
            -- attacker who signed up with someone else's address loses that access)
            DELETE FROM auth.accounts a WHERE a.user_id = u.id;
            DELETE FROM auth.sessions s WHERE s.user_id = u.id;
        END IF;
        UPDATE auth.users x SET email_verified = true, updated_at = now() WHERE x.id = u.id;
    END IF;
    user_id := u.id;
END
$$;
COMMENT ON FUNCTION auth.email_proven_user(text, text, boolean, boolean) IS
  'Internal: the user whose address a link or code just proved, created (verified) when new and p_may_sign_up, else marked verified; with p_sign_in an unverified user first loses its accounts and sessions (made before the proof). USER_NOT_FOUND or USER_INACTIVE as error_code.';

-- ---- endpoint functions (pgauth_service)
CREATE FUNCTION auth.email_send_verification(p_session_token text, p_email text, p_callback_url text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    v_session_user uuid;
    v_session_email text;
    u auth.users;
BEGIN
    IF p_session_token IS NOT NULL AND p_session_token <> '' THEN
        SELECT s.user_id, s.email INTO v_session_user, v_session_email FROM auth.validate_session(p_session_token) s;
    END IF;
    IF v_session_user IS NOT NULL AND v_session_email <> v_email THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'You can only send a verification email to your own email');
    END IF;
    PERFORM auth.email_address_hit(v_email, true);
    SELECT x.* INTO u FROM auth.users x WHERE x.email = v_email AND x.is_active;
    IF u.id IS NOT NULL AND NOT u.email_verified THEN
        PERFORM auth.email_issue('verify-email', u.email, u.id, NULL,
            json_build_object('email', u.email, 'name', u.name, 'callbackURL', coalesce(nullif(p_callback_url, ''), '/'))::jsonb,
            '/verify-email?token={token}&callbackURL=' || auth.url_encode(coalesce(nullif(p_callback_url, ''), '/')));
    ELSE
        PERFORM auth.email_dummy_work(v_email);  -- unknown, verified or deactivated: no mail, the same cost
    END IF;
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.email_send_verification(text, text, text) IS
  'Better-Auth send-verification-email: queues the verify-email mail (link /verify-email?token=..&callbackURL=..) and answers {"status":true} alike for unknown, verified and unverified addresses. With a live session the address must be its user''s (VALIDATION_ERROR). RATE_LIMITED past pgauth.email_max_per_address.';

CREATE FUNCTION auth.email_verify(p_token text, p_ip inet, p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    t record;
    v_user uuid;
    v_token text;
    v_expires timestamptz;
BEGIN
    SELECT * INTO t FROM auth.email_take_link(p_token, ARRAY['verify-email', 'change-email'], 'TOKEN_EXPIRED');
    IF t.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, t.error_code;
        RETURN;
    END IF;
    IF (t.v).purpose = 'verify-email' THEN
        UPDATE auth.users u SET email_verified = true, updated_at = now()
         WHERE u.id = (t.v).user_id AND u.email = (t.v).email
        RETURNING u.id INTO v_user;
    ELSE
        -- change-email: the new address is proven; the change happens now, and every token or
        -- code still out for the user (sent to the old address) dies
        BEGIN
            UPDATE auth.users u SET email = (t.v).payload ->> 'newEmail', email_verified = true, updated_at = now()
             WHERE u.id = (t.v).user_id AND u.email = (t.v).payload ->> 'oldEmail'
            RETURNING u.id INTO v_user;
        EXCEPTION WHEN unique_violation THEN
            v_user := NULL;  -- the address was taken since the request
        END;
        IF v_user IS NOT NULL THEN
            UPDATE auth.verifications x SET consumed_at = now() WHERE x.user_id = v_user AND x.consumed_at IS NULL;
        END IF;
    END IF;
    IF v_user IS NULL THEN
        -- the user's address changed since the link was sent (or the new one was taken)
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, 'INVALID_TOKEN'::text;
        RETURN;
    END IF;
    -- a session: after a change-email (as Better-Auth), or with autoSignInAfterVerification
    -- (not for a two-factor or banned user: the proof of an address is no second factor)
    IF ((t.v).purpose = 'change-email' OR auth.email_setting('pgauth.email_auto_sign_in_after_verification')::boolean)
       AND EXISTS (SELECT 1 FROM auth.users u WHERE u.id = v_user AND u.is_active AND NOT u.two_factor_enabled
                      AND NOT (u.banned AND (u.ban_expires IS NULL OR u.ban_expires > now()))) THEN
        SELECT c.session_token, c.expires_at INTO v_token, v_expires
          FROM auth.create_session(v_user, true, p_ip, left(p_user_agent, 512)) c;
    END IF;
    RETURN QUERY SELECT json_build_object('status', true,
                                          'user', CASE WHEN (t.v).purpose = 'change-email' THEN auth.email_user_json(v_user) END),
                        v_token, round(extract(epoch FROM v_expires - now()))::bigint, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.email_verify(text, inet, text) IS
  'Better-Auth verify-email: consumes a verify-email or change-email token. verify-email marks the address verified, body {"status":true,"user":null} (with pgauth.email_auto_sign_in_after_verification also a new session); change-email makes the new address the user''s (verified), kills every other token or code out for the user and returns a new session, body {"status":true,"user"}. Else error_code INVALID_TOKEN or TOKEN_EXPIRED (returned, not raised: single use holds).';

CREATE FUNCTION auth.email_request_password_reset(p_email text, p_redirect_to text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    u auth.users;
BEGIN
    PERFORM auth.email_address_hit(v_email, true);
    SELECT x.* INTO u FROM auth.users x WHERE x.email = v_email AND x.is_active;
    IF FOUND THEN
        PERFORM auth.email_issue('reset-password', v_email, u.id, NULL,
            json_build_object('email', v_email, 'name', u.name, 'callbackURL', coalesce(p_redirect_to, ''))::jsonb,
            '/reset-password/{token}?callbackURL=' || auth.url_encode(coalesce(p_redirect_to, '')));
    ELSE
        PERFORM auth.email_dummy_work(v_email);
    END IF;
    RETURN json_build_object('status', true,
        'message', 'If this email exists in our system, check your email for the reset link');
END
$$;
COMMENT ON FUNCTION auth.email_request_password_reset(text, text) IS
  'Better-Auth request-password-reset: queues the reset mail (link /reset-password/<token>?callbackURL=<redirectTo>) for a known active address; the same answer for any address. RATE_LIMITED past pgauth.email_max_per_address.';

CREATE FUNCTION auth.email_check_reset_token(p_token text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_token IS NULL OR p_token = '' OR octet_length(p_token) > 256 THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM auth.verifications v
                    WHERE v.digest = auth.email_digest('link', p_token) AND v.purpose = 'reset-password'
                      AND v.consumed_at IS NULL AND v.expires_at > now());
END
$$;
COMMENT ON FUNCTION auth.email_check_reset_token(text) IS
  'Better-Auth GET /reset-password/:token: true when the reset token is live and unused (it is not consumed).';

CREATE FUNCTION auth.email_reset_password(p_token text, p_new_password text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    t record;
BEGIN
    PERFORM auth.check_password_policy(p_new_password);
    SELECT * INTO t FROM auth.email_take_link(p_token, ARRAY['reset-password'], 'INVALID_TOKEN');
    IF t.error_code IS NOT NULL OR (t.v).user_id IS NULL THEN
        PERFORM auth.raise('INVALID_TOKEN');
    END IF;
    PERFORM auth.email_set_password((t.v).user_id, p_new_password);
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.email_reset_password(text, text) IS
  'Better-Auth reset-password: sets the password of a live reset token''s user (creating the credential account if there was none), consumes it and every other reset token and code of the user, clears the sign-in lockout, and with pgauth.revoke_sessions_on_password_reset ends every session. PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG before the token is looked at; INVALID_TOKEN (unknown, used or expired).';

CREATE FUNCTION auth.email_change_request(p_session_token text, p_new_email text, p_callback_url text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    me record;
    v_new text;
BEGIN
    SELECT s.user_id, s.email, s.name INTO me FROM auth.validate_session(p_session_token) s;
    IF me.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_new := auth.normalize_email(p_new_email);
    IF v_new = me.email THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'Email is the same');
    END IF;
    PERFORM auth.email_address_hit(v_new, true);
    -- a taken address gets the same answer and no mail (nothing tells the requester it exists)
    IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.email = v_new) THEN
        PERFORM auth.email_issue('change-email', v_new, me.user_id,
            jsonb_build_object('oldEmail', me.email, 'newEmail', v_new),
            jsonb_build_object('email', v_new, 'newEmail', v_new, 'currentEmail', me.email, 'name', me.name,
                               'callbackURL', coalesce(nullif(p_callback_url, ''), '/')),
            '/verify-email?token={token}&callbackURL=' || auth.url_encode(coalesce(nullif(p_callback_url, ''), '/')));
    ELSE
        PERFORM auth.email_dummy_work(v_new);
    END IF;
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.email_change_request(text, text, text) IS
  'Better-Auth change-email: queues a verification link to the NEW address (/verify-email?token=..&callbackURL=..); the email changes only when it is followed (auth.email_verify). {"status":true} alike when the new address is taken (then no mail); VALIDATION_ERROR for the current address; RATE_LIMITED; NULL if the token names no live session.';

CREATE FUNCTION auth.magic_link_request(p_email text, p_name text, p_callback_url text, p_new_user_callback_url text,
                                        p_error_callback_url text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    u auth.users;
    v_link text;
BEGIN
    IF char_length(p_name) > 255 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name is too long');
    END IF;
    PERFORM auth.email_address_hit(v_email, true);
    SELECT x.* INTO u FROM auth.users x WHERE x.email = v_email;
    IF (u.id IS NULL AND auth.email_setting('pgauth.magic_link_disable_sign_up')::boolean)
       OR (u.id IS NOT NULL AND NOT u.is_active) THEN
        PERFORM auth.email_dummy_work(v_email);
        RETURN json_build_object('status', true);
    END IF;
    v_link := '/magic-link/verify?token={token}&callbackURL=' || auth.url_encode(coalesce(nullif(p_callback_url, ''), '/'));
    IF nullif(p_new_user_callback_url, '') IS NOT NULL THEN
        v_link := v_link || '&newUserCallbackURL=' || auth.url_encode(p_new_user_callback_url);
    END IF;
    IF nullif(p_error_callback_url, '') IS NOT NULL THEN
        v_link := v_link || '&errorCallbackURL=' || auth.url_encode(p_error_callback_url);
    END IF;
    PERFORM auth.email_issue('magic-link', v_email, u.id,
        CASE WHEN nullif(btrim(p_name), '') IS NULL THEN NULL ELSE jsonb_build_object('name', btrim(p_name)) END,
        jsonb_build_object('email', v_email, 'name', coalesce(u.name, nullif(btrim(p_name), ''))), v_link);
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.magic_link_request(text, text, text, text, text) IS
  'Better-Auth magicLink sign-in/magic-link: queues the link /magic-link/verify?token=..&callbackURL=..[&newUserCallbackURL=..][&errorCallbackURL=..]; {"status":true} alike for any address (no mail for a deactivated user, or an unknown one under pgauth.magic_link_disable_sign_up). RATE_LIMITED.';

CREATE FUNCTION auth.magic_link_verify(p_token text, p_ip inet, p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint, new_user boolean, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    t record;
    p record;
    s record;
BEGIN
    SELECT * INTO t FROM auth.email_take_link(p_token, ARRAY['magic-link'], 'INVALID_TOKEN');
    IF t.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, NULL::boolean, t.error_code;
        RETURN;
    END IF;
    SELECT * INTO p FROM auth.email_proven_user((t.v).email, (t.v).payload ->> 'name',
                                                NOT auth.email_setting('pgauth.magic_link_disable_sign_up')::boolean, true);
    IF p.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, NULL::boolean,
                            CASE p.error_code WHEN 'USER_NOT_FOUND' THEN 'INVALID_TOKEN' ELSE p.error_code END;
        RETURN;
    END IF;
    SELECT * INTO s FROM auth.create_session(p.user_id, true, p_ip, left(p_user_agent, 512));
    RETURN QUERY SELECT json_build_object('token', s.session_token, 'user', auth.email_user_json(p.user_id),
                                          'session', (SELECT json_build_object(
                                              'expiresAt', auth.iso_time(x.expires_at), 'token', s.session_token,
                                              'createdAt', auth.iso_time(x.created_at), 'updatedAt', auth.iso_time(x.updated_at),
                                              'ipAddress', pg_catalog.host(x.ip), 'userAgent', x.user_agent, 'userId', x.user_id, 'id', x.id)
                                            FROM auth.sessions x WHERE x.id = s.session_id)),
                        s.session_token, round(extract(epoch FROM s.expires_at - now()))::bigint, p.new_user, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.magic_link_verify(text, inet, text) IS
  'Better-Auth magic-link/verify: consumes the token, signs the address up when new (name from the request; not under pgauth.magic_link_disable_sign_up), promotes an unverified user (its accounts and sessions, made before the address was proven, are removed; then verified) and creates a session: body {"token","user","session"}, new_user. Else error_code INVALID_TOKEN (unknown, used or expired, as Better-Auth) or USER_INACTIVE (returned, not raised).';

CREATE FUNCTION auth.email_otp_send(p_email text, p_type text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text;
    u auth.users;
BEGIN
    IF p_type IS NULL OR p_type NOT IN ('sign-in', 'email-verification', 'forget-password') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'type must be sign-in, email-verification or forget-password');
    END IF;
    v_email := auth.normalize_email(p_email);
    PERFORM auth.email_address_hit(v_email, true);
    SELECT x.* INTO u FROM auth.users x WHERE x.email = v_email;
    IF (u.id IS NOT NULL AND NOT u.is_active)
       OR (u.id IS NULL AND (p_type <> 'sign-in' OR auth.email_setting('pgauth.email_otp_disable_sign_up')::boolean))
       OR (p_type = 'email-verification' AND u.email_verified) THEN
        PERFORM auth.email_dummy_work(v_email);
        RETURN json_build_object('success', true);  -- the same answer, no mail
    END IF;
    PERFORM auth.email_issue('otp-' || p_type, v_email, u.id, NULL,
                             jsonb_build_object('email', v_email, 'name', u.name, 'type', p_type), NULL);
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.email_otp_send(text, text) IS
  'Better-Auth emailOTP send-verification-otp / forget-password/email-otp: queues a one-time code of pgauth.email_otp_length digits (replacing the previous one of the address and type); {"success":true} alike for any address (no mail for an unknown one except sign-in with sign-up allowed, nor email-verification for a verified one). VALIDATION_ERROR for another type; RATE_LIMITED.';

CREATE FUNCTION auth.email_otp_sign_in(p_email text, p_otp text, p_ip inet, p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    t record;
    p record;
    s record;
BEGIN
    IF p_otp IS NULL OR p_otp = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'otp is required');
    END IF;
    SELECT * INTO t FROM auth.email_take_otp('otp-sign-in', v_email, p_otp);
    IF t.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, t.error_code;
        RETURN;
    END IF;
    SELECT * INTO p FROM auth.email_proven_user(v_email, NULL,
                                                NOT auth.email_setting('pgauth.email_otp_disable_sign_up')::boolean, true);
    IF p.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint,
                            CASE p.error_code WHEN 'USER_NOT_FOUND' THEN 'INVALID_OTP' ELSE p.error_code END;
        RETURN;
    END IF;
    SELECT * INTO s FROM auth.create_session(p.user_id, true, p_ip, left(p_user_agent, 512));
    RETURN QUERY SELECT json_build_object('token', s.session_token, 'user', auth.email_user_json(p.user_id)),
                        s.session_token, round(extract(epoch FROM s.expires_at - now()))::bigint, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.email_otp_sign_in(text, text, inet, text) IS
  'Better-Auth emailOTP sign-in/email-otp: checks the sign-in code (constant-time), signs the address up when new (not under pgauth.email_otp_disable_sign_up), promotes an unverified user as magic_link_verify does, and creates a session: body {"token","user"}. Else error_code INVALID_OTP, OTP_EXPIRED, TOO_MANY_ATTEMPTS or USER_INACTIVE, returned (not raised) so that a wrong attempt''s count commits. VALIDATION_ERROR / INVALID_EMAIL raise.';

CREATE FUNCTION auth.email_otp_verify_email(p_email text, p_otp text, p_ip inet, p_user_agent text)
    RETURNS TABLE (body json, session_token text, max_age bigint, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    t record;
    p record;
    v_token text;
    v_expires timestamptz;
BEGIN
    IF p_otp IS NULL OR p_otp = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'otp is required');
    END IF;
    SELECT * INTO t FROM auth.email_take_otp('otp-email-verification', v_email, p_otp);
    IF t.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, t.error_code;
        RETURN;
    END IF;
    SELECT * INTO p FROM auth.email_proven_user(v_email, NULL, false, false);
    IF p.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, NULL::text, NULL::bigint, p.error_code;
        RETURN;
    END IF;
    IF auth.email_setting('pgauth.email_auto_sign_in_after_verification')::boolean THEN
        SELECT c.session_token, c.expires_at INTO v_token, v_expires
          FROM auth.create_session(p.user_id, true, p_ip, left(p_user_agent, 512)) c;
    END IF;
    RETURN QUERY SELECT json_build_object('status', true, 'token', v_token, 'user', auth.email_user_json(p.user_id)),
                        v_token, round(extract(epoch FROM v_expires - now()))::bigint, NULL::text;
END
$$;
COMMENT ON FUNCTION auth.email_otp_verify_email(text, text, inet, text) IS
  'Better-Auth emailOTP verify-email: checks the email-verification code and marks the address verified; body {"status":true,"token": session token with pgauth.email_auto_sign_in_after_verification else null,"user"}. Else error_code as auth.email_otp_sign_in (returned, not raised).';

CREATE FUNCTION auth.email_otp_reset_password(p_email text, p_otp text, p_password text)
    RETURNS TABLE (body json, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER ROWS 1 SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    t record;
    p record;
BEGIN
    IF p_otp IS NULL OR p_otp = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'otp is required');
    END IF;
    PERFORM auth.check_password_policy(p_password);
    SELECT * INTO t FROM auth.email_take_otp('otp-forget-password', v_email, p_otp);
    IF t.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, t.error_code;
        RETURN;
    END IF;
    SELECT * INTO p FROM auth.email_proven_user(v_email, NULL, false, false);
    IF p.error_code IS NOT NULL THEN
        RETURN QUERY SELECT NULL::json, p.error_code;
        RETURN;
    END IF;
    PERFORM auth.email_set_password(p.user_id, p_password);
    RETURN QUERY SELECT json_build_object('success', true), NULL::text;
END
$$;
COMMENT ON FUNCTION auth.email_otp_reset_password(text, text, text) IS
  'Better-Auth emailOTP reset-password: checks the forget-password code, sets the password as auth.email_reset_password does (and marks the address verified): body {"success":true}. PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG raise before the code is looked at; code errors are returned as error_code (not raised).';

-- ---- worker functions (pgauth_service)
CREATE FUNCTION auth.outbox_claim(p_worker text, p_limit integer, p_lease interval DEFAULT '1 minute')
    RETURNS TABLE (id bigint, recipient text, template text, vars json, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    r record;
    v_secret text;
    v_max integer := auth.email_setting('pgauth.outbox_max_attempts')::integer;
BEGIN
    IF p_worker IS NULL OR p_worker = '' OR octet_length(p_worker) > 200 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_worker must be 1 to 200 bytes');
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_limit must be 1 to 1000');
    END IF;
    IF p_lease IS NULL OR p_lease < interval '1 second' OR p_lease > interval '1 hour' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'p_lease must be 1 second to 1 hour');
    END IF;
    -- dead, not sent: a leased row whose worker went away during its last allowed attempt, and
    -- a due row whose verification record is gone (its user was deleted: the link is void)
    UPDATE auth.outbox o SET status = 'dead', sealed = NULL, claimed_until = NULL,
                             last_error = CASE WHEN o.verification_id IS NULL
                                               THEN 'the verification record is gone (the user was deleted)'
                                               ELSE coalesce(o.last_error, 'the lease of the last attempt expired') END
     WHERE o.id IN (SELECT d.id FROM auth.outbox d
                     WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
                       AND ((d.status = 'sending' AND d.attempts >= v_max) OR d.verification_id IS NULL)
                     FOR UPDATE SKIP LOCKED);
    FOR r IN
        UPDATE auth.outbox o
           SET status = 'sending', claimed_by = p_worker, claimed_until = now() + p_lease,
               next_attempt_at = now() + p_lease, attempts = o.attempts + 1
          FROM (SELECT c.id FROM auth.outbox c
                 WHERE c.status IN ('pending', 'sending') AND c.next_attempt_at <= now()
                 ORDER BY c.next_attempt_at, c.id
                 LIMIT p_limit
                   FOR UPDATE SKIP LOCKED) due
         WHERE o.id = due.id
        RETURNING o.id, o.recipient, o.template, o.vars, o.sealed, o.attempts
    LOOP
        v_secret := CASE WHEN r.sealed IS NULL THEN NULL ELSE auth.outbox_open(r.id, r.recipient, r.template, r.sealed) END;
        IF v_secret IS NULL THEN
            UPDATE auth.outbox o SET status = 'dead', sealed = NULL, claimed_until = NULL,
                   last_error = 'the sealed payload does not open (altered, another row''s, or another KEK)'
             WHERE o.id = r.id;
            CONTINUE;
        END IF;
        id := r.id;
        recipient := r.recipient;
        template := r.template;
        vars := (r.vars || v_secret::jsonb)::json;
        attempts := r.attempts;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION auth.outbox_claim(text, integer, interval) IS
  'Delivery worker: claims up to p_limit due rows (pending and due, or sending whose lease ended: a crashed worker''s) with FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same row; each becomes sending, leased to p_worker for p_lease, attempts + 1. vars = the template variables with the opened secret part (url, token, otp). A row whose payload does not open, or whose verification record is gone (user deleted), becomes dead with the reason.';

CREATE FUNCTION auth.outbox_delivered(p_id bigint, p_worker text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    UPDATE auth.outbox o
       SET status = 'sent', sent_at = now(), sealed = NULL, claimed_until = NULL, last_error = NULL
     WHERE o.id = p_id AND o.status = 'sending' AND o.claimed_by = p_worker;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION auth.outbox_delivered(bigint, text) IS
  'Delivery worker: marks a row it claimed sent and wipes its sealed payload; false when the row is not sending under p_worker (another worker claimed it after the lease ended, or it is already sent or dead).';

CREATE FUNCTION auth.outbox_failed(p_id bigint, p_worker text, p_error text) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    o auth.outbox;
    v_max integer := auth.email_setting('pgauth.outbox_max_attempts')::integer;
    v_next timestamptz;
BEGIN
    SELECT x.* INTO o FROM auth.outbox x WHERE x.id = p_id FOR UPDATE;
    IF NOT FOUND OR o.status <> 'sending' OR o.claimed_by IS DISTINCT FROM p_worker THEN
        PERFORM auth.raise('OUTBOX_NOT_CLAIMED');
    END IF;
    IF o.attempts >= v_max THEN
        UPDATE auth.outbox x SET status = 'dead', sealed = NULL, claimed_until = NULL, last_error = left(p_error, 1000)
         WHERE x.id = p_id;
        RETURN NULL;
    END IF;
    -- backoff: 30 s after the first attempt, doubling, at most 1 hour
    v_next := now() + make_interval(secs => least(3600, 30 * power(2, least(o.attempts - 1, 20))));
    UPDATE auth.outbox x SET status = 'pending', next_attempt_at = v_next, claimed_until = NULL,
                             last_error = left(p_error, 1000)
     WHERE x.id = p_id;
    RETURN v_next;
END
$$;
COMMENT ON FUNCTION auth.outbox_failed(bigint, text, text) IS
  'Delivery worker: records a failed attempt of a row it claimed (OUTBOX_NOT_CLAIMED otherwise). Returns the next attempt time (30 s after the first attempt, doubling, capped at 1 h), or NULL when the row became dead (pgauth.outbox_max_attempts reached; the reason is kept in last_error, the sealed payload wiped).';

CREATE FUNCTION auth.outbox_stats(OUT pending bigint, OUT oldest_pending_seconds double precision, OUT dead bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT (SELECT count(*) FROM auth.outbox o WHERE o.status IN ('pending', 'sending')),
           (SELECT coalesce(extract(epoch FROM now() - min(o.created_at)), 0)::double precision
              FROM auth.outbox o WHERE o.status IN ('pending', 'sending')),
           (SELECT count(*) FROM auth.outbox o WHERE o.status = 'dead')
$$;
COMMENT ON FUNCTION auth.outbox_stats() IS
  'For /metrics: rows not yet delivered (pending or sending), the age in seconds of the oldest of them (0 when none), and dead rows.';

CREATE FUNCTION auth.email_purge(p_keep interval DEFAULT '7 days') RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    n integer;
    m integer;
BEGIN
    DELETE FROM auth.outbox o WHERE o.status IN ('sent', 'dead') AND o.created_at < now() - p_keep;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM auth.verifications v
     WHERE (v.consumed_at IS NOT NULL OR v.expires_at < now()) AND v.created_at < now() - p_keep
       AND NOT EXISTS (SELECT 1 FROM auth.outbox o WHERE o.verification_id = v.id AND o.status IN ('pending', 'sending'));
    GET DIAGNOSTICS m = ROW_COUNT;
    RETURN n + m;
END
$$;
COMMENT ON FUNCTION auth.email_purge(interval) IS
  'Admin: deletes sent and dead outbox rows and used or expired verification records older than p_keep; returns how many. Schedule it (e.g. pg_cron).';

REVOKE ALL ON FUNCTION auth.email_new_token(), auth.email_new_otp(integer), auth.email_digest(text, text),
    auth.email_digest_matches(bytea, text, text), auth.outbox_seal(bigint, text, text, text),
    auth.outbox_open(bigint, text, text, bytea), auth.url_encode(text), auth.outbox_notify(),
    auth.email_setting(text), auth.email_user_json(uuid), auth.email_address_hit(text, boolean),
    auth.email_dummy_work(text),
    auth.email_issue(text, text, uuid, jsonb, jsonb, text), auth.email_queue_verification(uuid, text, boolean),
    auth.email_set_password(uuid, text), auth.email_take_link(text, text[], text),
    auth.email_take_otp(text, text, text), auth.email_proven_user(text, text, boolean, boolean),
    auth.email_send_verification(text, text, text), auth.email_verify(text, inet, text),
    auth.email_request_password_reset(text, text), auth.email_check_reset_token(text),
    auth.email_reset_password(text, text), auth.email_change_request(text, text, text),
    auth.magic_link_request(text, text, text, text, text), auth.magic_link_verify(text, inet, text),
    auth.email_otp_send(text, text), auth.email_otp_sign_in(text, text, inet, text),
    auth.email_otp_verify_email(text, text, inet, text), auth.email_otp_reset_password(text, text, text),
    auth.outbox_claim(text, integer, interval), auth.outbox_delivered(bigint, text),
    auth.outbox_failed(bigint, text, text), auth.outbox_stats(), auth.email_purge(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.email_send_verification(text, text, text), auth.email_verify(text, inet, text),
    auth.email_request_password_reset(text, text), auth.email_check_reset_token(text),
    auth.email_reset_password(text, text), auth.email_change_request(text, text, text),
    auth.magic_link_request(text, text, text, text, text), auth.magic_link_verify(text, inet, text),
    auth.email_otp_send(text, text), auth.email_otp_sign_in(text, text, inet, text),
    auth.email_otp_verify_email(text, text, inet, text), auth.email_otp_reset_password(text, text, text),
    auth.outbox_claim(text, integer, interval), auth.outbox_delivered(bigint, text),
    auth.outbox_failed(bigint, text, text)
  TO pgauth_service;
GRANT EXECUTE ON FUNCTION auth.outbox_stats() TO pgauth_reader, pgauth_service;
GRANT EXECUTE ON FUNCTION auth.email_purge(interval) TO pgauth_admin;


-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)
-- The API-key check is compiled: auth.verify_api_key and auth.get_session_by_api_key are C++
-- (a plan prepared once per backend, no SET search_path, no re-planning per call; defined in
-- the API keys section above). API keys are also a credential. Every function taking p_token resolves it through one helper,
-- auth.session_user_id (C++, the resolver behind validate_session, get_session and the
-- *_response functions), which also takes "apikey:<key>": the key's user, one use consumed.
CREATE FUNCTION auth.raise(code text, reason text, retry_after integer) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_raise' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.raise(text, text, integer) IS
  'Raises the catalog error named by code with reason as its message and, when retry_after > 0, the HINT "Retry-After: <retry_after>" (seconds): pgauth-http sends it as the Retry-After header.';
REVOKE ALL ON FUNCTION auth.raise(text, text, integer) FROM PUBLIC;

CREATE FUNCTION auth.session_user_id(p_token text, p_allow_api_key boolean DEFAULT true) RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_session_user_id' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.session_user_id(text, boolean) IS
  'The user of a credential: a session token''s (NULL if it names no live session; the session slides as in validate_session) or, for ''apikey:<key>'', the API key''s, consuming one use (a refused key raises INVALID_API_KEY, KEY_DISABLED, KEY_EXPIRED, USER_INACTIVE, USAGE_EXCEEDED or RATE_LIMITED). p_allow_api_key false: an API key raises API_KEY_NOT_ALLOWED. The one resolver every p_token function uses.';
REVOKE ALL ON FUNCTION auth.session_user_id(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.session_user_id(text, boolean) TO pgauth_reader, pgauth_service, pgauth_admin;

-- KEK rotation online: pgauth.previous_key_file opens what the current KEK does not, and
-- auth.reseal() moves every sealed value (the registry sealed_columns in keys.cpp) to the current KEK.
CREATE FUNCTION auth.reseal(OUT kind text, OUT resealed bigint, OUT current bigint) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_reseal' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.reseal() IS
  'KEK rotation: re-seals under pgauth.key_file every sealed value (signing keys, vault) that opens only with pgauth.previous_key_file; one row per kind: resealed, and current (already under the current KEK). All or nothing: a value that opens with neither raises SIGNING_KEY_UNAVAILABLE. pgauth_admin.';
REVOKE ALL ON FUNCTION auth.reseal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reseal() TO pgauth_admin;

-- pgauth.previous_key_file is superuser-only, like pgauth.key_file.
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
-- loopback host, or a reverse-DNS private-use scheme), 'https' (other URIs in the metadata),
-- 'jwks_uri' (https; http on a loopback host only in development, as for 'cimd') or
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
    ELSIF p_rule = 'jwks_uri' THEN
        IF NOT (v_scheme = 'https'
                OR (v_scheme = 'http' AND v_host IN ('127.0.0.1', '[::1]', 'localhost')
                    AND current_setting('pgauth.oauth_cimd_allow_http_loopback')::boolean)) THEN
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
  'Internal: checks one client URI against a rule (redirect_web, redirect_native, https, jwks_uri, cimd); raises p_code with a description.';

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
        PERFORM auth.oauth_uri_check(c.jwks_uri, 'jwks_uri', 'jwks_uri', 'OAUTH_INVALID_CLIENT_METADATA');
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

-- ---------------------------------------------------------------- account security: audit log, two-factor, admin, multi-session (0.5.0)
-- Issue 16. Docs: docs/account-security.md, docs/sql-api.md. Settings (module.cpp):
-- pgauth.admin_roles, admin_impersonate_admins, impersonation_session_duration,
-- two_factor_challenge_expires_in, two_factor_trust_device_expires_in, multi_session_maximum,
-- audit_retention.

-- ---- columns and tables
ALTER TABLE auth.users
    ADD COLUMN banned boolean NOT NULL DEFAULT false,
    ADD COLUMN ban_reason text CHECK (char_length(ban_reason) <= 500),
    ADD COLUMN ban_expires timestamptz,
    ADD COLUMN two_factor_enabled boolean NOT NULL DEFAULT false;
-- Better-Auth's roles may be a comma list ("admin,support")
ALTER TABLE auth.users DROP CONSTRAINT users_role_check;
ALTER TABLE auth.users ADD CONSTRAINT users_role_check
    CHECK (role ~ '^[a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31}){0,9}$');
-- admin list-users: pages by creation time and by name
CREATE INDEX users_created_at_idx ON auth.users (created_at, id);
CREATE INDEX users_name_idx ON auth.users (name, id);

ALTER TABLE auth.sessions ADD COLUMN impersonated_by uuid REFERENCES auth.users (id) ON DELETE CASCADE;

ALTER TABLE auth.audit_log
    ADD COLUMN actor_id uuid,
    ADD COLUMN ip inet,
    ADD COLUMN user_agent text;
CREATE INDEX audit_log_at_idx ON auth.audit_log (at);
CREATE INDEX audit_log_user_id_idx ON auth.audit_log (user_id, at);
CREATE INDEX audit_log_event_idx ON auth.audit_log (event, at);
COMMENT ON TABLE auth.audit_log IS
  'Append-only security audit: at, actor = session_user (the database login), role = the caller''s role, actor_id = the user who acted (the admin, or the user themself), user_id = the subject, event, ip, user_agent, detail (never a secret). UPDATE, DELETE and TRUNCATE are refused for every role, except the deletion of rows older than pgauth.audit_retention by auth.audit_purge(). Read by pgauth_admin through auth.audit_events / auth.admin_audit_log.';

-- the one-time code of a two-factor sign-in goes through the outbox like the other codes
ALTER TABLE auth.verifications DROP CONSTRAINT verifications_purpose_check;
ALTER TABLE auth.verifications ADD CONSTRAINT verifications_purpose_check
    CHECK (purpose IN ('verify-email', 'change-email', 'reset-password', 'magic-link',
                       'otp-sign-in', 'otp-email-verification', 'otp-forget-password', 'otp-two-factor'));
ALTER TABLE auth.outbox DROP CONSTRAINT outbox_template_check;
ALTER TABLE auth.outbox ADD CONSTRAINT outbox_template_check
    CHECK (template IN ('verify-email', 'change-email', 'reset-password', 'magic-link',
                        'otp-sign-in', 'otp-email-verification', 'otp-forget-password', 'otp-two-factor'));

CREATE TABLE auth.two_factors (
    user_id        uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    secret_sealed  bytea NOT NULL,
    issuer         text NOT NULL,
    backup_codes   bytea[] NOT NULL DEFAULT '{}',
    last_totp_step bigint,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE auth.two_factors IS
  'TOTP secret (base32, sealed under the KEK bound to the user), backup code digests (keyed HMAC; a used one is removed), last_totp_step (a code is never accepted twice). users.two_factor_enabled turns on at the first verified TOTP.';
REVOKE ALL ON auth.two_factors FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.two_factors', '');

CREATE TABLE auth.two_factor_challenges (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    token_hash  bytea NOT NULL UNIQUE CHECK (pg_catalog.octet_length(token_hash) = 32),
    user_id     uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    remember_me boolean NOT NULL DEFAULT true,
    ip          inet,
    user_agent  text,
    attempts    integer NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX two_factor_challenges_user_id_idx ON auth.two_factor_challenges (user_id);
COMMENT ON TABLE auth.two_factor_challenges IS
  'Pending second factors of sign-ins (the two-factor cookie, stored as SHA-256): die after 5 wrong codes or at expires_at.';
REVOKE ALL ON auth.two_factor_challenges FROM PUBLIC;

CREATE TABLE auth.two_factor_trusted_devices (
    token_hash bytea PRIMARY KEY CHECK (pg_catalog.octet_length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX two_factor_trusted_devices_user_id_idx ON auth.two_factor_trusted_devices (user_id);
COMMENT ON TABLE auth.two_factor_trusted_devices IS
  'Devices that skip the second factor until expires_at (the trust_device cookie, stored as SHA-256).';
REVOKE ALL ON auth.two_factor_trusted_devices FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.two_factor_trusted_devices', '');

-- One row per session a second factor (or an admin's impersonation) allows in the current
-- transaction; the session insert trigger consumes it. Only the owner writes it.
CREATE TABLE auth.session_grants (
    xact    bigint NOT NULL,
    user_id uuid NOT NULL,
    reason  text NOT NULL,
    PRIMARY KEY (xact, user_id)
);
COMMENT ON TABLE auth.session_grants IS
  'Internal: a second factor passed in transaction xact for user_id; consumed by the session insert of that transaction.';
REVOKE ALL ON auth.session_grants FROM PUBLIC;

-- ---- C++ primitives (internal)
CREATE FUNCTION auth.totp_new_secret() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_totp_new_secret' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.totp_new_secret() IS 'Internal: a new TOTP secret, 20 random bytes in base32.';
CREATE FUNCTION auth.totp_code(p_secret text, p_step bigint) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_totp_code' LANGUAGE C IMMUTABLE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.totp_code(text, bigint) IS
  'Internal (and for tests, as the owner): the RFC 6238 code (HMAC-SHA1, 6 digits) of a base32 secret at time step p_step = unix time / 30.';
CREATE FUNCTION auth.two_factor_new_backup_code() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_two_factor_new_backup_code' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.two_factor_new_backup_code() IS 'Internal: a new backup code, xxxxx-xxxxx of letters and digits.';

-- ---- audit log
CREATE FUNCTION auth.audit_write(p_event text, p_user_id uuid, p_actor_id uuid, p_ip inet, p_user_agent text,
                                 p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    INSERT INTO auth.audit_log (actor, role, event, user_id, actor_id, ip, user_agent, detail)
    VALUES (session_user, coalesce(nullif(current_setting('role'), 'none'), session_user::text), p_event, p_user_id,
            p_actor_id, p_ip, left(p_user_agent, 512), coalesce(p_detail, '{}'))
$$;
COMMENT ON FUNCTION auth.audit_write(text, uuid, uuid, inet, text, jsonb) IS
  'Internal: appends one auth.audit_log row in the caller''s transaction (never pass a secret in p_detail).';

CREATE FUNCTION auth.audit_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_keep interval := auth.email_setting('pgauth.audit_retention')::interval;
BEGIN
    -- the only change allowed: deleting a row older than the retention (auth.audit_purge)
    IF TG_OP = 'DELETE' AND v_keep > interval '0' AND OLD.at < now() - v_keep THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'auth.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Rows older than pgauth.audit_retention are removed by auth.audit_purge().';
END
$$;
COMMENT ON FUNCTION auth.audit_guard() IS
  'Trigger: refuses UPDATE, TRUNCATE and DELETE on auth.audit_log, except the deletion of rows older than pgauth.audit_retention.';
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON auth.audit_log
    FOR EACH ROW EXECUTE FUNCTION auth.audit_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON auth.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION auth.audit_guard();

CREATE FUNCTION auth.audit_purge() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_keep interval := auth.email_setting('pgauth.audit_retention')::interval;
    n bigint;
BEGIN
    IF v_keep <= interval '0' THEN
        RETURN 0;
    END IF;
    DELETE FROM auth.audit_log a WHERE a.at < now() - v_keep;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION auth.audit_purge() IS
  'Deletes audit rows older than pgauth.audit_retention (0, the default: keeps everything); returns how many. Schedule it (e.g. pg_cron) as pgauth_admin.';

CREATE FUNCTION auth.audit_events(p_user_id uuid DEFAULT NULL, p_event text DEFAULT NULL,
                                  p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL,
                                  p_limit integer DEFAULT 100, p_offset integer DEFAULT 0,
    OUT id bigint, OUT at timestamptz, OUT event text, OUT user_id uuid, OUT actor_id uuid, OUT actor text,
    OUT role text, OUT ip inet, OUT user_agent text, OUT detail jsonb)
    RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 OR p_offset IS NULL OR p_offset < 0 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'limit must be 1 to 1000 and offset at least 0');
    END IF;
    RETURN QUERY
    SELECT a.id, a.at, a.event, a.user_id, a.actor_id, a.actor, a.role, a.ip, a.user_agent, a.detail
      FROM auth.audit_log a
     WHERE (p_user_id IS NULL OR a.user_id = p_user_id OR a.actor_id = p_user_id)
       AND (p_event IS NULL OR a.event = p_event)
       AND (p_from IS NULL OR a.at >= p_from) AND (p_to IS NULL OR a.at < p_to)
     ORDER BY a.at DESC, a.id DESC
     LIMIT p_limit OFFSET p_offset;
END
$$;
COMMENT ON FUNCTION auth.audit_events(uuid, text, timestamptz, timestamptz, integer, integer) IS
  'pgauth_admin: audit rows, newest first, filtered by user (subject or actor), event and time [p_from, p_to), paged (limit 1 to 1000).';

-- Key rotation is audited by the insert itself, whatever path made it (OAuth client registration:
-- auth.oauth_client_audit, in the OAuth provider section).
CREATE FUNCTION auth.audit_on_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF pg_catalog.current_query() OPERATOR(pg_catalog.~*) '^\s*COPY\s' THEN
        RETURN NULL;  -- a restore (pg_dump's COPY) brings the rows back, not new events
    END IF;
    IF TG_TABLE_NAME = 'jwks' THEN
        PERFORM auth.audit_write('key_rotation', NULL, NULL, NULL, NULL,
                                 jsonb_build_object('kid', NEW.kid, 'alg', NEW.alg, 'imported', NEW.private_key IS NULL));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.audit_on_insert() IS 'Trigger: audits a new signing key (key_rotation); a restore (COPY) writes nothing.';
CREATE TRIGGER jwks_audit AFTER INSERT ON auth.jwks FOR EACH ROW EXECUTE FUNCTION auth.audit_on_insert();

-- ---- every session insert: the ban, the second factor, the audit row
CREATE FUNCTION auth.session_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    u record;
BEGIN
    -- A restore reinserts the sessions a dump holds (pg_dump's COPY; only the owner may COPY into
    -- auth.sessions): they passed these checks when they were created, and are not new sign-ins.
    IF pg_catalog.current_query() OPERATOR(pg_catalog.~*) '^\s*COPY\s' THEN
        RETURN NEW;
    END IF;
    -- FOR SHARE: a ban committing meanwhile is waited for and seen (it deletes sessions after
    -- updating the row, so a session inserted before it is deleted by it)
    SELECT x.banned, x.ban_expires, x.two_factor_enabled INTO u FROM auth.users x WHERE x.id = NEW.user_id FOR SHARE;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key refuses it
    END IF;
    IF u.banned AND (u.ban_expires IS NULL OR u.ban_expires > now()) THEN
        PERFORM auth.raise('BANNED_USER');
    END IF;
    IF u.two_factor_enabled THEN
        DELETE FROM auth.session_grants g WHERE g.xact = txid_current() AND g.user_id = NEW.user_id;
        IF NOT FOUND THEN
            PERFORM auth.raise('TWO_FACTOR_REQUIRED');
        END IF;
    END IF;
    PERFORM auth.audit_write('sign_in', NEW.user_id, NEW.user_id, NEW.ip, NEW.user_agent,
                             jsonb_build_object('session_id', NEW.id));
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION auth.session_guard() IS
  'Trigger on every new session, whatever path creates it: BANNED_USER for a banned user, TWO_FACTOR_REQUIRED for a two-factor user unless a second factor passed in this transaction, and a sign_in audit row.';
CREATE TRIGGER sessions_guard BEFORE INSERT ON auth.sessions FOR EACH ROW EXECUTE FUNCTION auth.session_guard();

CREATE FUNCTION auth.session_grant(p_user_id uuid, p_reason text) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    INSERT INTO auth.session_grants (xact, user_id, reason) VALUES (txid_current(), p_user_id, p_reason)
    ON CONFLICT (xact, user_id) DO NOTHING
$$;
COMMENT ON FUNCTION auth.session_grant(uuid, text) IS 'Internal: lets the next session insert of this transaction for the user pass the second-factor check.';

-- ---- sign-in
-- Checks an email and password (lockout, dummy hash for unknown accounts, rehash); raises
-- VALIDATION_ERROR, INVALID_EMAIL, ACCOUNT_LOCKED, INVALID_EMAIL_OR_PASSWORD, USER_INACTIVE.
CREATE FUNCTION auth.sign_in_check(p_email text, p_password text, OUT user_id uuid, OUT email_verified boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_email text := auth.normalize_email(p_email);
    v_account auth.accounts;
    v_active boolean;
    v_locked integer;
BEGIN
    IF p_password IS NULL OR p_password = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'password is required');
    END IF;
    v_locked := auth.sign_in_lock(v_email);
    IF v_locked > 0 THEN
        PERFORM auth.raise('ACCOUNT_LOCKED',
            format('Too many failed sign-in attempts. Try again in %s second%s.', v_locked,
                   CASE WHEN v_locked = 1 THEN '' ELSE 's' END), v_locked);
    END IF;
    SELECT a.* INTO v_account
      FROM auth.users u JOIN auth.accounts a ON a.user_id = u.id AND a.provider_id = 'credential'
     WHERE u.email = v_email;
    IF NOT FOUND OR v_account.password_hash IS NULL OR octet_length(p_password) > 16384 THEN
        PERFORM auth.dummy_verify(p_password);
        PERFORM auth.sign_in_failed(v_email);
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    IF NOT auth.verify_password(v_account.password_hash, p_password) THEN
        PERFORM auth.sign_in_failed(v_email);
        PERFORM auth.raise('INVALID_EMAIL_OR_PASSWORD');
    END IF;
    PERFORM auth.sign_in_reset(v_email);
    SELECT u.is_active, u.email_verified INTO v_active, email_verified FROM auth.users u WHERE u.id = v_account.user_id;
    IF NOT v_active THEN
        PERFORM auth.raise('USER_INACTIVE');
    END IF;
    IF auth.password_needs_rehash(v_account.password_hash) THEN
        UPDATE auth.accounts SET password_hash = auth.hash_password(p_password), updated_at = now()
         WHERE id = v_account.id;
    END IF;
    user_id := v_account.user_id;
END
$$;
COMMENT ON FUNCTION auth.sign_in_check(text, text) IS
  'Internal: the first factor of an email sign-in (lockout, constant cost for unknown accounts, rehash); the user and whether the email is verified.';

CREATE FUNCTION auth.sign_in_attempt(p_email text, p_password text, p_remember_me boolean, p_ip inet,
                                     p_user_agent text, p_callback_url text DEFAULT NULL,
                                     p_trust_device text DEFAULT NULL,
    OUT user_id uuid, OUT session_id uuid, OUT session_token text, OUT expires_at timestamptz,
    OUT two_factor_token text, OUT challenge_expires_at timestamptz, OUT error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record;
    u record;
    s record;
    v_code text;
    v_subject uuid;
BEGIN
    BEGIN
        SELECT * INTO c FROM auth.sign_in_check(p_email, p_password);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_code = PG_EXCEPTION_DETAIL;
        IF v_code IN ('INVALID_EMAIL_OR_PASSWORD', 'USER_INACTIVE') THEN
            SELECT x.id INTO v_subject FROM auth.users x WHERE x.email = lower(btrim(p_email, E' \t\r\n'));
            PERFORM auth.audit_write('sign_in_failed', v_subject, NULL, p_ip, p_user_agent,
                                     jsonb_build_object('reason', v_code));
            error_code := v_code;
            RETURN;
        END IF;
        RAISE;
    END;
    user_id := c.user_id;
    IF NOT c.email_verified AND auth.email_setting('pgauth.email_require_verification')::boolean THEN
        PERFORM auth.email_queue_verification(c.user_id, coalesce(p_callback_url, ''), false);
        error_code := 'EMAIL_NOT_VERIFIED';
        RETURN;
    END IF;
    SELECT x.banned, x.ban_expires, x.two_factor_enabled INTO u FROM auth.users x WHERE x.id = c.user_id;
    IF u.banned AND (u.ban_expires IS NULL OR u.ban_expires > now()) THEN
        PERFORM auth.audit_write('sign_in_failed', c.user_id, NULL, p_ip, p_user_agent,
                                 jsonb_build_object('reason', 'BANNED_USER'));
        error_code := 'BANNED_USER';
        RETURN;
    END IF;
    IF u.two_factor_enabled THEN
        IF p_trust_device IS NOT NULL AND octet_length(p_trust_device) <= 256 AND EXISTS (
               SELECT 1 FROM auth.two_factor_trusted_devices d
                WHERE d.token_hash = auth.hash_token(p_trust_device) AND d.user_id = c.user_id
                  AND d.expires_at > now()) THEN
            PERFORM auth.session_grant(c.user_id, 'trusted_device');
        ELSE
            two_factor_token := auth.email_new_token();
            challenge_expires_at := now() + auth.email_setting('pgauth.two_factor_challenge_expires_in')::interval;
            INSERT INTO auth.two_factor_challenges (token_hash, user_id, remember_me, ip, user_agent, expires_at)
            VALUES (auth.hash_token(two_factor_token), c.user_id, coalesce(p_remember_me, true), p_ip,
                    left(p_user_agent, 512), challenge_expires_at);
            -- expired challenges of this user go with each new one
            DELETE FROM auth.two_factor_challenges x WHERE x.user_id = c.user_id AND x.expires_at <= now();
            PERFORM auth.audit_write('two_factor_challenge', c.user_id, c.user_id, p_ip, p_user_agent, '{}');
            RETURN;
        END IF;
    END IF;
    SELECT * INTO s FROM auth.create_session(c.user_id, coalesce(p_remember_me, true), p_ip, left(p_user_agent, 512));
    session_id := s.session_id;
    session_token := s.session_token;
    expires_at := s.expires_at;
END
$$;
COMMENT ON FUNCTION auth.sign_in_attempt(text, text, boolean, inet, text, text, text) IS
  'Internal (sign_in_response): an email sign-in whose refusals (INVALID_EMAIL_OR_PASSWORD, USER_INACTIVE, BANNED_USER, EMAIL_NOT_VERIFIED) come back as error_code so their audit row (and verification mail) commit; for a two-factor user without a live trusted device, a pending challenge (two_factor_token) and no session.';

-- ---- roles and admins
CREATE FUNCTION auth.is_admin_role(p_role text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM unnest(string_to_array(coalesce(p_role, ''), ',')) r(name)
          JOIN unnest(string_to_array(auth.email_setting('pgauth.admin_roles'), ',')) a(name)
            ON btrim(r.name) = btrim(a.name) AND btrim(a.name) <> '')
$$;
COMMENT ON FUNCTION auth.is_admin_role(text) IS 'True if a role (or comma list of roles) holds one of pgauth.admin_roles.';

CREATE FUNCTION auth.has_role(p_role text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT coalesce(btrim(p_role) = ANY (
        SELECT btrim(r) FROM unnest(string_to_array(auth.session() ->> 'role', ',')) r), false)
$$;
COMMENT ON FUNCTION auth.has_role(text) IS
  'For RLS policies: true if whoever is signed in (auth.session_init / jwt_session_init) has this role (roles may be a comma list).';

CREATE FUNCTION auth.grant_admin(p_email text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_id uuid;
    v_old text;
BEGIN
    SELECT u.id, u.role INTO v_id, v_old FROM auth.users u WHERE u.email = auth.normalize_email(p_email) FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    UPDATE auth.users u SET role = 'admin', updated_at = now() WHERE u.id = v_id;
    PERFORM auth.audit_write('role_change', v_id, NULL, NULL, NULL,
                             jsonb_build_object('from', v_old, 'to', 'admin', 'by', 'grant_admin'));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION auth.grant_admin(text) IS
  'pgauth_admin (the DBA): makes the user with this email an admin (role admin); the first admin is made this way. USER_NOT_FOUND otherwise.';

-- The admin behind a session token: NULL when the token names no live session, FORBIDDEN
-- when its user is not an admin.
CREATE FUNCTION auth.admin_caller(p_token text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_id uuid;
    v_role text;
BEGIN
    SELECT s.user_id, s.role INTO v_id, v_role FROM auth.validate_session(p_token) s;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT auth.is_admin_role(v_role) THEN
        PERFORM auth.raise('FORBIDDEN', 'You are not allowed to do this: an admin role is required');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION auth.admin_caller(text) IS 'Internal: the admin user of a session token; NULL if no live session, FORBIDDEN if not an admin.';

CREATE FUNCTION auth.admin_user_json(p_user_id uuid) RETURNS json
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'emailVerified', u.email_verified,
                             'image', u.image, 'createdAt', auth.iso_time(u.created_at),
                             'updatedAt', auth.iso_time(u.updated_at), 'role', u.role, 'banned', u.banned,
                             'banReason', u.ban_reason, 'banExpires', auth.iso_time(u.ban_expires),
                             'twoFactorEnabled', u.two_factor_enabled)
      FROM auth.users u WHERE u.id = p_user_id
$$;
COMMENT ON FUNCTION auth.admin_user_json(uuid) IS
  'Internal: Better-Auth''s user object with the admin and two-factor fields (role, banned, banReason, banExpires, twoFactorEnabled).';

CREATE FUNCTION auth.admin_target(p_user_id text) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_user_id IS NULL OR p_user_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    SELECT u.id INTO v_id FROM auth.users u WHERE u.id = p_user_id::uuid;
    IF NOT FOUND THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION auth.admin_target(text) IS 'Internal: the user named by a userId text; USER_NOT_FOUND for a malformed or unknown id.';

CREATE FUNCTION auth.admin_check_role(p_role jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text;
BEGIN
    IF jsonb_typeof(p_role) = 'string' THEN
        v := p_role #>> '{}';
    ELSIF jsonb_typeof(p_role) = 'array' AND jsonb_array_length(p_role) BETWEEN 1 AND 10
          AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_role) e WHERE jsonb_typeof(e) <> 'string') THEN
        SELECT string_agg(btrim(e), ',') INTO v FROM jsonb_array_elements_text(p_role) e;
    END IF;
    v := regexp_replace(coalesce(v, ''), '\s*,\s*', ',', 'g');
    IF v !~ '^[a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31}){0,9}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'role must be a role name or a list of them (lower-case letters, digits, _ and -)');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.admin_check_role(jsonb) IS 'Internal: a role (string) or roles (array) as the stored comma list; VALIDATION_ERROR otherwise.';

CREATE FUNCTION auth.admin_create_user(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    v_role text := 'user';
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_body IS NULL OR jsonb_typeof(p_body) <> 'object' OR jsonb_typeof(p_body -> 'email') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_body -> 'name') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_body -> 'password') NOT IN ('string', 'null') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'email and name (strings) are required; password is a string');
    END IF;
    IF p_body ? 'role' AND jsonb_typeof(p_body -> 'role') <> 'null' THEN
        v_role := auth.admin_check_role(p_body -> 'role');
    END IF;
    IF btrim(p_body ->> 'name') = '' OR char_length(p_body ->> 'name') > 255 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name must be 1 to 255 characters');
    END IF;
    IF p_body ->> 'password' IS NOT NULL THEN
        PERFORM auth.check_password_policy(p_body ->> 'password');
    END IF;
    BEGIN
        INSERT INTO auth.users (email, name, role) VALUES (auth.normalize_email(p_body ->> 'email'), btrim(p_body ->> 'name'), v_role)
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL');
    END;
    IF p_body ->> 'password' IS NOT NULL THEN
        INSERT INTO auth.accounts (user_id, provider_id, account_id, password_hash)
        VALUES (v_id, 'credential', v_id::text, auth.hash_password(p_body ->> 'password'));
    END IF;
    PERFORM auth.audit_write('user_created', v_id, v_admin, NULL, NULL, jsonb_build_object('role', v_role));
    RETURN json_build_object('user', auth.admin_user_json(v_id));
END
$$;
COMMENT ON FUNCTION auth.admin_create_user(text, jsonb) IS
  'Admin create-user {email, password?, name, role?}: {"user"}. VALIDATION_ERROR, INVALID_EMAIL, PASSWORD_TOO_SHORT/LONG, USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL.';

CREATE FUNCTION auth.admin_list_users(p_token text, p_query jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    q jsonb := coalesce(p_query, '{}');
    v_limit integer;
    v_offset integer;
    v_where text := 'true';
    v_order text;
    v_col text;
    v_op text;
    v_value text;
    v_total bigint;
    v_users json;
    v_columns constant jsonb := '{"id":"id","email":"email","name":"name","role":"role","createdAt":"created_at",
        "updatedAt":"updated_at","emailVerified":"email_verified","banned":"banned"}';
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(q) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the query must be an object');
    END IF;
    IF coalesce(q ->> 'limit', '100') !~ '^[0-9]{1,4}$' OR coalesce(q ->> 'offset', '0') !~ '^[0-9]{1,9}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'limit must be 1 to 1000 and offset a whole number');
    END IF;
    v_limit := coalesce(q ->> 'limit', '100')::integer;
    v_offset := coalesce(q ->> 'offset', '0')::integer;
    IF v_limit NOT BETWEEN 1 AND 1000 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'limit must be 1 to 1000');
    END IF;
    IF q ->> 'searchValue' IS NOT NULL AND q ->> 'searchValue' <> '' THEN
        v_col := coalesce(q ->> 'searchField', 'email');
        IF v_col NOT IN ('email', 'name') OR coalesce(q ->> 'searchOperator', 'contains') NOT IN ('contains', 'starts_with', 'ends_with')
           OR char_length(q ->> 'searchValue') > 255 THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'searchField is email or name; searchOperator contains, starts_with or ends_with');
        END IF;
        v_value := replace(replace(replace(q ->> 'searchValue', '\', '\\'), '%', '\%'), '_', '\_');
        v_value := CASE coalesce(q ->> 'searchOperator', 'contains')
                       WHEN 'starts_with' THEN v_value || '%' WHEN 'ends_with' THEN '%' || v_value
                       ELSE '%' || v_value || '%' END;
        v_where := v_where || format(' AND u.%I ILIKE %L', v_col, v_value);
    END IF;
    IF q ->> 'filterField' IS NOT NULL AND q ->> 'filterField' <> '' THEN
        v_col := v_columns ->> (q ->> 'filterField');
        v_op := CASE coalesce(q ->> 'filterOperator', 'eq') WHEN 'eq' THEN '=' WHEN 'ne' THEN '<>' WHEN 'lt' THEN '<'
                     WHEN 'lte' THEN '<=' WHEN 'gt' THEN '>' WHEN 'gte' THEN '>=' WHEN 'contains' THEN 'contains' END;
        IF v_col IS NULL OR v_op IS NULL OR char_length(q ->> 'filterValue') > 255 THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'unknown filterField or filterOperator');
        END IF;
        v_value := coalesce(q ->> 'filterValue', '');
        IF v_op = 'contains' THEN
            v_where := v_where || format(' AND u.%I::text ILIKE %L', v_col,
                '%' || replace(replace(replace(v_value, '\', '\\'), '%', '\%'), '_', '\_') || '%');
        ELSE
            -- the value is cast to the column's type: a value it cannot be is a bad request
            BEGIN
                EXECUTE format('SELECT %L::%s', v_value,
                               CASE v_col WHEN 'id' THEN 'uuid' WHEN 'created_at' THEN 'timestamptz' WHEN 'updated_at' THEN 'timestamptz'
                                          WHEN 'email_verified' THEN 'boolean' WHEN 'banned' THEN 'boolean' ELSE 'text' END);
            EXCEPTION WHEN data_exception THEN
                PERFORM auth.raise('VALIDATION_ERROR', 'filterValue does not fit filterField');
            END;
            v_where := v_where || format(' AND u.%I OPERATOR(pg_catalog.%s) %L', v_col, v_op, v_value);
        END IF;
    END IF;
    v_col := v_columns ->> coalesce(q ->> 'sortBy', 'createdAt');
    IF v_col IS NULL OR coalesce(q ->> 'sortDirection', 'asc') NOT IN ('asc', 'desc') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'unknown sortBy or sortDirection (asc or desc)');
    END IF;
    v_order := format('u.%I %s, u.id %s', v_col, coalesce(q ->> 'sortDirection', 'asc'), coalesce(q ->> 'sortDirection', 'asc'));
    EXECUTE format('SELECT count(*) FROM auth.users u WHERE %s', v_where) INTO v_total;
    -- the user objects of auth.admin_user_json, built inline: a function call per row costs a third of the call
    EXECUTE format('SELECT coalesce(json_agg(json_build_object(''id'', u.id, ''name'', u.name, ''email'', u.email, '
                   '''emailVerified'', u.email_verified, ''image'', u.image, ''createdAt'', %2$s, ''updatedAt'', %3$s, '
                   '''role'', u.role, ''banned'', u.banned, ''banReason'', u.ban_reason, ''banExpires'', %4$s, '
                   '''twoFactorEnabled'', u.two_factor_enabled) ORDER BY %5$s), ''[]''::json) '
                   'FROM (SELECT u.* FROM auth.users u WHERE %1$s ORDER BY %5$s LIMIT %6$s OFFSET %7$s) u',
                   v_where,
                   'to_char(u.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'')',
                   'to_char(u.updated_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'')',
                   'to_char(u.ban_expires AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'')',
                   v_order, v_limit, v_offset) INTO v_users;
    RETURN json_build_object('users', v_users, 'total', v_total, 'limit', v_limit, 'offset', v_offset);
END
$$;
COMMENT ON FUNCTION auth.admin_list_users(text, jsonb) IS
  'Admin list-users: p_query = Better-Auth''s query {searchValue, searchField (email|name), searchOperator (contains|starts_with|ends_with), limit (1..1000, default 100), offset, sortBy, sortDirection (asc|desc), filterField, filterValue, filterOperator (eq|ne|lt|lte|gt|gte|contains)}; {"users","total","limit","offset"}. VALIDATION_ERROR for anything else.';

CREATE FUNCTION auth.admin_get_user(p_token text, p_user_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN auth.admin_user_json(auth.admin_target(p_user_id));
END
$$;
COMMENT ON FUNCTION auth.admin_get_user(text, text) IS 'Admin get-user: the user object; USER_NOT_FOUND.';

CREATE FUNCTION auth.admin_update_user(p_token text, p_user_id text, p_data jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    k text;
    v_role text;
    v_old text;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    IF p_data IS NULL OR jsonb_typeof(p_data) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'data must be an object');
    END IF;
    FOR k IN SELECT jsonb_object_keys(p_data) LOOP
        IF k NOT IN ('name', 'image', 'email', 'emailVerified', 'role') THEN
            PERFORM auth.raise('VALIDATION_ERROR', format('%s cannot be updated here', left(k, 64)));
        END IF;
    END LOOP;
    IF (p_data ? 'name' AND (jsonb_typeof(p_data -> 'name') <> 'string' OR btrim(p_data ->> 'name') = ''
                             OR char_length(p_data ->> 'name') > 255))
       OR (p_data ? 'image' AND jsonb_typeof(p_data -> 'image') NOT IN ('string', 'null'))
       OR char_length(p_data ->> 'image') > 2048
       OR (p_data ? 'email' AND jsonb_typeof(p_data -> 'email') <> 'string')
       OR (p_data ? 'emailVerified' AND jsonb_typeof(p_data -> 'emailVerified') <> 'boolean') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'name (1 to 255), image, email (strings) and emailVerified (boolean)');
    END IF;
    IF p_data ? 'role' THEN
        v_role := auth.admin_check_role(p_data -> 'role');
    END IF;
    SELECT u.role INTO v_old FROM auth.users u WHERE u.id = v_id FOR UPDATE;
    BEGIN
        UPDATE auth.users u
           SET name = CASE WHEN p_data ? 'name' THEN btrim(p_data ->> 'name') ELSE u.name END,
               image = CASE WHEN p_data ? 'image' THEN p_data ->> 'image' ELSE u.image END,
               email = CASE WHEN p_data ? 'email' THEN auth.normalize_email(p_data ->> 'email') ELSE u.email END,
               email_verified = CASE WHEN p_data ? 'emailVerified' THEN (p_data ->> 'emailVerified')::boolean ELSE u.email_verified END,
               role = coalesce(v_role, u.role),
               updated_at = now()
         WHERE u.id = v_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM auth.raise('USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL');
    END;
    IF v_role IS NOT NULL AND v_role <> v_old THEN
        PERFORM auth.audit_write('role_change', v_id, v_admin, NULL, NULL, jsonb_build_object('from', v_old, 'to', v_role));
    END IF;
    PERFORM auth.audit_write('user_updated', v_id, v_admin, NULL, NULL,
                             jsonb_build_object('fields', (SELECT jsonb_agg(k2) FROM jsonb_object_keys(p_data) k2)));
    RETURN auth.admin_user_json(v_id);
END
$$;
COMMENT ON FUNCTION auth.admin_update_user(text, text, jsonb) IS
  'Admin update-user {userId, data: {name?, image?, email?, emailVerified?, role?}}: the user object. VALIDATION_ERROR, USER_NOT_FOUND, USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL.';

CREATE FUNCTION auth.admin_set_role(p_token text, p_user_id text, p_role jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    v_role text;
    v_old text;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    v_role := auth.admin_check_role(p_role);
    SELECT u.role INTO v_old FROM auth.users u WHERE u.id = v_id FOR UPDATE;
    UPDATE auth.users u SET role = v_role, updated_at = now() WHERE u.id = v_id;
    PERFORM auth.audit_write('role_change', v_id, v_admin, NULL, NULL, jsonb_build_object('from', v_old, 'to', v_role));
    RETURN json_build_object('user', auth.admin_user_json(v_id));
END
$$;
COMMENT ON FUNCTION auth.admin_set_role(text, text, jsonb) IS 'Admin set-role {userId, role: string | string[]}: {"user"}; audited (role_change).';

CREATE FUNCTION auth.admin_set_user_password(p_token text, p_user_id text, p_new_password text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    PERFORM auth.check_password_policy(p_new_password);
    UPDATE auth.accounts a SET password_hash = auth.hash_password(p_new_password), updated_at = now()
     WHERE a.user_id = v_id AND a.provider_id = 'credential';
    IF NOT FOUND THEN
        INSERT INTO auth.accounts (user_id, provider_id, account_id, password_hash)
        VALUES (v_id, 'credential', v_id::text, auth.hash_password(p_new_password));
    END IF;
    PERFORM auth.sign_in_reset(u.email) FROM auth.users u WHERE u.id = v_id;
    PERFORM auth.audit_write('password_set_by_admin', v_id, v_admin, NULL, NULL, '{}');
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.admin_set_user_password(text, text, text) IS 'Admin set-user-password {userId, newPassword}: {"status":true}; PASSWORD_TOO_SHORT/LONG, USER_NOT_FOUND.';

CREATE FUNCTION auth.admin_ban_user(p_token text, p_user_id text, p_ban_reason text DEFAULT NULL,
                                    p_ban_expires_in bigint DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    n integer;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    IF v_id = v_admin THEN
        PERFORM auth.raise('YOU_CANNOT_BAN_YOURSELF');
    END IF;
    IF char_length(p_ban_reason) > 500 OR p_ban_expires_in < 1 OR p_ban_expires_in > 3153600000 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'banReason is at most 500 characters and banExpiresIn 1 second to 100 years');
    END IF;
    -- the row lock first: a sign-in's session insert waits for this ban and sees it
    UPDATE auth.users u
       SET banned = true, ban_reason = coalesce(p_ban_reason, 'No reason'),
           ban_expires = CASE WHEN p_ban_expires_in IS NULL THEN NULL ELSE now() + make_interval(secs => p_ban_expires_in) END,
           updated_at = now()
     WHERE u.id = v_id;
    DELETE FROM auth.sessions s WHERE s.user_id = v_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM auth.two_factor_challenges c WHERE c.user_id = v_id;
    PERFORM auth.audit_write('ban', v_id, v_admin, NULL, NULL,
                             jsonb_build_object('reason', coalesce(p_ban_reason, 'No reason'), 'expires_in', p_ban_expires_in,
                                                'sessions_revoked', n));
    RETURN json_build_object('user', auth.admin_user_json(v_id));
END
$$;
COMMENT ON FUNCTION auth.admin_ban_user(text, text, text, bigint) IS
  'Admin ban-user {userId, banReason?, banExpiresIn? (seconds)}: bans and deletes every session of the user at once; {"user"}. YOU_CANNOT_BAN_YOURSELF, VALIDATION_ERROR, USER_NOT_FOUND.';

CREATE FUNCTION auth.admin_unban_user(p_token text, p_user_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    UPDATE auth.users u SET banned = false, ban_reason = NULL, ban_expires = NULL, updated_at = now() WHERE u.id = v_id;
    PERFORM auth.audit_write('unban', v_id, v_admin, NULL, NULL, '{}');
    RETURN json_build_object('user', auth.admin_user_json(v_id));
END
$$;
COMMENT ON FUNCTION auth.admin_unban_user(text, text) IS 'Admin unban-user {userId}: {"user"}; audited.';

CREATE FUNCTION auth.admin_session_json(s auth.sessions) RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT json_build_object('id', s.id, 'token', s.id, 'userId', s.user_id, 'expiresAt', auth.iso_time(s.expires_at),
                             'createdAt', auth.iso_time(s.created_at), 'updatedAt', auth.iso_time(s.updated_at),
                             'ipAddress', host(s.ip), 'userAgent', s.user_agent, 'impersonatedBy', s.impersonated_by)
$$;
COMMENT ON FUNCTION auth.admin_session_json(auth.sessions) IS
  'Internal: Better-Auth''s session object for admin bodies (token = the session id: tokens are not stored), with impersonatedBy.';

CREATE FUNCTION auth.admin_list_user_sessions(p_token text, p_user_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    RETURN json_build_object('sessions', coalesce((
        SELECT json_agg(auth.admin_session_json(s) ORDER BY s.created_at, s.id)
          FROM auth.sessions s WHERE s.user_id = v_id AND s.expires_at > now()), '[]'::json));
END
$$;
COMMENT ON FUNCTION auth.admin_list_user_sessions(text, text) IS 'Admin list-user-sessions {userId}: {"sessions":[...]} (token = session id).';

CREATE FUNCTION auth.admin_revoke_user_session(p_token text, p_session_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_user uuid;
    v_sid uuid;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_session_token IS NULL OR p_session_token = '' OR octet_length(p_session_token) > 256 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'sessionToken is required');
    END IF;
    IF p_session_token ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        DELETE FROM auth.sessions s WHERE s.id = p_session_token::uuid RETURNING s.user_id, s.id INTO v_user, v_sid;
    ELSE
        DELETE FROM auth.sessions s WHERE s.token_hash = auth.hash_token(p_session_token) RETURNING s.user_id, s.id INTO v_user, v_sid;
    END IF;
    IF v_sid IS NOT NULL THEN
        PERFORM auth.audit_write('admin_session_revoked', v_user, v_admin, NULL, NULL, jsonb_build_object('session_id', v_sid));
    END IF;
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.admin_revoke_user_session(text, text) IS
  'Admin revoke-user-session {sessionToken}: a session token or id (as list-user-sessions shows it); {"success":true}; audited.';

CREATE FUNCTION auth.admin_revoke_user_sessions(p_token text, p_user_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    n integer;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    DELETE FROM auth.sessions s WHERE s.user_id = v_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM auth.audit_write('admin_sessions_revoked', v_id, v_admin, NULL, NULL, jsonb_build_object('count', n));
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.admin_revoke_user_sessions(text, text) IS 'Admin revoke-user-sessions {userId}: every session of the user; {"success":true}; audited.';

CREATE FUNCTION auth.admin_impersonate_user(p_token text, p_user_id text, p_ip inet DEFAULT NULL,
                                            p_user_agent text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
    v_role text;
    s record;
    v_row auth.sessions;
BEGIN
    IF v_admin IS NULL THEN
        RETURN;
    END IF;
    v_id := auth.admin_target(p_user_id);
    SELECT u.role INTO v_role FROM auth.users u WHERE u.id = v_id;
    IF auth.is_admin_role(v_role) AND NOT auth.email_setting('pgauth.admin_impersonate_admins')::boolean THEN
        PERFORM auth.raise('YOU_CANNOT_IMPERSONATE_ADMINS');
    END IF;
    IF EXISTS (SELECT 1 FROM auth.sessions x WHERE x.token_hash = auth.hash_token(p_token) AND x.impersonated_by IS NOT NULL) THEN
        PERFORM auth.raise('FORBIDDEN', 'Stop impersonating before impersonating another user');
    END IF;
    PERFORM auth.session_grant(v_id, 'impersonation');
    SELECT * INTO s FROM auth.create_session(v_id, false, p_ip, left(p_user_agent, 512));
    UPDATE auth.sessions x
       SET impersonated_by = v_admin,
           expires_at = now() + auth.email_setting('pgauth.impersonation_session_duration')::interval
     WHERE x.id = s.session_id
    RETURNING x.* INTO v_row;
    PERFORM auth.audit_write('impersonation_start', v_id, v_admin, p_ip, p_user_agent, jsonb_build_object('session_id', v_row.id));
    body := json_build_object('session', (auth.admin_session_json(v_row)::jsonb || jsonb_build_object('token', s.session_token))::json,
                              'user', auth.admin_user_json(v_id));
    session_token := s.session_token;
    max_age := greatest(0, round(extract(epoch FROM v_row.expires_at - now())))::bigint;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION auth.admin_impersonate_user(text, text, inet, text) IS
  'Admin impersonate-user {userId}: a new session of the user with impersonatedBy = the admin, lasting pgauth.impersonation_session_duration (not extended); {"session","user"}, its token and max_age. YOU_CANNOT_IMPERSONATE_ADMINS unless pgauth.admin_impersonate_admins; BANNED_USER; audited (impersonation_start). The second factor of the user is not asked.';

CREATE FUNCTION auth.admin_stop_impersonating(p_token text, p_admin_token text)
    RETURNS TABLE (body json, session_token text, max_age bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_imp auth.sessions;
    v_back record;
BEGIN
    IF p_token IS NULL OR octet_length(p_token) > 256 THEN
        RETURN;
    END IF;
    DELETE FROM auth.sessions x WHERE x.token_hash = auth.hash_token(p_token) AND x.impersonated_by IS NOT NULL
    RETURNING x.* INTO v_imp;
    IF v_imp.id IS NULL THEN
        PERFORM auth.raise('FAILED_TO_FIND_ADMIN_SESSION');
    END IF;
    PERFORM auth.audit_write('impersonation_stop', v_imp.user_id, v_imp.impersonated_by, NULL, NULL,
                             jsonb_build_object('session_id', v_imp.id));
    SELECT g.body, g.max_age INTO v_back FROM auth.get_session(p_admin_token) g;
    IF v_back.body IS NULL OR (v_back.body -> 'user' ->> 'id')::uuid IS DISTINCT FROM v_imp.impersonated_by THEN
        -- the impersonation session is gone either way; the admin signs in again
        body := NULL;
        session_token := NULL;
        max_age := NULL;
        RETURN NEXT;
        RETURN;
    END IF;
    body := v_back.body;
    session_token := p_admin_token;
    max_age := v_back.max_age;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION auth.admin_stop_impersonating(text, text) IS
  'Admin stop-impersonating: deletes the impersonation session p_token (FAILED_TO_FIND_ADMIN_SESSION if it is not one) and returns the admin''s session p_admin_token as get-session shows it {"session","user"}; body NULL when that session is gone. Audited (impersonation_stop).';

CREATE FUNCTION auth.admin_remove_user(p_token text, p_user_id text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    v_id uuid;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.admin_target(p_user_id);
    IF v_id = v_admin THEN
        PERFORM auth.raise('YOU_CANNOT_REMOVE_YOURSELF');
    END IF;
    PERFORM auth.audit_write('user_removed', v_id, v_admin, NULL, NULL,
                             jsonb_build_object('email', (SELECT u.email FROM auth.users u WHERE u.id = v_id)));
    DELETE FROM auth.users u WHERE u.id = v_id;
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.admin_remove_user(text, text) IS 'Admin remove-user {userId}: deletes the user (accounts, sessions cascade); {"success":true}; audited.';

-- Better-Auth's default access control: admin may do everything below, user nothing.
CREATE FUNCTION auth.admin_has_permission(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_me uuid;
    v_my_role text;
    v_role text;
    v_perms jsonb := coalesce(p_body -> 'permissions', p_body -> 'permission');
    statements constant jsonb := '{"user":["create","list","set-role","ban","impersonate","delete","set-password","get","update"],
                                   "session":["list","revoke","delete"]}';
    r record;
BEGIN
    IF p_body IS NULL OR jsonb_typeof(p_body) <> 'object' OR jsonb_typeof(v_perms) IS DISTINCT FROM 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
    END IF;
    FOR r IN SELECT key, value FROM jsonb_each(v_perms) LOOP
        IF jsonb_typeof(r.value) <> 'array' OR EXISTS (SELECT 1 FROM jsonb_array_elements(r.value) e WHERE jsonb_typeof(e) <> 'string') THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'each resource maps to an array of actions');
        END IF;
    END LOOP;
    IF p_body ? 'role' AND jsonb_typeof(p_body -> 'role') <> 'null' THEN
        v_role := auth.admin_check_role(p_body -> 'role');
    ELSE
        SELECT s.user_id, s.role INTO v_me, v_my_role FROM auth.validate_session(p_token) s;
        IF p_body ? 'userId' AND jsonb_typeof(p_body -> 'userId') = 'string' THEN
            IF v_me IS NULL AND p_token IS NOT NULL THEN
                RETURN NULL;
            END IF;
            SELECT u.role INTO v_role FROM auth.users u WHERE u.id = auth.admin_target(p_body ->> 'userId');
        ELSIF v_me IS NULL THEN
            RETURN NULL;
        ELSE
            v_role := v_my_role;
        END IF;
    END IF;
    IF NOT auth.is_admin_role(v_role) THEN
        RETURN json_build_object('error', NULL, 'success', false);
    END IF;
    RETURN json_build_object('error', NULL, 'success', NOT EXISTS (
        SELECT 1 FROM jsonb_each(v_perms) p, jsonb_array_elements_text(p.value) a
         WHERE NOT coalesce(statements -> p.key ? a, false)));
END
$$;
COMMENT ON FUNCTION auth.admin_has_permission(text, jsonb) IS
  'Admin has-permission {permissions | permission: {resource: [actions]}, userId?, role?}: {"error":null,"success":bool} under Better-Auth''s default statements (admin: user create/list/set-role/ban/impersonate/delete/set-password/get/update, session list/revoke/delete; user: none). NULL without a live session unless role is given.';

CREATE FUNCTION auth.admin_audit_log(p_token text, p_query jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_admin uuid := auth.admin_caller(p_token);
    q jsonb := coalesce(p_query, '{}');
    v_user uuid;
    v_from timestamptz;
    v_to timestamptz;
    v_limit integer;
    v_offset integer;
BEGIN
    IF v_admin IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(q) <> 'object' OR coalesce(q ->> 'limit', '100') !~ '^[0-9]{1,4}$'
       OR coalesce(q ->> 'offset', '0') !~ '^[0-9]{1,9}$'
       OR (q ->> 'userId' IS NOT NULL AND q ->> 'userId' !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
       OR char_length(q ->> 'event') > 64 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'userId (uuid), event, from, to (ISO times), limit (1 to 1000), offset');
    END IF;
    BEGIN
        v_from := (q ->> 'from')::timestamptz;
        v_to := (q ->> 'to')::timestamptz;
    EXCEPTION WHEN data_exception THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'from and to must be ISO times');
    END;
    v_user := (q ->> 'userId')::uuid;
    v_limit := coalesce(q ->> 'limit', '100')::integer;
    v_offset := coalesce(q ->> 'offset', '0')::integer;
    RETURN json_build_object(
        'events', coalesce((SELECT json_agg(json_build_object('id', e.id, 'at', auth.iso_time(e.at), 'event', e.event,
                                   'userId', e.user_id, 'actorId', e.actor_id, 'ip', host(e.ip), 'userAgent', e.user_agent,
                                   'detail', e.detail))
                              FROM auth.audit_events(v_user, q ->> 'event', v_from, v_to, v_limit, v_offset) e), '[]'::json),
        'total', (SELECT count(*) FROM auth.audit_log a
                   WHERE (v_user IS NULL OR a.user_id = v_user OR a.actor_id = v_user)
                     AND (q ->> 'event' IS NULL OR a.event = q ->> 'event')
                     AND (v_from IS NULL OR a.at >= v_from) AND (v_to IS NULL OR a.at < v_to)),
        'limit', v_limit, 'offset', v_offset);
END
$$;
COMMENT ON FUNCTION auth.admin_audit_log(text, jsonb) IS
  'GET /admin/audit-log: p_query {userId?, event?, from?, to?, limit? (1..1000, 100), offset?}; {"events":[{id, at, event, userId, actorId, ip, userAgent, detail}], "total", "limit", "offset"}, newest first.';

-- ---- two-factor
CREATE FUNCTION auth.two_factor_uri(p_user_id uuid) RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT 'otpauth://totp/' || auth.url_encode(t.issuer) || ':' || auth.url_encode(u.email)
           || '?secret=' || auth.vault_open(u.id, 'two-factor:totp', t.secret_sealed)
           || '&issuer=' || auth.url_encode(t.issuer) || '&algorithm=SHA1&digits=6&period=30'
      FROM auth.two_factors t JOIN auth.users u ON u.id = t.user_id WHERE t.user_id = p_user_id
$$;
COMMENT ON FUNCTION auth.two_factor_uri(uuid) IS 'Internal: the otpauth:// URI of a user''s TOTP secret (opened from its seal).';

CREATE FUNCTION auth.two_factor_new_backup_codes(p_user_id uuid) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_codes text[] := '{}';
    v_digests bytea[] := '{}';
    v_code text;
BEGIN
    FOR i IN 1..10 LOOP
        v_code := auth.two_factor_new_backup_code();
        v_codes := v_codes || v_code;
        v_digests := v_digests || auth.email_digest('two-factor-backup:' || p_user_id::text, v_code);
    END LOOP;
    UPDATE auth.two_factors t SET backup_codes = v_digests, updated_at = now() WHERE t.user_id = p_user_id;
    RETURN to_json(v_codes);
END
$$;
COMMENT ON FUNCTION auth.two_factor_new_backup_codes(uuid) IS 'Internal: 10 new backup codes (stored as keyed digests, replacing the old ones); returns them once.';

CREATE FUNCTION auth.two_factor_password_user(p_token text, p_password text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.session_user_id(p_token, false);
BEGIN
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_password IS NULL OR p_password = '' OR NOT auth.check_user_password(v_user, p_password) THEN
        PERFORM auth.raise('INVALID_PASSWORD');
    END IF;
    RETURN v_user;
END
$$;
COMMENT ON FUNCTION auth.two_factor_password_user(text, text) IS 'Internal: the user of a live session (API keys refused) after checking their password (INVALID_PASSWORD).';

CREATE FUNCTION auth.two_factor_enable(p_token text, p_password text, p_issuer text DEFAULT NULL,
                                       p_ip inet DEFAULT NULL, p_user_agent text DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.two_factor_password_user(p_token, p_password);
    v_issuer text := coalesce(nullif(btrim(p_issuer), ''), 'pgauth');
    v_secret text;
    v_codes json;
BEGIN
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF char_length(v_issuer) > 100 OR v_issuer ~ '[[:cntrl:]]' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'issuer must be at most 100 printable characters');
    END IF;
    v_secret := auth.totp_new_secret();
    INSERT INTO auth.two_factors AS t (user_id, secret_sealed, issuer)
    VALUES (v_user, auth.vault_seal(v_user, 'two-factor:totp', v_secret), v_issuer)
    ON CONFLICT (user_id) DO UPDATE
       SET secret_sealed = excluded.secret_sealed, issuer = excluded.issuer, last_totp_step = NULL, updated_at = now();
    v_codes := auth.two_factor_new_backup_codes(v_user);
    PERFORM auth.audit_write('two_factor_setup', v_user, v_user, p_ip, p_user_agent, '{}');
    RETURN json_build_object('totpURI', auth.two_factor_uri(v_user), 'backupCodes', v_codes);
END
$$;
COMMENT ON FUNCTION auth.two_factor_enable(text, text, text, inet, text) IS
  'twoFactor enable {password, issuer?}: a new TOTP secret (sealed) and 10 backup codes; {"totpURI","backupCodes"}. Two-factor turns on at the first verify-totp with the session. INVALID_PASSWORD; NULL without a live session.';

CREATE FUNCTION auth.two_factor_get_totp_uri(p_token text, p_password text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.two_factor_password_user(p_token, p_password);
BEGIN
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.two_factors t WHERE t.user_id = v_user) THEN
        PERFORM auth.raise('TWO_FACTOR_NOT_ENABLED');
    END IF;
    RETURN json_build_object('totpURI', auth.two_factor_uri(v_user));
END
$$;
COMMENT ON FUNCTION auth.two_factor_get_totp_uri(text, text) IS 'twoFactor get-totp-uri {password}: {"totpURI"}; TWO_FACTOR_NOT_ENABLED, INVALID_PASSWORD.';

CREATE FUNCTION auth.two_factor_generate_backup_codes(p_token text, p_password text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.two_factor_password_user(p_token, p_password);
BEGIN
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = v_user AND u.two_factor_enabled) THEN
        PERFORM auth.raise('TWO_FACTOR_NOT_ENABLED');
    END IF;
    PERFORM auth.audit_write('two_factor_backup_codes', v_user, v_user, NULL, NULL, '{}');
    RETURN json_build_object('status', true, 'backupCodes', auth.two_factor_new_backup_codes(v_user));
END
$$;
COMMENT ON FUNCTION auth.two_factor_generate_backup_codes(text, text) IS
  'twoFactor generate-backup-codes {password}: 10 new codes replace the old; {"status":true,"backupCodes"}. TWO_FACTOR_NOT_ENABLED, INVALID_PASSWORD.';

CREATE FUNCTION auth.two_factor_disable(p_token text, p_password text, p_ip inet DEFAULT NULL,
                                        p_user_agent text DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid := auth.two_factor_password_user(p_token, p_password);
BEGIN
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM auth.two_factors t WHERE t.user_id = v_user;
    DELETE FROM auth.two_factor_trusted_devices d WHERE d.user_id = v_user;
    DELETE FROM auth.two_factor_challenges c WHERE c.user_id = v_user;
    UPDATE auth.users u SET two_factor_enabled = false, updated_at = now() WHERE u.id = v_user;
    PERFORM auth.audit_write('two_factor_disable', v_user, v_user, p_ip, p_user_agent, '{}');
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.two_factor_disable(text, text, inet, text) IS
  'twoFactor disable {password}: removes the secret, backup codes and trusted devices; {"status":true}. INVALID_PASSWORD.';

CREATE FUNCTION auth.two_factor_send_otp(p_token text, p_challenge text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    u auth.users;
BEGIN
    v_user := auth.session_user_id(p_token, false);
    IF v_user IS NULL AND p_challenge IS NOT NULL AND octet_length(p_challenge) <= 256 THEN
        SELECT c.user_id INTO v_user FROM auth.two_factor_challenges c
         WHERE c.token_hash = auth.hash_token(p_challenge) AND c.expires_at > now() AND c.attempts < 5;
        IF v_user IS NULL THEN
            PERFORM auth.raise('INVALID_TWO_FACTOR_COOKIE');
        END IF;
    END IF;
    IF v_user IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT x.* INTO u FROM auth.users x WHERE x.id = v_user;
    PERFORM auth.email_address_hit(u.email, true);
    PERFORM auth.email_issue('otp-two-factor', u.email, u.id, NULL,
                             json_build_object('email', u.email, 'name', u.name)::jsonb, NULL);
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.two_factor_send_otp(text, text) IS
  'twoFactor send-otp: queues a one-time code (template otp-two-factor) to the user of the session or of the live challenge; {"status":true}. INVALID_TWO_FACTOR_COOKIE, RATE_LIMITED; NULL with neither.';

CREATE FUNCTION auth.two_factor_verify(p_kind text, p_code text, p_token text, p_challenge text,
                                       p_trust_device boolean DEFAULT false, p_ip inet DEFAULT NULL,
                                       p_user_agent text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint, trust_device_token text, error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    c auth.two_factor_challenges;
    t auth.two_factors;
    u auth.users;
    v_secret text;
    v_now bigint := floor(extract(epoch FROM now()) / 30)::bigint;
    v_step bigint;
    v_ok boolean := false;
    v_index integer;
    o record;
    s record;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('totp', 'otp', 'backup') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'kind is totp, otp or backup');
    END IF;
    IF p_code IS NULL OR p_code = '' OR octet_length(p_code) > 64 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'code is required');
    END IF;
    -- a session (the enable flow, Better-Auth's order) or else the sign-in's challenge
    v_user := auth.session_user_id(p_token, false);
    IF v_user IS NULL THEN
        IF p_challenge IS NULL THEN
            RETURN;  -- neither: 401
        END IF;
        IF octet_length(p_challenge) <= 256 THEN
            SELECT x.* INTO c FROM auth.two_factor_challenges x WHERE x.token_hash = auth.hash_token(p_challenge) FOR UPDATE;
        END IF;
        IF c.id IS NULL OR c.expires_at <= now() THEN
            error_code := 'INVALID_TWO_FACTOR_COOKIE';
            RETURN NEXT;
            RETURN;
        END IF;
        IF c.attempts >= 5 THEN
            DELETE FROM auth.two_factor_challenges x WHERE x.id = c.id;
            error_code := 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE';
            RETURN NEXT;
            RETURN;
        END IF;
        v_user := c.user_id;
    END IF;
    SELECT x.* INTO u FROM auth.users x WHERE x.id = v_user;
    SELECT x.* INTO t FROM auth.two_factors x WHERE x.user_id = v_user FOR UPDATE;
    IF p_kind <> 'otp' AND t.user_id IS NULL THEN
        error_code := 'TWO_FACTOR_NOT_ENABLED';
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_kind = 'totp' THEN
        v_secret := auth.vault_open(v_user, 'two-factor:totp', t.secret_sealed);
        IF p_code ~ '^[0-9]{6}$' THEN
            -- the current step and one either side; a step at or before the last used one never again
            FOR v_step IN SELECT g FROM generate_series(v_now - 1, v_now + 1) g WHERE g > coalesce(t.last_totp_step, -1) LOOP
                IF auth.totp_code(v_secret, v_step) = p_code THEN
                    v_ok := true;
                    UPDATE auth.two_factors x SET last_totp_step = v_step, updated_at = now() WHERE x.user_id = v_user;
                    EXIT;
                END IF;
            END LOOP;
        END IF;
        v_secret := NULL;
    ELSIF p_kind = 'backup' THEN
        SELECT i INTO v_index FROM generate_subscripts(t.backup_codes, 1) i
         WHERE auth.email_digest_matches(t.backup_codes[i], 'two-factor-backup:' || v_user::text, btrim(p_code))
         LIMIT 1;
        IF v_index IS NOT NULL THEN
            v_ok := true;
            UPDATE auth.two_factors x SET backup_codes = t.backup_codes[:v_index - 1] || t.backup_codes[v_index + 1:],
                   updated_at = now() WHERE x.user_id = v_user;
        END IF;
    ELSE
        SELECT * INTO o FROM auth.email_take_otp('otp-two-factor', u.email, btrim(p_code));
        v_ok := o.error_code IS NULL;
        IF o.error_code IN ('OTP_EXPIRED', 'TOO_MANY_ATTEMPTS') THEN
            error_code := o.error_code;
        END IF;
    END IF;
    IF NOT v_ok THEN
        IF c.id IS NOT NULL THEN
            UPDATE auth.two_factor_challenges x SET attempts = x.attempts + 1 WHERE x.id = c.id;
        END IF;
        PERFORM auth.audit_write('two_factor_failed', v_user, v_user, p_ip, p_user_agent, jsonb_build_object('kind', p_kind));
        error_code := coalesce(error_code, CASE p_kind WHEN 'backup' THEN 'INVALID_BACKUP_CODE' ELSE 'INVALID_CODE' END);
        RETURN NEXT;
        RETURN;
    END IF;
    IF c.id IS NULL THEN
        -- with a session: the enable flow's confirmation (TOTP) or a check
        IF p_kind = 'totp' AND NOT u.two_factor_enabled THEN
            UPDATE auth.users x SET two_factor_enabled = true, updated_at = now() WHERE x.id = v_user;
            PERFORM auth.audit_write('two_factor_enable', v_user, v_user, p_ip, p_user_agent, '{}');
        END IF;
        body := json_build_object('token', p_token, 'user', auth.email_user_json(v_user));
    ELSE
        DELETE FROM auth.two_factor_challenges x WHERE x.id = c.id;
        PERFORM auth.session_grant(v_user, 'two_factor_' || p_kind);
        SELECT * INTO s FROM auth.create_session(v_user, c.remember_me, coalesce(p_ip, c.ip),
                                                 left(coalesce(p_user_agent, c.user_agent), 512));
        session_token := s.session_token;
        max_age := greatest(0, round(extract(epoch FROM s.expires_at - now())))::bigint;
        body := json_build_object('token', s.session_token, 'user', auth.email_user_json(v_user));
    END IF;
    IF coalesce(p_trust_device, false) THEN
        trust_device_token := auth.email_new_token();
        INSERT INTO auth.two_factor_trusted_devices (token_hash, user_id, expires_at)
        VALUES (auth.hash_token(trust_device_token), v_user,
                now() + auth.email_setting('pgauth.two_factor_trust_device_expires_in')::interval);
        DELETE FROM auth.two_factor_trusted_devices d WHERE d.user_id = v_user AND d.expires_at <= now();
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION auth.two_factor_verify(text, text, text, text, boolean, inet, text) IS
  'twoFactor verify-totp / verify-otp / verify-backup-code (p_kind totp | otp | backup) {code, trustDevice?}: with a live session (p_token) it confirms (the first TOTP turns two-factor on); else with the sign-in''s challenge (p_challenge) it creates the session. {"token","user"}, session_token and max_age (a new session), trust_device_token (30 days). Wrong codes come back as error_code (INVALID_CODE, INVALID_BACKUP_CODE, OTP_EXPIRED, TOO_MANY_ATTEMPTS, TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE after 5 on a challenge, INVALID_TWO_FACTOR_COOKIE, TWO_FACTOR_NOT_ENABLED) so the count commits. A TOTP step is accepted once.';

-- ---- multi-session
CREATE FUNCTION auth.multi_session_list(p_tokens text[]) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_max integer := auth.email_setting('pgauth.multi_session_maximum')::integer;
    v_out jsonb := '[]';
    v_seen uuid[] := '{}';
    v_tok text;
    g record;
BEGIN
    IF cardinality(p_tokens) > 64 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'too many session tokens');
    END IF;
    FOREACH v_tok IN ARRAY coalesce(p_tokens, '{}') LOOP
        EXIT WHEN jsonb_array_length(v_out) >= v_max;
        CONTINUE WHEN v_tok IS NULL OR v_tok LIKE 'apikey:%';
        SELECT x.body INTO g FROM auth.get_session(v_tok) x;
        CONTINUE WHEN g.body IS NULL OR ((g.body -> 'user' ->> 'id')::uuid = ANY (v_seen));
        v_seen := v_seen || (g.body -> 'user' ->> 'id')::uuid;
        v_out := v_out || jsonb_build_array(g.body::jsonb);
    END LOOP;
    RETURN v_out::json;
END
$$;
COMMENT ON FUNCTION auth.multi_session_list(text[]) IS
  'multiSession list-device-sessions: [{"session","user"}] for the live tokens among p_tokens (one per user, at most pgauth.multi_session_maximum); API keys are skipped.';

CREATE FUNCTION auth.multi_session_set_active(p_tokens text[], p_session_token text)
    RETURNS TABLE (body json, max_age bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_session_token IS NULL OR p_session_token LIKE 'apikey:%' OR NOT (p_session_token = ANY (coalesce(p_tokens, '{}'))) THEN
        PERFORM auth.raise('INVALID_SESSION_TOKEN');
    END IF;
    SELECT x.body, x.max_age INTO body, max_age FROM auth.get_session(p_session_token) x;
    IF body IS NULL THEN
        PERFORM auth.raise('INVALID_SESSION_TOKEN');
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION auth.multi_session_set_active(text[], text) IS
  'multiSession set-active {sessionToken}: {"session","user"} and max_age of that session if the device holds it (p_tokens) and it is live; INVALID_SESSION_TOKEN otherwise.';

CREATE FUNCTION auth.multi_session_revoke(p_tokens text[], p_session_token text) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_session_token IS NULL OR p_session_token LIKE 'apikey:%' OR NOT (p_session_token = ANY (coalesce(p_tokens, '{}')))
       OR NOT auth.revoke_session(p_session_token) THEN
        PERFORM auth.raise('INVALID_SESSION_TOKEN');
    END IF;
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.multi_session_revoke(text[], text) IS
  'multiSession revoke {sessionToken}: signs that session out if the device holds it; {"status":true}; INVALID_SESSION_TOKEN otherwise.';

-- ---- privileges
REVOKE ALL ON FUNCTION
    auth.totp_new_secret(), auth.totp_code(text, bigint), auth.two_factor_new_backup_code(),
    auth.audit_write(text, uuid, uuid, inet, text, jsonb), auth.audit_guard(), auth.audit_purge(),
    auth.audit_events(uuid, text, timestamptz, timestamptz, integer, integer), auth.audit_on_insert(),
    auth.session_guard(), auth.session_grant(uuid, text), auth.sign_in_check(text, text),
    auth.sign_in_attempt(text, text, boolean, inet, text, text, text), auth.is_admin_role(text), auth.has_role(text),
    auth.grant_admin(text), auth.admin_caller(text), auth.admin_user_json(uuid), auth.admin_target(text),
    auth.admin_check_role(jsonb), auth.admin_create_user(text, jsonb), auth.admin_list_users(text, jsonb),
    auth.admin_get_user(text, text), auth.admin_update_user(text, text, jsonb), auth.admin_set_role(text, text, jsonb),
    auth.admin_set_user_password(text, text, text), auth.admin_ban_user(text, text, text, bigint),
    auth.admin_unban_user(text, text), auth.admin_session_json(auth.sessions), auth.admin_list_user_sessions(text, text),
    auth.admin_revoke_user_session(text, text), auth.admin_revoke_user_sessions(text, text),
    auth.admin_impersonate_user(text, text, inet, text), auth.admin_stop_impersonating(text, text),
    auth.admin_remove_user(text, text), auth.admin_has_permission(text, jsonb), auth.admin_audit_log(text, jsonb),
    auth.two_factor_uri(uuid), auth.two_factor_new_backup_codes(uuid), auth.two_factor_password_user(text, text),
    auth.two_factor_enable(text, text, text, inet, text), auth.two_factor_get_totp_uri(text, text),
    auth.two_factor_generate_backup_codes(text, text), auth.two_factor_disable(text, text, inet, text),
    auth.two_factor_send_otp(text, text), auth.two_factor_verify(text, text, text, text, boolean, inet, text),
    auth.multi_session_list(text[]), auth.multi_session_set_active(text[], text), auth.multi_session_revoke(text[], text)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.has_role(text), auth.is_admin_role(text) TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION
    auth.admin_create_user(text, jsonb), auth.admin_list_users(text, jsonb), auth.admin_get_user(text, text),
    auth.admin_update_user(text, text, jsonb), auth.admin_set_role(text, text, jsonb),
    auth.admin_set_user_password(text, text, text), auth.admin_ban_user(text, text, text, bigint),
    auth.admin_unban_user(text, text), auth.admin_list_user_sessions(text, text),
    auth.admin_revoke_user_session(text, text), auth.admin_revoke_user_sessions(text, text),
    auth.admin_impersonate_user(text, text, inet, text), auth.admin_stop_impersonating(text, text),
    auth.admin_remove_user(text, text), auth.admin_has_permission(text, jsonb), auth.admin_audit_log(text, jsonb),
    auth.two_factor_enable(text, text, text, inet, text), auth.two_factor_get_totp_uri(text, text),
    auth.two_factor_generate_backup_codes(text, text), auth.two_factor_disable(text, text, inet, text),
    auth.two_factor_send_otp(text, text), auth.two_factor_verify(text, text, text, text, boolean, inet, text),
    auth.multi_session_list(text[]), auth.multi_session_set_active(text[], text), auth.multi_session_revoke(text[], text)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.grant_admin(text), auth.audit_purge(),
    auth.audit_events(uuid, text, timestamptz, timestamptz, integer, integer)
  TO pgauth_admin;
-- ---------------------------------------------------------------- account security: end

-- ---------------------------------------------------------------- organizations (0.5.0)
-- Organizations, members, invitations, teams and roles (issue 17): Better-Auth's organization
-- plugin with every rule in SQL. Endpoint functions auth.org_<endpoint>(p_token, p_body) return
-- the Better-Auth body (SQL NULL when the token names no live session). The active organization
-- and team ride on the session (get-session, validate_session, the session JWT's org claim) and
-- feed the RLS helpers auth.organization_id(), auth.team_id(), auth.is_member(),
-- auth.has_permission() and auth.member_role(). Docs: docs/organizations.md, docs/sql-api.md.
CREATE TABLE auth.organizations (
    id         uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    slug       text NOT NULL CONSTRAINT organizations_slug_key UNIQUE
               CHECK (slug ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    logo       text CHECK (char_length(logo) <= 2048),
    metadata   jsonb CHECK (metadata IS NULL OR jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE auth.organizations IS 'Organizations (tenants): name, unique slug, logo, metadata (an object).';

CREATE TABLE auth.members (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES auth.organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (char_length(role) <= 1000
                    AND role ~ '^[A-Za-z][A-Za-z0-9_-]{0,63}(,[A-Za-z][A-Za-z0-9_-]{0,63})*$'),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT members_organization_user_key UNIQUE (organization_id, user_id)
);
CREATE INDEX members_user_id_idx ON auth.members (user_id);
COMMENT ON TABLE auth.members IS
  'Memberships: role is a comma-separated list of role names (owner, admin, member or a role of auth.organization_roles). Every organization keeps at least one owner.';

CREATE TABLE auth.teams (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES auth.organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX teams_organization_id_idx ON auth.teams (organization_id);
COMMENT ON TABLE auth.teams IS 'Teams of an organization.';

CREATE TABLE auth.team_members (
    id         uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    team_id    uuid NOT NULL REFERENCES auth.teams (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT team_members_team_user_key UNIQUE (team_id, user_id)
);
CREATE INDEX team_members_user_id_idx ON auth.team_members (user_id);
COMMENT ON TABLE auth.team_members IS 'Team memberships; a team member is always a member of the team''s organization.';

CREATE TABLE auth.invitations (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES auth.organizations (id) ON DELETE CASCADE,
    email           text NOT NULL CHECK (email = pg_catalog.lower(email)),
    role            text NOT NULL CHECK (char_length(role) <= 1000
                    AND role ~ '^[A-Za-z][A-Za-z0-9_-]{0,63}(,[A-Za-z][A-Za-z0-9_-]{0,63})*$'),
    team_id         uuid REFERENCES auth.teams (id) ON DELETE SET NULL,
    inviter_id      uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'canceled')),
    verification_id uuid REFERENCES auth.verifications (id) ON DELETE SET NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX invitations_organization_id_idx ON auth.invitations (organization_id, status);
CREATE INDEX invitations_email_idx ON auth.invitations (email, status);
COMMENT ON TABLE auth.invitations IS
  'Invitations: accepted only by a signed-in user with the invited address, while pending and before expires_at (pgauth.invitation_expires_in). verification_id = the record of its mail (deleting it voids an unsent mail).';

CREATE TABLE auth.organization_roles (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid REFERENCES auth.organizations (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role ~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$'),
    permission      jsonb NOT NULL CHECK (jsonb_typeof(permission) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX organization_roles_organization_role_key ON auth.organization_roles (organization_id, role)
    WHERE organization_id IS NOT NULL;
CREATE UNIQUE INDEX organization_roles_global_role_key ON auth.organization_roles (role) WHERE organization_id IS NULL;
COMMENT ON TABLE auth.organization_roles IS
  'Roles and their permission statements {resource: [action, ...]}. organization_id NULL = a role of every organization (owner, admin, member and roles defined with auth.org_define_role); otherwise a dynamic role of one organization, which takes precedence over a global role of the same name.';
INSERT INTO auth.organization_roles (organization_id, role, permission) VALUES
    (NULL, 'owner', '{"organization": ["update", "delete"], "member": ["create", "update", "delete"], "invitation": ["create", "cancel"], "team": ["create", "update", "delete"], "teamMember": ["create", "update", "delete", "read"], "ac": ["create", "read", "update", "delete"]}'),
    (NULL, 'admin', '{"organization": ["update"], "member": ["create", "update", "delete"], "invitation": ["create", "cancel"], "team": ["create", "update", "delete"], "teamMember": ["create", "update", "delete", "read"], "ac": ["create", "read", "update", "delete"]}'),
    (NULL, 'member', '{"organization": [], "member": [], "invitation": [], "team": [], "teamMember": ["read"], "ac": ["read"]}');

REVOKE ALL ON auth.organizations, auth.members, auth.teams, auth.team_members, auth.invitations,
    auth.organization_roles FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('auth.members', '');
SELECT pg_catalog.pg_extension_config_dump('auth.teams', '');
SELECT pg_catalog.pg_extension_config_dump('auth.team_members', '');
SELECT pg_catalog.pg_extension_config_dump('auth.invitations', '');
-- the built-in global rows are made by CREATE EXTENSION; a dump keeps every other role
SELECT pg_catalog.pg_extension_config_dump('auth.organization_roles',
    'WHERE organization_id IS NOT NULL OR role NOT IN (''owner'', ''admin'', ''member'')');

-- the session carries the active organization and team (cleared when they are deleted)
ALTER TABLE auth.sessions
    ADD COLUMN active_organization_id uuid REFERENCES auth.organizations (id) ON DELETE SET NULL,
    ADD COLUMN active_team_id uuid REFERENCES auth.teams (id) ON DELETE SET NULL;
CREATE INDEX sessions_active_organization_id_idx ON auth.sessions (active_organization_id)
    WHERE active_organization_id IS NOT NULL;
CREATE INDEX sessions_active_team_id_idx ON auth.sessions (active_team_id) WHERE active_team_id IS NOT NULL;

-- the invitation mail goes through the outbox with its own verification record and template
ALTER TABLE auth.verifications DROP CONSTRAINT verifications_purpose_check,
    ADD CONSTRAINT verifications_purpose_check CHECK (purpose IN ('verify-email', 'change-email', 'reset-password',
        'magic-link', 'otp-sign-in', 'otp-email-verification', 'otp-forget-password', 'otp-two-factor',
        'organization-invitation'));
ALTER TABLE auth.outbox DROP CONSTRAINT outbox_template_check,
    ADD CONSTRAINT outbox_template_check CHECK (template IN ('verify-email', 'change-email', 'reset-password',
        'magic-link', 'otp-sign-in', 'otp-email-verification', 'otp-forget-password', 'otp-two-factor',
        'organization-invitation'));

-- ---- internal helpers (no role but the owner executes them)
CREATE FUNCTION auth.org_json(o auth.organizations) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', o.id, 'name', o.name, 'slug', o.slug, 'logo', o.logo, 'metadata', o.metadata,
                              'createdAt', auth.iso_time(o.created_at)));
END
$$;
COMMENT ON FUNCTION auth.org_json(auth.organizations) IS 'Internal: Better-Auth''s organization object.';

CREATE FUNCTION auth.org_member_json(m auth.members, p_with_user boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', m.id, 'organizationId', m.organization_id, 'userId', m.user_id, 'role', m.role,
                              'createdAt', auth.iso_time(m.created_at))
           || CASE WHEN p_with_user THEN
                  (SELECT jsonb_build_object('user', jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email,
                                                                        'image', u.image))
                     FROM auth.users u WHERE u.id = m.user_id)
              ELSE '{}'::jsonb END);
END
$$;
COMMENT ON FUNCTION auth.org_member_json(auth.members, boolean) IS
  'Internal: Better-Auth''s member object, with its user {id, name, email, image} when asked.';

CREATE FUNCTION auth.org_invitation_json(i auth.invitations) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', i.id, 'organizationId', i.organization_id, 'email', i.email, 'role', i.role,
                              'status', i.status, 'inviterId', i.inviter_id, 'teamId', i.team_id,
                              'expiresAt', auth.iso_time(i.expires_at), 'createdAt', auth.iso_time(i.created_at)));
END
$$;
COMMENT ON FUNCTION auth.org_invitation_json(auth.invitations) IS 'Internal: Better-Auth''s invitation object.';

CREATE FUNCTION auth.org_team_json(t auth.teams) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', t.id, 'name', t.name, 'organizationId', t.organization_id,
                              'createdAt', auth.iso_time(t.created_at), 'updatedAt', auth.iso_time(t.updated_at)));
END
$$;
COMMENT ON FUNCTION auth.org_team_json(auth.teams) IS 'Internal: Better-Auth''s team object.';

CREATE FUNCTION auth.org_team_member_json(tm auth.team_members) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', tm.id, 'teamId', tm.team_id, 'userId', tm.user_id,
                              'createdAt', auth.iso_time(tm.created_at)));
END
$$;
COMMENT ON FUNCTION auth.org_team_member_json(auth.team_members) IS 'Internal: Better-Auth''s team member object.';

CREATE FUNCTION auth.org_role_json(r auth.organization_roles) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('id', r.id, 'organizationId', r.organization_id, 'role', r.role,
                              'permission', r.permission, 'createdAt', auth.iso_time(r.created_at),
                              'updatedAt', auth.iso_time(r.updated_at)));
END
$$;
COMMENT ON FUNCTION auth.org_role_json(auth.organization_roles) IS 'Internal: Better-Auth''s organization role object.';

CREATE FUNCTION auth.org_body(p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_body IS NULL OR jsonb_typeof(p_body) = 'null' THEN
        RETURN '{}';
    END IF;
    IF jsonb_typeof(p_body) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the body must be an object');
    END IF;
    RETURN p_body;
END
$$;
COMMENT ON FUNCTION auth.org_body(jsonb) IS 'Internal: the request body or query as an object ({} for NULL).';

CREATE FUNCTION auth.org_text(p_body jsonb, p_field text, p_required boolean, p_max integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v jsonb := p_body -> p_field;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        IF p_required THEN
            PERFORM auth.raise('VALIDATION_ERROR', p_field || ' is required');
        END IF;
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) <> 'string' THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' must be a string');
    END IF;
    IF p_required AND btrim(v #>> '{}') = '' THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' is required');
    END IF;
    IF char_length(v #>> '{}') > p_max THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' is longer than ' || p_max || ' characters');
    END IF;
    RETURN v #>> '{}';
END
$$;
COMMENT ON FUNCTION auth.org_text(jsonb, text, boolean, integer) IS
  'Internal: a string field of a body; VALIDATION_ERROR when required and missing, not a string or too long.';

-- An id field: a string in uuid form. Any other string names nothing: p_missing_code.
CREATE FUNCTION auth.org_uuid(p_body jsonb, p_field text, p_required boolean, p_missing_code text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text := auth.org_text(p_body, p_field, p_required, 100);
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF v !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
        PERFORM auth.raise(p_missing_code);
    END IF;
    RETURN v::uuid;
END
$$;
COMMENT ON FUNCTION auth.org_uuid(jsonb, text, boolean, text) IS
  'Internal: an id field of a body; a string that is not a uuid names nothing and raises p_missing_code.';

-- A count field (string or number, as query strings bring them).
CREATE FUNCTION auth.org_int(p_body jsonb, p_field text, p_min integer, p_max integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v jsonb := p_body -> p_field;
    t text;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) NOT IN ('string', 'number') THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' must be a number');
    END IF;
    t := btrim(v #>> '{}');
    IF t !~ '^[0-9]{1,9}$' OR t::integer NOT BETWEEN p_min AND p_max THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' must be an integer from ' || p_min || ' to ' || p_max);
    END IF;
    RETURN t::integer;
END
$$;
COMMENT ON FUNCTION auth.org_int(jsonb, text, integer, integer) IS
  'Internal: an integer field given as a number or a string; VALIDATION_ERROR outside p_min..p_max.';

CREATE FUNCTION auth.org_bool(p_body jsonb, p_field text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v jsonb := p_body -> p_field;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN false;
    END IF;
    IF jsonb_typeof(v) = 'string' AND v #>> '{}' IN ('true', 'false') THEN
        RETURN (v #>> '{}')::boolean;
    END IF;
    IF jsonb_typeof(v) <> 'boolean' THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_field || ' must be a boolean');
    END IF;
    RETURN v::text::boolean;
END
$$;
COMMENT ON FUNCTION auth.org_bool(jsonb, text) IS 'Internal: a boolean field (false when absent).';

-- The caller: its user and, for a session token, the session with its active organization and
-- team. p_need_session refuses API-key credentials (API_KEY_NOT_ALLOWED).
CREATE FUNCTION auth.org_caller(p_token text, p_need_session boolean,
    OUT user_id uuid, OUT session_id uuid, OUT active_organization_id uuid, OUT active_team_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    user_id := auth.session_user_id(p_token, NOT p_need_session);
    IF user_id IS NOT NULL AND p_token NOT LIKE 'apikey:%' THEN
        SELECT s.id, s.active_organization_id, s.active_team_id
          INTO session_id, active_organization_id, active_team_id
          FROM auth.sessions s WHERE s.token_hash = auth.hash_token(p_token);
    END IF;
END
$$;
COMMENT ON FUNCTION auth.org_caller(text, boolean) IS
  'Internal: the user of a credential (auth.session_user_id) and its session''s id, active organization and team (NULL for an API key).';

CREATE FUNCTION auth.org_setting(p_name text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT auth.email_setting('pgauth.' || p_name)::integer);
END
$$;
COMMENT ON FUNCTION auth.org_setting(text) IS 'Internal: an integer pgauth.* setting.';

CREATE FUNCTION auth.org_audit(p_event text, p_user_id uuid, p_detail jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    -- role: the caller's role (SET ROLE), else its login role; current_user here is the owner
    INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
    VALUES (session_user, coalesce(nullif(current_setting('role'), 'none'), session_user::text), p_event, p_user_id,
            p_detail);
END
$$;
COMMENT ON FUNCTION auth.org_audit(text, uuid, jsonb) IS
  'Internal: appends a membership event to auth.audit_log (user_id = the user whose membership changed).';

-- The permission statements a comma list of roles grants in an organization: for each name the
-- organization's own role, else the global role of that name.
-- No DISTINCT, and ROWS 32: every caller tests membership (EXISTS, EXCEPT, ANY), and a hash
-- sized for the planner's default guess of 1000 rows cost more than the whole lookup.
CREATE FUNCTION auth.org_permissions(p_organization_id uuid, p_roles text) RETURNS TABLE (resource text, action text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp ROWS 32 AS $$
BEGIN
    RETURN QUERY
    SELECT p.key, a.value
      FROM unnest(string_to_array(p_roles, ',')) rn(name)
     CROSS JOIN LATERAL (SELECT r.permission FROM auth.organization_roles r
                          WHERE r.role = rn.name
                            AND (r.organization_id = p_organization_id OR r.organization_id IS NULL)
                          ORDER BY r.organization_id NULLS LAST LIMIT 1) r
     CROSS JOIN LATERAL jsonb_each(r.permission) p
     CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.value) = 'array' THEN p.value
                                                       ELSE '[]'::jsonb END) a;
END
$$;
COMMENT ON FUNCTION auth.org_permissions(uuid, text) IS
  'Internal: the (resource, action) pairs granted by a comma-separated role list in an organization.';

CREATE FUNCTION auth.org_can(p_organization_id uuid, p_roles text, p_resource text, p_action text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT EXISTS (SELECT 1 FROM auth.org_permissions(p_organization_id, p_roles) p
                    WHERE p.resource = p_resource AND p.action = p_action));
END
$$;
COMMENT ON FUNCTION auth.org_can(uuid, text, text, text) IS 'Internal: whether a role list grants resource:action.';

CREATE FUNCTION auth.org_is_owner(p_roles text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT 'owner' = ANY (string_to_array(p_roles, ',')));
END
$$;
COMMENT ON FUNCTION auth.org_is_owner(text) IS 'Internal: whether a role list holds owner.';

-- No escalation: an owner grants any role; anyone else only owner-free roles whose every
-- permission they hold themselves.
CREATE FUNCTION auth.org_may_grant(p_organization_id uuid, p_caller_roles text, p_roles text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT auth.org_is_owner(p_caller_roles)
        OR (NOT auth.org_is_owner(p_roles)
            AND NOT EXISTS (SELECT g.resource, g.action FROM auth.org_permissions(p_organization_id, p_roles) g
                            EXCEPT
                            SELECT c.resource, c.action FROM auth.org_permissions(p_organization_id, p_caller_roles) c)));
END
$$;
COMMENT ON FUNCTION auth.org_may_grant(uuid, text, text) IS
  'Internal: whether a member with p_caller_roles may give p_roles (owners: any; others: no owner, no permission they lack).';

-- A role field: a string (one name or a comma list) or an array of names, each a role of the
-- organization (global or its own). Returns the normalized comma list.
CREATE FUNCTION auth.org_parse_roles(p_organization_id uuid, p_role jsonb) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_names text[];
    v_name text;
    v_out text[] := '{}';
BEGIN
    IF p_role IS NULL OR jsonb_typeof(p_role) = 'null' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'role is required');
    ELSIF jsonb_typeof(p_role) = 'string' THEN
        v_names := string_to_array(p_role #>> '{}', ',');
    ELSIF jsonb_typeof(p_role) = 'array' THEN
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_role) e WHERE jsonb_typeof(e) <> 'string') THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'role must be a string or an array of strings');
        END IF;
        SELECT array_agg(e) INTO v_names FROM jsonb_array_elements_text(p_role) e;
    ELSE
        PERFORM auth.raise('VALIDATION_ERROR', 'role must be a string or an array of strings');
    END IF;
    IF coalesce(array_length(v_names, 1), 0) = 0 OR array_length(v_names, 1) > 16 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'role must name 1 to 16 roles');
    END IF;
    FOREACH v_name IN ARRAY v_names LOOP
        v_name := btrim(v_name);
        IF v_name !~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$'
           OR NOT EXISTS (SELECT 1 FROM auth.organization_roles r
                           WHERE r.role = v_name
                             AND (r.organization_id = p_organization_id OR r.organization_id IS NULL)) THEN
            PERFORM auth.raise('ROLE_NOT_FOUND');
        END IF;
        IF NOT v_name = ANY (v_out) THEN
            v_out := v_out || v_name;
        END IF;
    END LOOP;
    RETURN array_to_string(v_out, ',');
END
$$;
COMMENT ON FUNCTION auth.org_parse_roles(uuid, jsonb) IS
  'Internal: a role field (string, comma list or array) checked against the organization''s roles; ROLE_NOT_FOUND for an unknown name.';

-- organizationId of a body, else the active organization; the organization must exist.
CREATE FUNCTION auth.org_target(p_body jsonb, p_active uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v uuid := coalesce(auth.org_uuid(p_body, 'organizationId', false, 'ORGANIZATION_NOT_FOUND'), p_active);
BEGIN
    IF v IS NULL THEN
        PERFORM auth.raise('NO_ACTIVE_ORGANIZATION');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.organizations o WHERE o.id = v) THEN
        PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.org_target(jsonb, uuid) IS
  'Internal: the organization a call is about (organizationId, else the active one): NO_ACTIVE_ORGANIZATION or ORGANIZATION_NOT_FOUND.';

CREATE FUNCTION auth.org_member_of(p_organization_id uuid, p_user_id uuid) RETURNS auth.members
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    m auth.members;
BEGIN
    SELECT * INTO m FROM auth.members x WHERE x.organization_id = p_organization_id AND x.user_id = p_user_id;
    IF NOT FOUND THEN
        PERFORM auth.raise('YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION');
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION auth.org_member_of(uuid, uuid) IS
  'Internal: the caller''s membership; YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION (403) if none.';

-- Serializes membership changes of one organization and counts its owners. The organization
-- row lock orders concurrent changes (READ COMMITTED: the count after it sees the committed
-- ones); the owners' rows are locked too, so under REPEATABLE READ a concurrent demotion makes
-- this call fail with a serialization error rather than count a stale owner.
CREATE FUNCTION auth.org_lock(p_organization_id uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    PERFORM 1 FROM auth.organizations o WHERE o.id = p_organization_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
    END IF;
    RETURN (SELECT count(*) FROM (SELECT 1 FROM auth.members m
                                   WHERE m.organization_id = p_organization_id AND auth.org_is_owner(m.role)
                                   ORDER BY m.id FOR UPDATE) owners);
END
$$;
COMMENT ON FUNCTION auth.org_lock(uuid) IS
  'Internal: locks an organization for a membership change and returns its number of owners (race-safe last-owner rule).';

-- A user leaves an organization: team memberships in it go, sessions stop showing it.
CREATE FUNCTION auth.org_drop_member(m auth.members, p_event text, p_actor uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    DELETE FROM auth.members x WHERE x.id = m.id;
    DELETE FROM auth.team_members tm USING auth.teams t
     WHERE tm.team_id = t.id AND t.organization_id = m.organization_id AND tm.user_id = m.user_id;
    UPDATE auth.sessions s SET active_organization_id = NULL, active_team_id = NULL
     WHERE s.user_id = m.user_id AND s.active_organization_id = m.organization_id;
    PERFORM auth.org_audit(p_event, m.user_id, jsonb_build_object('organizationId', m.organization_id,
                           'memberId', m.id, 'role', m.role, 'by', p_actor));
END
$$;
COMMENT ON FUNCTION auth.org_drop_member(auth.members, text, uuid) IS
  'Internal: removes a membership with its team memberships, clears it as the active organization of the user''s sessions, audits it.';

-- Adds a member (add-member, accepted invitations): the membership limit holds under the
-- organization lock the caller took.
CREATE FUNCTION auth.org_insert_member(p_organization_id uuid, p_user_id uuid, p_roles text, p_team_id uuid,
                                       p_event text, p_actor uuid) RETURNS auth.members
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    m auth.members;
    v_limit integer := auth.org_setting('membership_limit');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = p_user_id) THEN
        PERFORM auth.raise('USER_NOT_FOUND');
    END IF;
    IF EXISTS (SELECT 1 FROM auth.members x WHERE x.organization_id = p_organization_id AND x.user_id = p_user_id) THEN
        PERFORM auth.raise('USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION');
    END IF;
    IF v_limit > 0 AND (SELECT count(*) FROM auth.members x WHERE x.organization_id = p_organization_id) >= v_limit THEN
        PERFORM auth.raise('ORGANIZATION_MEMBERSHIP_LIMIT_REACHED');
    END IF;
    INSERT INTO auth.members AS x (organization_id, user_id, role)
    VALUES (p_organization_id, p_user_id, p_roles) RETURNING x.* INTO m;
    IF p_team_id IS NOT NULL THEN
        PERFORM auth.org_team_seat(p_team_id, p_user_id);
        INSERT INTO auth.team_members (team_id, user_id) VALUES (p_team_id, p_user_id) ON CONFLICT DO NOTHING;
    END IF;
    PERFORM auth.org_audit(p_event, p_user_id, jsonb_build_object('organizationId', p_organization_id,
                           'memberId', m.id, 'role', p_roles, 'teamId', p_team_id, 'by', p_actor));
    RETURN m;
END
$$;
COMMENT ON FUNCTION auth.org_insert_member(uuid, uuid, text, uuid, text, uuid) IS
  'Internal: adds a membership (USER_NOT_FOUND, USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION, ORGANIZATION_MEMBERSHIP_LIMIT_REACHED), optionally to a team (TEAM_MEMBER_LIMIT_REACHED), audited.';

CREATE FUNCTION auth.org_team_of(p_organization_id uuid, p_team_id uuid) RETURNS auth.teams
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    t auth.teams;
BEGIN
    SELECT * INTO t FROM auth.teams x WHERE x.id = p_team_id AND (p_organization_id IS NULL OR x.organization_id = p_organization_id);
    IF NOT FOUND THEN
        PERFORM auth.raise('TEAM_NOT_FOUND');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION auth.org_team_of(uuid, uuid) IS 'Internal: a team (of an organization, when given); TEAM_NOT_FOUND otherwise.';

CREATE FUNCTION auth.org_full_json(p_organization_id uuid, p_members_limit integer) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    RETURN (
    SELECT (auth.org_json(o)
            || jsonb_build_object(
                'members', coalesce((SELECT jsonb_agg(auth.org_member_json(m, true) ORDER BY m.created_at, m.id)
                                       FROM (SELECT * FROM auth.members x WHERE x.organization_id = o.id
                                              ORDER BY x.created_at, x.id LIMIT p_members_limit) m), '[]'),
                'invitations', coalesce((SELECT jsonb_agg(auth.org_invitation_json(i) ORDER BY i.created_at, i.id)
                                           FROM auth.invitations i WHERE i.organization_id = o.id), '[]'),
                'teams', coalesce((SELECT jsonb_agg(auth.org_team_json(t) ORDER BY t.created_at, t.id)
                                     FROM auth.teams t WHERE t.organization_id = o.id), '[]')))::json
      FROM auth.organizations o WHERE o.id = p_organization_id);
END
$$;
COMMENT ON FUNCTION auth.org_full_json(uuid, integer) IS
  'Internal: get-full-organization''s body: the organization with members (and their users), invitations and teams.';

-- The invitation mail: a verification record (so the outbox worker delivers it and a cancel
-- voids it) and an outbox row with the accept link, in the caller's transaction.
CREATE FUNCTION auth.org_queue_invitation(i auth.invitations) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_url text := coalesce(nullif(auth.email_setting('pgauth.organization_invitation_url'), ''),
                           rtrim(auth.email_setting('pgauth.base_url'), '/') || '/accept-invitation/{id}');
    v_vid uuid;
    v_oid bigint;
    v_vars jsonb;
BEGIN
    v_url := replace(v_url, '{id}', i.id::text);
    IF i.verification_id IS NOT NULL THEN
        DELETE FROM auth.verifications v WHERE v.id = i.verification_id;  -- an unsent earlier mail is void
    END IF;
    INSERT INTO auth.verifications AS v (purpose, email, user_id, digest, expires_at, payload)
    VALUES ('organization-invitation', i.email, NULL, auth.email_digest('organization-invitation', i.id::text),
            i.expires_at, jsonb_build_object('invitationId', i.id))
    RETURNING v.id INTO v_vid;
    SELECT jsonb_build_object('invitationId', i.id, 'organizationId', o.id, 'organizationName', o.name,
                              'organizationSlug', o.slug, 'role', i.role, 'teamId', i.team_id,
                              'inviterName', u.name, 'inviterEmail', u.email,
                              'expiresAt', auth.iso_time(i.expires_at))
      INTO v_vars
      FROM auth.organizations o LEFT JOIN auth.users u ON u.id = i.inviter_id
     WHERE o.id = i.organization_id;
    v_oid := nextval('auth.outbox_id_seq');
    INSERT INTO auth.outbox (id, verification_id, recipient, template, vars, sealed)
    VALUES (v_oid, v_vid, i.email, 'organization-invitation', v_vars,
            auth.outbox_seal(v_oid, i.email, 'organization-invitation', json_build_object('url', v_url)::text));
    UPDATE auth.invitations x SET verification_id = v_vid WHERE x.id = i.id;
    RETURN v_vid;
END
$$;
COMMENT ON FUNCTION auth.org_queue_invitation(auth.invitations) IS
  'Internal: queues the organization-invitation mail (vars: organization, inviter, role, invitationId; sealed: url = pgauth.organization_invitation_url with {id}, default <pgauth.base_url>/accept-invitation/{id}).';

-- An invitation addressed to the caller, locked: pending and unexpired, else INVITATION_NOT_FOUND;
-- another address: YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION.
CREATE FUNCTION auth.org_my_invitation(p_body jsonb, p_field text, p_user_id uuid) RETURNS auth.invitations
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    i auth.invitations;
    v_id uuid := auth.org_uuid(p_body, p_field, true, 'INVITATION_NOT_FOUND');
BEGIN
    SELECT * INTO i FROM auth.invitations x WHERE x.id = v_id FOR UPDATE;
    IF NOT FOUND OR i.status <> 'pending' OR i.expires_at <= now() THEN
        PERFORM auth.raise('INVITATION_NOT_FOUND');
    END IF;
    IF i.email IS DISTINCT FROM (SELECT u.email FROM auth.users u WHERE u.id = p_user_id) THEN
        PERFORM auth.raise('YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION');
    END IF;
    RETURN i;
END
$$;
COMMENT ON FUNCTION auth.org_my_invitation(jsonb, text, uuid) IS
  'Internal: the pending, unexpired invitation of a body''s id addressed to the user, locked.';

-- A permission statement {resource: [action, ...]}: names checked, actions deduplicated.
CREATE FUNCTION auth.org_check_permission(p_permission jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    r record;
    v_out jsonb := '{}';
BEGIN
    IF p_permission IS NULL OR jsonb_typeof(p_permission) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permission must be an object {resource: [action, ...]}');
    END IF;
    IF (SELECT count(*) FROM jsonb_object_keys(p_permission)) > 64 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permission names at most 64 resources');
    END IF;
    FOR r IN SELECT e.key, e.value FROM jsonb_each(p_permission) e LOOP
        IF r.key !~ '^[A-Za-z][A-Za-z0-9_.:-]{0,63}$' THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'a resource name must be 1 to 64 letters, digits, _ . : or -');
        END IF;
        IF jsonb_typeof(r.value) <> 'array' OR jsonb_array_length(r.value) > 64
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(r.value) a
                       WHERE jsonb_typeof(a) <> 'string' OR a #>> '{}' !~ '^[A-Za-z][A-Za-z0-9_.:-]{0,63}$') THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'the actions of a resource must be an array of at most 64 action names');
        END IF;
        v_out := v_out || jsonb_build_object(r.key, (SELECT coalesce(jsonb_agg(DISTINCT a), '[]')
                                                       FROM jsonb_array_elements_text(r.value) a));
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION auth.org_check_permission(jsonb) IS
  'Internal: validates a permission statement {resource: [action]} (VALIDATION_ERROR) and returns it normalized.';

-- organizationSlug of a body (it wins, as in Better-Auth), else organizationId, else the active
-- organization; the organization must exist.
CREATE FUNCTION auth.org_target_or_slug(p_body jsonb, p_active uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_slug text := auth.org_text(p_body, 'organizationSlug', false, 100);
    v uuid;
BEGIN
    IF v_slug IS NULL THEN
        RETURN auth.org_target(p_body, p_active);
    END IF;
    SELECT o.id INTO v FROM auth.organizations o WHERE o.slug = v_slug;
    IF v IS NULL THEN
        PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.org_target_or_slug(jsonb, uuid) IS
  'Internal: the organization a call is about (organizationSlug, else organizationId, else the active one): NO_ACTIVE_ORGANIZATION or ORGANIZATION_NOT_FOUND.';

-- A member field a list may be sorted or filtered by: one of a fixed list (never SQL text).
CREATE FUNCTION auth.org_member_field(p_body jsonb, p_key text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text := auth.org_text(p_body, p_key, false, 64);
BEGIN
    IF v IS NOT NULL AND v NOT IN ('id', 'organizationId', 'userId', 'role', 'createdAt') THEN
        PERFORM auth.raise('VALIDATION_ERROR', p_key || ' must be one of id, organizationId, userId, role, createdAt');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.org_member_field(jsonb, text) IS
  'Internal: sortBy / filterField of list-members, one of the member fields id, organizationId, userId, role, createdAt (VALIDATION_ERROR otherwise).';

-- filterValue of list-members as a list of strings: one value (string, number or boolean), or for
-- in / not_in an array or a comma-separated string. createdAt values must be timestamps.
CREATE FUNCTION auth.org_filter_values(p_value jsonb, p_field text, p_operator text) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_out text[];
    v text;
    t timestamptz;
BEGIN
    IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'filterValue is required with filterField');
    ELSIF jsonb_typeof(p_value) = 'array' THEN
        IF p_operator NOT IN ('in', 'not_in') THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'filterValue may be a list only with filterOperator in or not_in');
        END IF;
        IF jsonb_array_length(p_value) > 100
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_value) e WHERE jsonb_typeof(e) NOT IN ('string', 'number')) THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'filterValue must be a list of at most 100 strings or numbers');
        END IF;
        v_out := ARRAY(SELECT e #>> '{}' FROM jsonb_array_elements(p_value) e);
    ELSIF jsonb_typeof(p_value) IN ('string', 'number', 'boolean') THEN
        v_out := CASE WHEN p_operator IN ('in', 'not_in') THEN string_to_array(p_value #>> '{}', ',')
                      ELSE ARRAY[p_value #>> '{}'] END;
    ELSE
        PERFORM auth.raise('VALIDATION_ERROR', 'filterValue must be a string, a number, a boolean or a list');
    END IF;
    IF coalesce(array_length(v_out, 1), 0) = 0 OR array_length(v_out, 1) > 100 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'filterValue must name 1 to 100 values');
    END IF;
    FOREACH v IN ARRAY v_out LOOP
        IF char_length(v) > 1000 THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'a filterValue is longer than 1000 characters');
        END IF;
        IF p_field = 'createdAt' THEN
            BEGIN
                t := v::timestamptz;
            EXCEPTION WHEN data_exception THEN
                PERFORM auth.raise('VALIDATION_ERROR', 'filterValue must be a timestamp for createdAt');
            END;
        END IF;
    END LOOP;
    IF p_field = 'createdAt' AND p_operator IN ('contains', 'starts_with', 'ends_with') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'createdAt is compared with eq, ne, lt, lte, gt, gte, in or not_in');
    END IF;
    IF p_field IN ('id', 'organizationId', 'userId') THEN
        v_out := ARRAY(SELECT lower(x) FROM unnest(v_out) x);
    END IF;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION auth.org_filter_values(jsonb, text, text) IS
  'Internal: list-members'' filterValue as text[] (a list for in / not_in: an array or a comma-separated string); VALIDATION_ERROR for a missing, malformed or too long value.';

-- Whether a member passes list-members' filter: p_field one of auth.org_member_field's names,
-- p_operator one of Better-Auth's where operators, p_values from auth.org_filter_values.
CREATE FUNCTION auth.org_member_matches(m auth.members, p_field text, p_operator text, p_values text[]) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text;
    t timestamptz;
BEGIN
    IF p_field = 'createdAt' THEN
        t := p_values[1]::timestamptz;
        RETURN CASE p_operator
            WHEN 'eq' THEN m.created_at = t WHEN 'ne' THEN m.created_at <> t
            WHEN 'lt' THEN m.created_at < t WHEN 'lte' THEN m.created_at <= t
            WHEN 'gt' THEN m.created_at > t WHEN 'gte' THEN m.created_at >= t
            WHEN 'in' THEN m.created_at = ANY (p_values::timestamptz[])
            WHEN 'not_in' THEN NOT m.created_at = ANY (p_values::timestamptz[]) END;
    END IF;
    v := CASE p_field WHEN 'id' THEN m.id::text WHEN 'organizationId' THEN m.organization_id::text
                      WHEN 'userId' THEN m.user_id::text WHEN 'role' THEN m.role END;
    RETURN CASE p_operator
        WHEN 'eq' THEN v = p_values[1] WHEN 'ne' THEN v <> p_values[1]
        WHEN 'lt' THEN v < p_values[1] WHEN 'lte' THEN v <= p_values[1]
        WHEN 'gt' THEN v > p_values[1] WHEN 'gte' THEN v >= p_values[1]
        WHEN 'in' THEN v = ANY (p_values) WHEN 'not_in' THEN NOT v = ANY (p_values)
        WHEN 'contains' THEN strpos(v, p_values[1]) > 0
        WHEN 'starts_with' THEN starts_with(v, p_values[1])
        WHEN 'ends_with' THEN right(v, char_length(p_values[1])) = p_values[1] END;
END
$$;
COMMENT ON FUNCTION auth.org_member_matches(auth.members, text, text, text[]) IS
  'Internal: list-members'' filter on one member (fields id, organizationId, userId, role, createdAt; operators eq, ne, lt, lte, gt, gte, in, not_in, contains, starts_with, ends_with).';

-- Dynamic roles may name only declared resources, as Better-Auth's ac statements: those of the
-- default statements and those a role defined in SQL names (a global role, or one of the
-- organization's own).
CREATE FUNCTION auth.org_check_resources(p_organization_id uuid, p_permission jsonb) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(p_permission) k(resource)
                WHERE k.resource NOT IN ('organization', 'member', 'invitation', 'team', 'teamMember', 'ac')
                  AND NOT EXISTS (SELECT 1 FROM auth.organization_roles r
                                   WHERE (r.organization_id IS NULL OR r.organization_id = p_organization_id)
                                     AND r.permission ? k.resource)) THEN
        PERFORM auth.raise('INVALID_RESOURCE');
    END IF;
END
$$;
COMMENT ON FUNCTION auth.org_check_resources(uuid, jsonb) IS
  'Internal: INVALID_RESOURCE when a permission statement names a resource that neither Better-Auth''s default statements nor a global role or a role of the organization declares.';

-- pgauth.team_member_limit (Better-Auth teams.maximumMembersPerTeam): a seat in a team, counted
-- under the team's row lock so the limit holds under concurrency; none needed by a team member.
CREATE FUNCTION auth.org_team_seat(p_team_id uuid, p_user_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_limit integer := auth.org_setting('team_member_limit');
BEGIN
    IF v_limit = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM auth.teams t WHERE t.id = p_team_id FOR NO KEY UPDATE;
    IF NOT EXISTS (SELECT 1 FROM auth.team_members tm WHERE tm.team_id = p_team_id AND tm.user_id = p_user_id)
       AND (SELECT count(*) FROM auth.team_members tm WHERE tm.team_id = p_team_id) >= v_limit THEN
        PERFORM auth.raise('TEAM_MEMBER_LIMIT_REACHED');
    END IF;
END
$$;
COMMENT ON FUNCTION auth.org_team_seat(uuid, uuid) IS
  'Internal: TEAM_MEMBER_LIMIT_REACHED when a user not yet in the team would exceed pgauth.team_member_limit (0 = none); race-safe.';

-- An organization always keeps an owner, on every path that deletes a user (delete-user, admin
-- remove-user, auth.delete_user, a plain DELETE FROM auth.users). First the user's organizations
-- are locked, in id order, before the memberships go: a concurrent deletion of another owner
-- waits, then counts what this one left.
CREATE FUNCTION auth.org_user_deleting() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    PERFORM 1 FROM auth.organizations o
     WHERE o.id IN (SELECT m.organization_id FROM auth.members m WHERE m.user_id = OLD.id)
     ORDER BY o.id FOR NO KEY UPDATE;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION auth.org_user_deleting() IS
  'Internal (trigger BEFORE DELETE ON auth.users): locks the user''s organizations before its memberships go, for auth.org_members_deleted''s owner count.';

-- Then, once memberships are gone (by a user's deletion or any other DELETE): an organization
-- left with members but no owner is refused (USER_IS_THE_ONLY_OWNER_OF_AN_ORGANIZATION), and one
-- left with no member at all goes, as org_delete does it (unsent invitation mail voided; its
-- invitations, teams and roles cascade; sessions lose it). A member whose user is gone counts as
-- gone: a DELETE FROM auth.users removes all its rows before the first membership cascades, so a
-- statement deleting several users is judged by what it leaves, whatever the row order.
CREATE FUNCTION auth.org_members_deleted() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_org uuid;
    o auth.organizations;
    v_members jsonb;
BEGIN
    FOR v_org IN SELECT DISTINCT g.organization_id FROM gone g ORDER BY 1 LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM auth.organizations x WHERE x.id = v_org);
        IF NOT EXISTS (SELECT 1 FROM auth.members m JOIN auth.users u ON u.id = m.user_id
                        WHERE m.organization_id = v_org) THEN
            SELECT jsonb_agg(jsonb_build_object('userId', x.user_id, 'role', x.role)) INTO v_members
              FROM (SELECT g.user_id, g.role FROM gone g WHERE g.organization_id = v_org
                    UNION ALL
                    SELECT m.user_id, m.role FROM auth.members m WHERE m.organization_id = v_org) x;
            DELETE FROM auth.verifications v USING auth.invitations i
             WHERE i.organization_id = v_org AND v.id = i.verification_id;
            DELETE FROM auth.organizations x WHERE x.id = v_org RETURNING x.* INTO o;
            PERFORM auth.org_audit('organization_delete', NULL, jsonb_build_object(
                'organizationId', o.id, 'slug', o.slug, 'reason', 'its last member was deleted', 'members', v_members));
        ELSIF NOT EXISTS (SELECT 1 FROM auth.members m JOIN auth.users u ON u.id = m.user_id
                           WHERE m.organization_id = v_org AND auth.org_is_owner(m.role)) THEN
            PERFORM auth.raise('USER_IS_THE_ONLY_OWNER_OF_AN_ORGANIZATION');
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.org_members_deleted() IS
  'Internal (trigger AFTER DELETE ON auth.members, per statement): an organization left with members but no owner raises USER_IS_THE_ONLY_OWNER_OF_AN_ORGANIZATION; one left with no member is deleted (audited organization_delete). A member whose user is already deleted counts as gone.';
CREATE TRIGGER users_organization_owner BEFORE DELETE ON auth.users
    FOR EACH ROW EXECUTE FUNCTION auth.org_user_deleting();
CREATE TRIGGER members_keep_an_owner AFTER DELETE ON auth.members REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION auth.org_members_deleted();

-- (0.7.0) The RLS helpers keep a user's memberships across transactions; any change to them
-- makes every backend drop its copy before its next transaction (a relcache invalidation).
CREATE FUNCTION auth.memberships_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgauth_memberships_changed' LANGUAGE C;
COMMENT ON FUNCTION auth.memberships_changed() IS
  'Internal (trigger AFTER INSERT, UPDATE, DELETE or TRUNCATE ON auth.members and auth.organization_roles, per statement): every backend drops the memberships its RLS helpers keep (auth.organization_id(), auth.has_permission(), ...) before its next transaction.';
REVOKE ALL ON FUNCTION auth.memberships_changed() FROM PUBLIC;
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.members
    FOR EACH STATEMENT EXECUTE FUNCTION auth.memberships_changed();
CREATE TRIGGER organization_roles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth.organization_roles
    FOR EACH STATEMENT EXECUTE FUNCTION auth.memberships_changed();

-- ---- endpoint functions (pgauth_service)
CREATE FUNCTION auth.org_create(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_name text;
    v_slug text;
    v_logo text;
    v_keep boolean;
    v_limit integer;
    o auth.organizations;
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_name := btrim(auth.org_text(b, 'name', true, 200));
    v_slug := auth.org_text(b, 'slug', true, 100);
    IF v_slug !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'slug must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    END IF;
    v_logo := auth.org_text(b, 'logo', false, 2048);
    IF jsonb_typeof(b -> 'metadata') NOT IN ('object', 'null') OR octet_length((b -> 'metadata')::text) > 16384 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'metadata must be an object of at most 16 kB');
    END IF;
    v_keep := auth.org_bool(b, 'keepCurrentActiveOrganization');
    -- pgauth.organization_limit: one creator per user at a time, so the count holds
    PERFORM 1 FROM auth.users u WHERE u.id = c.user_id FOR NO KEY UPDATE;
    v_limit := auth.org_setting('organization_limit');
    IF v_limit > 0 AND (SELECT count(*) FROM auth.members x WHERE x.user_id = c.user_id) >= v_limit THEN
        PERFORM auth.raise('YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS');
    END IF;
    INSERT INTO auth.organizations AS x (name, slug, logo, metadata)
    VALUES (v_name, v_slug, v_logo, nullif(b -> 'metadata', 'null'))
    ON CONFLICT (slug) DO NOTHING
    RETURNING x.* INTO o;
    IF o.id IS NULL THEN
        PERFORM auth.raise('ORGANIZATION_ALREADY_EXISTS');
    END IF;
    INSERT INTO auth.members AS x (organization_id, user_id, role) VALUES (o.id, c.user_id, 'owner') RETURNING x.* INTO m;
    PERFORM auth.org_audit('organization_create', c.user_id, jsonb_build_object('organizationId', o.id, 'slug', o.slug));
    PERFORM auth.org_audit('member_add', c.user_id, jsonb_build_object('organizationId', o.id, 'memberId', m.id,
                           'role', m.role, 'by', c.user_id));
    IF NOT v_keep AND c.session_id IS NOT NULL THEN
        UPDATE auth.sessions s SET active_organization_id = o.id, active_team_id = NULL WHERE s.id = c.session_id;
    END IF;
    RETURN (auth.org_json(o) || jsonb_build_object('members', jsonb_build_array(auth.org_member_json(m, false))))::json;
END
$$;
COMMENT ON FUNCTION auth.org_create(text, jsonb) IS
  'POST /organization/create {name, slug, logo?, metadata?, keepCurrentActiveOrganization?}: the organization with members [the caller as owner]; made the session''s active organization unless keepCurrentActiveOrganization. ORGANIZATION_ALREADY_EXISTS (slug taken), YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS (pgauth.organization_limit). NULL without a live session.';

CREATE FUNCTION auth.org_update(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    d jsonb;
    v_org uuid;
    me auth.members;
    v_slug text;
    o auth.organizations;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    d := b -> 'data';
    IF d IS NULL OR jsonb_typeof(d) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'data must be an object');
    END IF;
    v_org := auth.org_target(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'organization', 'update') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION');
    END IF;
    v_slug := auth.org_text(d, 'slug', false, 100);
    IF v_slug !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'slug must be 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    END IF;
    IF v_slug IS NOT NULL AND EXISTS (SELECT 1 FROM auth.organizations x WHERE x.slug = v_slug AND x.id <> v_org) THEN
        PERFORM auth.raise('ORGANIZATION_SLUG_ALREADY_TAKEN');
    END IF;
    IF jsonb_typeof(d -> 'metadata') NOT IN ('object', 'null') OR octet_length((d -> 'metadata')::text) > 16384 THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'metadata must be an object of at most 16 kB');
    END IF;
    UPDATE auth.organizations x
       SET name = coalesce(btrim(auth.org_text(d, 'name', false, 200)), x.name),
           slug = coalesce(v_slug, x.slug),
           logo = CASE WHEN d ? 'logo' THEN auth.org_text(d, 'logo', false, 2048) ELSE x.logo END,
           metadata = CASE WHEN d ? 'metadata' THEN nullif(d -> 'metadata', 'null') ELSE x.metadata END
     WHERE x.id = v_org
    RETURNING x.* INTO o;
    RETURN auth.org_json(o)::json;
EXCEPTION WHEN unique_violation THEN
    PERFORM auth.raise('ORGANIZATION_SLUG_ALREADY_TAKEN');
END
$$;
COMMENT ON FUNCTION auth.org_update(text, jsonb) IS
  'POST /organization/update {data: {name?, slug?, logo?, metadata?}, organizationId?}: the updated organization (organization:update). ORGANIZATION_SLUG_ALREADY_TAKEN, YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION.';

CREATE FUNCTION auth.org_delete(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    o auth.organizations;
    v_members jsonb;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_uuid(b, 'organizationId', true, 'ORGANIZATION_NOT_FOUND');
    v_org := auth.org_target(b, NULL);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'organization', 'delete') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION');
    END IF;
    -- unsent invitation mail is void; members, invitations, teams and roles go with the
    -- organization (ON DELETE CASCADE), sessions stop showing it (ON DELETE SET NULL)
    DELETE FROM auth.verifications v USING auth.invitations i
     WHERE i.organization_id = v_org AND v.id = i.verification_id;
    SELECT coalesce(jsonb_agg(jsonb_build_object('userId', m.user_id, 'role', m.role)), '[]') INTO v_members
      FROM auth.members m WHERE m.organization_id = v_org;
    DELETE FROM auth.organizations x WHERE x.id = v_org RETURNING x.* INTO o;
    PERFORM auth.org_audit('organization_delete', c.user_id,
                           jsonb_build_object('organizationId', o.id, 'slug', o.slug, 'members', v_members));
    RETURN auth.org_json(o)::json;
END
$$;
COMMENT ON FUNCTION auth.org_delete(text, jsonb) IS
  'POST /organization/delete {organizationId}: the deleted organization (organization:delete). Its members, invitations (unsent mail voided), teams and roles go; every session that had it active has none. YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION.';

CREATE FUNCTION auth.org_list(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM auth.org_body(p_body);
    RETURN (SELECT coalesce(jsonb_agg(auth.org_json(o) ORDER BY o.created_at, o.id), '[]')
              FROM auth.organizations o JOIN auth.members m ON m.organization_id = o.id AND m.user_id = c.user_id)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list(text, jsonb) IS 'GET /organization/list: the organizations the caller is a member of.';

CREATE FUNCTION auth.org_get_full(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_slug text;
    v_limit integer;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_limit := coalesce(auth.org_int(b, 'membersLimit', 1, 100000), auth.org_setting('membership_limit'));
    v_org := auth.org_uuid(b, 'organizationId', false, 'ORGANIZATION_NOT_FOUND');
    v_slug := auth.org_text(b, 'organizationSlug', false, 100);
    IF v_org IS NULL AND v_slug IS NOT NULL THEN
        SELECT o.id INTO v_org FROM auth.organizations o WHERE o.slug = v_slug;
        IF v_org IS NULL THEN
            PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
        END IF;
    END IF;
    v_org := coalesce(v_org, c.active_organization_id);
    IF v_org IS NULL THEN
        RETURN 'null'::json;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.organizations o WHERE o.id = v_org) THEN
        PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
    END IF;
    PERFORM auth.org_member_of(v_org, c.user_id);
    RETURN auth.org_full_json(v_org, nullif(v_limit, 0));
END
$$;
COMMENT ON FUNCTION auth.org_get_full(text, jsonb) IS
  'GET /organization/get-full-organization {organizationId? | organizationSlug?, membersLimit?}: the organization with members (with user), invitations and teams; JSON null when none is named or active. YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION (403) for a non-member.';

CREATE FUNCTION auth.org_set_active(p_token text, p_body jsonb, OUT body json, OUT error_code text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, true);
    b jsonb;
    v_org uuid;
    v_slug text;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN;
    END IF;
    b := auth.org_body(p_body);
    IF jsonb_typeof(b -> 'organizationId') = 'null' THEN  -- organizationId: null clears the organization and team
        UPDATE auth.sessions s SET active_organization_id = NULL, active_team_id = NULL WHERE s.id = c.session_id;
        body := 'null';
        RETURN;
    END IF;
    v_org := auth.org_uuid(b, 'organizationId', false, 'ORGANIZATION_NOT_FOUND');
    v_slug := auth.org_text(b, 'organizationSlug', false, 100);
    IF v_org IS NULL AND v_slug IS NOT NULL THEN
        SELECT o.id INTO v_org FROM auth.organizations o WHERE o.slug = v_slug;
        IF v_org IS NULL THEN
            PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
        END IF;
    END IF;
    v_org := coalesce(v_org, c.active_organization_id);
    IF v_org IS NULL THEN
        body := 'null';
        RETURN;
    END IF;
    -- a refused switch leaves the session with no active organization, as Better-Auth's does:
    -- the refusal is a value, so that write commits
    IF NOT EXISTS (SELECT 1 FROM auth.members m WHERE m.organization_id = v_org AND m.user_id = c.user_id) THEN
        UPDATE auth.sessions s SET active_organization_id = NULL, active_team_id = NULL WHERE s.id = c.session_id;
        error_code := CASE WHEN EXISTS (SELECT 1 FROM auth.organizations o WHERE o.id = v_org)
                           THEN 'YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION' ELSE 'ORGANIZATION_NOT_FOUND' END;
        RETURN;
    END IF;
    UPDATE auth.sessions s
       SET active_organization_id = v_org,
           active_team_id = CASE WHEN s.active_organization_id = v_org THEN s.active_team_id END
     WHERE s.id = c.session_id;
    body := auth.org_full_json(v_org, nullif(auth.org_setting('membership_limit'), 0));
END
$$;
COMMENT ON FUNCTION auth.org_set_active(text, jsonb) IS
  'POST /organization/set-active {organizationId | organizationSlug | organizationId: null}: (body, error_code). body = the (member''s) organization in full, now the session''s active one; organizationId null clears the active organization and team (body JSON null); neither returns the active one (JSON null if none). A refused switch (error_code YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION, 403, or ORGANIZATION_NOT_FOUND for an id naming nothing) also clears the session''s active organization and team, as Better-Auth does; an unknown organizationSlug raises ORGANIZATION_NOT_FOUND and changes nothing. Needs a session (API_KEY_NOT_ALLOWED); both NULL without a live session.';

CREATE FUNCTION auth.org_check_slug(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    v_slug text;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_slug := auth.org_text(auth.org_body(p_body), 'slug', true, 100);
    IF EXISTS (SELECT 1 FROM auth.organizations o WHERE o.slug = v_slug) THEN
        PERFORM auth.raise('ORGANIZATION_SLUG_ALREADY_TAKEN');
    END IF;
    RETURN json_build_object('status', true);
END
$$;
COMMENT ON FUNCTION auth.org_check_slug(text, jsonb) IS
  'POST /organization/check-slug {slug}: {"status": true} when free; ORGANIZATION_SLUG_ALREADY_TAKEN otherwise.';

-- ---- invitations
CREATE FUNCTION auth.org_invite_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    v_email text;
    v_roles text;
    v_team uuid;
    v_resend boolean;
    v_limit integer;
    i auth.invitations;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'invitation', 'create') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION');
    END IF;
    v_email := auth.normalize_email(auth.org_text(b, 'email', true, 254));
    v_roles := auth.org_parse_roles(v_org, b -> 'role');
    IF NOT auth.org_may_grant(v_org, me.role, v_roles) THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE');
    END IF;
    v_team := auth.org_uuid(b, 'teamId', false, 'TEAM_NOT_FOUND');
    IF v_team IS NOT NULL THEN
        PERFORM auth.org_team_of(v_org, v_team);
    END IF;
    v_resend := auth.org_bool(b, 'resend');  -- type-checked up front, whether or not the address is invited
    IF EXISTS (SELECT 1 FROM auth.members m JOIN auth.users u ON u.id = m.user_id
                WHERE m.organization_id = v_org AND u.email = v_email) THEN
        PERFORM auth.raise('USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION');
    END IF;
    SELECT * INTO i FROM auth.invitations x
     WHERE x.organization_id = v_org AND x.email = v_email AND x.status = 'pending' AND x.expires_at > now()
     ORDER BY x.created_at DESC LIMIT 1 FOR UPDATE;
    IF i.id IS NOT NULL THEN
        IF NOT v_resend THEN
            PERFORM auth.raise('USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION');
        END IF;
        UPDATE auth.invitations x
           SET expires_at = now() + auth.email_setting('pgauth.invitation_expires_in')::interval,
               role = v_roles, team_id = v_team, inviter_id = c.user_id
         WHERE x.id = i.id RETURNING x.* INTO i;
    ELSE
        v_limit := auth.org_setting('invitation_limit');
        IF v_limit > 0 AND (SELECT count(*) FROM auth.invitations x
                             WHERE x.organization_id = v_org AND x.status = 'pending' AND x.expires_at > now()) >= v_limit THEN
            PERFORM auth.raise('INVITATION_LIMIT_REACHED');
        END IF;
        INSERT INTO auth.invitations AS x (organization_id, email, role, team_id, inviter_id, expires_at)
        VALUES (v_org, v_email, v_roles, v_team, c.user_id,
                now() + auth.email_setting('pgauth.invitation_expires_in')::interval)
        RETURNING x.* INTO i;
    END IF;
    PERFORM auth.org_queue_invitation(i);
    PERFORM auth.org_audit('invitation_create', NULL, jsonb_build_object('organizationId', v_org, 'invitationId', i.id,
                           'email', v_email, 'role', v_roles, 'by', c.user_id));
    RETURN auth.org_invitation_json(i)::json;
END
$$;
COMMENT ON FUNCTION auth.org_invite_member(text, jsonb) IS
  'POST /organization/invite-member {email, role, organizationId?, teamId?, resend?}: the invitation (expires after pgauth.invitation_expires_in); its mail (template organization-invitation, link with the invitation id) is queued in the same transaction. invitation:create, and no role the inviter could not grant (YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE). USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION, USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION (without resend), INVITATION_LIMIT_REACHED (pgauth.invitation_limit).';

CREATE FUNCTION auth.org_accept_invitation(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, true);
    b jsonb;
    i auth.invitations;
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    -- the organization first (as every membership change), then the invitation
    PERFORM auth.org_lock(x.organization_id) FROM auth.invitations x
      WHERE x.id = auth.org_uuid(b, 'invitationId', true, 'INVITATION_NOT_FOUND');
    i := auth.org_my_invitation(b, 'invitationId', c.user_id);
    m := auth.org_insert_member(i.organization_id, c.user_id, i.role, i.team_id, 'invitation_accept', i.inviter_id);
    UPDATE auth.invitations x SET status = 'accepted' WHERE x.id = i.id RETURNING x.* INTO i;
    UPDATE auth.sessions s SET active_organization_id = i.organization_id, active_team_id = i.team_id
     WHERE s.id = c.session_id;
    RETURN json_build_object('invitation', auth.org_invitation_json(i), 'member', auth.org_member_json(m, false));
END
$$;
COMMENT ON FUNCTION auth.org_accept_invitation(text, jsonb) IS
  'POST /organization/accept-invitation {invitationId}: {invitation, member}; only the signed-in user with the invited address (YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION, 403), while pending and unexpired (INVITATION_NOT_FOUND). The organization becomes the session''s active one. ORGANIZATION_MEMBERSHIP_LIMIT_REACHED.';

CREATE FUNCTION auth.org_reject_invitation(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, true);
    i auth.invitations;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    i := auth.org_my_invitation(auth.org_body(p_body), 'invitationId', c.user_id);
    UPDATE auth.invitations x SET status = 'rejected' WHERE x.id = i.id RETURNING x.* INTO i;
    PERFORM auth.org_audit('invitation_reject', c.user_id,
                           jsonb_build_object('organizationId', i.organization_id, 'invitationId', i.id));
    RETURN json_build_object('invitation', auth.org_invitation_json(i), 'member', NULL);
END
$$;
COMMENT ON FUNCTION auth.org_reject_invitation(text, jsonb) IS
  'POST /organization/reject-invitation {invitationId}: {invitation, member: null}; recipient only, as accept-invitation.';

CREATE FUNCTION auth.org_cancel_invitation(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    v_id uuid;
    i auth.invitations;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_id := auth.org_uuid(auth.org_body(p_body), 'invitationId', true, 'INVITATION_NOT_FOUND');
    SELECT * INTO i FROM auth.invitations x WHERE x.id = v_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('INVITATION_NOT_FOUND');
    END IF;
    me := auth.org_member_of(i.organization_id, c.user_id);
    IF NOT auth.org_can(i.organization_id, me.role, 'invitation', 'cancel') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION');
    END IF;
    IF i.status <> 'pending' THEN
        PERFORM auth.raise('INVITATION_NOT_FOUND');
    END IF;
    DELETE FROM auth.verifications v WHERE v.id = i.verification_id;  -- an unsent mail is void
    UPDATE auth.invitations x SET status = 'canceled' WHERE x.id = i.id RETURNING x.* INTO i;
    PERFORM auth.org_audit('invitation_cancel', NULL, jsonb_build_object('organizationId', i.organization_id,
                           'invitationId', i.id, 'email', i.email, 'by', c.user_id));
    RETURN auth.org_invitation_json(i)::json;
END
$$;
COMMENT ON FUNCTION auth.org_cancel_invitation(text, jsonb) IS
  'POST /organization/cancel-invitation {invitationId}: the canceled invitation (invitation:cancel; its unsent mail is voided). YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION, INVITATION_NOT_FOUND.';

CREATE FUNCTION auth.org_get_invitation(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    i auth.invitations;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    i := auth.org_my_invitation(auth.org_body(p_body), 'id', c.user_id);
    RETURN (SELECT auth.org_invitation_json(i)
                   || jsonb_build_object('organizationName', o.name, 'organizationSlug', o.slug, 'inviterEmail', u.email)
              FROM auth.organizations o LEFT JOIN auth.users u ON u.id = i.inviter_id
             WHERE o.id = i.organization_id)::json;
END
$$;
COMMENT ON FUNCTION auth.org_get_invitation(text, jsonb) IS
  'GET /organization/get-invitation {id}: the invitation with organizationName, organizationSlug and inviterEmail; recipient only (YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION), pending and unexpired (INVITATION_NOT_FOUND).';

CREATE FUNCTION auth.org_list_invitations(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    v_org uuid;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_org := auth.org_target(auth.org_body(p_body), c.active_organization_id);
    PERFORM auth.org_member_of(v_org, c.user_id);
    RETURN (SELECT coalesce(jsonb_agg(auth.org_invitation_json(i) ORDER BY i.created_at, i.id), '[]')
              FROM auth.invitations i WHERE i.organization_id = v_org)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_invitations(text, jsonb) IS
  'GET /organization/list-invitations {organizationId?}: every invitation of the organization (members only).';

CREATE FUNCTION auth.org_list_user_invitations(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM auth.org_body(p_body);
    RETURN (SELECT coalesce(jsonb_agg(auth.org_invitation_json(i) || jsonb_build_object('organizationName', o.name)
                                      ORDER BY i.created_at, i.id), '[]')
              FROM auth.users u
              JOIN auth.invitations i ON i.email = u.email AND i.status = 'pending' AND i.expires_at > now()
              JOIN auth.organizations o ON o.id = i.organization_id
             WHERE u.id = c.user_id)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_user_invitations(text, jsonb) IS
  'GET /organization/list-user-invitations: the pending, unexpired invitations addressed to the caller''s email, with organizationName.';

-- ---- members
CREATE FUNCTION auth.org_list_members(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_limit integer;
    v_offset integer;
    v_sort text;
    v_direction text;
    v_field text;
    v_operator text;
    v_values text[];
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target_or_slug(b, c.active_organization_id);
    PERFORM auth.org_member_of(v_org, c.user_id);
    -- Better-Auth's page: limit (default membershipLimit, else 100), offset, one sort, one filter
    v_limit := coalesce(auth.org_int(b, 'limit', 1, 100000), nullif(auth.org_setting('membership_limit'), 0), 100);
    v_offset := coalesce(auth.org_int(b, 'offset', 0, 100000000), 0);
    v_sort := auth.org_member_field(b, 'sortBy');
    v_direction := coalesce(auth.org_text(b, 'sortDirection', false, 16), 'asc');
    IF v_direction NOT IN ('asc', 'desc') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'sortDirection must be asc or desc');
    END IF;
    v_field := auth.org_member_field(b, 'filterField');
    IF v_field IS NOT NULL THEN
        v_operator := coalesce(auth.org_text(b, 'filterOperator', false, 16), 'eq');
        IF v_operator NOT IN ('eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'not_in', 'contains', 'starts_with',
                              'ends_with') THEN
            PERFORM auth.raise('VALIDATION_ERROR',
                'filterOperator must be one of eq, ne, lt, lte, gt, gte, in, not_in, contains, starts_with, ends_with');
        END IF;
        v_values := auth.org_filter_values(b -> 'filterValue', v_field, v_operator);
    END IF;
    RETURN (
    WITH f AS (SELECT x AS m FROM auth.members x
                WHERE x.organization_id = v_org
                  AND (v_field IS NULL OR auth.org_member_matches(x, v_field, v_operator, v_values))),
         ranked AS (SELECT f.m, row_number() OVER (ORDER BY
                        CASE WHEN v_sort = 'createdAt' AND v_direction = 'asc' THEN (f.m).created_at END ASC,
                        CASE WHEN v_sort = 'createdAt' AND v_direction = 'desc' THEN (f.m).created_at END DESC,
                        CASE WHEN v_direction = 'asc' THEN
                            CASE v_sort WHEN 'id' THEN (f.m).id::text WHEN 'organizationId' THEN (f.m).organization_id::text
                                        WHEN 'userId' THEN (f.m).user_id::text WHEN 'role' THEN (f.m).role END END ASC,
                        CASE WHEN v_direction = 'desc' THEN
                            CASE v_sort WHEN 'id' THEN (f.m).id::text WHEN 'organizationId' THEN (f.m).organization_id::text
                                        WHEN 'userId' THEN (f.m).user_id::text WHEN 'role' THEN (f.m).role END END DESC,
                        (f.m).created_at, (f.m).id) AS n
                      FROM f),
         page AS (SELECT r.m, r.n FROM ranked r ORDER BY r.n LIMIT v_limit OFFSET v_offset)
    SELECT json_build_object(
        'members', (SELECT coalesce(jsonb_agg(auth.org_member_json(p.m, true) ORDER BY p.n), '[]') FROM page p),
        'total', (SELECT count(*) FROM f)));
END
$$;
COMMENT ON FUNCTION auth.org_list_members(text, jsonb) IS
  'GET /organization/list-members {organizationId? | organizationSlug?, limit?, offset?, sortBy?, sortDirection?, filterField?, filterOperator?, filterValue?}: {members (with user), total = the members the filter passes}; members only. limit defaults to pgauth.membership_limit (else 100). sortBy / filterField: id, organizationId, userId, role or createdAt; sortDirection asc | desc; filterOperator eq (default), ne, lt, lte, gt, gte, in, not_in, contains, starts_with, ends_with (VALIDATION_ERROR otherwise).';

CREATE FUNCTION auth.org_add_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    v_user uuid;
    v_roles text;
    v_team uuid;
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'member', 'create') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_ADD_A_MEMBER');
    END IF;
    v_user := auth.org_uuid(b, 'userId', true, 'USER_NOT_FOUND');
    v_roles := auth.org_parse_roles(v_org, b -> 'role');
    IF NOT auth.org_may_grant(v_org, me.role, v_roles) THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_ADD_A_MEMBER');
    END IF;
    v_team := auth.org_uuid(b, 'teamId', false, 'TEAM_NOT_FOUND');
    IF v_team IS NOT NULL THEN
        PERFORM auth.org_team_of(v_org, v_team);
    END IF;
    m := auth.org_insert_member(v_org, v_user, v_roles, v_team, 'member_add', c.user_id);
    RETURN auth.org_member_json(m, false)::json;
END
$$;
COMMENT ON FUNCTION auth.org_add_member(text, jsonb) IS
  'POST /organization/add-member {userId, role, organizationId?, teamId?}: the new member; the caller needs member:create and may give no role it could not grant (YOU_ARE_NOT_ALLOWED_TO_ADD_A_MEMBER). USER_NOT_FOUND, USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION, ORGANIZATION_MEMBERSHIP_LIMIT_REACHED.';

CREATE FUNCTION auth.org_add_member_admin(p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    b jsonb := auth.org_body(p_body);
    v_org uuid;
    v_team uuid;
    m auth.members;
BEGIN
    v_org := auth.org_uuid(b, 'organizationId', true, 'ORGANIZATION_NOT_FOUND');
    v_org := auth.org_target(b, NULL);
    PERFORM auth.org_lock(v_org);
    v_team := auth.org_uuid(b, 'teamId', false, 'TEAM_NOT_FOUND');
    IF v_team IS NOT NULL THEN
        PERFORM auth.org_team_of(v_org, v_team);
    END IF;
    m := auth.org_insert_member(v_org, auth.org_uuid(b, 'userId', true, 'USER_NOT_FOUND'),
                                auth.org_parse_roles(v_org, b -> 'role'), v_team, 'member_add', NULL);
    RETURN auth.org_member_json(m, false)::json;
END
$$;
COMMENT ON FUNCTION auth.org_add_member_admin(jsonb) IS
  'Server side (pgauth_admin): adds {userId, role, organizationId, teamId?} without a session, as Better-Auth''s server-only addMember.';

CREATE FUNCTION auth.org_remove_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_owners integer;
    me auth.members;
    target auth.members;
    v_key text;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_key := btrim(auth.org_text(b, 'memberIdOrEmail', true, 254));
    v_org := auth.org_target(b, c.active_organization_id);
    v_owners := auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF v_key ~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
        SELECT * INTO target FROM auth.members x WHERE x.id = v_key::uuid AND x.organization_id = v_org;
    ELSE
        SELECT x.* INTO target FROM auth.members x JOIN auth.users u ON u.id = x.user_id
         WHERE x.organization_id = v_org AND u.email = lower(v_key);
    END IF;
    IF target.id IS NULL THEN
        PERFORM auth.raise('MEMBER_NOT_FOUND');
    END IF;
    IF target.user_id <> c.user_id AND NOT auth.org_can(v_org, me.role, 'member', 'delete') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER');
    END IF;
    IF auth.org_is_owner(target.role) AND NOT auth.org_is_owner(me.role) THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER');
    END IF;
    IF auth.org_is_owner(target.role) AND v_owners <= 1 THEN
        PERFORM auth.raise('YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER');
    END IF;
    PERFORM auth.org_drop_member(target, 'member_remove', c.user_id);
    RETURN json_build_object('member', auth.org_member_json(target, false));
END
$$;
COMMENT ON FUNCTION auth.org_remove_member(text, jsonb) IS
  'POST /organization/remove-member {memberIdOrEmail, organizationId?}: {member}; member:delete (or oneself), only owners remove owners (YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER), never the last owner (YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER). MEMBER_NOT_FOUND.';

CREATE FUNCTION auth.org_update_member_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_owners integer;
    v_id uuid;
    v_roles text;
    me auth.members;
    target auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_id := auth.org_uuid(b, 'memberId', true, 'MEMBER_NOT_FOUND');
    v_org := auth.org_target(b, c.active_organization_id);
    v_owners := auth.org_lock(v_org);  -- first: what follows reads the committed roles
    me := auth.org_member_of(v_org, c.user_id);
    v_roles := auth.org_parse_roles(v_org, b -> 'role');
    SELECT * INTO target FROM auth.members x WHERE x.id = v_id AND x.organization_id = v_org;
    IF target.id IS NULL THEN
        PERFORM auth.raise('MEMBER_NOT_FOUND');
    END IF;
    IF NOT auth.org_can(v_org, me.role, 'member', 'update')
       OR (auth.org_is_owner(target.role) AND NOT auth.org_is_owner(me.role))
       OR NOT auth.org_may_grant(v_org, me.role, v_roles) THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER');
    END IF;
    IF auth.org_is_owner(target.role) AND NOT auth.org_is_owner(v_roles) AND v_owners <= 1 THEN
        PERFORM auth.raise('YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER');
    END IF;
    UPDATE auth.members x SET role = v_roles WHERE x.id = target.id RETURNING x.* INTO me;
    PERFORM auth.org_audit('member_role_update', target.user_id, jsonb_build_object('organizationId', v_org,
                           'memberId', target.id, 'from', target.role, 'to', v_roles, 'by', c.user_id));
    RETURN auth.org_member_json(me, false)::json;
END
$$;
COMMENT ON FUNCTION auth.org_update_member_role(text, jsonb) IS
  'POST /organization/update-member-role {memberId, role, organizationId?}: the updated member. member:update; only owners change owners or give owner; no role with a permission the caller lacks (YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER); the last owner stays (YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER, race-safe). MEMBER_NOT_FOUND, ROLE_NOT_FOUND.';

CREATE FUNCTION auth.org_get_active_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM auth.org_body(p_body);
    IF c.active_organization_id IS NULL THEN
        PERFORM auth.raise('NO_ACTIVE_ORGANIZATION');
    END IF;
    SELECT * INTO m FROM auth.members x WHERE x.organization_id = c.active_organization_id AND x.user_id = c.user_id;
    IF NOT FOUND THEN
        PERFORM auth.raise('MEMBER_NOT_FOUND');
    END IF;
    RETURN auth.org_member_json(m, true)::json;
END
$$;
COMMENT ON FUNCTION auth.org_get_active_member(text, jsonb) IS
  'GET /organization/get-active-member: the caller''s membership (with user) in the active organization. NO_ACTIVE_ORGANIZATION, MEMBER_NOT_FOUND.';

CREATE FUNCTION auth.org_get_active_member_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_user uuid;
    me auth.members;
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target_or_slug(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    -- another user's role: only for a member of the same organization, about a member of it
    v_user := auth.org_uuid(b, 'userId', false, 'YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION');
    IF v_user IS NULL OR v_user = c.user_id THEN
        RETURN json_build_object('role', me.role);
    END IF;
    SELECT * INTO m FROM auth.members x WHERE x.organization_id = v_org AND x.user_id = v_user;
    IF NOT FOUND THEN
        PERFORM auth.raise('YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION');
    END IF;
    RETURN json_build_object('role', m.role);
END
$$;
COMMENT ON FUNCTION auth.org_get_active_member_role(text, jsonb) IS
  'GET /organization/get-active-member-role {userId?, organizationId? | organizationSlug?}: {role} of the caller (or of userId, a member of the same organization) in the organization (default the active one). YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION (403) when the caller or userId is not a member; NO_ACTIVE_ORGANIZATION, ORGANIZATION_NOT_FOUND.';

CREATE FUNCTION auth.org_leave(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    v_owners integer;
    m auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_uuid(b, 'organizationId', true, 'MEMBER_NOT_FOUND');
    IF NOT EXISTS (SELECT 1 FROM auth.organizations o WHERE o.id = v_org) THEN
        PERFORM auth.raise('MEMBER_NOT_FOUND');
    END IF;
    v_owners := auth.org_lock(v_org);
    SELECT * INTO m FROM auth.members x WHERE x.organization_id = v_org AND x.user_id = c.user_id;
    IF NOT FOUND THEN
        PERFORM auth.raise('MEMBER_NOT_FOUND');
    END IF;
    IF auth.org_is_owner(m.role) AND v_owners <= 1 THEN
        PERFORM auth.raise('YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER');
    END IF;
    PERFORM auth.org_drop_member(m, 'member_leave', c.user_id);
    RETURN auth.org_member_json(m, false)::json;
END
$$;
COMMENT ON FUNCTION auth.org_leave(text, jsonb) IS
  'POST /organization/leave {organizationId}: the caller''s former membership. YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER (race-safe), MEMBER_NOT_FOUND.';

-- ---- access control
-- The rules of has-permission in full; auth.org_has_permission (C++, org_permission.cpp) answers the
-- common request itself and hands every other one (an API key, an organizationId, a malformed body) here.
CREATE FUNCTION auth.org_has_permission_checked(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_wanted jsonb;
    v_org uuid;
    v_granted text[];
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_wanted := coalesce(b -> 'permissions', b -> 'permission');
    IF v_wanted IS NULL OR jsonb_typeof(v_wanted) <> 'object' OR v_wanted = '{}' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
    END IF;
    v_wanted := auth.org_check_permission(v_wanted);
    v_org := auth.org_target(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    -- "resource action" pairs (names never hold a space) and ANY(): an EXCEPT built a hash table
    -- sized for the planner's guess of the rows of two set-returning functions on every call
    v_granted := ARRAY(SELECT p.resource || ' ' || p.action FROM auth.org_permissions(v_org, me.role) p);
    RETURN json_build_object('error', NULL, 'success', NOT EXISTS (
        SELECT 1 FROM jsonb_each(v_wanted) w, jsonb_array_elements_text(w.value) a
         WHERE NOT (w.key || ' ' || a.value) = ANY (v_granted)));
END
$$;
COMMENT ON FUNCTION auth.org_has_permission_checked(text, jsonb) IS
  'Internal: has-permission with every rule and error, for what auth.org_has_permission does not answer itself.';
REVOKE ALL ON FUNCTION auth.org_has_permission_checked(text, jsonb) FROM PUBLIC;

CREATE FUNCTION auth.org_has_permission(p_token text, p_body jsonb) RETURNS json
    AS 'MODULE_PATHNAME', 'pgauth_org_has_permission' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.org_has_permission(text, jsonb) IS
  'POST /organization/has-permission {permissions: {resource: [action]}, organizationId?}: {error: null, success} = whether the caller''s role in the organization grants every listed action.';

CREATE FUNCTION auth.org_role_target(p_body jsonb, p_organization_id uuid) RETURNS auth.organization_roles
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    r auth.organization_roles;
    v_id uuid := auth.org_uuid(p_body, 'roleId', false, 'ROLE_NOT_FOUND');
    v_name text := auth.org_text(p_body, 'roleName', false, 64);
BEGIN
    IF v_id IS NULL AND v_name IS NULL THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'roleName or roleId is required');
    END IF;
    SELECT * INTO r FROM auth.organization_roles x
     WHERE x.organization_id = p_organization_id AND (x.id = v_id OR (v_id IS NULL AND x.role = v_name))
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM auth.raise('ROLE_NOT_FOUND');
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION auth.org_role_target(jsonb, uuid) IS
  'Internal: the organization''s own role named by roleName or roleId, locked; ROLE_NOT_FOUND.';

CREATE FUNCTION auth.org_create_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    v_name text;
    v_permission jsonb;
    r auth.organization_roles;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'ac', 'create') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE');
    END IF;
    v_name := btrim(auth.org_text(b, 'role', true, 64));
    IF v_name !~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'a role name must be 1 to 64 letters, digits, _ or -, starting with a letter');
    END IF;
    v_permission := auth.org_check_permission(b -> 'permission');
    PERFORM auth.org_check_resources(v_org, v_permission);
    IF EXISTS (SELECT 1 FROM auth.organization_roles x
                WHERE x.role = v_name AND (x.organization_id = v_org OR x.organization_id IS NULL)) THEN
        PERFORM auth.raise('ROLE_ALREADY_EXISTS');
    END IF;
    IF NOT auth.org_is_owner(me.role) AND EXISTS (
        SELECT w.key, a.value FROM jsonb_each(v_permission) w, jsonb_array_elements_text(w.value) a
        EXCEPT SELECT p.resource, p.action FROM auth.org_permissions(v_org, me.role) p) THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE');
    END IF;
    INSERT INTO auth.organization_roles AS x (organization_id, role, permission)
    VALUES (v_org, v_name, v_permission) RETURNING x.* INTO r;
    PERFORM auth.org_audit('role_create', NULL, jsonb_build_object('organizationId', v_org, 'role', v_name,
                           'permission', v_permission, 'by', c.user_id));
    RETURN json_build_object('success', true, 'roleData', auth.org_role_json(r), 'statements', v_permission);
END
$$;
COMMENT ON FUNCTION auth.org_create_role(text, jsonb) IS
  'POST /organization/create-role {role, permission: {resource: [action]}, organizationId?}: {success, roleData, statements}. ac:create, and only permissions the caller holds (owners: any). ROLE_ALREADY_EXISTS (also for a global role''s name). INVALID_RESOURCE for a resource no role declares (auth.org_check_resources).';

CREATE FUNCTION auth.org_list_roles(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    v_org uuid;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_org := auth.org_target(auth.org_body(p_body), c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'ac', 'read') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_LIST_ROLES');
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(auth.org_role_json(r) ORDER BY r.created_at, r.role), '[]')
              FROM auth.organization_roles r WHERE r.organization_id = v_org)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_roles(text, jsonb) IS
  'GET /organization/list-roles {organizationId?}: the organization''s own (dynamic) roles; ac:read.';

CREATE FUNCTION auth.org_get_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'ac', 'read') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_LIST_ROLES');
    END IF;
    RETURN auth.org_role_json(auth.org_role_target(b, v_org))::json;
END
$$;
COMMENT ON FUNCTION auth.org_get_role(text, jsonb) IS
  'GET /organization/get-role {roleName | roleId, organizationId?}: one of the organization''s roles; ac:read. ROLE_NOT_FOUND.';

CREATE FUNCTION auth.org_update_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    d jsonb;
    v_org uuid;
    me auth.members;
    r auth.organization_roles;
    v_name text;
    v_permission jsonb;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    d := b -> 'data';
    IF d IS NULL OR jsonb_typeof(d) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'data must be an object');
    END IF;
    v_org := auth.org_target(b, c.active_organization_id);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'ac', 'update') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE');
    END IF;
    r := auth.org_role_target(b, v_org);
    v_name := btrim(auth.org_text(d, 'roleName', false, 64));
    IF v_name IS NOT NULL AND v_name <> r.role THEN
        IF v_name !~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$' THEN
            PERFORM auth.raise('VALIDATION_ERROR', 'a role name must be 1 to 64 letters, digits, _ or -, starting with a letter');
        END IF;
        IF EXISTS (SELECT 1 FROM auth.organization_roles x
                    WHERE x.role = v_name AND (x.organization_id = v_org OR x.organization_id IS NULL)) THEN
            PERFORM auth.raise('ROLE_ALREADY_EXISTS');
        END IF;
        IF EXISTS (SELECT 1 FROM auth.members m WHERE m.organization_id = v_org AND r.role = ANY (string_to_array(m.role, ',')))
           OR EXISTS (SELECT 1 FROM auth.invitations i WHERE i.organization_id = v_org AND i.status = 'pending'
                         AND r.role = ANY (string_to_array(i.role, ','))) THEN
            PERFORM auth.raise('ROLE_IS_ASSIGNED_TO_MEMBERS');
        END IF;
    END IF;
    IF d ? 'permission' THEN
        v_permission := auth.org_check_permission(d -> 'permission');
        PERFORM auth.org_check_resources(v_org, v_permission);
        IF NOT auth.org_is_owner(me.role) AND EXISTS (
            SELECT w.key, a.value FROM jsonb_each(v_permission) w, jsonb_array_elements_text(w.value) a
            EXCEPT SELECT p.resource, p.action FROM auth.org_permissions(v_org, me.role) p) THEN
            PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE');
        END IF;
    END IF;
    UPDATE auth.organization_roles x
       SET role = coalesce(v_name, x.role), permission = coalesce(v_permission, x.permission), updated_at = now()
     WHERE x.id = r.id RETURNING x.* INTO r;
    PERFORM auth.org_audit('role_update', NULL, jsonb_build_object('organizationId', v_org, 'role', r.role,
                           'permission', r.permission, 'by', c.user_id));
    RETURN json_build_object('success', true, 'roleData', auth.org_role_json(r));
END
$$;
COMMENT ON FUNCTION auth.org_update_role(text, jsonb) IS
  'POST /organization/update-role {roleName | roleId, data: {permission?, roleName?}, organizationId?}: {success, roleData}. ac:update, only permissions the caller holds; a role still held by members or pending invitations keeps its name (ROLE_IS_ASSIGNED_TO_MEMBERS). INVALID_RESOURCE for a resource no role declares.';

CREATE FUNCTION auth.org_delete_role(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    r auth.organization_roles;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    PERFORM auth.org_lock(v_org);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'ac', 'delete') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE');
    END IF;
    r := auth.org_role_target(b, v_org);
    IF EXISTS (SELECT 1 FROM auth.members m WHERE m.organization_id = v_org AND r.role = ANY (string_to_array(m.role, ',')))
       OR EXISTS (SELECT 1 FROM auth.invitations i WHERE i.organization_id = v_org AND i.status = 'pending'
                     AND r.role = ANY (string_to_array(i.role, ','))) THEN
        PERFORM auth.raise('ROLE_IS_ASSIGNED_TO_MEMBERS');
    END IF;
    DELETE FROM auth.organization_roles x WHERE x.id = r.id;
    PERFORM auth.org_audit('role_delete', NULL, jsonb_build_object('organizationId', v_org, 'role', r.role, 'by', c.user_id));
    RETURN json_build_object('success', true);
END
$$;
COMMENT ON FUNCTION auth.org_delete_role(text, jsonb) IS
  'POST /organization/delete-role {roleName | roleId, organizationId?}: {success: true}. ac:delete; ROLE_IS_ASSIGNED_TO_MEMBERS while members or pending invitations hold it.';

-- ---- teams
CREATE FUNCTION auth.org_create_team(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_org uuid;
    me auth.members;
    t auth.teams;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_org := auth.org_target(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    IF NOT auth.org_can(v_org, me.role, 'team', 'create') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM');
    END IF;
    INSERT INTO auth.teams AS x (organization_id, name) VALUES (v_org, btrim(auth.org_text(b, 'name', true, 200)))
    RETURNING x.* INTO t;
    PERFORM auth.org_audit('team_create', NULL, jsonb_build_object('organizationId', v_org, 'teamId', t.id, 'by', c.user_id));
    RETURN auth.org_team_json(t)::json;
END
$$;
COMMENT ON FUNCTION auth.org_create_team(text, jsonb) IS
  'POST /organization/create-team {name, organizationId?}: the team (team:create, YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM).';

CREATE FUNCTION auth.org_list_teams(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    v_org uuid;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_org := auth.org_target(auth.org_body(p_body), c.active_organization_id);
    PERFORM auth.org_member_of(v_org, c.user_id);
    RETURN (SELECT coalesce(jsonb_agg(auth.org_team_json(t) ORDER BY t.created_at, t.id), '[]')
              FROM auth.teams t WHERE t.organization_id = v_org)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_teams(text, jsonb) IS 'GET /organization/list-teams {organizationId?}: the organization''s teams (members only).';

CREATE FUNCTION auth.org_update_team(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    d jsonb;
    t auth.teams;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    d := b -> 'data';
    IF d IS NULL OR jsonb_typeof(d) <> 'object' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'data must be an object');
    END IF;
    t := auth.org_team_of(NULL, auth.org_uuid(b, 'teamId', true, 'TEAM_NOT_FOUND'));
    me := auth.org_member_of(t.organization_id, c.user_id);
    IF NOT auth.org_can(t.organization_id, me.role, 'team', 'update') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM');
    END IF;
    UPDATE auth.teams x SET name = coalesce(btrim(auth.org_text(d, 'name', false, 200)), x.name), updated_at = now()
     WHERE x.id = t.id RETURNING x.* INTO t;
    RETURN auth.org_team_json(t)::json;
END
$$;
COMMENT ON FUNCTION auth.org_update_team(text, jsonb) IS
  'POST /organization/update-team {teamId, data: {name?}}: the team (team:update, YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM). TEAM_NOT_FOUND.';

CREATE FUNCTION auth.org_remove_team(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    t auth.teams;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    t := auth.org_team_of(auth.org_uuid(b, 'organizationId', false, 'ORGANIZATION_NOT_FOUND'),
                          auth.org_uuid(b, 'teamId', true, 'TEAM_NOT_FOUND'));
    me := auth.org_member_of(t.organization_id, c.user_id);
    IF NOT auth.org_can(t.organization_id, me.role, 'team', 'delete') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM');
    END IF;
    IF NOT auth.email_setting('pgauth.allow_removing_all_teams')::boolean THEN
        PERFORM 1 FROM auth.organizations o WHERE o.id = t.organization_id FOR NO KEY UPDATE;  -- one removal at a time
        IF (SELECT count(*) FROM auth.teams x WHERE x.organization_id = t.organization_id) <= 1 THEN
            PERFORM auth.raise('UNABLE_TO_REMOVE_LAST_TEAM');
        END IF;
    END IF;
    DELETE FROM auth.teams x WHERE x.id = t.id;  -- team members go, sessions stop showing it
    PERFORM auth.org_audit('team_delete', NULL, jsonb_build_object('organizationId', t.organization_id, 'teamId', t.id,
                           'by', c.user_id));
    RETURN json_build_object('message', 'Team removed successfully.');
END
$$;
COMMENT ON FUNCTION auth.org_remove_team(text, jsonb) IS
  'POST /organization/remove-team {teamId, organizationId?}: {"message": "Team removed successfully."} (team:delete, YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM); its members go and no session keeps it active. The organization''s last team stays (UNABLE_TO_REMOVE_LAST_TEAM) unless pgauth.allow_removing_all_teams.';

CREATE FUNCTION auth.org_set_active_team(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, true);
    b jsonb;
    v_team uuid;
    t auth.teams;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_team := auth.org_uuid(b, 'teamId', false, 'TEAM_NOT_FOUND');
    IF v_team IS NULL THEN
        UPDATE auth.sessions s SET active_team_id = NULL WHERE s.id = c.session_id;
        RETURN 'null'::json;
    END IF;
    t := auth.org_team_of(NULL, v_team);
    IF NOT EXISTS (SELECT 1 FROM auth.team_members tm WHERE tm.team_id = t.id AND tm.user_id = c.user_id) THEN
        PERFORM auth.raise('USER_IS_NOT_A_MEMBER_OF_THE_TEAM');
    END IF;
    UPDATE auth.sessions s SET active_organization_id = t.organization_id, active_team_id = t.id WHERE s.id = c.session_id;
    RETURN auth.org_team_json(t)::json;
END
$$;
COMMENT ON FUNCTION auth.org_set_active_team(text, jsonb) IS
  'POST /organization/set-active-team {teamId | null}: makes a team the caller is in the session''s active team (and its organization the active one); null clears it. USER_IS_NOT_A_MEMBER_OF_THE_TEAM, TEAM_NOT_FOUND.';

CREATE FUNCTION auth.org_add_team_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    t auth.teams;
    me auth.members;
    v_user uuid;
    tm auth.team_members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    t := auth.org_team_of(NULL, auth.org_uuid(b, 'teamId', true, 'TEAM_NOT_FOUND'));
    v_user := auth.org_uuid(b, 'userId', true, 'USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION');
    PERFORM auth.org_lock(t.organization_id);
    me := auth.org_member_of(t.organization_id, c.user_id);
    IF NOT auth.org_can(t.organization_id, me.role, 'teamMember', 'create') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.members m WHERE m.organization_id = t.organization_id AND m.user_id = v_user) THEN
        PERFORM auth.raise('USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION');
    END IF;
    PERFORM auth.org_team_seat(t.id, v_user);
    INSERT INTO auth.team_members AS x (team_id, user_id) VALUES (t.id, v_user)
    ON CONFLICT (team_id, user_id) DO UPDATE SET team_id = x.team_id
    RETURNING x.* INTO tm;
    PERFORM auth.org_audit('team_member_add', v_user, jsonb_build_object('organizationId', t.organization_id,
                           'teamId', t.id, 'by', c.user_id));
    RETURN auth.org_team_member_json(tm)::json;
END
$$;
COMMENT ON FUNCTION auth.org_add_team_member(text, jsonb) IS
  'POST /organization/add-team-member {teamId, userId}: the team member (teamMember:create; the user must be a member of the team''s organization: USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION). TEAM_MEMBER_LIMIT_REACHED (pgauth.team_member_limit).';

CREATE FUNCTION auth.org_remove_team_member(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    t auth.teams;
    me auth.members;
    v_user uuid;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    t := auth.org_team_of(NULL, auth.org_uuid(b, 'teamId', true, 'TEAM_NOT_FOUND'));
    v_user := auth.org_uuid(b, 'userId', true, 'USER_IS_NOT_A_MEMBER_OF_THE_TEAM');
    me := auth.org_member_of(t.organization_id, c.user_id);
    IF v_user <> c.user_id AND NOT auth.org_can(t.organization_id, me.role, 'teamMember', 'delete') THEN
        PERFORM auth.raise('YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER');
    END IF;
    DELETE FROM auth.team_members tm WHERE tm.team_id = t.id AND tm.user_id = v_user;
    IF NOT FOUND THEN
        PERFORM auth.raise('USER_IS_NOT_A_MEMBER_OF_THE_TEAM');
    END IF;
    UPDATE auth.sessions s SET active_team_id = NULL WHERE s.user_id = v_user AND s.active_team_id = t.id;
    PERFORM auth.org_audit('team_member_remove', v_user, jsonb_build_object('organizationId', t.organization_id,
                           'teamId', t.id, 'by', c.user_id));
    RETURN json_build_object('message', 'Team member removed.');
END
$$;
COMMENT ON FUNCTION auth.org_remove_team_member(text, jsonb) IS
  'POST /organization/remove-team-member {teamId, userId}: {"message": "Team member removed."} (teamMember:delete, or oneself). USER_IS_NOT_A_MEMBER_OF_THE_TEAM.';

CREATE FUNCTION auth.org_list_team_members(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_team uuid;
    t auth.teams;
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_team := coalesce(auth.org_uuid(b, 'teamId', false, 'TEAM_NOT_FOUND'), c.active_team_id);
    IF v_team IS NULL THEN
        PERFORM auth.raise('YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM');
    END IF;
    t := auth.org_team_of(NULL, v_team);
    SELECT * INTO me FROM auth.members x WHERE x.organization_id = t.organization_id AND x.user_id = c.user_id;
    IF me.id IS NULL OR NOT auth.org_can(t.organization_id, me.role, 'teamMember', 'read') THEN
        PERFORM auth.raise('YOU_CAN_NOT_ACCESS_THE_MEMBERS_OF_THIS_TEAM');
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(auth.org_team_member_json(tm) ORDER BY tm.created_at, tm.id), '[]')
              FROM auth.team_members tm WHERE tm.team_id = t.id)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_team_members(text, jsonb) IS
  'GET /organization/list-team-members {teamId?}: the team''s members (default the active team); teamMember:read in its organization (YOU_CAN_NOT_ACCESS_THE_MEMBERS_OF_THIS_TEAM). YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM.';

CREATE FUNCTION auth.org_list_user_teams(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM auth.org_body(p_body);
    RETURN (SELECT coalesce(jsonb_agg(auth.org_team_json(t) ORDER BY t.created_at, t.id), '[]')
              FROM auth.teams t JOIN auth.team_members tm ON tm.team_id = t.id AND tm.user_id = c.user_id)::json;
END
$$;
COMMENT ON FUNCTION auth.org_list_user_teams(text, jsonb) IS 'GET /organization/list-user-teams: the teams the caller is in.';

-- ---- administration in SQL (pgauth_admin)
CREATE FUNCTION auth.org_define_role(p_role text, p_permission jsonb, p_organization_id uuid DEFAULT NULL) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_permission jsonb := auth.org_check_permission(p_permission);
    r auth.organization_roles;
BEGIN
    IF p_role IS NULL OR p_role !~ '^[A-Za-z][A-Za-z0-9_-]{0,63}$' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'a role name must be 1 to 64 letters, digits, _ or -, starting with a letter');
    END IF;
    IF p_organization_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth.organizations o WHERE o.id = p_organization_id) THEN
        PERFORM auth.raise('ORGANIZATION_NOT_FOUND');
    END IF;
    UPDATE auth.organization_roles x SET permission = v_permission, updated_at = now()
     WHERE x.role = p_role AND x.organization_id IS NOT DISTINCT FROM p_organization_id
    RETURNING x.* INTO r;
    IF NOT FOUND THEN
        INSERT INTO auth.organization_roles AS x (organization_id, role, permission)
        VALUES (p_organization_id, p_role, v_permission) RETURNING x.* INTO r;
    END IF;
    PERFORM auth.org_audit('role_define', NULL, jsonb_build_object('organizationId', p_organization_id, 'role', p_role,
                           'permission', v_permission));
    RETURN auth.org_role_json(r)::json;
END
$$;
COMMENT ON FUNCTION auth.org_define_role(text, jsonb, uuid) IS
  'pgauth_admin: creates or replaces a role''s permission statements {resource: [action]}: of every organization (p_organization_id NULL; also redefines owner, admin or member) or of one organization.';

CREATE FUNCTION auth.org_drop_role(p_role text, p_organization_id uuid DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF p_organization_id IS NULL AND p_role IN ('owner', 'admin', 'member') THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'the built-in roles owner, admin and member stay (redefine them instead)');
    END IF;
    DELETE FROM auth.organization_roles x WHERE x.role = p_role AND x.organization_id IS NOT DISTINCT FROM p_organization_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM auth.org_audit('role_drop', NULL, jsonb_build_object('organizationId', p_organization_id, 'role', p_role));
    RETURN true;
END
$$;
COMMENT ON FUNCTION auth.org_drop_role(text, uuid) IS
  'pgauth_admin: removes a role (global or of one organization); members holding it lose its permissions. The built-in global roles stay.';

-- ---- RLS helpers (C++, kept in backend memory; set only by session_init / jwt_session_init).
-- SECURITY INVOKER, as auth.user_id(): the membership load inside runs as the function's owner.
CREATE FUNCTION auth.organization_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_organization_id' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.organization_id() IS
  'The active organization of whoever session_init / jwt_session_init signed in (the session''s, or the JWT''s org claim), while the user is a member of it; else NULL. For RLS: USING (org_id = auth.organization_id()).';

CREATE FUNCTION auth.team_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_team_id' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.team_id() IS 'The active team of the signed-in session or JWT (within the active organization), or NULL.';

CREATE FUNCTION auth.is_member(org uuid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_is_member' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.is_member(uuid) IS 'Whether the signed-in user is a member of the organization (false when nobody is signed in).';

CREATE FUNCTION auth.has_permission(resource text, action text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgauth_has_permission' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.has_permission(text, text) IS
  'Whether the signed-in user''s role in the active organization grants resource:action (auth.organization_roles); false without an active organization.';

CREATE FUNCTION auth.member_role() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_member_role' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.member_role() IS 'The signed-in user''s role (comma list) in the active organization, or NULL.';

-- ---- privileges
REVOKE ALL ON FUNCTION auth.org_json(auth.organizations), auth.org_member_json(auth.members, boolean),
    auth.org_invitation_json(auth.invitations), auth.org_team_json(auth.teams),
    auth.org_team_member_json(auth.team_members), auth.org_role_json(auth.organization_roles),
    auth.org_body(jsonb), auth.org_text(jsonb, text, boolean, integer), auth.org_uuid(jsonb, text, boolean, text),
    auth.org_int(jsonb, text, integer, integer), auth.org_bool(jsonb, text), auth.org_caller(text, boolean),
    auth.org_setting(text), auth.org_audit(text, uuid, jsonb), auth.org_permissions(uuid, text),
    auth.org_can(uuid, text, text, text), auth.org_is_owner(text), auth.org_may_grant(uuid, text, text),
    auth.org_parse_roles(uuid, jsonb), auth.org_target(jsonb, uuid), auth.org_member_of(uuid, uuid),
    auth.org_lock(uuid), auth.org_drop_member(auth.members, text, uuid),
    auth.org_insert_member(uuid, uuid, text, uuid, text, uuid), auth.org_team_of(uuid, uuid),
    auth.org_full_json(uuid, integer), auth.org_queue_invitation(auth.invitations),
    auth.org_my_invitation(jsonb, text, uuid), auth.org_check_permission(jsonb),
    auth.org_role_target(jsonb, uuid), auth.org_target_or_slug(jsonb, uuid), auth.org_member_field(jsonb, text),
    auth.org_filter_values(jsonb, text, text), auth.org_member_matches(auth.members, text, text, text[]),
    auth.org_check_resources(uuid, jsonb), auth.org_team_seat(uuid, uuid), auth.org_user_deleting(),
    auth.org_members_deleted(), auth.org_get_active_member_role(text, jsonb),
    auth.org_create(text, jsonb), auth.org_update(text, jsonb), auth.org_delete(text, jsonb),
    auth.org_list(text, jsonb), auth.org_get_full(text, jsonb), auth.org_set_active(text, jsonb),
    auth.org_check_slug(text, jsonb), auth.org_invite_member(text, jsonb), auth.org_accept_invitation(text, jsonb),
    auth.org_reject_invitation(text, jsonb), auth.org_cancel_invitation(text, jsonb),
    auth.org_get_invitation(text, jsonb), auth.org_list_invitations(text, jsonb),
    auth.org_list_user_invitations(text, jsonb), auth.org_list_members(text, jsonb), auth.org_add_member(text, jsonb),
    auth.org_add_member_admin(jsonb), auth.org_remove_member(text, jsonb), auth.org_update_member_role(text, jsonb),
    auth.org_get_active_member(text, jsonb), auth.org_leave(text, jsonb), auth.org_has_permission(text, jsonb),
    auth.org_create_role(text, jsonb), auth.org_list_roles(text, jsonb), auth.org_get_role(text, jsonb),
    auth.org_update_role(text, jsonb), auth.org_delete_role(text, jsonb), auth.org_create_team(text, jsonb),
    auth.org_list_teams(text, jsonb), auth.org_update_team(text, jsonb), auth.org_remove_team(text, jsonb),
    auth.org_set_active_team(text, jsonb), auth.org_add_team_member(text, jsonb),
    auth.org_remove_team_member(text, jsonb), auth.org_list_team_members(text, jsonb),
    auth.org_list_user_teams(text, jsonb), auth.org_define_role(text, jsonb, uuid), auth.org_drop_role(text, uuid),
    auth.organization_id(), auth.team_id(), auth.is_member(uuid), auth.has_permission(text, text), auth.member_role()
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.org_create(text, jsonb), auth.org_update(text, jsonb), auth.org_delete(text, jsonb),
    auth.org_list(text, jsonb), auth.org_get_full(text, jsonb), auth.org_set_active(text, jsonb),
    auth.org_check_slug(text, jsonb), auth.org_invite_member(text, jsonb), auth.org_accept_invitation(text, jsonb),
    auth.org_reject_invitation(text, jsonb), auth.org_cancel_invitation(text, jsonb),
    auth.org_get_invitation(text, jsonb), auth.org_list_invitations(text, jsonb),
    auth.org_list_user_invitations(text, jsonb), auth.org_list_members(text, jsonb), auth.org_add_member(text, jsonb),
    auth.org_remove_member(text, jsonb), auth.org_update_member_role(text, jsonb),
    auth.org_get_active_member(text, jsonb), auth.org_leave(text, jsonb), auth.org_has_permission(text, jsonb),
    auth.org_create_role(text, jsonb), auth.org_list_roles(text, jsonb), auth.org_get_role(text, jsonb),
    auth.org_update_role(text, jsonb), auth.org_delete_role(text, jsonb), auth.org_create_team(text, jsonb),
    auth.org_list_teams(text, jsonb), auth.org_update_team(text, jsonb), auth.org_remove_team(text, jsonb),
    auth.org_set_active_team(text, jsonb), auth.org_add_team_member(text, jsonb),
    auth.org_remove_team_member(text, jsonb), auth.org_list_team_members(text, jsonb),
    auth.org_list_user_teams(text, jsonb), auth.org_get_active_member_role(text, jsonb)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.org_add_member_admin(jsonb), auth.org_define_role(text, jsonb, uuid),
    auth.org_drop_role(text, uuid) TO pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.organization_id(), auth.team_id(), auth.is_member(uuid), auth.has_permission(text, text),
    auth.member_role() TO pgauth_reader, pgauth_service, pgauth_admin;
-- (0.6.0) the active organization when the role grants a permission: a policy
-- USING (org_id = auth.organization_id('project', 'read')) is one index condition, evaluated once
-- per scan; "AND auth.has_permission(...)" in a policy is evaluated for every row.
CREATE FUNCTION auth.organization_id(resource text, action text) RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_permitted_organization_id' LANGUAGE C STABLE SECURITY INVOKER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.organization_id(text, text) IS
  'The active organization of whoever is signed in when their role there grants resource:action; else NULL. For RLS: USING (org_id = auth.organization_id(''project'', ''read'')), the one-call form of auth.organization_id() AND auth.has_permission().';
REVOKE ALL ON FUNCTION auth.organization_id(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.organization_id(text, text) TO pgauth_reader, pgauth_service, pgauth_admin;
-- ---------------------------------------------------------------- organizations: end

-- ---------------------------------------------------------------- OAuth provider: authorization, tokens, userinfo, discovery (0.5.0)

-- The OAuth 2.1 authorization server and OpenID Connect provider (issue 13): authorization
-- (auth.oauth_authorize, auth.oauth_consent), the token endpoint (auth.oauth_token), userinfo,
-- introspection (RFC 7662), revocation (RFC 7009), RP-initiated logout, discovery, and the
-- resource servers' check auth.verify_access_token. Every code, consent code, token and client
-- assertion id is stored only as a SHA-256 digest. The issuer is pgauth.base_url || '/api/auth'.

-- id_tokens are signed with the client's algorithm (RS256 by default): a key created for one
-- algorithm only is "secondary": published in the JWKS, never the session key, and not retired
-- by a rotation to another algorithm.
ALTER TABLE auth.jwks ADD COLUMN secondary boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN auth.jwks.secondary IS
  'A signing key created for one algorithm (the OAuth provider''s id_tokens, RS256 by default): published, never the session key, retired only by a rotation to its own algorithm.';

CREATE TABLE auth.oauth_codes (
    digest         bytea PRIMARY KEY CHECK (octet_length(digest) = 32),
    client_id      text NOT NULL REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    session_id     uuid,
    redirect_uri   text NOT NULL,
    scopes         text[] NOT NULL,
    resources      text[] NOT NULL DEFAULT '{}',
    code_challenge text,
    nonce          text,
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);
CREATE INDEX oauth_codes_expires_at_idx ON auth.oauth_codes (expires_at);
CREATE INDEX oauth_codes_user_id_idx ON auth.oauth_codes (user_id);
CREATE INDEX oauth_codes_client_id_idx ON auth.oauth_codes (client_id);
COMMENT ON TABLE auth.oauth_codes IS
  'Authorization codes: SHA-256 digest, single use (used_at), 10 minutes. A replay revokes the tokens the code issued.';

CREATE TABLE auth.oauth_consent_requests (
    digest     bytea PRIMARY KEY CHECK (octet_length(digest) = 32),
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    request    jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_consent_requests_expires_at_idx ON auth.oauth_consent_requests (expires_at);
CREATE INDEX oauth_consent_requests_user_id_idx ON auth.oauth_consent_requests (user_id);
CREATE INDEX oauth_consent_requests_client_id_idx ON auth.oauth_consent_requests (client_id);
COMMENT ON TABLE auth.oauth_consent_requests IS
  'Pending consents: the consent_code''s SHA-256 digest, bound to the user, single use, 10 minutes; request = the checked authorization request.';

CREATE TABLE auth.oauth_consents (
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    scopes     text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX oauth_consents_client_id_idx ON auth.oauth_consents (client_id);
COMMENT ON TABLE auth.oauth_consents IS 'The scopes a user granted a client (the union of every consent).';

CREATE TABLE auth.oauth_tokens (
    digest        bytea PRIMARY KEY CHECK (octet_length(digest) = 32),
    kind          text NOT NULL CHECK (kind IN ('access', 'refresh')),
    family_id     uuid NOT NULL,
    code_digest   bytea,
    client_id     text NOT NULL REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    user_id       uuid REFERENCES auth.users (id) ON DELETE CASCADE,
    session_id    uuid,
    scopes        text[] NOT NULL,
    resources     text[] NOT NULL DEFAULT '{}',
    auth_time     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    rotated_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX oauth_tokens_family_id_idx ON auth.oauth_tokens (family_id);
CREATE INDEX oauth_tokens_code_digest_idx ON auth.oauth_tokens (code_digest) WHERE code_digest IS NOT NULL;
CREATE INDEX oauth_tokens_expires_at_idx ON auth.oauth_tokens (expires_at);
CREATE INDEX oauth_tokens_user_id_idx ON auth.oauth_tokens (user_id);
CREATE INDEX oauth_tokens_client_id_idx ON auth.oauth_tokens (client_id);
COMMENT ON TABLE auth.oauth_tokens IS
  'Access tokens (opaque or RFC 9068 JWT) and refresh tokens, by SHA-256 digest only. family_id groups what one grant issued: a refresh-token reuse or a revocation revokes the family.';

CREATE TABLE auth.oauth_assertions (
    client_id  text NOT NULL REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    jti_digest bytea NOT NULL CHECK (octet_length(jti_digest) = 32),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti_digest)
);
CREATE INDEX oauth_assertions_expires_at_idx ON auth.oauth_assertions (expires_at);
COMMENT ON TABLE auth.oauth_assertions IS 'private_key_jwt client assertions seen (jti digest) until they expire: each is accepted once.';

REVOKE ALL ON auth.oauth_codes, auth.oauth_consent_requests, auth.oauth_consents, auth.oauth_tokens,
    auth.oauth_assertions FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_codes', '');
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_consent_requests', '');
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_consents', '');
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('auth.oauth_assertions', '');

-- Clients registered with a jwks_uri (RFC 7591, private_key_jwt): their JWK Set as pgauth-http
-- last fetched it (auth.oauth_client_jwks_store), one row per client. jwks is the last good set
-- (NULL until one was fetched); error says why the last fetch failed (NULL after a success).
-- A fetch happens when the extension asks for one (OAUTH_JWKS_FETCH_REQUIRED), at most every
-- pgauth.oauth_jwks_min_refresh: so a rotated key is picked up, and an unknown kid cannot
-- force a fetch per request.
CREATE TABLE auth.oauth_client_jwks (
    client_id  text PRIMARY KEY REFERENCES auth.oauth_clients (client_id) ON DELETE CASCADE,
    jwks_uri   text NOT NULL,
    jwks       jsonb,
    error      text,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (jwks IS NOT NULL OR error IS NOT NULL)
);
COMMENT ON TABLE auth.oauth_client_jwks IS
  'The JWK Sets of clients registered with a jwks_uri, as last fetched: jwks = the last good set, error = why the last fetch failed; fetched again at most every pgauth.oauth_jwks_min_refresh, when expired (HTTP caching, bounded by pgauth.oauth_jwks_max_age) or when an assertion names an unknown kid.';
REVOKE ALL ON auth.oauth_client_jwks FROM PUBLIC;

-- ---- C++ primitives (oauth_provider.cpp)
CREATE FUNCTION auth.oauth_sign(p_claims jsonb, p_alg text, p_typ text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_sign' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_sign(jsonb, text, text) IS
  'Internal: signs the claims as given with header typ; p_alg NULL = the session key, else that algorithm''s current key (created on first use).';

CREATE FUNCTION auth.oauth_hmac(p_purpose text, p_value text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_hmac' LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_hmac(text, text) IS
  'Internal: base64url(HMAC-SHA256(HMAC-SHA256(KEK, ''pgauth oauth '' || purpose), value)): the successor of a rotated refresh token.';

CREATE FUNCTION auth.oauth_verify_jws(p_jwt text, p_jwks jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_oauth_verify_jws' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_verify_jws(text, jsonb) IS
  'Internal: the payload of a JWS whose signature verifies with p_jwks (a client''s JWKS) or, when NULL, our published keys; NULL otherwise. Claims are not checked.';

CREATE FUNCTION auth.verify_access_token(p_token text, p_resource text DEFAULT NULL)
    RETURNS TABLE (subject text, client_id text, scopes text[], expires_at timestamptz, audience text[])
    AS 'MODULE_PATHNAME', 'pgauth_verify_access_token' LANGUAGE C STABLE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.verify_access_token(text, text) IS
  'For resource servers: one row (subject = user id, NULL for client_credentials; client_id; scopes; expires_at; audience = the resources) for a live OAuth access token, opaque or JWT, minted for p_resource when given; no row otherwise (unknown, expired, revoked, another audience, inactive user, disabled client).';

-- ---- helpers
CREATE FUNCTION auth.oauth_issuer() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_issuer' LANGUAGE C STABLE SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_issuer() IS 'Internal: the OAuth issuer, pgauth.base_url || ''/api/auth''.';

-- A pgauth.oauth_* lifetime setting in seconds (current_setting shows it with its unit: 1h, 30d, 10s).
CREATE FUNCTION auth.oauth_seconds(p_name text) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgauth_oauth_seconds' LANGUAGE C STABLE SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_seconds(text) IS 'Internal: a lifetime setting in seconds.';

-- One request parameter: NULL when absent, null or empty (RFC 6749 3.1); OAUTH_INVALID_REQUEST
-- when it is not a single string, is longer than p_max or holds control characters.
CREATE FUNCTION auth.oauth_param(p_params jsonb, p_name text, p_max integer DEFAULT 2048) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_param' LANGUAGE C IMMUTABLE SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_param(jsonb, text, integer) IS
  'Internal: a checked OAuth request parameter (a single string without control characters), NULL when absent or empty.';

-- RFC 8707 resource indicators: a string or an array of strings, each an absolute URI
-- without a fragment; at most 10. OAUTH_INVALID_TARGET otherwise.
CREATE FUNCTION auth.oauth_resources(p_params jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v jsonb := p_params -> 'resource';
    r text[] := '{}';
    e jsonb;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN r;
    END IF;
    IF jsonb_typeof(v) = 'string' THEN
        v := jsonb_build_array(v);
    END IF;
    IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 10 THEN
        PERFORM auth.raise('OAUTH_INVALID_TARGET', 'resource must be one to ten absolute URIs');
    END IF;
    FOR e IN SELECT x FROM jsonb_array_elements(v) x LOOP
        IF jsonb_typeof(e) <> 'string' OR char_length(e #>> '{}') NOT BETWEEN 1 AND 2048
           OR (e #>> '{}') !~ '^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?@!$&''()*+,;=%\[\]-]+$'
           OR position('#' IN e #>> '{}') > 0 THEN
            PERFORM auth.raise('OAUTH_INVALID_TARGET', 'resource must be an absolute URI without a fragment');
        END IF;
        IF NOT (e #>> '{}') = ANY (r) THEN
            r := r || (e #>> '{}');
        END IF;
    END LOOP;
    RETURN r;
END
$$;
COMMENT ON FUNCTION auth.oauth_resources(jsonb) IS 'Internal: the checked RFC 8707 resource values of a request.';

-- p_base with the non-null values of p_query appended as a query string.
CREATE FUNCTION auth.oauth_url(p_base text, p_query jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT p_base || coalesce(CASE WHEN position('?' IN p_base) > 0 THEN '&' ELSE '?' END
                              || string_agg(auth.url_encode(e.key) || '=' || auth.url_encode(e.value), '&'), '')
      FROM jsonb_each_text(p_query) e WHERE e.value IS NOT NULL
$$;
COMMENT ON FUNCTION auth.oauth_url(text, jsonb) IS 'Internal: a URL with the non-null values of p_query appended, url-encoded.';

CREATE FUNCTION auth.oauth_supported_scopes() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT ARRAY['openid', 'profile', 'email', 'offline_access']
           || coalesce(string_to_array(nullif(btrim(current_setting('pgauth.oauth_extra_scopes', true)), ''), ' '), '{}')
$$;
COMMENT ON FUNCTION auth.oauth_supported_scopes() IS
  'Internal: openid profile email offline_access and the scopes in pgauth.oauth_extra_scopes.';

-- The scopes a request may have: a subset of the client's registered scope when it has one,
-- else of the supported scopes. Absent: the client's scope, else openid (p_user) or none.
-- offline_access is dropped for a client without the refresh_token grant. Without a user
-- (client_credentials), openid and offline_access are refused.
CREATE FUNCTION auth.oauth_scopes(c auth.oauth_clients, p_scope text, p_user boolean) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_allowed text[] := CASE WHEN c.scope IS NOT NULL THEN string_to_array(c.scope, ' ')
                             ELSE auth.oauth_supported_scopes() END;
    v text[];
    s text;
BEGIN
    IF p_scope IS NULL THEN
        v := CASE WHEN c.scope IS NOT NULL THEN v_allowed WHEN p_user THEN ARRAY['openid'] ELSE '{}' END;
        IF NOT p_user THEN
            v := array_remove(array_remove(v, 'openid'), 'offline_access');
        END IF;
    ELSE
        IF p_scope !~ '^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$' THEN
            PERFORM auth.raise('OAUTH_INVALID_SCOPE', 'scope must be scope tokens separated by single spaces');
        END IF;
        v := '{}';
        FOREACH s IN ARRAY string_to_array(p_scope, ' ') LOOP
            IF NOT s = ANY (v_allowed) THEN
                PERFORM auth.raise('OAUTH_INVALID_SCOPE', format('the scope %s is not allowed for this client', left(s, 64)));
            END IF;
            IF NOT p_user AND s IN ('openid', 'offline_access') THEN
                PERFORM auth.raise('OAUTH_INVALID_SCOPE', format('the scope %s needs a user', s));
            END IF;
            IF NOT s = ANY (v) THEN
                v := v || s;
            END IF;
        END LOOP;
    END IF;
    IF NOT 'refresh_token' = ANY (c.grant_types) THEN
        v := array_remove(v, 'offline_access');
    END IF;
    RETURN v;
END
$$;
COMMENT ON FUNCTION auth.oauth_scopes(auth.oauth_clients, text, boolean) IS 'Internal: the checked scopes of a request.';

-- The error answer of the authorization endpoint at the client's redirect URI (RFC 6749
-- 4.1.2.1) with state and iss (RFC 9207).
CREATE FUNCTION auth.oauth_error_redirect(p_redirect_uri text, p_error text, p_description text, p_state text)
    RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT jsonb_build_object('action', 'redirect',
        'url', auth.oauth_url(p_redirect_uri, jsonb_build_object('error', p_error, 'error_description', p_description,
                                                                 'state', p_state, 'iss', auth.oauth_issuer())))
$$;
COMMENT ON FUNCTION auth.oauth_error_redirect(text, text, text, text) IS 'Internal: an authorization error redirect.';

-- Issues an authorization code (10 minutes, single use) and answers the code redirect.
CREATE FUNCTION auth.oauth_issue_code(p_request jsonb, p_user_id uuid, p_session_id uuid, p_auth_time timestamptz)
    RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_code text := auth.oauth_random_token(32);
BEGIN
    INSERT INTO auth.oauth_codes (digest, client_id, user_id, session_id, redirect_uri, scopes, resources,
                                  code_challenge, nonce, auth_time, expires_at)
    VALUES (auth.hash_token(v_code), p_request ->> 'client_id', p_user_id, p_session_id, p_request ->> 'redirect_uri',
            ARRAY(SELECT jsonb_array_elements_text(p_request -> 'scopes')),
            ARRAY(SELECT jsonb_array_elements_text(p_request -> 'resources')),
            p_request ->> 'code_challenge', p_request ->> 'nonce', p_auth_time, now() + interval '10 minutes');
    RETURN jsonb_build_object('action', 'redirect',
        'url', auth.oauth_url(p_request ->> 'redirect_uri',
                              jsonb_build_object('code', v_code, 'state', p_request ->> 'state', 'iss', auth.oauth_issuer())));
END
$$;
COMMENT ON FUNCTION auth.oauth_issue_code(jsonb, uuid, uuid, timestamptz) IS 'Internal: stores a code (digest) and answers its redirect.';

-- ---- the authorization endpoint
CREATE FUNCTION auth.oauth_authorize(p_session_token text, p_params jsonb, p_ip inet DEFAULT NULL,
                                     p_user_agent text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    v_redirect text;
    v_state text;
    v_request jsonb;
    v_prompt text[];
    v_scopes text[];
    v_resources text[];
    v_challenge text;
    v_method text;
    v_max_age text;
    v_nonce text;
    v_user uuid;
    v_session uuid;
    v_auth_time timestamptz;
    v_granted text[];
    v_consent text;
    v_code text;
    v_detail text;
    v_message text;
BEGIN
    IF p_params IS NULL OR jsonb_typeof(p_params) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the request parameters must be a JSON object');
    END IF;
    -- 1. the client and the redirect URI: a problem here is shown, never redirected
    IF jsonb_typeof(p_params -> 'client_id') IS DISTINCT FROM 'string'
       OR char_length(p_params ->> 'client_id') NOT BETWEEN 1 AND 2048 THEN
        RETURN jsonb_build_object('action', 'error', 'error', 'invalid_request', 'error_description', 'client_id is required');
    END IF;
    SELECT * INTO c FROM auth.oauth_clients o WHERE o.client_id = p_params ->> 'client_id' AND NOT o.disabled;
    IF c.client_id IS NULL THEN
        RETURN jsonb_build_object('action', 'error', 'error', 'invalid_client', 'error_description', 'unknown client');
    END IF;
    IF p_params ? 'redirect_uri' AND jsonb_typeof(p_params -> 'redirect_uri') IS DISTINCT FROM 'string' THEN
        RETURN jsonb_build_object('action', 'error', 'error', 'invalid_request', 'error_description', 'redirect_uri must be a single string');
    END IF;
    v_redirect := nullif(p_params ->> 'redirect_uri', '');
    IF v_redirect IS NULL THEN
        IF cardinality(c.redirect_uris) <> 1 THEN
            RETURN jsonb_build_object('action', 'error', 'error', 'invalid_request', 'error_description', 'redirect_uri is required');
        END IF;
        v_redirect := c.redirect_uris[1];
    ELSIF NOT auth.oauth_check_redirect(c.client_id, v_redirect) THEN
        RETURN jsonb_build_object('action', 'error', 'error', 'invalid_request',
                                  'error_description', 'redirect_uri is not registered for this client');
    END IF;
    IF jsonb_typeof(p_params -> 'state') = 'string' AND char_length(p_params ->> 'state') <= 2048 THEN
        v_state := nullif(p_params ->> 'state', '');
    END IF;

    -- 2. everything else is answered at the redirect URI
    BEGIN
        v_state := auth.oauth_param(p_params, 'state');
        IF auth.oauth_param(p_params, 'response_type', 64) IS DISTINCT FROM 'code' THEN
            RETURN auth.oauth_error_redirect(v_redirect, 'unsupported_response_type', 'response_type must be code', v_state);
        END IF;
        IF NOT 'authorization_code' = ANY (c.grant_types) THEN
            RETURN auth.oauth_error_redirect(v_redirect, 'unauthorized_client',
                                             'this client may not use the authorization_code grant', v_state);
        END IF;
        v_challenge := auth.oauth_param(p_params, 'code_challenge', 128);
        v_method := auth.oauth_param(p_params, 'code_challenge_method', 16);
        IF v_method IS NOT NULL AND v_method <> 'S256' THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'code_challenge_method must be S256');
        END IF;
        IF v_challenge IS NULL AND (c.require_pkce OR c.token_endpoint_auth_method = 'none') THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'code_challenge is required (PKCE with S256)');
        END IF;
        IF v_challenge IS NOT NULL AND v_challenge !~ '^[A-Za-z0-9_-]{43}$' THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'code_challenge must be a base64url SHA-256 (43 characters)');
        END IF;
        v_scopes := auth.oauth_scopes(c, auth.oauth_param(p_params, 'scope', 1000), true);
        v_resources := auth.oauth_resources(p_params);
        v_prompt := coalesce(string_to_array(auth.oauth_param(p_params, 'prompt', 64), ' '), '{}');
        IF NOT v_prompt <@ ARRAY['none', 'login', 'consent'] THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'prompt must be none, login or consent');
        END IF;
        IF 'none' = ANY (v_prompt) AND cardinality(v_prompt) > 1 THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'prompt=none may not be combined with another value');
        END IF;
        v_max_age := auth.oauth_param(p_params, 'max_age', 10);
        IF v_max_age IS NOT NULL AND v_max_age !~ '^[0-9]{1,9}$' THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'max_age must be a number of seconds');
        END IF;
        v_nonce := auth.oauth_param(p_params, 'nonce', 512);
        PERFORM auth.oauth_param(p_params, 'login_hint', 320);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_message = MESSAGE_TEXT;
        IF v_detail IS NULL OR v_detail NOT LIKE 'OAUTH\_%' THEN
            RAISE;
        END IF;
        RETURN auth.oauth_error_redirect(v_redirect, lower(substr(v_detail, 7)), v_message, v_state);
    END;
    v_request := jsonb_build_object('client_id', c.client_id, 'redirect_uri', v_redirect, 'state', v_state,
                                    'scopes', to_jsonb(v_scopes), 'resources', to_jsonb(v_resources),
                                    'code_challenge', v_challenge, 'nonce', v_nonce);

    -- 3. the user
    IF p_session_token IS NOT NULL AND char_length(p_session_token) <= 4096 THEN
        SELECT s.user_id, s.session_id, s.session_created_at INTO v_user, v_session, v_auth_time
          FROM auth.validate_session(p_session_token) s;
    END IF;
    IF v_user IS NULL OR 'login' = ANY (v_prompt)
       OR (v_max_age IS NOT NULL AND v_auth_time < now() - make_interval(secs => v_max_age::integer)) THEN
        IF 'none' = ANY (v_prompt) THEN
            RETURN auth.oauth_error_redirect(v_redirect, 'login_required', 'the user must sign in', v_state);
        END IF;
        RETURN jsonb_build_object('action', 'login',
            'login_query', CASE WHEN 'login' = ANY (v_prompt)
                                THEN (p_params - 'prompt') || jsonb_strip_nulls(jsonb_build_object('prompt',
                                         nullif(array_to_string(array_remove(v_prompt, 'login'), ' '), '')))
                                ELSE p_params END);
    END IF;

    -- 4. consent: remembered per (user, client) as the union of the scopes granted
    SELECT o.scopes INTO v_granted FROM auth.oauth_consents o WHERE o.user_id = v_user AND o.client_id = c.client_id;
    IF v_granted IS NULL OR NOT v_scopes <@ v_granted OR 'consent' = ANY (v_prompt) THEN
        IF 'none' = ANY (v_prompt) THEN
            RETURN auth.oauth_error_redirect(v_redirect, 'consent_required', 'the user must consent', v_state);
        END IF;
        v_consent := auth.oauth_random_token(32);
        INSERT INTO auth.oauth_consent_requests (digest, user_id, client_id, request, expires_at)
        VALUES (auth.hash_token(v_consent), v_user, c.client_id, v_request, now() + interval '10 minutes');
        RETURN jsonb_build_object('action', 'consent', 'consent', jsonb_build_object(
            'client_id', c.client_id, 'client_name', c.client_name, 'client_uri', c.client_uri,
            'logo_uri', c.logo_uri, 'policy_uri', c.policy_uri, 'tos_uri', c.tos_uri,
            'scopes', to_jsonb(v_scopes), 'resources', to_jsonb(v_resources),
            'redirect_uri', v_redirect, 'consent_code', v_consent));
    END IF;
    RETURN auth.oauth_issue_code(v_request, v_user, v_session, v_auth_time);
END
$$;
COMMENT ON FUNCTION auth.oauth_authorize(text, jsonb, inet, text) IS
  'The authorization endpoint: {"action":"redirect","url"} (a code or an error at the redirect URI, with state and iss), {"action":"login","login_query"}, {"action":"consent","consent":{...,"consent_code"}} or {"action":"error","error","error_description"} (bad client or redirect URI: show it, never redirect).';

CREATE FUNCTION auth.oauth_consent(p_session_token text, p_consent_code text, p_accept boolean,
                                   p_scopes text[] DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_user uuid;
    v_session uuid;
    v_auth_time timestamptz;
    r auth.oauth_consent_requests;
    v_scopes text[];
BEGIN
    IF p_session_token IS NOT NULL AND char_length(p_session_token) <= 4096 THEN
        SELECT s.user_id, s.session_id, s.session_created_at INTO v_user, v_session, v_auth_time
          FROM auth.validate_session(p_session_token) s;
    END IF;
    IF v_user IS NULL THEN
        PERFORM auth.raise('UNAUTHORIZED');
    END IF;
    IF p_consent_code IS NULL OR char_length(p_consent_code) NOT BETWEEN 1 AND 256 THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the consent_code is invalid or expired');
    END IF;
    DELETE FROM auth.oauth_consent_requests q
     WHERE q.digest = auth.hash_token(p_consent_code) AND q.user_id = v_user AND q.expires_at > now()
    RETURNING * INTO r;
    IF r.digest IS NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the consent_code is invalid or expired');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth.oauth_clients o WHERE o.client_id = r.client_id AND NOT o.disabled) THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the client is no longer available');
    END IF;
    IF p_accept IS DISTINCT FROM true THEN
        RETURN jsonb_build_object('url', auth.oauth_error_redirect(r.request ->> 'redirect_uri', 'access_denied',
                                                                   'the user denied the request', r.request ->> 'state') ->> 'url');
    END IF;
    v_scopes := ARRAY(SELECT jsonb_array_elements_text(r.request -> 'scopes'));
    IF p_scopes IS NOT NULL THEN
        IF array_position(p_scopes, NULL) IS NOT NULL OR NOT p_scopes <@ v_scopes THEN
            PERFORM auth.raise('OAUTH_INVALID_SCOPE', 'the granted scopes must be among the requested ones');
        END IF;
        v_scopes := ARRAY(SELECT s FROM unnest(v_scopes) s WHERE s = ANY (p_scopes) OR s = 'openid');
        r.request := jsonb_set(r.request, '{scopes}', to_jsonb(v_scopes));
    END IF;
    INSERT INTO auth.oauth_consents AS o (user_id, client_id, scopes) VALUES (v_user, r.client_id, v_scopes)
    ON CONFLICT (user_id, client_id) DO UPDATE
       SET scopes = ARRAY(SELECT DISTINCT x FROM unnest(o.scopes || excluded.scopes) x ORDER BY 1), updated_at = now();
    RETURN jsonb_build_object('url', auth.oauth_issue_code(r.request, v_user, v_session, v_auth_time) ->> 'url');
END
$$;
COMMENT ON FUNCTION auth.oauth_consent(text, text, boolean, text[]) IS
  'The consent page''s answer: {"url"} = the code redirect (accept, stores the consent) or access_denied; p_scopes may narrow the scopes. OAUTH_INVALID_REQUEST for an unknown, used, expired or foreign consent_code; UNAUTHORIZED without a session.';

-- ---- private_key_jwt with a jwks_uri: the client's JWK Set, fetched by pgauth-http
-- The kid of a compact JWS's protected header; NULL when there is none or it cannot be read.
CREATE FUNCTION auth.oauth_jws_kid(p_jwt text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v text := split_part(p_jwt, '.', 1);
    h jsonb;
BEGIN
    IF v IS NULL OR char_length(v) NOT BETWEEN 2 AND 4096 OR v !~ '^[A-Za-z0-9_-]+$' OR char_length(v) % 4 = 1 THEN
        RETURN NULL;
    END IF;
    BEGIN
        h := convert_from(decode(translate(v, '-_', '+/') || repeat('=', (4 - char_length(v) % 4) % 4), 'base64'), 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
    END;
    IF jsonb_typeof(h) = 'object' AND jsonb_typeof(h -> 'kid') = 'string' THEN
        RETURN h ->> 'kid';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.oauth_jws_kid(text) IS 'Internal: the kid of a compact JWS''s header, or NULL.';

-- The keys that verify a private_key_jwt assertion of a client registered with a jwks_uri: its
-- cached JWK Set. With no usable set it raises OAUTH_JWKS_FETCH_REQUIRED, HINT 'jwks_uri: <url>':
-- pgauth-http fetches that URL, stores the answer (auth.oauth_client_jwks_store) and calls again
-- once. Usable: fetched from the client's current jwks_uri, and unless the last fetch is less
-- than pgauth.oauth_jwks_min_refresh old, not expired and knowing the assertion's kid (a
-- rotated key). A failed last fetch within that time is OAUTH_INVALID_CLIENT.
CREATE FUNCTION auth.oauth_client_jwks_keys(c auth.oauth_clients, p_assertion text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    j auth.oauth_client_jwks;
    v_kid text;
    v_fetch boolean;
BEGIN
    PERFORM auth.hash_token('');  -- loads the module (when not preloaded), defining the pgauth.oauth_* settings
    SELECT * INTO j FROM auth.oauth_client_jwks x WHERE x.client_id = c.client_id;
    IF j.client_id IS NULL OR j.jwks_uri IS DISTINCT FROM c.jwks_uri THEN
        v_fetch := true;
    ELSIF j.fetched_at > now() - make_interval(secs => auth.oauth_seconds('pgauth.oauth_jwks_min_refresh')) THEN
        v_fetch := false;  -- fetched a moment ago: use what there is
    ELSIF j.jwks IS NULL OR j.expires_at <= now() THEN
        v_fetch := true;
    ELSE
        v_kid := auth.oauth_jws_kid(p_assertion);
        v_fetch := v_kid IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements(j.jwks -> 'keys') k WHERE k ->> 'kid' = v_kid);
    END IF;
    IF v_fetch THEN
        RAISE EXCEPTION USING ERRCODE = 'PA401', MESSAGE = 'the client''s JWK Set must be fetched from its jwks_uri',
            DETAIL = 'OAUTH_JWKS_FETCH_REQUIRED', HINT = 'jwks_uri: ' || c.jwks_uri;
    END IF;
    IF j.jwks IS NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client''s JWK Set could not be fetched from its jwks_uri: ' || j.error);
    END IF;
    RETURN j.jwks;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_jwks_keys(auth.oauth_clients, text) IS
  'Internal: the cached JWK Set of a jwks_uri client for a private_key_jwt assertion; OAUTH_JWKS_FETCH_REQUIRED (HINT ''jwks_uri: <url>'') when it must be fetched (none, another jwks_uri, expired, a kid it does not hold; at most every pgauth.oauth_jwks_min_refresh); OAUTH_INVALID_CLIENT when the last fetch failed.';

-- What pgauth-http fetched at a client's jwks_uri: a JWK Set (p_jwks, with the max-age of its
-- Cache-Control), or why it could not (p_error). A set that is not a valid public JWK Set is
-- stored as a failure. A failure keeps the last good set (a transient outage does not lock the
-- client out until the next fetch). True when a usable set was stored; false when it failed,
-- or the client no longer has this jwks_uri (nothing stored).
CREATE FUNCTION auth.oauth_client_jwks_store(p_client_id text, p_jwks_uri text, p_jwks jsonb,
                                             p_max_age_seconds integer DEFAULT NULL, p_error text DEFAULT NULL)
    RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_max integer;
    v_error text := left(coalesce(p_error, 'no JWK Set'), 200);
    k jsonb;
BEGIN
    PERFORM auth.hash_token('');  -- loads the module (when not preloaded), defining the pgauth.oauth_* settings
    v_max := auth.oauth_seconds('pgauth.oauth_jwks_max_age');
    IF NOT EXISTS (SELECT 1 FROM auth.oauth_clients o WHERE o.client_id = p_client_id AND o.jwks_uri = p_jwks_uri) THEN
        RETURN false;
    END IF;
    IF p_jwks IS NOT NULL THEN
        v_error := NULL;
        IF jsonb_typeof(p_jwks) <> 'object' OR jsonb_typeof(p_jwks -> 'keys') IS DISTINCT FROM 'array'
           OR jsonb_array_length(p_jwks -> 'keys') NOT BETWEEN 1 AND 20 OR octet_length(p_jwks::text) > 32768 THEN
            v_error := 'the answer is not a JWK Set of 1 to 20 keys';
        ELSE
            FOR k IN SELECT x FROM jsonb_array_elements(p_jwks -> 'keys') x LOOP
                IF jsonb_typeof(k) <> 'object' OR jsonb_typeof(k -> 'kty') IS DISTINCT FROM 'string' THEN
                    v_error := 'every key of the JWK Set must be a JWK with a kty';
                ELSIF k ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] THEN
                    v_error := 'the JWK Set must hold public keys only';
                END IF;
            END LOOP;
        END IF;
    END IF;
    IF v_error IS NULL THEN
        INSERT INTO auth.oauth_client_jwks AS o (client_id, jwks_uri, jwks, error, fetched_at, expires_at)
        VALUES (p_client_id, p_jwks_uri, p_jwks, NULL, now(),
                now() + make_interval(secs => greatest(0, least(coalesce(p_max_age_seconds, v_max), v_max))))
        ON CONFLICT (client_id) DO UPDATE
           SET jwks_uri = excluded.jwks_uri, jwks = excluded.jwks, error = NULL, fetched_at = excluded.fetched_at,
               expires_at = excluded.expires_at;
        RETURN true;
    END IF;
    INSERT INTO auth.oauth_client_jwks AS o (client_id, jwks_uri, jwks, error, fetched_at, expires_at)
    VALUES (p_client_id, p_jwks_uri, NULL, v_error, now(), now())
    ON CONFLICT (client_id) DO UPDATE
       SET jwks = CASE WHEN o.jwks_uri = excluded.jwks_uri THEN o.jwks END, jwks_uri = excluded.jwks_uri,
           error = excluded.error, fetched_at = excluded.fetched_at;
    RETURN false;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_jwks_store(text, text, jsonb, integer, text) IS
  'Stores what was fetched at a client''s jwks_uri after OAUTH_JWKS_FETCH_REQUIRED: the JWK Set (public keys, 1 to 20), cached for min(p_max_age_seconds, pgauth.oauth_jwks_max_age) seconds, or the failure p_error (an invalid set is one; the last good set is kept). True when a usable set was stored; false otherwise, or when the client no longer has this jwks_uri.';

-- ---- client authentication (token, introspection, revocation endpoints)
CREATE FUNCTION auth.oauth_authenticate_client(p_client_auth jsonb, p_params jsonb) RETURNS auth.oauth_clients
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    v_method text;
    v_client_id text;
    v_secret text;
    v_assertion text;
    v_jwks jsonb;
    v_claims jsonb;
    v_now double precision := extract(epoch FROM now());
    v_exp double precision;
BEGIN
    IF p_client_auth IS NULL OR jsonb_typeof(p_client_auth) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client authentication is required');
    END IF;
    v_method := auth.oauth_param(p_client_auth, 'method', 32);
    v_client_id := auth.oauth_param(p_client_auth, 'client_id');
    IF v_method IS NULL OR v_method NOT IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')
       OR v_client_id IS NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client authentication is required');
    END IF;
    IF p_params IS NOT NULL AND auth.oauth_param(p_params, 'client_id') IS DISTINCT FROM v_client_id
       AND auth.oauth_param(p_params, 'client_id') IS NOT NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client_id does not match the authenticated client');
    END IF;
    SELECT * INTO c FROM auth.oauth_clients o WHERE o.client_id = v_client_id AND NOT o.disabled;
    IF v_method IN ('client_secret_basic', 'client_secret_post') THEN
        v_secret := auth.oauth_param(p_client_auth, 'client_secret', 512);
        -- an unknown client still costs one digest comparison
        IF NOT auth.oauth_digest_equal(coalesce(c.secret_digest, sha256(auth.hash_token(coalesce(v_secret, '')))),
                                       auth.hash_token(coalesce(v_secret, '')))
           OR c.client_id IS NULL OR v_secret IS NULL
           OR c.token_endpoint_auth_method NOT IN ('client_secret_basic', 'client_secret_post') THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client authentication failed');
        END IF;
    ELSIF v_method = 'none' THEN
        IF c.client_id IS NULL OR c.token_endpoint_auth_method <> 'none' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client authentication failed');
        END IF;
    ELSE  -- private_key_jwt (RFC 7523 section 3)
        IF c.client_id IS NULL OR c.token_endpoint_auth_method <> 'private_key_jwt' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client authentication failed');
        END IF;
        IF auth.oauth_param(p_client_auth, 'client_assertion_type', 128)
           IS DISTINCT FROM 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        END IF;
        v_assertion := auth.oauth_param(p_client_auth, 'client_assertion', 8192);
        -- the registered keys, or those fetched from the registered jwks_uri (never keys the
        -- caller passes)
        v_jwks := CASE WHEN c.jwks IS NOT NULL THEN c.jwks
                       WHEN v_assertion IS NOT NULL THEN auth.oauth_client_jwks_keys(c, v_assertion) END;
        v_claims := auth.oauth_verify_jws(v_assertion, v_jwks);
        IF v_claims IS NULL THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion does not verify with the client''s keys');
        END IF;
        IF v_claims ->> 'iss' IS DISTINCT FROM c.client_id OR v_claims ->> 'sub' IS DISTINCT FROM c.client_id THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion''s iss and sub must be the client_id');
        END IF;
        IF NOT ((jsonb_typeof(v_claims -> 'aud') = 'string'
                 AND v_claims ->> 'aud' IN (auth.oauth_issuer(), auth.oauth_issuer() || '/oauth2/token'))
                OR (jsonb_typeof(v_claims -> 'aud') = 'array'
                    AND (v_claims -> 'aud') ?| ARRAY[auth.oauth_issuer(), auth.oauth_issuer() || '/oauth2/token'])) THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion''s aud must be the token endpoint or the issuer');
        END IF;
        IF jsonb_typeof(v_claims -> 'exp') IS DISTINCT FROM 'number' THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion needs exp');
        END IF;
        v_exp := (v_claims ->> 'exp')::double precision;
        IF v_exp < v_now - 60 OR v_exp > v_now + 3600 THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion is expired or lives too long');
        END IF;
        IF jsonb_typeof(v_claims -> 'nbf') = 'number' AND (v_claims ->> 'nbf')::double precision > v_now + 60 THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion is not valid yet');
        END IF;
        IF jsonb_typeof(v_claims -> 'jti') IS DISTINCT FROM 'string' OR char_length(v_claims ->> 'jti') NOT BETWEEN 1 AND 256 THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion needs a jti');
        END IF;
        INSERT INTO auth.oauth_assertions (client_id, jti_digest, expires_at)
        VALUES (c.client_id, auth.hash_token(v_claims ->> 'jti'), to_timestamp(v_exp + 60))
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            PERFORM auth.raise('OAUTH_INVALID_CLIENT', 'the client assertion was already used');
        END IF;
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION auth.oauth_authenticate_client(jsonb, jsonb) IS
  'Internal: the client authenticated by p_client_auth (client_secret_basic/post, private_key_jwt, none); OAUTH_INVALID_CLIENT otherwise.';

-- at_hash (OpenID Connect Core 3.1.3.6): the left half of the access token's hash, with the
-- hash of the id_token's algorithm (SHA-256 for RS256 and ES256, SHA-512 for Ed25519).
CREATE FUNCTION auth.oauth_at_hash(p_token text, p_alg text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_at_hash' LANGUAGE C IMMUTABLE SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_at_hash(text, text) IS 'Internal: the at_hash of an access token for an id_token algorithm.';

-- Issues an access token (a JWT when resources were requested), a refresh token (offline_access
-- with the refresh_token grant; p_refresh_token is the successor to store, else a new one) and an
-- id_token (openid, with a user). Answers the RFC 6749 token response.
CREATE FUNCTION auth.oauth_issue_tokens(c auth.oauth_clients, p_user_id uuid, p_session_id uuid, p_scopes text[],
                                        p_resources text[], p_auth_time timestamptz, p_nonce text, p_code_digest bytea,
                                        p_family uuid, p_refresh_token text, p_refresh_scopes text[] DEFAULT NULL,
                                        p_refresh_resources text[] DEFAULT NULL)
    RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_now bigint := extract(epoch FROM now())::bigint;
    v_ttl integer := auth.oauth_seconds('pgauth.oauth_access_token_expires_in');
    v_family uuid := coalesce(p_family, gen_random_uuid());
    v_access text;
    v_refresh text;
    v_id_token text;
    v_body jsonb;
    v_alg text := c.id_token_signed_response_alg;
    v_refresh_scopes text[] := coalesce(p_refresh_scopes, p_scopes);
BEGIN
    IF cardinality(p_resources) > 0 THEN
        v_access := auth.oauth_sign(jsonb_strip_nulls(jsonb_build_object(
            'iss', auth.oauth_issuer(), 'sub', coalesce(p_user_id::text, c.client_id),
            'aud', CASE WHEN cardinality(p_resources) = 1 THEN to_jsonb(p_resources[1]) ELSE to_jsonb(p_resources) END,
            'client_id', c.client_id, 'scope', nullif(array_to_string(p_scopes, ' '), ''),
            'iat', v_now, 'exp', v_now + v_ttl, 'jti', gen_random_uuid())), NULL, 'at+jwt');
    ELSE
        v_access := auth.oauth_random_token(32);
    END IF;
    INSERT INTO auth.oauth_tokens (digest, kind, family_id, code_digest, client_id, user_id, session_id, scopes,
                                   resources, auth_time, expires_at)
    VALUES (auth.hash_token(v_access), 'access', v_family, p_code_digest, c.client_id, p_user_id, p_session_id,
            p_scopes, p_resources, p_auth_time, now() + make_interval(secs => v_ttl));
    -- no scope at all (a client_credentials client without a registered scope): no scope member
    v_body := jsonb_strip_nulls(jsonb_build_object('access_token', v_access, 'token_type', 'Bearer', 'expires_in', v_ttl,
                                                   'scope', nullif(array_to_string(p_scopes, ' '), '')));
    IF p_user_id IS NOT NULL AND 'offline_access' = ANY (v_refresh_scopes) AND 'refresh_token' = ANY (c.grant_types) THEN
        v_refresh := coalesce(p_refresh_token, auth.oauth_random_token(32));
        INSERT INTO auth.oauth_tokens (digest, kind, family_id, code_digest, client_id, user_id, session_id, scopes,
                                       resources, auth_time, expires_at)
        VALUES (auth.hash_token(v_refresh), 'refresh', v_family, p_code_digest, c.client_id, p_user_id, p_session_id,
                v_refresh_scopes, coalesce(p_refresh_resources, p_resources), p_auth_time,
                now() + make_interval(secs => auth.oauth_seconds('pgauth.oauth_refresh_token_expires_in')))
        ON CONFLICT (digest) DO NOTHING;
        v_body := v_body || jsonb_build_object('refresh_token', v_refresh);
    END IF;
    IF p_user_id IS NOT NULL AND 'openid' = ANY (p_scopes) THEN
        v_id_token := auth.oauth_sign(jsonb_strip_nulls(jsonb_build_object(
            'iss', auth.oauth_issuer(), 'sub', p_user_id::text, 'aud', c.client_id, 'azp', c.client_id,
            'iat', v_now, 'exp', v_now + auth.oauth_seconds('pgauth.oauth_id_token_expires_in'),
            'auth_time', extract(epoch FROM p_auth_time)::bigint, 'nonce', p_nonce,
            'at_hash', auth.oauth_at_hash(v_access, v_alg), 'sid', p_session_id::text)), v_alg, 'JWT');
        v_body := v_body || jsonb_build_object('id_token', v_id_token);
    END IF;
    RETURN v_body;
END
$$;
COMMENT ON FUNCTION auth.oauth_issue_tokens(auth.oauth_clients, uuid, uuid, text[], text[], timestamptz, text, bytea, uuid, text, text[], text[]) IS
  'Internal: issues and stores (as digests) the tokens of a grant; the token response.';

CREATE FUNCTION auth.oauth_revoke_family(p_family uuid, p_reason text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    n integer;
    v_user uuid;
    v_client text;
BEGIN
    UPDATE auth.oauth_tokens t SET revoked_at = now() WHERE t.family_id = p_family AND t.revoked_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    SELECT t.user_id, t.client_id INTO v_user, v_client FROM auth.oauth_tokens t WHERE t.family_id = p_family LIMIT 1;
    IF p_reason IN ('refresh_token_reuse', 'code_replay') THEN
        INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
        VALUES (session_user, current_user, 'oauth_family_revoked', v_user,
                jsonb_build_object('reason', p_reason, 'client_id', v_client, 'family_id', p_family, 'tokens', n));
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION auth.oauth_revoke_family(uuid, text) IS
  'Internal: revokes every token of a family; a reuse or code replay is written to auth.audit_log.';

-- Bounded cleanup of expired rows: called on a fraction of token-endpoint writes. It must cost
-- an index probe when nothing has expired, whatever the statistics say: a plan made while a table
-- looked small (a new table, before autovacuum analyzes it) would read the whole table on every
-- call once it is large, so this function plans with sequential scans off.
CREATE FUNCTION auth.oauth_cleanup_some(p_limit integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp SET enable_seqscan = off AS $$
DECLARE
    n integer;
    total integer := 0;
BEGIN
    DELETE FROM auth.oauth_codes WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_codes x
        WHERE x.expires_at < now() - interval '1 hour' LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    DELETE FROM auth.oauth_consent_requests WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_consent_requests x
        WHERE x.expires_at < now() LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    -- a token is kept for a day past its expiry so that a late replay still finds its family
    DELETE FROM auth.oauth_tokens WHERE digest = ANY (ARRAY(SELECT x.digest FROM auth.oauth_tokens x
        WHERE x.expires_at < now() - interval '1 day' LIMIT p_limit FOR UPDATE SKIP LOCKED));
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    DELETE FROM auth.oauth_assertions WHERE (client_id, jti_digest) IN (SELECT x.client_id, x.jti_digest
        FROM auth.oauth_assertions x WHERE x.expires_at < now() LIMIT p_limit FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    RETURN total;
END
$$;
COMMENT ON FUNCTION auth.oauth_cleanup_some(integer) IS 'Internal: deletes up to p_limit expired rows of each OAuth table.';

CREATE FUNCTION auth.oauth_cleanup() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
    SELECT auth.oauth_cleanup_some(2147483647)
$$;
COMMENT ON FUNCTION auth.oauth_cleanup() IS
  'Deletes expired authorization codes (an hour after expiry), consent requests, client assertion ids and tokens (a day after expiry); returns the rows removed. The token endpoint also does this, bounded, on about one write in 16: no cron is needed.';

-- ---- the token endpoint
CREATE FUNCTION auth.oauth_token(p_params jsonb, p_client_auth jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients;
    v_grant text;
    v_code auth.oauth_codes;
    v_token auth.oauth_tokens;
    v_value text;
    v_verifier text;
    v_scopes text[];
    v_resources text[];
    v_successor text;
    v_scope text;
BEGIN
    IF p_params IS NULL OR jsonb_typeof(p_params) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the request parameters must be a JSON object');
    END IF;
    v_grant := auth.oauth_param(p_params, 'grant_type', 128);
    c := auth.oauth_authenticate_client(p_client_auth, p_params);
    IF v_grant IS NULL THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'grant_type is required');
    END IF;
    IF v_grant NOT IN ('authorization_code', 'refresh_token', 'client_credentials') THEN
        PERFORM auth.raise('OAUTH_UNSUPPORTED_GRANT_TYPE', 'grant_type must be authorization_code, refresh_token or client_credentials');
    END IF;
    IF NOT v_grant = ANY (c.grant_types) THEN
        PERFORM auth.raise('OAUTH_UNAUTHORIZED_CLIENT', format('this client may not use the %s grant', v_grant));
    END IF;
    IF random() < 0.0625 THEN
        PERFORM auth.oauth_cleanup_some(100);
    END IF;

    IF v_grant = 'authorization_code' THEN
        v_value := auth.oauth_param(p_params, 'code', 256);
        IF v_value IS NULL THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'code is required');
        END IF;
        SELECT * INTO v_code FROM auth.oauth_codes o WHERE o.digest = auth.hash_token(v_value) FOR UPDATE;
        IF v_code.digest IS NULL OR v_code.client_id <> c.client_id THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the code is invalid');
        END IF;
        IF v_code.used_at IS NOT NULL THEN
            -- a replay: what the code issued is revoked, and that must survive the error
            PERFORM auth.oauth_revoke_family(f.family_id, 'code_replay')
               FROM (SELECT DISTINCT t.family_id FROM auth.oauth_tokens t WHERE t.code_digest = v_code.digest) f;
            RETURN jsonb_build_object('error', 'invalid_grant', 'error_description', 'the code was already used');
        END IF;
        IF v_code.expires_at <= now() THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the code has expired');
        END IF;
        IF auth.oauth_param(p_params, 'redirect_uri') IS DISTINCT FROM v_code.redirect_uri THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'redirect_uri does not match the authorization request');
        END IF;
        v_verifier := auth.oauth_param(p_params, 'code_verifier', 128);
        IF v_code.code_challenge IS NOT NULL THEN
            IF v_verifier IS NULL OR v_verifier !~ '^[A-Za-z0-9._~-]{43,128}$'
               OR NOT auth.oauth_digest_equal(
                      convert_to(rtrim(translate(encode(sha256(convert_to(v_verifier, 'UTF8')), 'base64'), '+/', '-_'), '='), 'UTF8'),
                      convert_to(v_code.code_challenge, 'UTF8')) THEN
                PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the code_verifier does not match the code_challenge');
            END IF;
        ELSIF v_verifier IS NOT NULL THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'a code_verifier was sent for a code issued without a code_challenge');
        END IF;
        IF NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = v_code.user_id AND u.is_active) THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the user is no longer active');
        END IF;
        -- RFC 8707 2.2: a resource at the token endpoint picks among those authorized
        v_resources := auth.oauth_resources(p_params);
        IF cardinality(v_resources) = 0 THEN
            v_resources := v_code.resources;
        ELSIF NOT v_resources <@ v_code.resources THEN
            PERFORM auth.raise('OAUTH_INVALID_TARGET', 'resource must be among the resources of the authorization request');
        END IF;
        UPDATE auth.oauth_codes o SET used_at = now() WHERE o.digest = v_code.digest;
        RETURN auth.oauth_issue_tokens(c, v_code.user_id, v_code.session_id, v_code.scopes, v_resources,
                                       v_code.auth_time, v_code.nonce, v_code.digest, NULL, NULL, NULL, v_code.resources);

    ELSIF v_grant = 'refresh_token' THEN
        v_value := auth.oauth_param(p_params, 'refresh_token', 256);
        IF v_value IS NULL THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'refresh_token is required');
        END IF;
        SELECT * INTO v_token FROM auth.oauth_tokens t
         WHERE t.digest = auth.hash_token(v_value) AND t.kind = 'refresh' FOR UPDATE;
        IF v_token.digest IS NULL OR v_token.client_id <> c.client_id OR v_token.revoked_at IS NOT NULL
           OR v_token.expires_at <= now() THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the refresh token is invalid');
        END IF;
        v_scope := auth.oauth_param(p_params, 'scope', 1000);
        IF v_scope IS NULL THEN
            v_scopes := v_token.scopes;
        ELSE
            v_scopes := ARRAY(SELECT DISTINCT s FROM unnest(string_to_array(v_scope, ' ')) s);
            IF NOT v_scopes <@ v_token.scopes THEN
                PERFORM auth.raise('OAUTH_INVALID_SCOPE', 'scope must be among the originally granted scopes');
            END IF;
            -- keep the order they were granted in
            v_scopes := ARRAY(SELECT s FROM unnest(v_token.scopes) s WHERE s = ANY (v_scopes));
        END IF;
        v_resources := auth.oauth_resources(p_params);
        IF cardinality(v_resources) = 0 THEN
            v_resources := v_token.resources;
        ELSIF NOT v_resources <@ v_token.resources THEN
            PERFORM auth.raise('OAUTH_INVALID_TARGET', 'resource must be among the originally requested resources');
        END IF;
        v_successor := auth.oauth_hmac('refresh-successor', v_value);
        IF v_token.rotated_at IS NOT NULL THEN
            -- presented again: a retry within the reuse interval gets the same successor (if it
            -- is still live); anything else is a reuse, and the whole family is revoked
            IF v_token.rotated_at >= now() - make_interval(secs => auth.oauth_seconds('pgauth.oauth_refresh_reuse_interval'))
               AND auth.oauth_seconds('pgauth.oauth_refresh_reuse_interval') > 0
               AND EXISTS (SELECT 1 FROM auth.oauth_tokens t WHERE t.digest = auth.hash_token(v_successor)
                              AND t.revoked_at IS NULL AND t.rotated_at IS NULL) THEN
                NULL;
            ELSE
                PERFORM auth.oauth_revoke_family(v_token.family_id, 'refresh_token_reuse');
                RETURN jsonb_build_object('error', 'invalid_grant', 'error_description',
                                          'the refresh token was already used; its grant is revoked');
            END IF;
        END IF;
        IF v_token.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = v_token.user_id AND u.is_active) THEN
            PERFORM auth.raise('OAUTH_INVALID_GRANT', 'the user is no longer active');
        END IF;
        UPDATE auth.oauth_tokens t SET rotated_at = coalesce(t.rotated_at, now()) WHERE t.digest = v_token.digest;
        -- the successor keeps the grant's scopes and resources (RFC 6749 6): a narrower scope or
        -- resource is for this access token only
        RETURN auth.oauth_issue_tokens(c, v_token.user_id, v_token.session_id, v_scopes, v_resources,
                                       v_token.auth_time, NULL, v_token.code_digest, v_token.family_id,
                                       v_successor, v_token.scopes, v_token.resources);

    ELSE  -- client_credentials
        IF c.token_endpoint_auth_method = 'none' THEN
            PERFORM auth.raise('OAUTH_UNAUTHORIZED_CLIENT', 'a public client may not use client_credentials');
        END IF;
        v_scopes := auth.oauth_scopes(c, auth.oauth_param(p_params, 'scope', 1000), false);
        v_resources := auth.oauth_resources(p_params);
        RETURN auth.oauth_issue_tokens(c, NULL, NULL, v_scopes, v_resources, NULL, NULL, NULL, NULL, NULL);
    END IF;
END
$$;
COMMENT ON FUNCTION auth.oauth_token(jsonb, jsonb) IS
  'The token endpoint (grants authorization_code, refresh_token, client_credentials; client authentication client_secret_basic, client_secret_post, private_key_jwt, none): the RFC 6749 token response. Raises OAUTH_* errors, except a code replay or refresh-token reuse, answered {"error":"invalid_grant","error_description"} so that the revocation they cause is kept.';

-- ---- userinfo, introspection, revocation
CREATE FUNCTION auth.oauth_userinfo(p_access_token text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_oauth_userinfo' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.oauth_userinfo(text) IS
  'OpenID Connect userinfo: sub, and by scope profile (name, picture, updated_at) and email (email, email_verified). OAUTH_INVALID_TOKEN (401) for a token that is not live; OAUTH_INSUFFICIENT_SCOPE (403) without openid.';

CREATE FUNCTION auth.oauth_introspect(p_token text, p_token_type_hint text, p_client_auth jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients := auth.oauth_authenticate_client(p_client_auth, NULL);
    t auth.oauth_tokens;
BEGIN
    IF p_token IS NOT NULL AND char_length(p_token) BETWEEN 1 AND 8192 THEN
        SELECT * INTO t FROM auth.oauth_tokens x WHERE x.digest = auth.hash_token(p_token);
    END IF;
    IF t.digest IS NULL OR t.client_id <> c.client_id OR t.revoked_at IS NOT NULL OR t.expires_at <= now()
       OR t.rotated_at IS NOT NULL
       OR (t.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = t.user_id AND u.is_active)) THEN
        RETURN jsonb_build_object('active', false);
    END IF;
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'active', true, 'client_id', t.client_id, 'scope', nullif(array_to_string(t.scopes, ' '), ''),
        'sub', coalesce(t.user_id::text, t.client_id), 'exp', extract(epoch FROM t.expires_at)::bigint,
        'iat', extract(epoch FROM t.created_at)::bigint, 'iss', auth.oauth_issuer(),
        'token_type', CASE WHEN t.kind = 'access' THEN 'Bearer' ELSE 'refresh_token' END,
        'aud', CASE WHEN cardinality(t.resources) = 1 THEN to_jsonb(t.resources[1])
                    WHEN cardinality(t.resources) > 1 THEN to_jsonb(t.resources) END,
        'auth_time', extract(epoch FROM t.auth_time)::bigint));
END
$$;
COMMENT ON FUNCTION auth.oauth_introspect(text, text, jsonb) IS
  'RFC 7662 introspection by an authenticated client: {"active":true, client_id, scope, sub, exp, iat, iss, token_type, aud?} for its own live token, {"active":false} for anything else. OAUTH_INVALID_CLIENT when the client fails authentication.';

CREATE FUNCTION auth.oauth_revoke(p_token text, p_token_type_hint text, p_client_auth jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c auth.oauth_clients := auth.oauth_authenticate_client(p_client_auth, NULL);
    t auth.oauth_tokens;
BEGIN
    IF p_token IS NULL OR char_length(p_token) NOT BETWEEN 1 AND 8192 THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'token is required');
    END IF;
    SELECT * INTO t FROM auth.oauth_tokens x WHERE x.digest = auth.hash_token(p_token) FOR UPDATE;
    IF t.digest IS NULL OR t.client_id <> c.client_id THEN
        RETURN;  -- RFC 7009 2.2: an unknown or foreign token is not an error
    END IF;
    IF t.kind = 'refresh' THEN
        PERFORM auth.oauth_revoke_family(t.family_id, 'revocation');
    ELSE
        UPDATE auth.oauth_tokens x SET revoked_at = coalesce(x.revoked_at, now()) WHERE x.digest = t.digest;
    END IF;
END
$$;
COMMENT ON FUNCTION auth.oauth_revoke(text, text, jsonb) IS
  'RFC 7009 revocation by an authenticated client: a refresh token revokes its family (and the access tokens it issued), an access token itself; an unknown or foreign token is ignored. OAUTH_INVALID_CLIENT when the client fails authentication.';

-- ---- RP-initiated logout
CREATE FUNCTION auth.oauth_end_session(p_session_token text, p_params jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_hint text;
    v_claims jsonb;
    v_client_id text;
    v_redirect text;
    c auth.oauth_clients;
BEGIN
    IF p_params IS NULL OR jsonb_typeof(p_params) <> 'object' THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'the request parameters must be a JSON object');
    END IF;
    v_hint := auth.oauth_param(p_params, 'id_token_hint', 8192);
    v_client_id := auth.oauth_param(p_params, 'client_id');
    v_redirect := auth.oauth_param(p_params, 'post_logout_redirect_uri');
    IF v_hint IS NOT NULL THEN
        v_claims := auth.oauth_verify_jws(v_hint, NULL);
        IF v_claims IS NULL OR v_claims ->> 'iss' IS DISTINCT FROM auth.oauth_issuer()
           OR jsonb_typeof(v_claims -> 'aud') IS DISTINCT FROM 'string' THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'id_token_hint is not an id_token of this issuer');
        END IF;
        IF v_client_id IS NOT NULL AND v_client_id <> v_claims ->> 'aud' THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'client_id does not match the id_token_hint');
        END IF;
        v_client_id := v_claims ->> 'aud';
    END IF;
    IF v_redirect IS NOT NULL THEN
        SELECT * INTO c FROM auth.oauth_clients o WHERE o.client_id = v_client_id AND NOT o.disabled;
        IF c.client_id IS NULL OR NOT v_redirect = ANY (c.post_logout_redirect_uris) THEN
            PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'post_logout_redirect_uri is not registered for this client');
        END IF;
    END IF;
    -- end the session: the caller's, and the one the id_token_hint names (its sid, same user)
    IF p_session_token IS NOT NULL AND char_length(p_session_token) <= 4096 THEN
        PERFORM auth.revoke_session(p_session_token);
    END IF;
    IF v_claims ? 'sid' AND v_claims ->> 'sid' ~ '^[0-9a-f-]{36}$' AND v_claims ->> 'sub' ~ '^[0-9a-f-]{36}$' THEN
        DELETE FROM auth.sessions s WHERE s.id = (v_claims ->> 'sid')::uuid AND s.user_id = (v_claims ->> 'sub')::uuid;
    END IF;
    RETURN jsonb_build_object('url', CASE WHEN v_redirect IS NOT NULL
        THEN auth.oauth_url(v_redirect, jsonb_build_object('state', auth.oauth_param(p_params, 'state'))) END);
END
$$;
COMMENT ON FUNCTION auth.oauth_end_session(text, jsonb) IS
  'RP-initiated logout: ends the caller''s session and the one named by id_token_hint; {"url"} = the registered post_logout_redirect_uri with state, or null (show a signed-out page). OAUTH_INVALID_REQUEST for a bad id_token_hint, a client_id other than its aud, or an unregistered post_logout_redirect_uri.';

-- ---- discovery
CREATE FUNCTION auth.oauth_discovery(p_kind text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    v_iss text := auth.oauth_issuer();
    v_doc jsonb;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('openid-configuration', 'oauth-authorization-server') THEN
        PERFORM auth.raise('OAUTH_INVALID_REQUEST', 'kind must be openid-configuration or oauth-authorization-server');
    END IF;
    v_doc := jsonb_build_object(
        'issuer', v_iss,
        'authorization_endpoint', v_iss || '/oauth2/authorize',
        'token_endpoint', v_iss || '/oauth2/token',
        'userinfo_endpoint', v_iss || '/oauth2/userinfo',
        'jwks_uri', v_iss || '/jwks',
        'registration_endpoint', v_iss || '/oauth2/register',
        'introspection_endpoint', v_iss || '/oauth2/introspect',
        'revocation_endpoint', v_iss || '/oauth2/revoke',
        'end_session_endpoint', v_iss || '/oauth2/end-session',
        'scopes_supported', to_jsonb(auth.oauth_supported_scopes()),
        'response_types_supported', jsonb_build_array('code'),
        'response_modes_supported', jsonb_build_array('query'),
        'grant_types_supported', jsonb_build_array('authorization_code', 'refresh_token', 'client_credentials'),
        'token_endpoint_auth_methods_supported',
            jsonb_build_array('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'),
        'token_endpoint_auth_signing_alg_values_supported', jsonb_build_array('RS256', 'ES256', 'EdDSA'),
        'introspection_endpoint_auth_methods_supported',
            jsonb_build_array('client_secret_basic', 'client_secret_post', 'private_key_jwt'),
        'revocation_endpoint_auth_methods_supported',
            jsonb_build_array('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'),
        'code_challenge_methods_supported', jsonb_build_array('S256'),
        'authorization_response_iss_parameter_supported', true,
        'client_id_metadata_document_supported', true);
    IF p_kind = 'openid-configuration' THEN
        v_doc := v_doc || jsonb_build_object(
            'subject_types_supported', jsonb_build_array('public'),
            'id_token_signing_alg_values_supported', jsonb_build_array('RS256', 'ES256', 'EdDSA'),
            'claims_supported', jsonb_build_array('sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash',
                                                  'sid', 'name', 'picture', 'updated_at', 'email', 'email_verified'),
            'prompt_values_supported', jsonb_build_array('none', 'login', 'consent'),
            'claims_parameter_supported', false,
            'request_parameter_supported', false,
            'request_uri_parameter_supported', false);
    END IF;
    RETURN v_doc;
END
$$;
COMMENT ON FUNCTION auth.oauth_discovery(text) IS
  'The discovery document (openid-configuration, or RFC 8414 oauth-authorization-server) built from pgauth.base_url and the settings; advertises only what is built.';

-- ---- audit: client registration
CREATE FUNCTION auth.oauth_client_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
BEGIN
    IF pg_catalog.current_query() OPERATOR(pg_catalog.~*) '^\s*COPY\s' THEN
        RETURN NULL;  -- a restore (pg_dump's COPY) brings the clients back, not new registrations
    END IF;
    INSERT INTO auth.audit_log (actor, role, event, user_id, detail)
    VALUES (session_user, current_user, 'oauth_client_registered', NULL,
            jsonb_build_object('client_id', NEW.client_id, 'source', NEW.source, 'client_name', NEW.client_name));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION auth.oauth_client_audit() IS 'Trigger: a new OAuth client (admin, dcr or cimd) is written to auth.audit_log.';
CREATE TRIGGER oauth_client_audit AFTER INSERT ON auth.oauth_clients
    FOR EACH ROW EXECUTE FUNCTION auth.oauth_client_audit();

REVOKE ALL ON FUNCTION
    auth.oauth_sign(jsonb, text, text), auth.oauth_hmac(text, text), auth.oauth_verify_jws(text, jsonb),
    auth.verify_access_token(text, text), auth.oauth_issuer(), auth.oauth_seconds(text), auth.oauth_param(jsonb, text, integer),
    auth.oauth_resources(jsonb), auth.oauth_url(text, jsonb), auth.oauth_supported_scopes(),
    auth.oauth_scopes(auth.oauth_clients, text, boolean), auth.oauth_error_redirect(text, text, text, text),
    auth.oauth_issue_code(jsonb, uuid, uuid, timestamptz), auth.oauth_authorize(text, jsonb, inet, text),
    auth.oauth_consent(text, text, boolean, text[]), auth.oauth_authenticate_client(jsonb, jsonb),
    auth.oauth_jws_kid(text), auth.oauth_client_jwks_keys(auth.oauth_clients, text),
    auth.oauth_client_jwks_store(text, text, jsonb, integer, text),
    auth.oauth_at_hash(text, text),
    auth.oauth_issue_tokens(auth.oauth_clients, uuid, uuid, text[], text[], timestamptz, text, bytea, uuid, text, text[], text[]),
    auth.oauth_revoke_family(uuid, text), auth.oauth_cleanup_some(integer), auth.oauth_cleanup(),
    auth.oauth_token(jsonb, jsonb), auth.oauth_userinfo(text), auth.oauth_introspect(text, text, jsonb),
    auth.oauth_revoke(text, text, jsonb), auth.oauth_end_session(text, jsonb), auth.oauth_discovery(text),
    auth.oauth_client_audit()
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    auth.oauth_authorize(text, jsonb, inet, text), auth.oauth_consent(text, text, boolean, text[]),
    auth.oauth_token(jsonb, jsonb), auth.oauth_userinfo(text), auth.oauth_introspect(text, text, jsonb),
    auth.oauth_revoke(text, text, jsonb), auth.oauth_end_session(text, jsonb),
    auth.oauth_client_jwks_store(text, text, jsonb, integer, text)
  TO pgauth_service;
GRANT EXECUTE ON FUNCTION auth.oauth_discovery(text) TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.verify_access_token(text, text) TO pgauth_reader, pgauth_service;
GRANT EXECUTE ON FUNCTION auth.oauth_cleanup() TO pgauth_admin;

-- ---------------------------------------------------------------- OAuth provider: end
