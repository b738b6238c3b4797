-- pgauth 0.5.0 -> 0.6.0: organizations and the OAuth provider, completed.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.6.0'" to load this file. \quit

-- Each area keeps its changes between its own markers. A function that exists in 0.5.0 is
-- re-created whole (CREATE OR REPLACE) in its area's section; the full script
-- pgauth--0.6.0.sql changes it in place.

-- ---------------------------------------------------------------- organizations (0.6.0)
-- ---------------------------------------------------------------- organizations: end

-- ---------------------------------------------------------------- OAuth provider (0.6.0)
-- private_key_jwt for clients registered with a jwks_uri: pgauth-http fetches the client's JWK
-- Set when the extension asks for it (OAUTH_JWKS_FETCH_REQUIRED) and stores it with
-- auth.oauth_client_jwks_store; a jwks_uri may be http on a loopback host in development.
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

-- a jwks_uri may be loopback http in development (pgauth.oauth_cimd_allow_http_loopback)
CREATE OR REPLACE FUNCTION auth.oauth_uri_check(p_uri text, p_field text, p_rule text, p_code text) RETURNS void
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

CREATE OR REPLACE FUNCTION auth.oauth_client_metadata(p_metadata jsonb, p_source text) RETURNS auth.oauth_clients
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

-- the keys of a jwks_uri client come from its fetched set, never from the caller
CREATE OR REPLACE FUNCTION auth.oauth_authenticate_client(p_client_auth jsonb, p_params jsonb) RETURNS auth.oauth_clients
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

REVOKE ALL ON FUNCTION
    auth.oauth_jws_kid(text), auth.oauth_client_jwks_keys(auth.oauth_clients, text),
    auth.oauth_client_jwks_store(text, text, jsonb, integer, text)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.oauth_client_jwks_store(text, text, jsonb, integer, text) TO pgauth_service;
-- ---------------------------------------------------------------- OAuth provider: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
