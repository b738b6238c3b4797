-- pgauth 0.4.0 -> 0.5.0: email flows through a transactional outbox, compiled API-key checks,
-- social accounts.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.5.0'" to load this file. \quit

-- ---------------------------------------------------------------- email: verification records and the outbox (0.5.0)

-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)
-- The API-key check, compiled: auth.verify_api_key and auth.get_session_by_api_key in C++
-- (a plan prepared once per backend, no SET search_path, no re-planning per call), and
-- API keys as a credential. Every function taking p_token resolves it through one helper,
-- auth.session_user_id (C++, the resolver behind validate_session, get_session and the
-- *_response functions), which also takes "apikey:<key>": the key's user, one use consumed.
CREATE FUNCTION auth.raise(code text, reason text, retry_after integer) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_raise' LANGUAGE C STABLE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.raise(text, text, integer) IS
  'Raises the catalog error named by code with reason as its message and, when retry_after > 0, the HINT "Retry-After: <retry_after>" (seconds): pgauth-http sends it as the Retry-After header.';
REVOKE ALL ON FUNCTION auth.raise(text, text, integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION auth.verify_api_key(p_key text, p_permissions jsonb DEFAULT NULL)
    RETURNS TABLE (valid boolean, error_code text, key_id uuid, user_id uuid, remaining integer, permissions jsonb)
    AS 'MODULE_PATHNAME', 'pgauth_verify_api_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.verify_api_key(text, jsonb) IS
  'Checks an API key in one call and consumes one use: valid, or error_code INVALID_API_KEY, KEY_DISABLED, KEY_EXPIRED, USER_INACTIVE, KEY_NOT_FOUND (permissions not granted, as Better-Auth), USAGE_EXCEEDED, RATE_LIMITED. p_permissions {resource: [action, ...]}: all must be granted. C++: a unique-index lookup on the digest with a plan prepared once per backend; keys with remaining or a rate limit are counted under the row lock (no overspend); others are not written.';

CREATE OR REPLACE FUNCTION auth.get_session_by_api_key(p_key text) RETURNS TABLE (body json, error_code text)
    AS 'MODULE_PATHNAME', 'pgauth_get_session_by_api_key' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.get_session_by_api_key(text) IS
  'get-session for a request carrying x-api-key (Better-Auth enableSessionForAPIKeys): body {"session": {id and token = the key id (never the key), userId, expiresAt = the key''s or now + pgauth.session_expires_in}, "user"}, consuming one use as auth.verify_api_key; when invalid body NULL and error_code the reason. auth.get_session(''apikey:'' || key) answers the same body.';

CREATE FUNCTION auth.session_user_id(p_token text, p_allow_api_key boolean DEFAULT true) RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_session_user_id' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.session_user_id(text, boolean) IS
  'The user of a credential: a session token''s (NULL if it names no live session; the session slides as in validate_session) or, for ''apikey:<key>'', the API key''s, consuming one use (a refused key raises INVALID_API_KEY, KEY_DISABLED, KEY_EXPIRED, USER_INACTIVE, USAGE_EXCEEDED or RATE_LIMITED). p_allow_api_key false: an API key raises API_KEY_NOT_ALLOWED. The one resolver every p_token function uses.';
REVOKE ALL ON FUNCTION auth.session_user_id(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.session_user_id(text, boolean) TO pgauth_reader, pgauth_service, pgauth_admin;

CREATE OR REPLACE FUNCTION auth.vault_list(p_token text) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.vault_set(p_token text, p_entries jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.api_key_create(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.api_key_get(p_token text, p_id text) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.api_key_list(p_token text) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.api_key_update(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.api_key_delete(p_token text, p_body jsonb) RETURNS json
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


-- KEK rotation online: pgauth.previous_key_file opens what the current KEK does not, and
-- auth.reseal() moves every sealed value (the registry sealed_columns in keys.cpp) to the current KEK.
CREATE FUNCTION auth.reseal(OUT kind text, OUT resealed bigint, OUT current bigint) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'pgauth_reseal' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.reseal() IS
  'KEK rotation: re-seals under pgauth.key_file every sealed value (signing keys, vault) that opens only with pgauth.previous_key_file; one row per kind: resealed, and current (already under the current KEK). All or nothing: a value that opens with neither raises SIGNING_KEY_UNAVAILABLE. pgauth_admin.';
REVOKE ALL ON FUNCTION auth.reseal() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reseal() TO pgauth_admin;

-- pgauth.previous_key_file is superuser-only, like pgauth.key_file.
CREATE OR REPLACE FUNCTION auth.settings(OUT name text, OUT setting text, OUT description text) RETURNS SETOF record
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

-- ACCOUNT_LOCKED says when to retry structurally (auth.raise's retry_after), not only in its message.
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
-- ---------------------------------------------------------------- API keys: end

-- ---------------------------------------------------------------- social accounts (0.5.0)

-- ---------------------------------------------------------------- social accounts: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
