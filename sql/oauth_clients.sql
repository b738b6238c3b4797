-- OAuth clients (issue 13): metadata rules, RFC 7591 registration, RFC 7592 management,
-- Client ID Metadata Documents, exact redirect matching, digests only at rest.
-- the fields that vary from run to run, masked
CREATE FUNCTION pg_temp.shape(j json) RETURNS jsonb LANGUAGE sql AS $$
    SELECT (j::jsonb - ARRAY['client_id', 'client_secret', 'registration_access_token', 'registration_client_uri',
                             'client_id_issued_at', 'cimd_expires_at'])
           || jsonb_build_object('has', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(j::jsonb) k
                                          WHERE k IN ('client_id', 'client_secret', 'registration_access_token',
                                                      'registration_client_uri', 'client_id_issued_at')))
$$;
GRANT EXECUTE ON FUNCTION pg_temp.shape(json) TO PUBLIC;

SET ROLE regress_pgauth_service;
-- a public native client (what MCP clients register): no application_type, loopback redirect
SELECT auth.oauth_register_client('{"client_name": "MCP Inspector", "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none", "scope": "openid offline_access"}') AS pub \gset
SELECT pg_temp.shape(:'pub') AS public_client,
       (:'pub')::json ->> 'client_id' ~ '^[A-Za-z0-9_-]{32}$' AS random_client_id,
       (:'pub')::json ->> 'registration_client_uri' = current_setting('pgauth.base_url') || '/api/auth/oauth2/register/' || ((:'pub')::json ->> 'client_id') AS uri_under_base_url,
       ((:'pub')::json ->> 'client_id_issued_at')::bigint BETWEEN extract(epoch FROM now())::bigint - 5 AND extract(epoch FROM now())::bigint + 5 AS issued_now;
-- a confidential web client: the secret once, expires_at 0
SELECT auth.oauth_register_client('{"client_name": "Web App", "redirect_uris": ["https://app.example/cb", "https://app.example/cb"],
    "post_logout_redirect_uris": ["https://app.example/bye"], "contacts": ["ops@app.example"],
    "client_uri": "https://app.example", "logo_uri": "https://app.example/logo.png", "unknown_field": 1}') AS conf \gset
SELECT pg_temp.shape(:'conf') AS confidential_client, length((:'conf')::json ->> 'client_secret') AS secret_length;
-- a duplicate registration (same metadata) is a new client; the first one keeps working
SELECT auth.oauth_register_client('{"client_name": "MCP Inspector", "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none", "scope": "openid offline_access"}') AS pub2 \gset
SELECT (:'pub2')::json ->> 'client_id' <> (:'pub')::json ->> 'client_id' AS another_client,
       auth.oauth_client_read((:'pub')::json ->> 'client_id', (:'pub')::json ->> 'registration_access_token') IS NOT NULL AS first_still_readable;
RESET ROLE;

-- digests only at rest: no column holds the secret or the registration token
SELECT c.secret_digest = auth.hash_token((:'conf')::json ->> 'client_secret') AS secret_digest_stored,
       c.registration_token_digest = auth.hash_token((:'conf')::json ->> 'registration_access_token') AS token_digest_stored,
       position(((:'conf')::json ->> 'client_secret') IN c::text) = 0 AS secret_not_stored,
       position(((:'conf')::json ->> 'registration_access_token') IN c::text) = 0 AS token_not_stored
  FROM auth.oauth_clients c WHERE c.client_id = (:'conf')::json ->> 'client_id';

