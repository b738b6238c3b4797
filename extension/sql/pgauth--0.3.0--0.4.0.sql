-- pgauth 0.3.0 -> 0.4.0: the compiled error catalog, password hash cost limits,
-- audience and session checks in jwt_session_init, settings() without the key
-- file path, and the password-less delete_user(uuid) taken from pgauth_service.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------- errors
-- The catalog is compiled into the library (extension/core/error_codes.cpp): raising
-- an error runs no SQL. auth.error_codes is filled from it, for SQL readers and the HTTP layer.
CREATE FUNCTION auth.error_code_catalog(OUT code text, OUT sqlstate text, OUT http_status integer, OUT message text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_error_code_catalog' LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.error_code_catalog() IS
  'The error catalog compiled into the library; auth.error_codes holds the same rows.';

INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);

CREATE OR REPLACE FUNCTION auth.raise(code text, reason text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_raise' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.raise(text, text) IS
  'Raises the catalog error named by code (SQLSTATE, message, DETAIL = code); reason overrides the message. Unknown codes raise INTERNAL_ERROR.';

-- ---------------------------------------------------------------- password hash cost limits
CREATE FUNCTION auth.check_password_hash(hash text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_check_password_hash' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION auth.check_password_hash(text) IS
  'Import check without hashing: INVALID_PASSWORD_HASH for an unknown format, PASSWORD_HASH_TOO_EXPENSIVE for a cost above pgauth.argon2_max_memlimit / argon2_max_opslimit / bcrypt_max_cost / scrypt_max_n.';

CREATE OR REPLACE FUNCTION auth.import_user(email text, name text, password_hash text DEFAULT NULL,
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

COMMENT ON FUNCTION auth.verify_password(text, text) IS
  'True if NFKC(password) matches hash: argon2id, Better-Auth scrypt (salthex:keyhex) or bcrypt ($2a$/$2b$/$2y$). False for NULLs or unknown formats. PASSWORD_HASH_UNVERIFIABLE, without hashing, for a hash above the cost limits.';

-- ---------------------------------------------------------------- row-level security
-- jwt_session_init checks aud (pgauth.base_url unless named) and refuses a JWT whose sid session has ended.
DROP FUNCTION auth.jwt_session_init(text, boolean);
CREATE FUNCTION auth.jwt_session_init(jwt text, session_wide boolean DEFAULT false, audience text DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_jwt_session_init' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.jwt_session_init(text, boolean, text) IS
  'Verifies a JWT (aud must be audience, default pgauth.base_url; a sid claim must name a live session) and signs its subject in for this transaction (or, with session_wide, this connection) for auth.jwt(), auth.user_id() and auth.session().';

-- ---------------------------------------------------------------- settings
CREATE OR REPLACE FUNCTION auth.settings(OUT name text, OUT setting text, OUT description text) RETURNS SETOF record
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

-- ---------------------------------------------------------------- users
-- The password-less delete_user(uuid) is an admin operation; pgauth_service deletes with delete_user(uuid, text).
REVOKE EXECUTE ON FUNCTION auth.delete_user(uuid) FROM pgauth_service;
COMMENT ON FUNCTION auth.delete_user(uuid) IS
  'Admin: deletes a user with its accounts and sessions without a password check; false if unknown.';

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

CREATE OR REPLACE FUNCTION auth.sign_in_email(email text, password text, remember_me boolean DEFAULT true,
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

CREATE OR REPLACE FUNCTION auth.change_password(user_id uuid, current_password text, new_password text,
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
-- ---------------------------------------------------------------- privileges
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwt_session_init(text, boolean, text), auth.error_code_catalog()
  TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.check_password_hash(text) TO pgauth_admin;
GRANT EXECUTE ON FUNCTION
    auth.get_session(text, boolean), auth.sign_up_response(text, text, text, text, inet, text),
    auth.sign_in_response(text, text, boolean, inet, text, text), auth.list_sessions_response(text),
    auth.change_password_response(text, text, text, boolean)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.key_status() TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.rate_limit_hit(text, integer, integer) TO pgauth_service, pgauth_admin;
