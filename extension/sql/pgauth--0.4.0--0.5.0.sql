-- pgauth 0.4.0 -> 0.5.0: email flows through a transactional outbox, compiled API-key checks,
-- social accounts.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.5.0'" to load this file. \quit

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
    IF ((t.v).purpose = 'change-email' OR auth.email_setting('pgauth.email_auto_sign_in_after_verification')::boolean)
       AND EXISTS (SELECT 1 FROM auth.users u WHERE u.id = v_user AND u.is_active) THEN
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

-- sign-up and sign-in under pgauth.email_require_verification / pgauth.email_send_on_sign_up
CREATE OR REPLACE FUNCTION auth.sign_up_email(email text, password text, name text, image text DEFAULT NULL,
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

CREATE OR REPLACE FUNCTION auth.sign_in_email(email text, password text, remember_me boolean DEFAULT true,
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

DROP FUNCTION auth.sign_up_response(text, text, text, text, inet, text);
CREATE FUNCTION auth.sign_up_response(p_email text, p_password text, p_name text, p_image text, p_ip inet,
                                      p_user_agent text, p_callback_url text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint)
    AS 'MODULE_PATHNAME', 'pgauth_sign_up_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_up_response(text, text, text, text, inet, text, text) IS
  'auth.sign_up_email with Better-Auth''s sign-up body {"token","user"}, the session token and the cookie''s max_age. With pgauth.email_send_on_sign_up or pgauth.email_require_verification the verification mail (/verify-email?token=..&callbackURL=p_callback_url) is queued in the same transaction (skipped past the per-address limit); under require-verification the body is {"token":null,"user"} and session_token and max_age are NULL.';

DROP FUNCTION auth.sign_in_response(text, text, boolean, inet, text, text);
CREATE FUNCTION auth.sign_in_response(p_email text, p_password text, p_remember_me boolean, p_ip inet,
                                      p_user_agent text, p_callback_url text DEFAULT NULL)
    RETURNS TABLE (body json, session_token text, max_age bigint, error_code text)
    AS 'MODULE_PATHNAME', 'pgauth_sign_in_response' LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 1 SECURITY DEFINER;
COMMENT ON FUNCTION auth.sign_in_response(text, text, boolean, inet, text, text) IS
  'auth.sign_in_email with Better-Auth''s sign-in body {"redirect","token","url"?,"user"} (redirect and url when p_callback_url is not empty; the caller checks it against trusted origins), the session token and the cookie''s max_age. Under pgauth.email_require_verification an unverified user (right password) gets error_code EMAIL_NOT_VERIFIED with body and session NULL, and a new verification mail (callbackURL = p_callback_url or /) is queued; returned, not raised, so the mail commits.';

REVOKE ALL ON FUNCTION auth.sign_up_response(text, text, text, text, inet, text, text),
    auth.sign_in_response(text, text, boolean, inet, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.sign_up_response(text, text, text, text, inet, text, text),
    auth.sign_in_response(text, text, boolean, inet, text, text)
  TO pgauth_service, pgauth_admin;


-- ---------------------------------------------------------------- email: end

-- ---------------------------------------------------------------- API keys, compiled (0.5.0)

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