SET ROLE regress_pgauth_service;
-- the metadata rules, one line each: every rule refuses its input
SELECT left(m, 100) AS m, try(format('SELECT auth.oauth_register_client(%L)', m)) AS result FROM unnest(ARRAY[
    -- the document
    '[]', '"x"',
    -- redirect URIs: absolute, no fragment, RFC 3986 characters, https for web, loopback http or reverse-DNS schemes for native
    '{}',
    '{"redirect_uris": "https://a.example/cb"}',
    '{"redirect_uris": [5]}',
    '{"redirect_uris": ["/relative/cb"]}',
    '{"redirect_uris": ["https://a.example/cb#frag"]}',
    '{"redirect_uris": ["https://a.example/c b"]}',
    '{"redirect_uris": ["https://a.example/<script>"]}',
    '{"redirect_uris": ["https://a.example/\\evil"]}',
    '{"redirect_uris": ["https://a.example/%zz"]}',
    '{"redirect_uris": ["https://user:pw@a.example/cb"]}',
    '{"redirect_uris": ["https://a.example:99999/cb"]}',
    '{"redirect_uris": ["https:///cb"]}',
    '{"redirect_uris": ["javascript:alert(1)"]}',
    '{"redirect_uris": ["data:text/html,hi"]}',
    '{"redirect_uris": ["http://a.example/cb"], "application_type": "web"}',
    '{"redirect_uris": ["http://127.0.0.1:8080/cb"], "application_type": "web"}',
    '{"redirect_uris": ["http://a.example/cb", "https://b.example/cb"]}',
    '{"redirect_uris": ["http://a.example/cb"], "application_type": "native", "token_endpoint_auth_method": "none"}',
    '{"redirect_uris": ["myapp:/cb"], "application_type": "native", "token_endpoint_auth_method": "none"}',
    '{"redirect_uris": ["https://a.example/cb"], "application_type": "desktop"}',
    '{"redirect_uris": ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4", "https://a.example/5", "https://a.example/6", "https://a.example/7", "https://a.example/8", "https://a.example/9", "https://a.example/10", "https://a.example/11", "https://a.example/12", "https://a.example/13", "https://a.example/14", "https://a.example/15", "https://a.example/16", "https://a.example/17", "https://a.example/18", "https://a.example/19", "https://a.example/20", "https://a.example/21"]}',
    '{"redirect_uris": ["https://a.example/' || repeat('x', 2100) || '"]}',
    '{"redirect_uris": ["https://a.example/cb"], "post_logout_redirect_uris": ["http://a.example/bye"]}',
    -- grant and response types
    '{"redirect_uris": ["https://a.example/cb"], "grant_types": []}',
    '{"redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"]}',
    '{"redirect_uris": ["https://a.example/cb"], "grant_types": ["password"]}',
    '{"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]}',
    '{"redirect_uris": ["https://a.example/cb"], "grant_types": ["authorization_code"], "response_types": []}',
    '{"grant_types": ["client_credentials"], "response_types": ["code"]}',
    '{"redirect_uris": ["https://a.example/cb"], "grant_types": ["refresh_token", "client_credentials"]}',
    '{"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}',
    -- authentication method and keys
    '{"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_jwt"}',
    '{"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}',
    '{"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "EC"}]}, "jwks_uri": "https://a.example/jwks"}',
    '{"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": []}}',
    '{"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": [{"kty": "EC", "d": "secret"}]}}',
    '{"redirect_uris": ["https://a.example/cb"], "jwks": {"keys": [{"n": "x"}]}}',
    '{"redirect_uris": ["https://a.example/cb"], "jwks_uri": "http://a.example/jwks"}',
    '{"redirect_uris": ["https://a.example/cb"], "id_token_signed_response_alg": "none"}',
    '{"redirect_uris": ["https://a.example/cb"], "id_token_signed_response_alg": "HS256"}',
    -- descriptive strings: types, sizes, hostile characters
    '{"redirect_uris": ["https://a.example/cb"], "client_name": 5}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": ""}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": "' || repeat('n', 201) || '"}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": "Evil\u0007App"}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": "Good\u202eppA"}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": "line\nbreak"}',
    '{"redirect_uris": ["https://a.example/cb"], "client_uri": "javascript:alert(1)"}',
    '{"redirect_uris": ["https://a.example/cb"], "logo_uri": "http://a.example/logo.png"}',
    '{"redirect_uris": ["https://a.example/cb"], "scope": "openid  profile"}',
    '{"redirect_uris": ["https://a.example/cb"], "scope": "openid \"x\""}',
    '{"redirect_uris": ["https://a.example/cb"], "contacts": "a@b.example"}',
    '{"redirect_uris": ["https://a.example/cb"], "contacts": ["a@b.example", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]}',
    '{"redirect_uris": ["https://a.example/cb"], "software_id": ["x"]}',
    '{"redirect_uris": ["https://a.example/cb"], "client_name": "' || repeat('x', 40000) || '"}'
]) m;

