-- Hardening: a caller who may CREATE in some schema cannot make the extension run its code.
-- The C functions run internal SQL as the extension owner; a name resolved through the
-- caller's search_path would let a planted operator or function run as that owner.
-- For pgauth_reader, pgauth_service and pgauth_admin: plant a trap for every operator and
-- function the internal SQL could name, first on search_path, then call every auth.* function
-- the role may execute (good paths and error paths). A trap that runs as anyone but the
-- caller bumps public.hostile_hits (not rolled back) and raises 'HOSTILE ...'.
CREATE SEQUENCE public.hostile_hits;
GRANT USAGE, SELECT ON SEQUENCE public.hostile_hits TO PUBLIC;
CREATE ROLE regress_hostile_reader LOGIN IN ROLE pgauth_reader;
CREATE ROLE regress_hostile_service LOGIN IN ROLE pgauth_service;
CREATE ROLE regress_hostile_admin LOGIN IN ROLE pgauth_admin;
CREATE ROLE regress_hostile_vault LOGIN IN ROLE pgauth_vault;
CREATE SCHEMA hostile_reader AUTHORIZATION regress_hostile_reader;
CREATE SCHEMA hostile_service AUTHORIZATION regress_hostile_service;
CREATE SCHEMA hostile_admin AUTHORIZATION regress_hostile_admin;
CREATE SCHEMA hostile_vault AUTHORIZATION regress_hostile_vault;

-- plant(schema): run by the hostile role itself, so it owns what it creates
CREATE FUNCTION public.plant(s text) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog AS $plant$
DECLARE
    trap constant text := $t$
        IF current_user OPERATOR(pg_catalog.<>) session_user THEN
            PERFORM pg_catalog.nextval('public.hostile_hits');
            RAISE EXCEPTION 'HOSTILE %s ran as %% for %%', current_user, session_user;
        END IF;$t$;
    n integer := 0;
    t text; op text; r record; f record;
BEGIN
    -- comparisons for every type the internal SQL touches
    FOREACH t IN ARRAY ARRAY['text', 'bytea', 'uuid', 'timestamptz', 'interval', 'integer', 'bigint', 'boolean',
                             'jsonb', 'inet', 'double precision', 'numeric', 'name', 'oid'] LOOP
        FOREACH op IN ARRAY ARRAY['=', '<>', '<', '>', '<=', '>='] LOOP
            n := n + 1;
            EXECUTE format('CREATE FUNCTION %I.trap_%s(a %s, b %s) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
                           s, n, t, t, format('BEGIN' || trap || ' RETURN a OPERATOR(pg_catalog.%s) b; END',
                                              format('%s %s', t, op), op));
            EXECUTE format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.trap_%s)',
                           s, op, t, t, s, n);
        END LOOP;
    END LOOP;
    -- arithmetic, concatenation, jsonb and pattern operators
    FOR r IN SELECT * FROM (VALUES
        ('timestamptz', '+', 'interval', 'timestamptz'), ('timestamptz', '-', 'interval', 'timestamptz'),
        ('timestamptz', '-', 'timestamptz', 'interval'), ('interval', '+', 'interval', 'interval'),
        ('interval', '*', 'double precision', 'interval'), ('integer', '+', 'integer', 'integer'),
        ('integer', '-', 'integer', 'integer'), ('bigint', '+', 'bigint', 'bigint'), ('bigint', '-', 'bigint', 'bigint'),
        ('double precision', '+', 'double precision', 'double precision'),
        ('double precision', '/', 'double precision', 'double precision'),
        ('text', '||', 'text', 'text'), ('bytea', '||', 'bytea', 'bytea'), ('jsonb', '||', 'jsonb', 'jsonb'),
        ('jsonb', '?', 'text', 'boolean'), ('jsonb', '->>', 'text', 'text'), ('jsonb', '->', 'text', 'jsonb'),
        ('text', '~', 'text', 'boolean'), ('text', '!~', 'text', 'boolean'), ('text', '~*', 'text', 'boolean'),
        ('text', '~~', 'text', 'boolean')) v(l, op, rt, res) LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION %I.trap_%s(a %s, b %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L',
                       s, n, r.l, r.rt, r.res, format('BEGIN' || trap || ' RETURN a OPERATOR(pg_catalog.%s) b; END',
                                                      format('%s %s %s', r.l, r.op, r.rt), r.op));
        EXECUTE format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.trap_%s)',
                       s, r.op, r.l, r.rt, s, n);
    END LOOP;
    -- functions the SQL names, with the same signatures as pg_catalog's
    FOR f IN SELECT * FROM (VALUES
        ('now', '', 'timestamptz', ''), ('clock_timestamp', '', 'timestamptz', ''),
        ('gen_random_uuid', '', 'uuid', ''), ('lower', 'a text', 'text', 'a'), ('upper', 'a text', 'text', 'a'),
        ('btrim', 'a text', 'text', 'a'), ('btrim', 'a text, b text', 'text', 'a, b'),
        ('length', 'a text', 'integer', 'a'), ('char_length', 'a text', 'integer', 'a'),
        ('octet_length', 'a text', 'integer', 'a'), ('octet_length', 'a bytea', 'integer', 'a'),
        ('left', 'a text, b integer', 'text', 'a, b'), ('encode', 'a bytea, b text', 'text', 'a, b'),
        ('decode', 'a text, b text', 'bytea', 'a, b'), ('sha256', 'a bytea', 'bytea', 'a'),
        ('split_part', 'a text, b text, c integer', 'text', 'a, b, c'),
        ('current_setting', 'a text', 'text', 'a'), ('current_setting', 'a text, b boolean', 'text', 'a, b'),
        ('convert_to', 'a text, b name', 'bytea', 'a, b'),
        ('make_interval', 'years integer DEFAULT 0, months integer DEFAULT 0, weeks integer DEFAULT 0, '
                          'days integer DEFAULT 0, hours integer DEFAULT 0, mins integer DEFAULT 0, '
                          'secs double precision DEFAULT 0', 'interval',
                          'years, months, weeks, days, hours, mins, secs')) v(name, params, res, args) LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog AS %L', s, f.name, f.params, f.res,
                       format('BEGIN' || trap || ' RETURN pg_catalog.%I(%s); END',
                              format('%s(%s)', f.name, f.params), f.name, f.args));
    END LOOP;
    RETURN n;
END
$plant$;
GRANT EXECUTE ON FUNCTION public.plant(text) TO PUBLIC;

