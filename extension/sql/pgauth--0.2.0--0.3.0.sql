-- pgauth 0.3.0: JWT signing keys, JWKS, sign/verify, session JWTs and the
-- row-level security helpers.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.3.0'" to load this file. \quit

INSERT INTO auth.error_codes (code, sqlstate, http_status, message) VALUES
  ('INVALID_KEY',             'PA400', 400, 'Invalid key'),
  ('SIGNING_KEY_UNAVAILABLE', 'PA500', 500, 'No signing key is available: check pgauth.key_file');

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
CREATE FUNCTION auth.jwt_session_init(jwt text, session_wide boolean DEFAULT false) RETURNS void
    AS 'MODULE_PATHNAME', 'pgauth_jwt_session_init' LANGUAGE C VOLATILE CALLED ON NULL INPUT SECURITY DEFINER;
COMMENT ON FUNCTION auth.jwt_session_init(text, boolean) IS
  'Verifies a JWT and signs its subject in for this transaction (or, with session_wide, this connection) for auth.jwt(), auth.user_id() and auth.session().';

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

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwks(), auth.verify_jwt(text, text),
    auth.jwt_session_init(text, boolean), auth.session_init(text, boolean), auth.session_reset(),
    auth.jwt(), auth.user_id(), auth.session()
  TO pgauth_reader, pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.sign_jwt(jsonb, interval, text), auth.session_jwt(text)
  TO pgauth_service, pgauth_admin;
GRANT EXECUTE ON FUNCTION auth.rotate_signing_key(text), auth.import_signing_key(jsonb),
    auth.retire_signing_key(text, timestamptz)
  TO pgauth_admin;