-- what is accepted: native loopback on any host form, https (claimed), reverse-DNS schemes,
-- a client_credentials-only client without redirect URIs, private_key_jwt with jwks
SELECT m, pg_temp.shape(auth.oauth_register_client(m::jsonb)) AS accepted FROM unnest(ARRAY[
    '{"redirect_uris": ["http://localhost:3000/cb", "http://[::1]/cb", "com.example.app:/oauth2redirect"], "token_endpoint_auth_method": "none"}',
    '{"redirect_uris": ["https://app.example/cb"], "application_type": "native", "token_endpoint_auth_method": "none"}',
    '{"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_post"}',
    '{"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}, "id_token_signed_response_alg": "EdDSA"}'
]) m;
-- a registered client cannot switch on what only an admin sets
SELECT pg_temp.shape(auth.oauth_register_client('{"redirect_uris": ["https://a.example/cb"], "require_pkce": false, "disabled": true, "client_id": "chosen", "client_secret": "chosen"}')) AS admin_fields_ignored;

-- RFC 7592: read, update, delete with the registration access token
SELECT (:'conf')::json ->> 'client_id' AS cid, (:'conf')::json ->> 'registration_access_token' AS rat,
       (:'conf')::json ->> 'client_secret' AS secret \gset
SELECT pg_temp.shape(auth.oauth_client_read(:'cid', :'rat')) AS read;
SELECT n, try(format('SELECT auth.oauth_client_read(%L, %L)', c, t)) AS bad_token FROM (VALUES
    ('wrong token', :'cid', 'wrong'), ('empty token', :'cid', ''), ('no token', :'cid', NULL),
    ('unknown client', 'unknown-client', :'rat'), ('another client''s', (:'pub')::json ->> 'client_id', :'rat')) v(n, c, t);
SELECT pg_temp.shape(auth.oauth_client_update(:'cid', :'rat', jsonb_build_object('client_id', :'cid', 'client_secret', :'secret',
       'client_name', 'Web App 2', 'redirect_uris', jsonb_build_array('https://app.example/cb2')))) AS updated;
SELECT replace(b, :'cid', '<client_id>') AS b, try(format('SELECT auth.oauth_client_update(%L, %L, %L)', :'cid', :'rat', b)) AS bad_update FROM unnest(ARRAY[
    '{"redirect_uris": ["https://app.example/cb"]}',
    '{"client_id": "other", "redirect_uris": ["https://app.example/cb"]}',
    jsonb_build_object('client_id', :'cid', 'client_secret', 'wrong', 'redirect_uris', jsonb_build_array('https://app.example/cb'))::text,
    jsonb_build_object('client_id', :'cid', 'redirect_uris', jsonb_build_array('http://app.example/cb'))::text
]) b;
SELECT try(format('SELECT auth.oauth_client_update(%L, %L, %L)', :'cid', 'wrong', jsonb_build_object('client_id', :'cid'))) AS update_bad_token;
-- a public client that becomes confidential gets a secret, once
SELECT (:'pub2')::json ->> 'client_id' AS pcid, (:'pub2')::json ->> 'registration_access_token' AS prat \gset
SELECT pg_temp.shape(auth.oauth_client_update(:'pcid', :'prat', jsonb_build_object('client_id', :'pcid',
       'redirect_uris', jsonb_build_array('http://127.0.0.1:1/cb'), 'token_endpoint_auth_method', 'client_secret_basic'))) AS became_confidential;
SELECT try(format('SELECT auth.oauth_client_delete(%L, %L)', :'cid', 'wrong')) AS delete_bad_token;
SELECT auth.oauth_client_delete(:'cid', :'rat') AS deleted;
SELECT try(format('SELECT auth.oauth_client_read(%L, %L)', :'cid', :'rat')) AS read_after_delete,
       auth.oauth_client_get(:'cid') IS NULL AS gone;

