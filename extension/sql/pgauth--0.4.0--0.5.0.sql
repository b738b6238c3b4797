-- pgauth 0.4.0 -> 0.5.0: email flows through a transactional outbox, compiled API-key checks,
-- social accounts.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.5.0'" to load this file. \quit

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

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