-- the calls: every function a role may execute, named by signature, with plausible arguments
CREATE TABLE public.hostile_calls (role text, step integer, fn regprocedure, sql text);
GRANT SELECT ON public.hostile_calls TO PUBLIC;
CREATE FUNCTION public.calls_for(r text, tok text, uid uuid, jwt text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v record;
    -- API keys made here (as the superuser): one counted (remaining, rate limit), one not
    ak jsonb := auth.api_key_create(tok, '{"name": "hostile", "remaining": 100, "permissions": {"files": ["read"]}}');
    ak2 jsonb := auth.api_key_create(tok, '{"rateLimitEnabled": false}');
BEGIN
    FOR v IN SELECT * FROM (VALUES
        ('auth.error_code_catalog()', 'SELECT count(*) FROM auth.error_code_catalog()'),
        ('auth.validate_session(text)', format('SELECT * FROM auth.validate_session(%L)', tok)),
        ('auth.validate_session(text)', 'SELECT * FROM auth.validate_session(''nope'')'),
        ('auth.hash_token(text)', 'SELECT auth.hash_token(''abc'')'),
        ('auth.get_user(uuid)', format('SELECT * FROM auth.get_user(%L)', uid)),
        ('auth.list_sessions(uuid)', format('SELECT * FROM auth.list_sessions(%L)', uid)),
        ('auth.settings()', 'SELECT count(*) FROM auth.settings()'),
        ('auth.avatar_for(uuid,text)', format('SELECT auth.avatar_for(%L)', uid)),
        ('auth.get_user_profile(uuid)', format('SELECT * FROM auth.get_user_profile(%L)', uid)),
        ('auth.jwks()', 'SELECT auth.jwks()'),
        ('auth.key_status()', 'SELECT status FROM auth.key_status()'),
        ('auth.verify_jwt(text,text)', format('SELECT auth.verify_jwt(%L)', jwt)),
        ('auth.verify_jwt(text,text)', 'SELECT auth.verify_jwt(''a.b.c'')'),
        ('auth.verify_jwt(text,text)', format('SELECT auth.verify_jwt(%L, ''https://other.example'')', jwt)),
        ('auth.jwt_session_init(text,boolean,text)', format('SELECT auth.jwt_session_init(%L)', jwt)),
        ('auth.jwt_session_init(text,boolean,text)', 'SELECT auth.jwt_session_init(''a.b.c'')'),
        ('auth.jwt()', 'SELECT auth.jwt()'),
        ('auth.user_id()', 'SELECT auth.user_id()'),
        ('auth.session()', 'SELECT auth.session()'),
        ('auth.session_init(text,boolean)', format('SELECT auth.session_init(%L)', tok)),
        ('auth.session_init(text,boolean)', 'SELECT auth.session_init(''nope'')'),
        ('auth.session_reset()', 'SELECT auth.session_reset()'),
        ('auth.hash_password(text)', 'SELECT auth.hash_password(''hostile-pass-1'')'),
        ('auth.verify_password(text,text)', 'SELECT auth.verify_password(''$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'', ''U*U'')'),
        ('auth.verify_password(text,text)', 'SELECT auth.verify_password(''$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'', ''U*U'')'),
        ('auth.check_user_password(uuid,text)', format('SELECT auth.check_user_password(%L, ''hostile-pass-1'')', uid)),
        ('auth.sign_jwt(jsonb,interval,text)', 'SELECT auth.sign_jwt(''{"a": 1}'', ''1 hour'', ''aud'')'),
        ('auth.session_jwt(text)', format('SELECT auth.session_jwt(%L)', tok)),
        ('auth.session_jwt(text)', 'SELECT auth.session_jwt(''nope'')'),
        ('auth.get_session(text,boolean)', format('SELECT count(*) FROM auth.get_session(%L, true)', tok)),
        ('auth.get_session(text,boolean)', 'SELECT count(*) FROM auth.get_session(''nope'')'),
        ('auth.list_sessions_response(text)', format('SELECT json_array_length(auth.list_sessions_response(%L))', tok)),
        ('auth.change_password_response(text,text,text,boolean)',
            format('SELECT auth.change_password_response(%L, ''wrong-pass-1'', ''hostile-pass-2'', false)', tok)),
        ('auth.sign_in_response(text,text,boolean,inet,text,text,text)',
            format('SELECT count(*) FROM auth.sign_in_response(%L, ''hostile-pass-1'', true, ''10.0.0.1'', ''ua'', ''https://x.example'')', r || '@example.com')),
        ('auth.sign_up_response(text,text,text,text,inet,text,text)',
            format('SELECT count(*) FROM auth.sign_up_response(%L, ''hostile-pass-1'', ''Third'', NULL, ''10.0.0.1'', ''ua'')', r || '.3@example.com')),
        -- email flows and the outbox
        ('auth.email_send_verification(text,text,text)', format('SELECT auth.email_send_verification(NULL, %L, ''/cb'')', r || '.3@example.com')),
        ('auth.email_send_verification(text,text,text)', format('SELECT auth.email_send_verification(%L, %L, NULL)', tok, r || '.x@example.com')),
        ('auth.email_verify(text,inet,text)', 'SELECT error_code FROM auth.email_verify(''nope'', NULL, NULL)'),
        ('auth.email_request_password_reset(text,text)', format('SELECT auth.email_request_password_reset(%L, ''https://x.example/r'')', r || '.3@example.com')),
        ('auth.email_check_reset_token(text)', 'SELECT auth.email_check_reset_token(''nope'')'),
        ('auth.email_reset_password(text,text)', 'SELECT auth.email_reset_password(''nope'', ''hostile-pass-9'')'),
        ('auth.email_change_request(text,text,text)', format('SELECT auth.email_change_request(%L, %L, ''/cb'')', tok, r || '.new@example.com')),
        ('auth.magic_link_request(text,text,text,text,text)', format('SELECT auth.magic_link_request(%L, ''M'', ''/a'', ''/b'', ''/c'')', r || '.m@example.com')),
        ('auth.magic_link_verify(text,inet,text)', 'SELECT error_code FROM auth.magic_link_verify(''nope'', NULL, NULL)'),
        ('auth.email_otp_send(text,text)', format('SELECT auth.email_otp_send(%L, ''sign-in'')', r || '.o@example.com')),
        ('auth.email_otp_send(text,text)', format('SELECT auth.email_otp_send(%L, ''forget-password'')', r || '.3@example.com')),
        ('auth.email_otp_sign_in(text,text,inet,text)', format('SELECT error_code FROM auth.email_otp_sign_in(%L, ''000'', NULL, NULL)', r || '.o@example.com')),
        ('auth.email_otp_verify_email(text,text,inet,text)', format('SELECT error_code FROM auth.email_otp_verify_email(%L, ''000'', NULL, NULL)', r || '.3@example.com')),
        ('auth.email_otp_reset_password(text,text,text)', format('SELECT error_code FROM auth.email_otp_reset_password(%L, ''000'', ''hostile-pass-9'')', r || '.3@example.com')),
        ('auth.outbox_claim(text,integer,interval)', format('SELECT count(*) >= 0 FROM auth.outbox_claim(%L, 2)', 'h-' || r)),
        ('auth.outbox_delivered(bigint,text)', format('SELECT auth.outbox_delivered(c.id, %L) FROM auth.outbox_claim(%L, 1) c', 'h2-' || r, 'h2-' || r)),
        ('auth.outbox_delivered(bigint,text)', format('SELECT auth.outbox_delivered(0, %L)', 'h-' || r)),
        ('auth.outbox_failed(bigint,text,text)', format('SELECT auth.outbox_failed(c.id, %L, ''x'') IS NOT NULL FROM auth.outbox_claim(%L, 1) c', 'h3-' || r, 'h3-' || r)),
        ('auth.outbox_failed(bigint,text,text)', format('SELECT auth.outbox_failed(0, %L, ''x'')', 'h-' || r)),
        ('auth.outbox_stats()', 'SELECT pending >= 0 FROM auth.outbox_stats()'),
        ('auth.email_purge(interval)', 'SELECT auth.email_purge(''1 day'') >= 0'),
        ('auth.rate_limit_hit(text,integer,integer)', format('SELECT allowed FROM auth.rate_limit_hit(%L, 1, 60)', r)),
        ('auth.rate_limit_hit(text,integer,integer)', format('SELECT allowed FROM auth.rate_limit_hit(%L, 1, 60)', r)),
        ('auth.vault_set(text,jsonb)', format('SELECT auth.vault_set(%L, ''{"hostileKey": "hostile-value-1", "gone": null}'') IS NOT NULL', tok)),
        ('auth.vault_set(text,jsonb)', format('SELECT auth.vault_set(%L, ''{"1bad": "v"}'')', tok)),
        ('auth.vault_list(text)', format('SELECT auth.vault_list(%L) IS NOT NULL', tok)),
        ('auth.vault_list(text)', 'SELECT auth.vault_list(''nope'')'),
        ('auth.verify_api_key(text,jsonb)', format('SELECT valid FROM auth.verify_api_key(%L, ''{"files": ["read"]}'')', ak ->> 'key')),
        ('auth.verify_api_key(text,jsonb)', format('SELECT valid FROM auth.verify_api_key(%L)', ak2 ->> 'key')),
        ('auth.verify_api_key(text,jsonb)', 'SELECT error_code FROM auth.verify_api_key(''nope'')'),
        ('auth.api_key_verify_response(jsonb)', format('SELECT auth.api_key_verify_response(%L) IS NOT NULL', jsonb_build_object('key', ak ->> 'key'))),
        ('auth.api_key_verify_response(jsonb)', 'SELECT auth.api_key_verify_response(''{}'')'),
        ('auth.get_session_by_api_key(text)', format('SELECT body IS NOT NULL FROM auth.get_session_by_api_key(%L)', ak ->> 'key')),
        ('auth.session_user_id(text,boolean)', format('SELECT auth.session_user_id(%L) IS NOT NULL', tok)),
        ('auth.session_user_id(text,boolean)', format('SELECT auth.session_user_id(%L) IS NOT NULL', 'apikey:' || (ak ->> 'key'))),
        ('auth.session_user_id(text,boolean)', format('SELECT auth.session_user_id(%L, false)', 'apikey:' || (ak ->> 'key'))),
        ('auth.validate_session(text)', format('SELECT count(*) FROM auth.validate_session(%L)', 'apikey:' || (ak ->> 'key'))),
        ('auth.vault_list(text)', format('SELECT auth.vault_list(%L) IS NOT NULL', 'apikey:' || (ak ->> 'key'))),
        ('auth.api_key_create(text,jsonb)', format('SELECT auth.api_key_create(%L, ''{"name": "h", "prefix": "hx_", "expiresIn": 86400, "metadata": {"a": 1}, "refillAmount": 5, "refillInterval": 1000}'') IS NOT NULL', tok)),
        ('auth.api_key_create(text,jsonb)', format('SELECT auth.api_key_create(%L, ''{"name": ""}'')', tok)),
        ('auth.api_key_list(text)', format('SELECT auth.api_key_list(%L) IS NOT NULL', tok)),
        ('auth.api_key_get(text,text)', format('SELECT auth.api_key_get(%L, %L) IS NOT NULL', tok, ak ->> 'id')),
        ('auth.api_key_get(text,text)', format('SELECT auth.api_key_get(%L, ''nope'')', tok)),
        ('auth.api_key_update(text,jsonb)', format('SELECT auth.api_key_update(%L, %L) IS NOT NULL', tok, jsonb_build_object('keyId', ak ->> 'id', 'name', 'renamed', 'enabled', true, 'expiresIn', NULL, 'permissions', jsonb_build_object('files', jsonb_build_array('read'))))),
        ('auth.api_key_update(text,jsonb)', format('SELECT auth.api_key_update(%L, %L)', tok, jsonb_build_object('keyId', ak ->> 'id'))),
        ('auth.api_key_delete(text,jsonb)', format('SELECT auth.api_key_delete(%L, %L) IS NOT NULL', tok, jsonb_build_object('keyId', ak2 ->> 'id'))),
        ('auth.api_key_delete(text,jsonb)', format('SELECT auth.api_key_delete(%L, ''{"keyId": "nope"}'')', tok)),
        -- social accounts: a sign-in flow, a link flow completed, an id-token sign-in, tokens, unlink
        ('auth.social_flow_start(text,text,text,text,text,text)', 'SELECT length(s.state) FROM auth.social_flow_start(''hostile'', ''sign-in'', NULL, ''https://x.example/cb'', NULL, NULL) s'),
        ('auth.social_flow_start(text,text,text,text,text,text)', 'SELECT * FROM auth.social_flow_start(''hostile'', ''link'', ''nope'', NULL, NULL, NULL)'),
        ('auth.social_flow_take(text,text,text)', 'SELECT t.error_code FROM auth.social_flow_start(''hostile'', ''sign-in'', NULL, NULL, NULL, NULL) s, auth.social_flow_take(s.state, s.binding, ''hostile'') t'),
        ('auth.social_flow_take(text,text,text)', 'SELECT t.error_code FROM auth.social_flow_start(''hostile'', ''sign-in'', NULL, NULL, NULL, NULL) s, auth.social_flow_take(s.state, ''wrong'', ''hostile'') t'),
        ('auth.social_flow_take(text,text,text)', 'SELECT error_code FROM auth.social_flow_take(''nope'', NULL, ''hostile'')'),
        ('auth.social_sign_in(text,jsonb,jsonb,uuid,inet,text)',
            format('SELECT x.linked FROM auth.social_flow_start(''hostile'', ''link'', %L, NULL, NULL, NULL) s, auth.social_flow_take(s.state, s.binding, ''hostile'') t, auth.social_sign_in(''hostile'', %L, ''{"access_token": "hostile-at", "refresh_token": "hostile-rt", "expires_in": 1, "scope": "a b"}'', t.flow_id, NULL, NULL) x',
                   tok, jsonb_build_object('sub', r || '-linked', 'email', r || '@example.com'))),
        ('auth.social_sign_in(text,jsonb,jsonb,uuid,inet,text)',
            format('SELECT x.new_user FROM auth.social_sign_in(''hostile'', %L, ''{"access_token": "hostile-at"}'', NULL, ''10.0.0.1'', ''ua'') x',
                   jsonb_build_object('sub', r || '-new', 'email', r || '.social@example.com', 'email_verified', true))),
        ('auth.social_sign_in(text,jsonb,jsonb,uuid,inet,text)',
            format('SELECT x.new_user FROM auth.social_sign_in(''hostile'', %L, NULL, NULL, NULL, NULL) x',
                   jsonb_build_object('sub', r || '-new', 'email', r || '.social@example.com'))),
        ('auth.social_sign_in(text,jsonb,jsonb,uuid,inet,text)',
            format('SELECT x.error_code FROM auth.social_sign_in(''hostile'', %L, NULL, NULL, NULL, NULL) x',
                   jsonb_build_object('sub', r || '-other', 'email', r || '@example.com', 'email_verified', true))),
        ('auth.list_accounts(text)', format('SELECT json_array_length(auth.list_accounts(%L))', tok)),
        ('auth.list_accounts(text)', 'SELECT auth.list_accounts(''nope'')'),
        ('auth.social_account_tokens(text,text,text)', format('SELECT a.needs_refresh FROM auth.social_account_tokens(%L, ''hostile'', NULL) a', tok)),
        ('auth.social_account_tokens(text,text,text)', format('SELECT * FROM auth.social_account_tokens(%L, ''gitlab'', NULL)', tok)),
        ('auth.social_store_tokens(text,uuid,jsonb)',
            format('SELECT auth.social_store_tokens(%L, a.account_row_id, ''{"access_token": "hostile-at2", "expires_in": 60}'') IS NOT NULL FROM auth.social_account_tokens(%L, ''hostile'', NULL) a', tok, tok)),
        ('auth.social_store_tokens(text,uuid,jsonb)', format('SELECT auth.social_store_tokens(%L, ''00000000-0000-0000-0000-000000000000'', ''{}'')', tok)),
        ('auth.unlink_account(text,text,text)', format('SELECT auth.unlink_account(%L, ''hostile'', NULL)', tok)),
        ('auth.unlink_account(text,text,text)', format('SELECT auth.unlink_account(%L, ''credential'', NULL)', tok)),
        -- OAuth provider (issue 13): a whole code flow on the public dcr client, then the other endpoints
        ('auth.oauth_authorize(text,jsonb,inet,text)', format('SELECT auth.oauth_authorize(%L, %L) ->> ''action''', tok,
            jsonb_build_object('client_id', r || '-dcr', 'redirect_uri', 'https://h.example/cb', 'response_type', 'code', 'code_challenge', repeat('a', 43), 'state', 's', 'scope', 'openid', 'resource', 'https://h.example/mcp'))),
        ('auth.oauth_authorize(text,jsonb,inet,text)', 'SELECT auth.oauth_authorize(NULL, ''{"client_id": "nope"}'') ->> ''action'''),
        ('auth.oauth_authorize(text,jsonb,inet,text)', 'SELECT auth.oauth_authorize(NULL, ''[]'')'),
        ('auth.oauth_consent(text,text,boolean,text[])', format('SELECT auth.oauth_consent(%L, auth.oauth_authorize(%L, %L) #>> ''{consent,consent_code}'', true) ->> ''url'' IS NOT NULL', tok, tok,
            jsonb_build_object('client_id', r || '-dcr', 'redirect_uri', 'https://h.example/cb', 'response_type', 'code', 'code_challenge', repeat('a', 43), 'prompt', 'consent'))),
        ('auth.oauth_consent(text,text,boolean,text[])', format('SELECT auth.oauth_consent(%L, ''nope'', true)', tok)),
        ('auth.oauth_token(jsonb,jsonb)', format('SELECT auth.oauth_token(jsonb_build_object(''grant_type'', ''authorization_code'', ''redirect_uri'', ''https://h.example/cb'', ''code_verifier'', ''hostile-verifier-0123456789-0123456789-01234'', ''code'', substring(auth.oauth_authorize(%L, %L) ->> ''url'' FROM ''code=([A-Za-z0-9_-]+)'')), %L) ? ''id_token''', tok,
            jsonb_build_object('client_id', r || '-dcr', 'redirect_uri', 'https://h.example/cb', 'response_type', 'code', 'scope', 'openid', 'resource', 'https://h.example/mcp',
                               'code_challenge', rtrim(translate(encode(sha256('hostile-verifier-0123456789-0123456789-01234'), 'base64'), '+/', '-_'), '=')),
            jsonb_build_object('method', 'none', 'client_id', r || '-dcr'))),
        ('auth.oauth_token(jsonb,jsonb)', format('SELECT auth.oauth_token(''{"grant_type": "refresh_token", "refresh_token": "nope"}'', %L)', jsonb_build_object('method', 'none', 'client_id', r || '-dcr'))),
        ('auth.oauth_token(jsonb,jsonb)', 'SELECT auth.oauth_token(''{"grant_type": "client_credentials"}'', ''{"method": "client_secret_basic", "client_id": "nope", "client_secret": "x"}'')'),
        ('auth.oauth_userinfo(text)', 'SELECT auth.oauth_userinfo(''nope'')'),
        ('auth.oauth_introspect(text,text,jsonb)', format('SELECT auth.oauth_introspect(''nope'', NULL, %L)', jsonb_build_object('method', 'none', 'client_id', r || '-dcr'))),
        ('auth.oauth_introspect(text,text,jsonb)', 'SELECT auth.oauth_introspect(''nope'', NULL, NULL)'),
        ('auth.oauth_revoke(text,text,jsonb)', format('SELECT auth.oauth_revoke(''nope'', NULL, %L)', jsonb_build_object('method', 'none', 'client_id', r || '-dcr'))),
        ('auth.oauth_revoke(text,text,jsonb)', 'SELECT auth.oauth_revoke(''nope'', NULL, NULL)'),
        ('auth.oauth_end_session(text,jsonb)', 'SELECT auth.oauth_end_session(NULL, ''{"client_id": "nope"}'')'),
        ('auth.oauth_end_session(text,jsonb)', 'SELECT auth.oauth_end_session(NULL, ''{"id_token_hint": "a.b.c"}'')'),
        ('auth.oauth_discovery(text)', 'SELECT auth.oauth_discovery(''openid-configuration'') IS NOT NULL'),
        ('auth.oauth_discovery(text)', 'SELECT auth.oauth_discovery(''nope'')'),
        ('auth.verify_access_token(text,text)', 'SELECT count(*) FROM auth.verify_access_token(''nope'', ''https://h.example/mcp'')'),
        ('auth.verify_access_token(text,text)', 'SELECT count(*) FROM auth.verify_access_token(NULL)'),
        ('auth.oauth_cleanup()', 'SELECT auth.oauth_cleanup() >= 0'),
        ('auth.sign_in_email(text,text,boolean,inet,text)',
            format('SELECT * FROM auth.sign_in_email(%L, ''hostile-pass-1'', false, ''10.0.0.1'', ''ua'')', r || '@example.com')),
        ('auth.sign_in_email(text,text,boolean,inet,text)',
            format('SELECT * FROM auth.sign_in_email(%L, ''wrong-pass-1'')', r || '@example.com')),
        ('auth.sign_up_email(text,text,text,text,inet,text)',
            format('SELECT * FROM auth.sign_up_email(%L, ''hostile-pass-1'', ''Second'')', r || '.2@example.com')),
        ('auth.sign_up_email(text,text,text,text,inet,text)', 'SELECT * FROM auth.sign_up_email(''bad'', ''x'', ''x'')'),
        ('auth.update_user(uuid,text,text)', format('SELECT auth.update_user(%L, ''New Name'', NULL)', uid)),
        ('auth.change_password(uuid,text,text,boolean,text)',
            format('SELECT auth.change_password(%L, ''wrong-pass-1'', ''hostile-pass-2'')', uid)),
        ('auth.claim_avatar(uuid,text)', format('SELECT * FROM auth.claim_avatar(%L)', uid)),
        ('auth.complete_avatar(uuid,text)', 'SELECT auth.complete_avatar(''00000000-0000-0000-0000-000000000000'', ''av'')'),
        ('auth.fail_avatar(uuid,text)', 'SELECT auth.fail_avatar(''00000000-0000-0000-0000-000000000000'', ''no'')'),
        ('auth.link_para_wallet(uuid,text)', format('SELECT auth.link_para_wallet(%L, %L)', uid, r || '-wallet')),
        -- organizations (pgauth_service)
        ('auth.org_create(text,jsonb)', format('SELECT auth.org_create(%L, %L) IS NOT NULL', tok, json_build_object('name', 'H', 'slug', r || '-org', 'metadata', json_build_object('a', 1)))),
        ('auth.org_create(text,jsonb)', format('SELECT auth.org_create(%L, ''{"name": "H", "slug": "bad slug"}'')', tok)),
        ('auth.org_check_slug(text,jsonb)', format('SELECT auth.org_check_slug(%L, ''{"slug": "free-hostile"}'')', tok)),
        ('auth.org_check_slug(text,jsonb)', format('SELECT auth.org_check_slug(%L, %L)', tok, json_build_object('slug', r || '-org'))),
        ('auth.org_update(text,jsonb)', format('SELECT auth.org_update(%L, %L) IS NOT NULL', tok, json_build_object('data', json_build_object('name', 'H2', 'slug', r || '-org2', 'logo', 'https://h.example/l.png')))),
        ('auth.org_list(text,jsonb)', format('SELECT json_array_length(auth.org_list(%L, NULL))', tok)),
        ('auth.org_get_full(text,jsonb)', format('SELECT auth.org_get_full(%L, ''{"membersLimit": "5"}'') IS NOT NULL', tok)),
        ('auth.org_set_active(text,jsonb)', format('SELECT error_code FROM auth.org_set_active(%L, ''{"organizationId": "00000000-0000-4000-8000-000000000000"}'')', tok)),
        ('auth.org_set_active(text,jsonb)', format('SELECT (auth.org_set_active(%L, %L)).body IS NOT NULL', tok, json_build_object('organizationSlug', r || '-org2'))),
        ('auth.org_has_permission(text,jsonb)', format('SELECT auth.org_has_permission(%L, ''{"permissions": {"member": ["create"]}}'')', tok)),
        ('auth.org_create_team(text,jsonb)', format('SELECT auth.org_create_team(%L, ''{"name": "T"}'') IS NOT NULL', tok)),
        ('auth.org_list_teams(text,jsonb)', format('SELECT json_array_length(auth.org_list_teams(%L, ''{}''))', tok)),
        ('auth.org_update_team(text,jsonb)', format('SELECT auth.org_update_team(%L, jsonb_build_object(''teamId'', auth.org_list_teams(%L, ''{}'') -> 0 ->> ''id'', ''data'', ''{"name": "T2"}''::jsonb)) IS NOT NULL', tok, tok)),
        ('auth.org_add_team_member(text,jsonb)', format('SELECT auth.org_add_team_member(%L, jsonb_build_object(''teamId'', auth.org_list_teams(%L, ''{}'') -> 0 ->> ''id'', ''userId'', %L)) IS NOT NULL', tok, tok, uid)),
        ('auth.org_set_active_team(text,jsonb)', format('SELECT auth.org_set_active_team(%L, jsonb_build_object(''teamId'', auth.org_list_teams(%L, ''{}'') -> 0 ->> ''id'')) IS NOT NULL', tok, tok)),
        ('auth.org_list_team_members(text,jsonb)', format('SELECT json_array_length(auth.org_list_team_members(%L, ''{}''))', tok)),
        ('auth.org_list_user_teams(text,jsonb)', format('SELECT json_array_length(auth.org_list_user_teams(%L, ''{}''))', tok)),
        ('auth.org_remove_team_member(text,jsonb)', format('SELECT auth.org_remove_team_member(%L, jsonb_build_object(''teamId'', auth.org_list_teams(%L, ''{}'') -> 0 ->> ''id'', ''userId'', %L))', tok, tok, uid)),
        ('auth.org_remove_team(text,jsonb)', format('SELECT auth.org_remove_team(%L, jsonb_build_object(''teamId'', auth.org_list_teams(%L, ''{}'') -> 0 ->> ''id''))', tok, tok)),
        ('auth.org_invite_member(text,jsonb)', format('SELECT auth.org_invite_member(%L, %L) IS NOT NULL', tok, json_build_object('email', r || '.inv@example.com', 'role', 'member'))),
        ('auth.org_list_invitations(text,jsonb)', format('SELECT json_array_length(auth.org_list_invitations(%L, ''{}''))', tok)),
        ('auth.org_cancel_invitation(text,jsonb)', format('SELECT auth.org_cancel_invitation(%L, jsonb_build_object(''invitationId'', auth.org_list_invitations(%L, ''{}'') -> 0 ->> ''id'')) IS NOT NULL', tok, tok)),
        ('auth.org_get_invitation(text,jsonb)', format('SELECT auth.org_get_invitation(%L, ''{"id": "00000000-0000-4000-8000-000000000000"}'')', tok)),
        ('auth.org_accept_invitation(text,jsonb)', format('SELECT auth.org_accept_invitation(%L, ''{"invitationId": "00000000-0000-4000-8000-000000000000"}'')', tok)),
        ('auth.org_reject_invitation(text,jsonb)', format('SELECT auth.org_reject_invitation(%L, ''{"invitationId": "nope"}'')', tok)),
        ('auth.org_list_user_invitations(text,jsonb)', format('SELECT json_array_length(auth.org_list_user_invitations(%L, ''{}''))', tok)),
        ('auth.org_list_members(text,jsonb)', format('SELECT auth.org_list_members(%L, ''{"limit": 10, "offset": "0"}'') -> ''total''', tok)),
        ('auth.org_list_members(text,jsonb)', format('SELECT auth.org_list_members(%L, ''{"sortBy": "role", "sortDirection": "desc", "filterField": "role", "filterOperator": "in", "filterValue": ["owner"]}'') -> ''total''', tok)),
        ('auth.org_get_active_member(text,jsonb)', format('SELECT auth.org_get_active_member(%L, ''{}'') ->> ''role''', tok)),
        ('auth.org_get_active_member_role(text,jsonb)', format('SELECT auth.org_get_active_member_role(%L, ''{"userId": "x'''' OR true --"}'') ->> ''role''', tok)),
        ('auth.org_get_active_member_role(text,jsonb)', format('SELECT auth.org_get_active_member_role(%L, %L) ->> ''role''', tok, json_build_object('userId', uid))),
        ('auth.org_create_role(text,jsonb)', format('SELECT auth.org_create_role(%L, ''{"role": "hostile", "permission": {"teamMember": ["read"]}}'') ->> ''success''', tok)),
        ('auth.org_list_roles(text,jsonb)', format('SELECT json_array_length(auth.org_list_roles(%L, ''{}''))', tok)),
        ('auth.org_get_role(text,jsonb)', format('SELECT auth.org_get_role(%L, ''{"roleName": "hostile"}'') IS NOT NULL', tok)),
        ('auth.org_update_role(text,jsonb)', format('SELECT auth.org_update_role(%L, ''{"roleName": "hostile", "data": {"permission": {"teamMember": ["read", "create"]}}}'') ->> ''success''', tok)),
        ('auth.org_delete_role(text,jsonb)', format('SELECT auth.org_delete_role(%L, ''{"roleName": "hostile"}'') ->> ''success''', tok)),
        ('auth.org_add_member(text,jsonb)', format('SELECT auth.org_add_member(%L, ''{"userId": "00000000-0000-4000-8000-000000000000", "role": "member"}'')', tok)),
        ('auth.org_update_member_role(text,jsonb)', format('SELECT auth.org_update_member_role(%L, jsonb_build_object(''memberId'', auth.org_get_active_member(%L, ''{}'') ->> ''id'', ''role'', ''admin''))', tok, tok)),
        ('auth.org_remove_member(text,jsonb)', format('SELECT auth.org_remove_member(%L, ''{"memberIdOrEmail": "ghost@example.com"}'')', tok)),
        ('auth.org_leave(text,jsonb)', format('SELECT auth.org_leave(%L, jsonb_build_object(''organizationId'', auth.org_get_active_member(%L, ''{}'') ->> ''organizationId''))', tok, tok)),
        ('auth.organization_id()', format('SELECT auth.session_init(%L) IS NULL AND auth.organization_id() IS NOT NULL', tok)),
        ('auth.team_id()', format('SELECT auth.session_init(%L) IS NULL AND auth.team_id() IS NULL', tok)),
        ('auth.member_role()', format('SELECT auth.session_init(%L) IS NULL AND auth.member_role() IS NOT NULL', tok)),
        ('auth.has_permission(text,text)', format('SELECT auth.session_init(%L) IS NULL AND auth.has_permission(''member'', ''create'')', tok)),
        ('auth.organization_id(text,text)', format('SELECT auth.session_init(%L) IS NULL AND auth.organization_id(''member'', ''create'') = auth.organization_id()', tok)),
        ('auth.is_member(uuid)', format('SELECT auth.session_init(%L) IS NULL AND NOT auth.is_member(%L)', tok, uid)),
        ('auth.org_delete(text,jsonb)', format('SELECT auth.org_delete(%L, jsonb_build_object(''organizationId'', auth.org_get_active_member(%L, ''{}'') ->> ''organizationId'')) IS NOT NULL', tok, tok)),
        ('auth.revoke_user_session(uuid,text)', format('SELECT auth.revoke_user_session(%L, ''nope'')', uid)),
        ('auth.revoke_user_sessions(uuid,text)', format('SELECT auth.revoke_user_sessions(%L, %L)', uid, tok)),
        ('auth.revoke_session(text)', format('SELECT auth.revoke_session(%L)', tok)),
        ('auth.delete_user(uuid,text)', format('SELECT auth.delete_user(%L, ''wrong-pass-1'')', uid)),
        -- OAuth clients (issue 13)
        ('auth.oauth_register_client(jsonb,text)', format('SELECT auth.oauth_register_client(%L) IS NOT NULL', '{"redirect_uris": ["https://h.example/cb"], "client_name": "Hostile"}')),
        ('auth.oauth_register_client(jsonb,text)', 'SELECT auth.oauth_register_client(''{"redirect_uris": ["http://h.example/cb"]}'')'),
        ('auth.oauth_client_read(text,text)', format('SELECT auth.oauth_client_read(%L, %L) IS NOT NULL', r || '-dcr', r || '-rat')),
        ('auth.oauth_client_read(text,text)', format('SELECT auth.oauth_client_read(%L, ''wrong'')', r || '-dcr')),
        ('auth.oauth_client_update(text,text,jsonb)', format('SELECT auth.oauth_client_update(%L, %L, %L) IS NOT NULL', r || '-dcr', r || '-rat',
            jsonb_build_object('client_id', r || '-dcr', 'redirect_uris', jsonb_build_array('https://h.example/cb2'), 'token_endpoint_auth_method', 'client_secret_post'))),
        ('auth.oauth_client_update(text,text,jsonb)', format('SELECT auth.oauth_client_update(%L, %L, ''{}'')', r || '-dcr', r || '-rat')),
        ('auth.oauth_client_get(text)', format('SELECT auth.oauth_client_get(%L) IS NOT NULL', r || '-dcr')),
        ('auth.oauth_client_get(text)', 'SELECT auth.oauth_client_get(''nope'')'),
        ('auth.oauth_check_redirect(text,text)', format('SELECT auth.oauth_check_redirect(%L, ''https://h.example/cb2'')', r || '-dcr')),
        ('auth.oauth_check_redirect(text,text)', format('SELECT auth.oauth_check_redirect(%L, ''http://127.0.0.1:9/cb'')', r || '-native')),
        ('auth.oauth_client_delete(text,text)', format('SELECT auth.oauth_client_delete(%L, ''wrong'')', r || '-dcr')),
        ('auth.oauth_client_delete(text,text)', format('SELECT auth.oauth_client_delete(%L, %L)', r || '-dcr', r || '-rat')),
        ('auth.oauth_cimd_store(text,jsonb,integer)', format('SELECT auth.oauth_cimd_store(%1$L, %2$L, 60) IS NOT NULL', 'https://h.example/' || r || '.json',
            jsonb_build_object('client_id', 'https://h.example/' || r || '.json', 'redirect_uris', jsonb_build_array('http://127.0.0.1/cb')))),
        ('auth.oauth_cimd_store(text,jsonb,integer)', 'SELECT auth.oauth_cimd_store(''https://h.example/x.json'', ''{"client_id": "https://h.example/y.json"}'', 60)'),
        ('auth.oauth_client_jwks_store(text,text,jsonb,integer,text)', 'SELECT auth.oauth_client_jwks_store(auth.oauth_register_client(''{"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://h.example/jwks"}'')::jsonb ->> ''client_id'', ''https://h.example/jwks'', ''{"keys": [{"kty": "EC", "kid": "k"}]}'', 60)'),
        ('auth.oauth_client_jwks_store(text,text,jsonb,integer,text)', 'SELECT auth.oauth_client_jwks_store(''nope'', ''https://h.example/jwks'', NULL, NULL, ''unreachable'')'),
        ('auth.oauth_create_client(jsonb)', format('SELECT auth.oauth_create_client(%L) IS NOT NULL', jsonb_build_object('client_id', r || '-admin', 'grant_types', jsonb_build_array('client_credentials')))),
        ('auth.oauth_create_client(jsonb)', 'SELECT auth.oauth_create_client(''{"redirect_uris": ["javascript:x"]}'')'),
        ('auth.oauth_set_client_disabled(text,boolean)', format('SELECT auth.oauth_set_client_disabled(%L, true)', r || '-native')),
        ('auth.oauth_set_client_disabled(text,boolean)', format('SELECT auth.oauth_set_client_disabled(%L, NULL)', r || '-native')),
        ('auth.oauth_delete_client(text)', format('SELECT auth.oauth_delete_client(%L)', r || '-native')),
        ('auth.oauth_delete_client(text)', 'SELECT auth.oauth_delete_client(''nope'')'),
        -- account security (issue 16): the role's user is no admin (FORBIDDEN), two-factor set up and removed
        ('auth.has_role(text)', 'SELECT auth.has_role(''admin'')'),
        ('auth.is_admin_role(text)', 'SELECT auth.is_admin_role(''user,admin'')'),
        ('auth.admin_create_user(text,jsonb)', format('SELECT auth.admin_create_user(%L, ''{"email": "x@example.com", "name": "X"}'')', tok)),
        ('auth.admin_list_users(text,jsonb)', format('SELECT auth.admin_list_users(%L, ''{"searchValue": "x"}'')', tok)),
        ('auth.admin_get_user(text,text)', format('SELECT auth.admin_get_user(%L, %L)', tok, uid)),
        ('auth.admin_update_user(text,text,jsonb)', format('SELECT auth.admin_update_user(%L, %L, ''{"name": "x"}'')', tok, uid)),
        ('auth.admin_set_role(text,text,jsonb)', format('SELECT auth.admin_set_role(%L, %L, ''"admin"'')', tok, uid)),
        ('auth.admin_set_user_password(text,text,text)', format('SELECT auth.admin_set_user_password(%L, %L, ''x-password-1'')', tok, uid)),
        ('auth.admin_ban_user(text,text,text,bigint)', format('SELECT auth.admin_ban_user(%L, %L)', tok, uid)),
        ('auth.admin_unban_user(text,text)', format('SELECT auth.admin_unban_user(%L, %L)', tok, uid)),
        ('auth.admin_list_user_sessions(text,text)', format('SELECT auth.admin_list_user_sessions(%L, %L)', tok, uid)),
        ('auth.admin_revoke_user_session(text,text)', format('SELECT auth.admin_revoke_user_session(%L, ''x'')', tok)),
        ('auth.admin_revoke_user_sessions(text,text)', format('SELECT auth.admin_revoke_user_sessions(%L, %L)', tok, uid)),
        ('auth.admin_impersonate_user(text,text,inet,text)', format('SELECT count(*) FROM auth.admin_impersonate_user(%L, %L)', tok, uid)),
        ('auth.admin_stop_impersonating(text,text)', format('SELECT count(*) FROM auth.admin_stop_impersonating(%L, %L)', tok, tok)),
        ('auth.admin_remove_user(text,text)', format('SELECT auth.admin_remove_user(%L, %L)', tok, uid)),
        ('auth.admin_has_permission(text,jsonb)', format('SELECT auth.admin_has_permission(%L, ''{"permissions": {"user": ["ban"]}}'')', tok)),
        ('auth.admin_audit_log(text,jsonb)', format('SELECT auth.admin_audit_log(%L, NULL)', tok)),
        ('auth.two_factor_enable(text,text,text,inet,text)', format('SELECT auth.two_factor_enable(%L, ''hostile-pass-1'') IS NOT NULL', tok)),
        ('auth.two_factor_get_totp_uri(text,text)', format('SELECT auth.two_factor_get_totp_uri(%L, ''hostile-pass-1'') IS NOT NULL', tok)),
        ('auth.two_factor_generate_backup_codes(text,text)', format('SELECT auth.two_factor_generate_backup_codes(%L, ''hostile-pass-1'')', tok)),
        ('auth.two_factor_verify(text,text,text,text,boolean,inet,text)', format('SELECT count(*) FROM auth.two_factor_verify(''totp'', ''000000'', %L, NULL)', tok)),
        ('auth.two_factor_verify(text,text,text,text,boolean,inet,text)', 'SELECT count(*) FROM auth.two_factor_verify(''backup'', ''x'', NULL, ''nope'')'),
        ('auth.two_factor_send_otp(text,text)', format('SELECT auth.two_factor_send_otp(%L, NULL)', tok)),
        ('auth.two_factor_disable(text,text,inet,text)', format('SELECT auth.two_factor_disable(%L, ''hostile-pass-1'')', tok)),
        ('auth.multi_session_list(text[])', format('SELECT json_array_length(auth.multi_session_list(ARRAY[%L, ''nope'']))', tok)),
        ('auth.multi_session_set_active(text[],text)', format('SELECT count(*) FROM auth.multi_session_set_active(ARRAY[%1$L], %1$L)', tok)),
        ('auth.multi_session_revoke(text[],text)', format('SELECT auth.multi_session_revoke(ARRAY[%L], ''nope'')', tok)),
        -- pgauth_vault only
        ('auth.vault_read(uuid,text)', format('SELECT auth.vault_read(%L, ''hostileKey'')', uid)),
        ('auth.vault_read(uuid,text)', format('SELECT auth.vault_read(%L, ''missing'')', uid)),
        -- pgauth_admin only
        ('auth.import_user(text,text,text,boolean,timestamptz)',
            format('SELECT auth.import_user(%L, ''Imp'', ''$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'') IS NOT NULL', r || '.imp@example.com')),
        ('auth.import_user(text,text,text,boolean,timestamptz)', 'SELECT auth.import_user(''x@example.com'', ''X'', ''md5'')'),
        ('auth.check_password_hash(text)', 'SELECT auth.check_password_hash(''$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'')'),
        ('auth.password_needs_rehash(text)', 'SELECT auth.password_needs_rehash(''x'')'),
        ('auth.password_hash_kind(text)', 'SELECT auth.password_hash_kind(''x'')'),
        ('auth.purge_expired_sessions()', 'SELECT auth.purge_expired_sessions() >= 0'),
        ('auth.set_user_profile(uuid,text,text,boolean)', format('SELECT auth.set_user_profile(%L, ''admin'')', uid)),
        ('auth.link_avatar(uuid,text,text)', format('SELECT auth.link_avatar(%L, ''oasis'', %L)', uid, r || '-avatar')),
        ('auth.reseal()', 'SELECT count(*) FROM auth.reseal()'),
        ('auth.rotate_signing_key(text)', 'SELECT length(auth.rotate_signing_key())'),
        ('auth.rotate_signing_key(text)', 'SELECT auth.rotate_signing_key(''HS256'')'),
        ('auth.import_signing_key(jsonb)', 'SELECT auth.import_signing_key(''{"kty": "OKP"}'')'),
        ('auth.retire_signing_key(text,timestamptz)', 'SELECT auth.retire_signing_key(''nope'')'),
        ('auth.audit_purge()', 'SELECT auth.audit_purge()'),
        ('auth.audit_events(uuid,text,timestamptz,timestamptz,integer,integer)', format('SELECT count(*) FROM auth.audit_events(%L)', uid)),
        ('auth.grant_admin(text)', format('SELECT auth.grant_admin(%L) IS NOT NULL', r || '@example.com')),
        ('auth.org_add_member_admin(jsonb)', format('SELECT auth.org_add_member_admin(%L)', json_build_object('organizationId', '00000000-0000-4000-8000-000000000000', 'userId', uid, 'role', 'member'))),
        ('auth.org_define_role(text,jsonb,uuid)', format('SELECT auth.org_define_role(%L, ''{"project": ["read"]}'') IS NOT NULL', 'hostile-' || r)),
        ('auth.org_define_role(text,jsonb,uuid)', 'SELECT auth.org_define_role(''bad name'', ''{}'')'),
        ('auth.org_drop_role(text,uuid)', format('SELECT auth.org_drop_role(%L)', 'hostile-' || r)),
        ('auth.delete_user(uuid)', format('SELECT auth.delete_user(%L)', uid))
    ) AS c(fn, sql) LOOP
        INSERT INTO public.hostile_calls
        SELECT r, (SELECT count(*) FROM public.hostile_calls) + 1, v.fn::regprocedure, v.sql;
    END LOOP;
END
$$;

-- the set-up for one role: a user with a session that is due for sliding expiry, a JWT for
-- pgauth.base_url naming that session, and the role's traps
CREATE FUNCTION public.prepare_role(r text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM auth.sign_up_email(r || '@example.com', 'hostile-pass-1', 'Hostile');
    UPDATE auth.sessions SET expires_at = now() + interval '1 hour' WHERE id = s.session_id;
    -- OAuth clients with known ids and a known registration access token
    INSERT INTO auth.oauth_clients (client_id, registration_token_digest, redirect_uris, grant_types, response_types,
                                    token_endpoint_auth_method, application_type, source)
    VALUES (r || '-dcr', auth.hash_token(r || '-rat'), '{https://h.example/cb}', '{authorization_code}', '{code}', 'none', 'web', 'dcr'),
           (r || '-native', auth.hash_token(r || '-rat2'), '{http://127.0.0.1/cb}', '{authorization_code}', '{code}', 'none', 'native', 'dcr');
    PERFORM public.calls_for(r, s.session_token, s.user_id,
        auth.sign_jwt(jsonb_build_object('sub', s.user_id, 'sid', s.session_id), NULL,
                      current_setting('pgauth.base_url')));
END
$$;
SELECT public.prepare_role('reader'), public.prepare_role('service'), public.prepare_role('admin'), public.prepare_role('vault');
-- a vault entry for the vault role to read
SELECT auth.vault_set(session_token, '{"hostileKey": "hostile-value-1"}') IS NOT NULL AS vault_entry
  FROM auth.sign_in_email('vault@example.com', 'hostile-pass-1');

-- every function a role may execute is called (a new grant without a call here fails this test)
SELECT r AS role, p.oid::regprocedure AS not_called
  FROM unnest(ARRAY['reader', 'service', 'admin', 'vault']) r
 CROSS JOIN pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'auth' AND has_function_privilege('regress_hostile_' || r, p.oid, 'EXECUTE')
   AND NOT EXISTS (SELECT 1 FROM public.hostile_calls c WHERE c.role = r AND c.fn = p.oid)
 ORDER BY 1, 2;

SET SESSION AUTHORIZATION regress_hostile_reader;
SET search_path = hostile_reader, pg_catalog;
SELECT public.plant('hostile_reader') AS traps_planted;
SELECT c.fn, split_part(public.try(c.sql), ':', 1) AS result FROM public.hostile_calls c
 WHERE c.role = 'reader' AND has_function_privilege(c.fn, 'EXECUTE') ORDER BY c.step;
RESET search_path;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_hostile_service;
SET search_path = hostile_service, pg_catalog;
SELECT public.plant('hostile_service') AS traps_planted;
SELECT c.fn, split_part(public.try(c.sql), ':', 1) AS result FROM public.hostile_calls c
 WHERE c.role = 'service' AND has_function_privilege(c.fn, 'EXECUTE') ORDER BY c.step;
RESET search_path;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_hostile_admin;
SET search_path = hostile_admin, pg_catalog;
SELECT public.plant('hostile_admin') AS traps_planted;
SELECT c.fn, split_part(public.try(c.sql), ':', 1) AS result FROM public.hostile_calls c
 WHERE c.role = 'admin' AND has_function_privilege(c.fn, 'EXECUTE') ORDER BY c.step;
RESET search_path;
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_hostile_vault;
SET search_path = hostile_vault, pg_catalog;
SELECT public.plant('hostile_vault') AS traps_planted;
SELECT c.fn, split_part(public.try(c.sql), ':', 1) AS result FROM public.hostile_calls c
 WHERE c.role = 'vault' AND has_function_privilege(c.fn, 'EXECUTE') ORDER BY c.step;
RESET search_path;
RESET SESSION AUTHORIZATION;

-- no trap ever ran as another role (is_called stays false)
SELECT is_called AS a_trap_ran_as_another_role FROM public.hostile_hits;

-- the traps were live: called by their owner, they do run (as the owner, so they do not raise)
SET SESSION AUTHORIZATION regress_hostile_reader;
SET search_path = hostile_reader, pg_catalog;
SELECT 'a' = 'a' AS owner_call, pg_catalog.pg_get_function_identity_arguments(
       (SELECT o.oprcode FROM pg_catalog.pg_operator o WHERE o.oprnamespace = 'hostile_reader'::regnamespace
           AND o.oprname = '=' AND o.oprleft = 'text'::regtype)::regproc::oid) AS trap_args;
RESET search_path;
RESET SESSION AUTHORIZATION;

SET client_min_messages = warning;
DROP SCHEMA hostile_reader, hostile_service, hostile_admin, hostile_vault CASCADE;
DROP OWNED BY regress_hostile_reader, regress_hostile_service, regress_hostile_admin, regress_hostile_vault;
DROP ROLE regress_hostile_reader, regress_hostile_service, regress_hostile_admin, regress_hostile_vault;
RESET client_min_messages;