-- exact redirect matching; a native client's loopback IP redirect on any port (RFC 8252 7.3)
SELECT (:'pub')::json ->> 'client_id' AS pid \gset
SELECT u, auth.oauth_check_redirect(:'pid', u) AS allowed FROM unnest(ARRAY[
    'http://127.0.0.1:33418/callback', 'http://127.0.0.1:50000/callback', 'http://127.0.0.1/callback',
    'http://127.0.0.1:33418/callback/', 'http://127.0.0.1:33418/Callback', 'http://127.0.0.1:33418/callback?x=1',
    'http://localhost:33418/callback', 'http://127.0.0.2:33418/callback', 'https://127.0.0.1:33418/callback']) u;
SELECT auth.oauth_register_client('{"redirect_uris": ["https://w.example/cb"]}') ->> 'client_id' AS wid \gset
SELECT auth.oauth_check_redirect(:'wid', 'https://w.example/cb') AS exact,
       auth.oauth_check_redirect(:'wid', 'https://w.example/cb?x') AS with_query,
       auth.oauth_check_redirect(:'wid', 'https://w.example:443/cb') AS with_port,
       auth.oauth_check_redirect(:'wid', 'https://W.example/cb') AS other_case,
       auth.oauth_check_redirect(:'wid', 'http://w.example/cb') AS http,
       auth.oauth_check_redirect('nope', 'https://w.example/cb') AS unknown_client;

-- Client ID Metadata Documents
SELECT pg_temp.shape(auth.oauth_cimd_store('https://mcp.example/client.json',
    '{"client_id": "https://mcp.example/client.json", "client_name": "MCP Client", "redirect_uris": ["http://127.0.0.1:4000/cb"],
      "grant_types": ["authorization_code", "refresh_token"]}', 3600)) AS cimd;
SELECT (auth.oauth_client_get('https://mcp.example/client.json') ->> 'cimd_stale')::boolean AS stale_now,
       auth.oauth_check_redirect('https://mcp.example/client.json', 'http://127.0.0.1:4000/cb') AS redirect_ok;
SELECT u, d, try(format('SELECT auth.oauth_cimd_store(%L, %L, 60)', u, d)) AS result FROM (VALUES
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/other.json", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/client.json/", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/client.json', '{"redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/client.json', '[]'),
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/client.json", "redirect_uris": ["http://evil.example/cb"]}'),
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"], "client_secret": "s"}'),
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "client_secret_basic"}'),
    ('https://mcp.example/client.json', '{"client_id": "https://mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "private_key_jwt"}'),
    ('http://mcp.example/client.json', '{"client_id": "http://mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('http://127.0.0.1:8000/client.json', '{"client_id": "http://127.0.0.1:8000/client.json", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example', '{"client_id": "https://mcp.example", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/', '{"client_id": "https://mcp.example/", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/a/../client.json', '{"client_id": "https://mcp.example/a/../client.json", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://mcp.example/client.json#x', '{"client_id": "https://mcp.example/client.json#x", "redirect_uris": ["http://127.0.0.1/cb"]}'),
    ('https://u:p@mcp.example/client.json', '{"client_id": "https://u:p@mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"]}')
) v(u, d);
-- a failed refetch leaves the cached document as it was
SELECT auth.oauth_client_get('https://mcp.example/client.json') ->> 'client_name' AS kept;
-- max-age bounded by pgauth.oauth_cimd_max_age; 0 is stale at once
SELECT (auth.oauth_cimd_store('https://mcp.example/c2.json', '{"client_id": "https://mcp.example/c2.json",
        "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://mcp.example/jwks"}',
        999999999) ->> 'cimd_expires_at')::bigint - extract(epoch FROM now())::bigint BETWEEN 86395 AND 86400 AS capped_at_a_day,
       (auth.oauth_cimd_store('https://mcp.example/c3.json', '{"client_id": "https://mcp.example/c3.json",
        "redirect_uris": ["http://127.0.0.1/cb"]}', 0) ->> 'cimd_stale')::boolean AS zero_is_stale;
-- a CIMD client has no registration access token: RFC 7592 does not manage it
SELECT try('SELECT auth.oauth_client_read(''https://mcp.example/client.json'', '''')') AS cimd_not_managed;
RESET ROLE;
-- development only: an http loopback document URL when pgauth.oauth_cimd_allow_http_loopback is on
SET pgauth.oauth_cimd_allow_http_loopback = on;
SELECT auth.oauth_cimd_store('http://127.0.0.1:8000/client.json', '{"client_id": "http://127.0.0.1:8000/client.json",
       "redirect_uris": ["http://127.0.0.1/cb"]}', 60) ->> 'source' AS loopback_dev;
SELECT try('SELECT auth.oauth_cimd_store(''http://mcp.example/client.json'', ''{"client_id": "http://mcp.example/client.json", "redirect_uris": ["http://127.0.0.1/cb"]}'', 60)') AS not_loopback;
RESET pgauth.oauth_cimd_allow_http_loopback;

-- dynamic registration switched off
SET pgauth.oauth_dynamic_registration = off;
SET ROLE regress_pgauth_service;
SELECT try('SELECT auth.oauth_register_client(''{"redirect_uris": ["https://a.example/cb"]}'')') AS registration_off;
RESET ROLE;
RESET pgauth.oauth_dynamic_registration;
SELECT try('SET pgauth.oauth_dynamic_registration = maybe') AS bad_setting;

-- pre-registration by an admin: a chosen client_id, require_pkce and disabled
SET ROLE regress_pgauth_admin;
SELECT pg_temp.shape(auth.oauth_create_client('{"client_id": "backend-1", "grant_types": ["client_credentials"]}')) AS admin_client;
SELECT pg_temp.shape(auth.oauth_create_client('{"client_id": "web-1", "redirect_uris": ["https://a.example/cb"], "require_pkce": false, "disabled": true}')) AS admin_switches;
SELECT m, try(format('SELECT auth.oauth_create_client(%L)', m)) AS result FROM unnest(ARRAY[
    '{"client_id": "backend-1", "grant_types": ["client_credentials"]}',
    '{"client_id": "https://x.example/c.json", "grant_types": ["client_credentials"]}',
    '{"client_id": "a b", "grant_types": ["client_credentials"]}',
    '{"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none", "require_pkce": false}',
    '{"redirect_uris": ["https://a.example/cb"], "disabled": "yes"}'
]) m;
SELECT auth.oauth_check_redirect('web-1', 'https://a.example/cb') AS disabled_client_redirect;
-- enable, disable and delete any client
SELECT auth.oauth_set_client_disabled('web-1', false) AS enabled;
SELECT auth.oauth_check_redirect('web-1', 'https://a.example/cb') AS redirect_now;
SELECT auth.oauth_set_client_disabled(:'pid', true) AS disabled_dcr;
SELECT auth.oauth_check_redirect(:'pid', 'http://127.0.0.1:33418/callback') AS dcr_redirect,
       auth.oauth_client_get(:'pid') ->> 'disabled' AS shown_disabled;
SELECT auth.oauth_set_client_disabled('nope', true) AS unknown, try('SELECT auth.oauth_set_client_disabled(''web-1'', NULL)') AS null_flag;
SELECT auth.oauth_delete_client('https://mcp.example/client.json') AS deleted_cimd, auth.oauth_delete_client('https://mcp.example/client.json') AS again;
RESET ROLE;
SELECT count(*) AS cimd_rows_left FROM auth.oauth_clients WHERE client_id = 'https://mcp.example/client.json';

-- privileges: the service cannot pre-register, nobody reads the table
SET ROLE regress_pgauth_service;
SELECT try('SELECT auth.oauth_create_client(''{}'')') AS service_create;
SELECT try('SELECT auth.oauth_delete_client(''web-1'')') AS service_delete;
SELECT try('SELECT count(*) FROM auth.oauth_clients') AS service_table;
SELECT try('SELECT auth.oauth_random_token(32)') AS service_internal;
RESET ROLE;
SET ROLE regress_pgauth_nobody;
SELECT try('SELECT auth.oauth_client_get(''x'')') AS nobody_get;
RESET ROLE;
