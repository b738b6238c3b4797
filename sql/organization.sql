-- Organizations (issue 17): the endpoint functions' rules (last owner, no role escalation,
-- members only, recipient-only invitations, limits, deletion), the invitation mail, the active
-- organization on the session and in the JWT, the audit log, and tenant isolation by row-level
-- security with auth.organization_id() / auth.has_permission(): two organizations and three
-- users each see and write only what their role allows; SET / set_config impersonate nobody.
SET pgauth.email_max_per_address = 0;
-- a call's outcome: ok, or SQLSTATE and the error code (errdetail)
CREATE FUNCTION pg_temp.try(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_detail text;
BEGIN
    EXECUTE p_sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_detail = PG_EXCEPTION_DETAIL;
    RETURN v_state || ' ' || coalesce(v_detail, SQLERRM);
END
$$;
-- the newest mail to an address, with its secret part opened (as the worker reads it)
CREATE FUNCTION pg_temp.mail(p_to text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT o.vars || coalesce(auth.outbox_open(o.id, o.recipient, o.template, o.sealed)::jsonb, '{}')
           || jsonb_build_object('template', o.template, 'status', o.status)
      FROM auth.outbox o WHERE o.recipient = p_to ORDER BY o.id DESC LIMIT 1
$$;

SELECT name, setting FROM pg_settings
 WHERE name IN ('pgauth.organization_limit', 'pgauth.membership_limit', 'pgauth.invitation_limit',
                'pgauth.invitation_expires_in', 'pgauth.organization_invitation_url')
 ORDER BY name;
-- the built-in roles carry Better-Auth's default statements
SELECT r.role, r.permission FROM auth.organization_roles r WHERE r.organization_id IS NULL ORDER BY r.role;

SELECT user_id AS alice, session_token AS alice_tok FROM auth.sign_up_email('org-alice@example.com', 'alice-password', 'Alice') \gset
SELECT user_id AS bob, session_token AS bob_tok FROM auth.sign_up_email('org-bob@example.com', 'bob-password-1', 'Bob') \gset
SELECT user_id AS carol, session_token AS carol_tok FROM auth.sign_up_email('org-carol@example.com', 'carol-password', 'Carol') \gset
SELECT user_id AS dave, session_token AS dave_tok FROM auth.sign_up_email('org-dave@example.com', 'dave-password1', 'Dave') \gset

-- ---- create, check-slug, list
SELECT auth.org_create(:'alice_tok', '{"name": "Acme", "slug": "acme", "metadata": {"plan": "pro"}}') AS acme_json \gset
SELECT (:'acme_json'::jsonb) ->> 'id' AS acme \gset
SELECT j ->> 'name' AS name, j ->> 'slug' AS slug, j -> 'metadata' AS metadata,
       jsonb_array_length(j -> 'members') AS members, j #>> '{members,0,role}' AS role,
       j #>> '{members,0,userId}' = :'alice' AS alice_is_owner
  FROM (SELECT :'acme_json'::jsonb AS j) x;
SELECT auth.org_create(:'carol_tok', '{"name": "Globex", "slug": "globex"}') ->> 'id' AS globex \gset
SELECT pg_temp.try(format('SELECT auth.org_create(%L, ''{"name": "Other", "slug": "acme"}'')', :'dave_tok')) AS slug_taken;
SELECT pg_temp.try(format('SELECT auth.org_check_slug(%L, ''{"slug": "acme"}'')', :'dave_tok')) AS check_taken,
       auth.org_check_slug(:'dave_tok', '{"slug": "free-slug"}') AS check_free;
-- the creator's session has it active (get-session, validate_session)
SELECT (body::jsonb) #>> '{session,activeOrganizationId}' = :'acme' AS active_in_get_session,
       (body::jsonb) #> '{session,activeTeamId}' AS active_team
  FROM auth.get_session(:'alice_tok');
SELECT active_organization_id = :'acme' AS active_in_validate_session, active_team_id
  FROM auth.validate_session(:'alice_tok');
SELECT json_array_length(auth.org_list(:'alice_tok', NULL)) AS alice_orgs, json_array_length(auth.org_list(:'dave_tok', '{}')) AS dave_orgs;
SELECT auth.org_list('not-a-token', '{}') IS NULL AS no_session_is_null;

-- ---- invitations: bob as member of Acme, bob as admin of Globex (mailed through the outbox)
SELECT auth.org_invite_member(:'alice_tok', '{"email": "Org-Bob@Example.com", "role": "member"}') ->> 'id' AS inv_bob \gset
SELECT m ->> 'template' AS template, m ->> 'organizationName' AS org, m ->> 'inviterEmail' AS inviter, m ->> 'role' AS role,
       m ->> 'url' = 'http://127.0.0.1:8080/accept-invitation/' || :'inv_bob' AS link_carries_the_id,
       m ->> 'status' AS status
  FROM pg_temp.mail('org-bob@example.com') m;
SELECT pg_temp.try(format('SELECT auth.org_invite_member(%L, ''{"email": "org-bob@example.com", "role": "member"}'')', :'alice_tok')) AS invited_twice;
SELECT auth.org_invite_member(:'alice_tok', '{"email": "org-bob@example.com", "role": "member", "resend": true}') ->> 'id' = :'inv_bob' AS resend_same_invitation;
SELECT count(*) AS bob_mails, count(*) FILTER (WHERE o.verification_id IS NOT NULL) AS live_mails
  FROM auth.outbox o WHERE o.recipient = 'org-bob@example.com';
-- only the invited address, signed in, accepts; get-invitation likewise
SELECT pg_temp.try(format('SELECT auth.org_accept_invitation(%L, %L)', :'carol_tok', json_build_object('invitationId', :'inv_bob'))) AS other_user_accepts;
SELECT pg_temp.try(format('SELECT auth.org_get_invitation(%L, %L)', :'dave_tok', json_build_object('id', :'inv_bob'))) AS other_user_reads;
SELECT j ->> 'organizationName' AS org, j ->> 'inviterEmail' AS inviter, j ->> 'status' AS status
  FROM (SELECT auth.org_get_invitation(:'bob_tok', json_build_object('id', :'inv_bob')::jsonb)::jsonb AS j) x;
SELECT json_array_length(auth.org_list_user_invitations(:'bob_tok', '{}')) AS bob_pending;
SELECT j #>> '{invitation,status}' AS status, j #>> '{member,role}' AS role
  FROM (SELECT auth.org_accept_invitation(:'bob_tok', json_build_object('invitationId', :'inv_bob')::jsonb)::jsonb AS j) x;
SELECT pg_temp.try(format('SELECT auth.org_accept_invitation(%L, %L)', :'bob_tok', json_build_object('invitationId', :'inv_bob'))) AS accepted_twice;
SELECT auth.org_invite_member(:'carol_tok', '{"email": "org-bob@example.com", "role": ["admin"]}') ->> 'id' AS inv_bob_globex \gset
SELECT auth.org_accept_invitation(:'bob_tok', json_build_object('invitationId', :'inv_bob_globex')::jsonb) #>> '{member,role}' AS bob_in_globex;
-- carol joins Acme as a member (her session keeps Globex active)
SELECT auth.org_invite_member(:'alice_tok', '{"email": "org-carol@example.com", "role": "member"}') ->> 'id' AS inv_carol \gset
SELECT auth.org_accept_invitation(:'carol_tok', json_build_object('invitationId', :'inv_carol')::jsonb) IS NOT NULL AS carol_joined;
SELECT (auth.org_set_active(:'carol_tok', json_build_object('organizationId', :'globex')::jsonb)).body ->> 'slug' AS carol_active;
-- an expired invitation cannot be accepted; a canceled one's unsent mail goes dead
SELECT auth.org_invite_member(:'alice_tok', '{"email": "org-dave@example.com", "role": "member"}') ->> 'id' AS inv_dave \gset
UPDATE auth.invitations SET expires_at = now() - interval '1 second' WHERE id = :'inv_dave';
SELECT pg_temp.try(format('SELECT auth.org_accept_invitation(%L, %L)', :'dave_tok', json_build_object('invitationId', :'inv_dave'))) AS expired;
UPDATE auth.invitations SET expires_at = now() + interval '1 hour' WHERE id = :'inv_dave';
SELECT pg_temp.try(format('SELECT auth.org_cancel_invitation(%L, %L)', :'carol_tok', json_build_object('invitationId', :'inv_dave'))) AS member_cancels;
SELECT auth.org_cancel_invitation(:'alice_tok', json_build_object('invitationId', :'inv_dave')::jsonb) ->> 'status' AS canceled;
SELECT count(*) AS claimed FROM auth.outbox_claim('regress-org', 100) c WHERE c.recipient = 'org-dave@example.com';
SELECT status, last_error FROM auth.outbox WHERE recipient = 'org-dave@example.com';
SELECT pg_temp.try(format('SELECT auth.org_reject_invitation(%L, %L)', :'dave_tok', json_build_object('invitationId', :'inv_dave'))) AS canceled_is_gone;

-- ---- members only; 403 for a non-member reading, inviting or switching
SELECT pg_temp.try(format('SELECT auth.org_get_full(%L, %L)', :'dave_tok', json_build_object('organizationId', :'acme'))) AS outsider_reads,
       (SELECT error_code FROM auth.org_set_active(:'dave_tok', json_build_object('organizationId', :'acme')::jsonb)) AS outsider_switches,
       pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'dave_tok', json_build_object('organizationId', :'acme', 'email', 'x@example.com', 'role', 'member'))) AS outsider_invites,
       pg_temp.try(format('SELECT auth.org_list_members(%L, %L)', :'dave_tok', json_build_object('organizationId', :'acme'))) AS outsider_lists;
SELECT (auth.org_list_members(:'bob_tok', json_build_object('organizationId', :'acme', 'limit', '2')::jsonb)::jsonb) -> 'total' AS acme_total,
       jsonb_array_length((auth.org_list_members(:'bob_tok', json_build_object('organizationId', :'acme', 'limit', 2)::jsonb)::jsonb) -> 'members') AS page;
SELECT m ->> 'id' AS alice_member FROM json_array_elements(auth.org_list_members(:'alice_tok', '{}') -> 'members') m WHERE m ->> 'userId' = :'alice' \gset
SELECT m ->> 'id' AS bob_member FROM json_array_elements(auth.org_list_members(:'alice_tok', '{}') -> 'members') m WHERE m ->> 'userId' = :'bob' \gset
SELECT m ->> 'id' AS carol_member FROM json_array_elements(auth.org_list_members(:'alice_tok', '{}') -> 'members') m WHERE m ->> 'userId' = :'carol' \gset

-- ---- role escalation: a member invites nobody; an admin gives no owner and no permission it lacks
SELECT pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'email', 'x@example.com', 'role', 'admin'))) AS member_invites_admin;
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'bob_member', 'role', 'admin')::jsonb) ->> 'role' AS bob_now;
SELECT pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'email', 'x@example.com', 'role', 'owner'))) AS admin_invites_owner,
       pg_temp.try(format('SELECT auth.org_update_member_role(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'memberId', :'bob_member', 'role', 'owner'))) AS admin_raises_self,
       pg_temp.try(format('SELECT auth.org_update_member_role(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'memberId', :'carol_member', 'role', 'admin,owner'))) AS admin_makes_owner,
       pg_temp.try(format('SELECT auth.org_update_member_role(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'memberId', :'alice_member', 'role', 'member'))) AS admin_demotes_owner,
       pg_temp.try(format('SELECT auth.org_remove_member(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'memberIdOrEmail', 'org-alice@example.com'))) AS admin_removes_owner,
       pg_temp.try(format('SELECT auth.org_create_role(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'role', 'deleter', 'permission', json_build_object('organization', json_build_array('delete'))))) AS admin_role_beyond_own,
       pg_temp.try(format('SELECT auth.org_delete(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme'))) AS admin_deletes_org;
SELECT pg_temp.try(format('SELECT auth.org_update_member_role(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'memberId', :'carol_member', 'role', 'admin'))) AS member_raises_self,
       pg_temp.try(format('SELECT auth.org_update(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'data', json_build_object('name', 'Mine')))) AS member_updates_org;
-- an admin may update the organization, and give admin
SELECT auth.org_update(:'bob_tok', json_build_object('organizationId', :'acme', 'data', json_build_object('name', 'Acme Inc', 'logo', 'https://acme.example/logo.png'))::jsonb) ->> 'name' AS renamed;
SELECT pg_temp.try(format('SELECT auth.org_update(%L, %L)', :'alice_tok', json_build_object('data', json_build_object('slug', 'globex')))) AS slug_clash;

-- ---- the last owner: cannot leave, be demoted or be removed (race-safe: see specs/org_last_owner.spec)
SELECT pg_temp.try(format('SELECT auth.org_leave(%L, %L)', :'alice_tok', json_build_object('organizationId', :'acme'))) AS last_owner_leaves,
       pg_temp.try(format('SELECT auth.org_update_member_role(%L, %L)', :'alice_tok', json_build_object('memberId', :'alice_member', 'role', 'admin'))) AS last_owner_demoted,
       pg_temp.try(format('SELECT auth.org_remove_member(%L, %L)', :'alice_tok', json_build_object('memberIdOrEmail', :'alice_member'))) AS last_owner_removed;
-- with a second owner, the first may step down
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'carol_member', 'role', 'owner')::jsonb) ->> 'role' AS carol_now;
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'alice_member', 'role', 'admin')::jsonb) ->> 'role' AS alice_now;
SELECT auth.org_update_member_role(:'carol_tok', json_build_object('organizationId', :'acme', 'memberId', :'alice_member', 'role', 'owner')::jsonb) ->> 'role' AS alice_again;
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'carol_member', 'role', 'member')::jsonb) ->> 'role' AS carol_back;
SELECT count(*) AS acme_owners FROM auth.members WHERE organization_id = :'acme' AND role = 'owner';

-- ---- access control: has-permission, custom roles (dynamic, per organization; global, in SQL)
SELECT auth.org_has_permission(:'bob_tok', json_build_object('organizationId', :'acme', 'permissions', json_build_object('member', json_build_array('create', 'update'))::jsonb)::jsonb) AS admin_manages_members,
       auth.org_has_permission(:'bob_tok', json_build_object('organizationId', :'acme', 'permissions', json_build_object('organization', json_build_array('delete'))::jsonb)::jsonb) AS admin_deletes,
       auth.org_has_permission(:'carol_tok', json_build_object('organizationId', :'acme', 'permission', json_build_object('ac', json_build_array('read'))::jsonb)::jsonb) AS member_reads_roles;
-- the common request (the active organization, well-formed names) is answered in C++; it agrees
-- with the plpgsql rules, which answer everything else
SELECT who, body, auth.org_has_permission(tok, body::jsonb)::text AS answer,
       auth.org_has_permission(tok, body::jsonb)::text = auth.org_has_permission_checked(tok, body::jsonb)::text AS same_as_rules
  FROM (VALUES ('alice', :'alice_tok'), ('bob', :'bob_tok'), ('carol', :'carol_tok')) t(who, tok),
       (VALUES ('{"permissions": {"member": ["create", "update"]}}'), ('{"permissions": {"organization": ["delete"]}}'),
               ('{"permission": {"ac": ["read"]}}'), ('{"permissions": {"member": ["create"], "invitation": ["cancel"]}}'),
               ('{"permissions": {"ghost": ["read"]}}')) v(body)
 ORDER BY 1, 2;
SELECT pg_temp.try(format('SELECT auth.org_has_permission(%L, ''{"permissions": {"member": ["create"]}}'')', :'dave_tok')) AS no_active_organization,
       pg_temp.try(format('SELECT auth.org_has_permission_checked(%L, ''{"permissions": {"member": ["create"]}}'')', :'dave_tok')) AS rules_say,
       auth.org_has_permission('not-a-session', '{"permissions": {"member": ["create"]}}') IS NULL AS nobody;
-- projects: members read, admins and owners write (global roles redefined in SQL), a per-organization
-- "auditor" role reads only (dynamic access control)
SELECT auth.org_define_role('owner', (SELECT permission FROM auth.organization_roles WHERE role = 'owner' AND organization_id IS NULL) || '{"project": ["read", "write"]}') ->> 'role' AS redefined;
SELECT auth.org_define_role('admin', (SELECT permission FROM auth.organization_roles WHERE role = 'admin' AND organization_id IS NULL) || '{"project": ["read", "write"]}') ->> 'role' AS redefined;
SELECT auth.org_define_role('member', (SELECT permission FROM auth.organization_roles WHERE role = 'member' AND organization_id IS NULL) || '{"project": ["read"]}') ->> 'role' AS redefined;
SELECT j ->> 'success' AS success, j #>> '{roleData,role}' AS role, j -> 'statements' AS statements
  FROM (SELECT auth.org_create_role(:'bob_tok', json_build_object('organizationId', :'acme', 'role', 'auditor', 'permission', json_build_object('project', json_build_array('read')))::jsonb)::jsonb AS j) x;
SELECT pg_temp.try(format('SELECT auth.org_create_role(%L, %L)', :'bob_tok', json_build_object('organizationId', :'acme', 'role', 'admin', 'permission', '{}'::json))) AS builtin_name,
       pg_temp.try(format('SELECT auth.org_create_role(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'role', 'x', 'permission', '{}'::json))) AS member_creates_role;
SELECT json_array_length(auth.org_list_roles(:'carol_tok', json_build_object('organizationId', :'acme')::jsonb)) AS acme_roles,
       auth.org_get_role(:'carol_tok', json_build_object('organizationId', :'acme', 'roleName', 'auditor')::jsonb) -> 'permission' AS auditor;
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'carol_member', 'role', 'auditor')::jsonb) ->> 'role' AS carol_auditor;
SELECT pg_temp.try(format('SELECT auth.org_delete_role(%L, %L)', :'alice_tok', '{"roleName": "auditor"}')) AS assigned_role_stays;
SELECT auth.org_update_role(:'alice_tok', '{"roleName": "auditor", "data": {"permission": {"project": ["read"], "ac": ["read"]}}}') #>> '{roleData,permission}' AS auditor_updated;
-- Globex does not know Acme's roles
SELECT pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'carol_tok', json_build_object('organizationId', :'globex', 'email', 'x@example.com', 'role', 'auditor'))) AS foreign_role;

-- ---- teams
SELECT auth.org_create_team(:'alice_tok', '{"name": "Platform"}') ->> 'id' AS platform \gset
SELECT pg_temp.try(format('SELECT auth.org_create_team(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'name', 'Mine'))) AS auditor_creates_team;
SELECT auth.org_add_team_member(:'alice_tok', json_build_object('teamId', :'platform', 'userId', :'bob')::jsonb) ->> 'userId' = :'bob' AS bob_in_team;
SELECT pg_temp.try(format('SELECT auth.org_add_team_member(%L, %L)', :'alice_tok', json_build_object('teamId', :'platform', 'userId', :'dave'))) AS outsider_in_team;
SELECT pg_temp.try(format('SELECT auth.org_set_active_team(%L, %L)', :'alice_tok', json_build_object('teamId', :'platform'))) AS not_in_team;
SELECT auth.org_set_active_team(:'bob_tok', json_build_object('teamId', :'platform')::jsonb) ->> 'name' AS bob_team;
SELECT active_organization_id = :'acme' AS bob_in_acme, active_team_id = :'platform' AS bob_on_platform FROM auth.validate_session(:'bob_tok');
SELECT json_array_length(auth.org_list_team_members(:'bob_tok', '{}')) AS team_size,
       json_array_length(auth.org_list_user_teams(:'bob_tok', '{}')) AS bob_teams,
       json_array_length(auth.org_list_teams(:'carol_tok', json_build_object('organizationId', :'acme')::jsonb)) AS acme_teams;
SELECT auth.org_update_team(:'alice_tok', json_build_object('teamId', :'platform', 'data', json_build_object('name', 'Platform team'))::jsonb) ->> 'name' AS renamed_team;

-- ---- the JWT carries the active organization and team
SELECT auth.session_jwt(:'bob_tok') AS bob_jwt \gset
SELECT (auth.verify_jwt(:'bob_jwt') -> 'org' ->> 'id') = :'acme' AS org_claim,
       (auth.verify_jwt(:'bob_jwt') -> 'org' ->> 'teamId') = :'platform' AS team_claim;
SELECT auth.verify_jwt(auth.session_jwt(:'dave_tok')) ? 'org' AS no_org_no_claim;

-- ---- row-level security: tenant isolation in PostgreSQL itself
CREATE TABLE public.projects (id serial PRIMARY KEY, org_id uuid NOT NULL, name text NOT NULL);
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_read ON public.projects FOR SELECT
    USING (org_id = auth.organization_id() AND auth.has_permission('project', 'read'));
CREATE POLICY projects_write ON public.projects FOR INSERT
    WITH CHECK (org_id = auth.organization_id() AND auth.has_permission('project', 'write'));
INSERT INTO public.projects (org_id, name) VALUES
    (:'acme', 'acme: rockets'), (:'acme', 'acme: anvils'), (:'globex', 'globex: hammock');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_org_app') THEN
        CREATE ROLE regress_org_app NOLOGIN IN ROLE pgauth_reader;
    END IF;
END $$;
GRANT SELECT, INSERT ON public.projects TO regress_org_app;
GRANT USAGE ON SEQUENCE public.projects_id_seq TO regress_org_app;
-- what one signed-in session sees and may write: rows, helpers, an insert into each organization
CREATE FUNCTION pg_temp.tenant(p_who text) RETURNS TABLE (who text, sees text, org_active boolean, role text,
    can_read boolean, can_write boolean, writes_acme text, writes_globex text) LANGUAGE plpgsql AS $$
BEGIN
    who := p_who;
    SELECT string_agg(p.name, ', ' ORDER BY p.name) INTO sees FROM public.projects p;
    org_active := auth.organization_id() IS NOT NULL;
    role := auth.member_role();
    can_read := auth.has_permission('project', 'read');
    can_write := auth.has_permission('project', 'write');
    writes_acme := pg_temp.try(format('INSERT INTO public.projects (org_id, name) VALUES (%L, %L)',
                                      (SELECT id FROM auth.organizations WHERE slug = 'acme'), p_who || ' was here'));
    writes_globex := pg_temp.try(format('INSERT INTO public.projects (org_id, name) VALUES (%L, %L)',
                                        (SELECT id FROM auth.organizations WHERE slug = 'globex'), p_who || ' was here'));
    RETURN NEXT;
END
$$;
GRANT SELECT ON auth.organizations TO regress_org_app;  -- (the test helper reads ids; never in production)
SET ROLE regress_org_app;
BEGIN;
SELECT auth.session_init(:'alice_tok');
SELECT * FROM pg_temp.tenant('alice, owner of acme');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'bob_tok');
SELECT * FROM pg_temp.tenant('bob, admin of acme');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'carol_tok');
SELECT * FROM pg_temp.tenant('carol, owner of globex');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'dave_tok');
SELECT * FROM pg_temp.tenant('dave, no organization');
ROLLBACK;
RESET ROLE;
-- carol switches to Acme, where she is an auditor: she reads Acme and writes nowhere
SELECT (auth.org_set_active(:'carol_tok', json_build_object('organizationId', :'acme')::jsonb)).body ->> 'slug' AS carol_active;
-- bob switches to Globex, where he is an admin
SELECT (auth.org_set_active(:'bob_tok', '{"organizationSlug": "globex"}')).body ->> 'slug' AS bob_active;
SET ROLE regress_org_app;
BEGIN;
SELECT auth.session_init(:'carol_tok');
SELECT * FROM pg_temp.tenant('carol, auditor of acme');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'bob_tok');
SELECT * FROM pg_temp.tenant('bob, admin of globex');
ROLLBACK;
-- the session JWT (org claim Acme, from before the switch) signs bob in to Acme
BEGIN;
SELECT auth.jwt_session_init(:'bob_jwt');
SELECT * FROM pg_temp.tenant('bob by JWT, admin of acme');
ROLLBACK;
-- the one-call form: auth.organization_id(resource, action) is the active organization when the
-- role there grants the permission, so a policy on it alone reads and writes what the two-call
-- policy above allows
RESET ROLE;
CREATE TABLE public.documents (id serial PRIMARY KEY, org_id uuid NOT NULL, name text NOT NULL);
ALTER TABLE public.documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_read ON public.documents FOR SELECT USING (org_id = auth.organization_id('project', 'read'));
CREATE POLICY documents_write ON public.documents FOR INSERT WITH CHECK (org_id = auth.organization_id('project', 'write'));
INSERT INTO public.documents (org_id, name) VALUES (:'acme', 'acme: plans'), (:'globex', 'globex: notes');
GRANT SELECT, INSERT ON public.documents TO regress_org_app;
GRANT USAGE ON SEQUENCE public.documents_id_seq TO regress_org_app;
CREATE FUNCTION pg_temp.documents(p_who text) RETURNS TABLE (who text, sees text, reads uuid, writes uuid, writes_acme text)
LANGUAGE plpgsql AS $$
BEGIN
    who := p_who;
    SELECT string_agg(d.name, ', ' ORDER BY d.name) INTO sees FROM public.documents d;
    reads := auth.organization_id('project', 'read');
    writes := auth.organization_id('project', 'write');
    writes_acme := pg_temp.try(format('INSERT INTO public.documents (org_id, name) VALUES (%L, %L)',
                                      (SELECT id FROM auth.organizations WHERE slug = 'acme'), p_who));
    RETURN NEXT;
END
$$;
SET ROLE regress_org_app;
BEGIN;
SELECT auth.session_init(:'alice_tok');
SELECT who, sees, reads = auth.organization_id() AS reads_active, writes = auth.organization_id() AS writes_active, writes_acme
  FROM pg_temp.documents('alice, owner of acme');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'carol_tok');
SELECT who, sees, reads = auth.organization_id() AS reads_active, writes IS NULL AS writes_nothing, writes_acme
  FROM pg_temp.documents('carol, auditor of acme');
ROLLBACK;
BEGIN;
SELECT auth.session_init(:'dave_tok');
SELECT who, sees, reads IS NULL AS reads_nothing, writes IS NULL AS writes_nothing, writes_acme
  FROM pg_temp.documents('dave, no organization');
SELECT auth.organization_id(NULL, 'read') IS NULL AS null_resource;
ROLLBACK;
-- neither SET nor set_config impersonates anyone
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('sub', :'alice', 'org', json_build_object('id', :'acme'))::text, true) IS NOT NULL AS claims_set;
SELECT set_config('request.jwt.claim.sub', :'alice', true) IS NOT NULL AS sub_set;
SELECT * FROM pg_temp.tenant('nobody with claims set');
ROLLBACK;
SET pgauth.organization_id = 'f00dbabe-0000-4000-8000-000000000000';
SELECT pg_temp.try('SELECT set_config(''pgauth.organization_id'', ''x'', false)') AS set_config_pgauth;
-- an identity ends with its transaction
SELECT auth.organization_id() AS after_commit, auth.has_permission('project', 'read') AS reads;
-- a session-wide identity re-reads memberships in each transaction: a demotion takes effect at once
SELECT auth.session_init(:'alice_tok', true);
SELECT auth.member_role() AS alice_role, auth.has_permission('project', 'write') AS writes;
RESET ROLE;
SELECT auth.org_update_member_role(:'alice_tok', json_build_object('memberId', :'carol_member', 'role', 'owner')::jsonb) ->> 'role' AS carol_owner;
SELECT auth.org_update_member_role(:'carol_tok', json_build_object('organizationId', :'acme', 'memberId', :'alice_member', 'role', 'member')::jsonb) ->> 'role' AS alice_demoted;
SET ROLE regress_org_app;
SELECT auth.member_role() AS alice_role, auth.has_permission('project', 'write') AS writes,
       auth.is_member(:'acme') AS in_acme, auth.is_member(:'globex') AS in_globex;
SELECT auth.session_reset();
RESET ROLE;

-- ---- remove-member: a removed member's sessions lose the organization, the JWT no longer counts
SELECT (auth.org_set_active(:'bob_tok', json_build_object('organizationId', :'acme')::jsonb)).body IS NOT NULL AS bob_back_in_acme;
SELECT (auth.org_remove_member(:'carol_tok', '{"memberIdOrEmail": "org-bob@example.com"}') #>> '{member,userId}') = :'bob' AS bob_removed;
SELECT active_organization_id, active_team_id FROM auth.validate_session(:'bob_tok');
SELECT count(*) AS bob_team_rows FROM auth.team_members WHERE user_id = :'bob';
BEGIN;
SELECT auth.jwt_session_init(:'bob_jwt');
SELECT auth.organization_id() AS org_of_stale_jwt, auth.has_permission('project', 'read') AS reads,
       auth.member_role() AS role, auth.team_id() AS team;
ROLLBACK;
SELECT pg_temp.try(format('SELECT auth.org_get_active_member(%L, ''{}'')', :'bob_tok')) AS bob_no_active;

-- ---- limits
SET pgauth.membership_limit = 2;
SELECT pg_temp.try(format('SELECT auth.org_add_member(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'userId', :'dave', 'role', 'member'))) AS membership_limit;
RESET pgauth.membership_limit;
SET pgauth.invitation_limit = 1;
SELECT pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'carol_tok', '{"organizationId": "' || :'globex' || '", "email": "one@example.com", "role": "member"}')) AS first_invite,
       pg_temp.try(format('SELECT auth.org_invite_member(%L, %L)', :'carol_tok', '{"organizationId": "' || :'globex' || '", "email": "two@example.com", "role": "member"}')) AS invitation_limit;
RESET pgauth.invitation_limit;
SET pgauth.organization_limit = 2;
SELECT pg_temp.try(format('SELECT auth.org_create(%L, ''{"name": "Third", "slug": "third"}'')', :'carol_tok')) AS organization_limit;
RESET pgauth.organization_limit;
SELECT auth.org_add_member(:'carol_tok', json_build_object('organizationId', :'acme', 'userId', :'dave', 'role', 'member', 'teamId', :'platform')::jsonb) ->> 'role' AS dave_added;
SELECT pg_temp.try(format('SELECT auth.org_add_member(%L, %L)', :'carol_tok', json_build_object('organizationId', :'acme', 'userId', :'dave', 'role', 'member'))) AS added_twice;
SELECT auth.org_leave(:'dave_tok', json_build_object('organizationId', :'acme')::jsonb) ->> 'role' AS dave_left;

-- ---- bad input: a 4xx code for each, never an internal error, nothing written
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM auth.organizations) o, (SELECT count(*) FROM auth.members) m,
       (SELECT count(*) FROM auth.invitations) i, (SELECT count(*) FROM auth.teams) t,
       (SELECT count(*) FROM auth.organization_roles) r, (SELECT count(*) FROM auth.outbox) x;
-- (as carol, an owner of the active organization: each refusal is about the input)
SELECT b.fn, pg_temp.try(format('SELECT auth.%s(%L, %L)', b.fn, :'carol_tok', b.body)) AS result
  FROM (VALUES
    ('org_create', '[]'), ('org_create', '{"name": 1, "slug": "x"}'), ('org_create', '{"name": "x"}'),
    ('org_create', '{"name": "x", "slug": "no spaces"}'), ('org_create', '{"name": "x", "slug": "ok-slug", "metadata": [1]}'),
    ('org_create', '{"name": "", "slug": "ok-slug"}'), ('org_create', '{"name": "x", "slug": "ok-slug", "keepCurrentActiveOrganization": "yes"}'),
    ('org_update', '{"data": "x"}'), ('org_update', '{"organizationId": "nope", "data": {}}'),
    ('org_update', '{"data": {"name": "' || repeat('n', 201) || '"}}'),
    ('org_delete', '{}'), ('org_delete', '{"organizationId": "00000000-0000-4000-8000-000000000000"}'),
    ('org_get_full', '{"membersLimit": "-1"}'), ('org_get_full', '{"organizationSlug": "nope"}'),
    ('org_set_active', '{"organizationId": 42}'),
    ('org_check_slug', '{}'),
    ('org_invite_member', '{"email": "not-an-email", "role": "member"}'), ('org_invite_member', '{"email": "y@example.com"}'),
    ('org_invite_member', '{"email": "y@example.com", "role": "emperor"}'), ('org_invite_member', '{"email": "y@example.com", "role": [1]}'),
    ('org_invite_member', '{"email": "y@example.com", "role": "member", "teamId": "00000000-0000-4000-8000-000000000000"}'),
    ('org_accept_invitation', '{}'), ('org_accept_invitation', '{"invitationId": "x"}'),
    ('org_cancel_invitation', '{"invitationId": "00000000-0000-4000-8000-000000000000"}'),
    ('org_get_invitation', '{"id": {}}'),
    ('org_list_members', '{"limit": "ten"}'), ('org_list_members', '{"offset": 1.5}'),
    ('org_add_member', '{"userId": "nope", "role": "member"}'), ('org_add_member', '{"userId": "00000000-0000-4000-8000-000000000000", "role": "member"}'),
    ('org_remove_member', '{}'), ('org_remove_member', '{"memberIdOrEmail": "ghost@example.com"}'),
    ('org_update_member_role', '{"memberId": "00000000-0000-4000-8000-000000000000", "role": "member"}'),
    ('org_update_member_role', '{"memberId": "x", "role": "member"}'),
    ('org_leave', '{"organizationId": "x"}'),
    ('org_has_permission', '{}'), ('org_has_permission', '{"permissions": {"project": "read"}}'),
    ('org_create_role', '{"role": "1bad", "permission": {}}'), ('org_create_role', '{"role": "ok", "permission": {"a b": ["x"]}}'),
    ('org_get_role', '{}'), ('org_update_role', '{"roleName": "ghost", "data": {}}'), ('org_delete_role', '{"roleId": "nope"}'),
    ('org_create_team', '{"name": null}'), ('org_update_team', '{"teamId": "x", "data": {}}'),
    ('org_remove_team', '{"teamId": "00000000-0000-4000-8000-000000000000"}'), ('org_set_active_team', '{"teamId": "x"}'),
    ('org_add_team_member', '{"teamId": "x", "userId": "y"}'), ('org_remove_team_member', '{"teamId": "' || :'platform' || '", "userId": "x"}'),
    ('org_list_team_members', '{"teamId": 7}')
  ) b(fn, body) ORDER BY 1, 2;
SELECT (SELECT count(*) FROM auth.organizations) = b.o AS organizations, (SELECT count(*) FROM auth.members) = b.m AS members,
       (SELECT count(*) FROM auth.invitations) = b.i AS invitations, (SELECT count(*) FROM auth.teams) = b.t AS teams,
       (SELECT count(*) FROM auth.organization_roles) = b.r AS roles, (SELECT count(*) FROM auth.outbox) = b.x AS outbox
  FROM before b;
SELECT pg_temp.try('SELECT auth.org_define_role(''x'', ''{"a": "b"}'')') AS define_bad, pg_temp.try('SELECT auth.org_drop_role(''owner'')') AS drop_builtin;

-- ---- delete: members, invitations, teams and roles go; no session keeps it active
SELECT (auth.org_set_active(:'alice_tok', json_build_object('organizationId', :'acme')::jsonb)).body IS NOT NULL AS alice_in_acme;
SELECT auth.org_delete(:'carol_tok', json_build_object('organizationId', :'acme')::jsonb) ->> 'slug' AS deleted;
SELECT (SELECT count(*) FROM auth.members WHERE organization_id = :'acme') AS members,
       (SELECT count(*) FROM auth.invitations WHERE organization_id = :'acme') AS invitations,
       (SELECT count(*) FROM auth.teams WHERE organization_id = :'acme') AS teams,
       (SELECT count(*) FROM auth.organization_roles WHERE organization_id = :'acme') AS roles,
       (SELECT count(*) FROM auth.sessions WHERE active_organization_id = :'acme' OR active_team_id = :'platform') AS sessions;
SELECT auth.org_get_full(:'alice_tok', '{}') AS alice_active_now;

-- ---- every membership change is in the audit log
SELECT event, count(*) FROM auth.audit_log
 WHERE event IN ('organization_create', 'organization_delete', 'member_add', 'invitation_accept', 'member_remove',
                 'member_leave', 'member_role_update', 'invitation_create', 'invitation_cancel', 'team_member_add')
 GROUP BY event ORDER BY event;
SELECT detail ->> 'from' AS "from", detail ->> 'to' AS "to", user_id = :'alice' AS alice
  FROM auth.audit_log WHERE event = 'member_role_update' ORDER BY id LIMIT 2;

-- restore the global roles for the tests that follow
SELECT auth.org_define_role('owner', (SELECT permission - 'project' FROM auth.organization_roles WHERE role = 'owner' AND organization_id IS NULL)) IS NOT NULL AS restored;
SELECT auth.org_define_role('admin', (SELECT permission - 'project' FROM auth.organization_roles WHERE role = 'admin' AND organization_id IS NULL)) IS NOT NULL AS restored;
SELECT auth.org_define_role('member', (SELECT permission - 'project' FROM auth.organization_roles WHERE role = 'member' AND organization_id IS NULL)) IS NOT NULL AS restored;
REVOKE SELECT ON auth.organizations FROM regress_org_app;
DROP TABLE public.projects;

-- ==== 0.6.0
-- users: erin owns Initech (frank admin, grace member); heidi owns Hooli alone; ivan is in nothing
SELECT user_id AS erin, session_token AS erin_tok FROM auth.sign_up_email('org-erin@example.com', 'erin-password', 'Erin') \gset
SELECT user_id AS frank, session_token AS frank_tok FROM auth.sign_up_email('org-frank@example.com', 'frank-password', 'Frank') \gset
SELECT user_id AS grace, session_token AS grace_tok FROM auth.sign_up_email('org-grace@example.com', 'grace-password', 'Grace') \gset
SELECT user_id AS heidi, session_token AS heidi_tok FROM auth.sign_up_email('org-heidi@example.com', 'heidi-password', 'Heidi') \gset
SELECT user_id AS ivan, session_token AS ivan_tok FROM auth.sign_up_email('org-ivan@example.com', 'ivan-password', 'Ivan') \gset
SELECT auth.org_create(:'erin_tok', '{"name": "Initech", "slug": "initech"}') ->> 'id' AS initech \gset
SELECT auth.org_add_member_admin(json_build_object('organizationId', :'initech', 'userId', :'frank', 'role', 'admin')::jsonb) ->> 'role' AS frank_added;
SELECT auth.org_add_member_admin(json_build_object('organizationId', :'initech', 'userId', :'grace', 'role', 'member')::jsonb) ->> 'role' AS grace_added;
SELECT (auth.org_set_active(:'frank_tok', json_build_object('organizationId', :'initech')::jsonb)).body IS NOT NULL AS frank_active;

-- ---- get-active-member-role: the caller's role, or a fellow member's; never an outsider's
SELECT auth.org_get_active_member_role(:'erin_tok', '{}') AS erin_role,
       auth.org_get_active_member_role(:'grace_tok', json_build_object('organizationSlug', 'initech')::jsonb) AS grace_role,
       auth.org_get_active_member_role(:'grace_tok', json_build_object('organizationId', :'initech', 'userId', :'frank')::jsonb) AS frank_role_for_grace;
SELECT pg_temp.try(format('SELECT auth.org_get_active_member_role(%L, %L)', :'erin_tok', json_build_object('userId', :'ivan'))) AS outsider_user,
       pg_temp.try(format('SELECT auth.org_get_active_member_role(%L, %L)', :'ivan_tok', json_build_object('organizationId', :'initech'))) AS outsider_caller,
       pg_temp.try(format('SELECT auth.org_get_active_member_role(%L, %L)', :'ivan_tok', '{}')) AS no_active,
       pg_temp.try(format('SELECT auth.org_get_active_member_role(%L, %L)', :'erin_tok', '{"organizationSlug": "nope"}')) AS unknown_slug,
       auth.org_get_active_member_role('not-a-token', '{}') IS NULL AS no_session_is_null;

-- ---- list-members: limit, offset, sortBy, sortDirection, filterField / filterOperator / filterValue
SELECT (SELECT string_agg(m ->> 'role', ',') FROM json_array_elements(j -> 'members') m) AS roles, j -> 'total' AS total
  FROM (VALUES
    ('{"sortBy": "role"}'::jsonb), ('{"sortBy": "role", "sortDirection": "desc"}'),
    ('{"sortBy": "role", "limit": "1", "offset": "1"}'), ('{"sortBy": "createdAt", "sortDirection": "desc", "limit": 2}'),
    ('{"filterField": "role", "filterValue": "admin"}'), ('{"filterField": "role", "filterOperator": "ne", "filterValue": "admin", "sortBy": "role"}'),
    ('{"filterField": "role", "filterOperator": "in", "filterValue": "owner,member", "sortBy": "role"}'),
    ('{"filterField": "role", "filterOperator": "not_in", "filterValue": ["owner", "member"]}'),
    ('{"filterField": "role", "filterOperator": "contains", "filterValue": "mem"}'),
    ('{"filterField": "role", "filterOperator": "starts_with", "filterValue": "ow"}'),
    ('{"filterField": "role", "filterOperator": "ends_with", "filterValue": "in"}'),
    ('{"filterField": "createdAt", "filterOperator": "lt", "filterValue": "2000-01-01T00:00:00Z"}'),
    ('{"filterField": "createdAt", "filterOperator": "gte", "filterValue": "2000-01-01T00:00:00Z", "limit": 1}')
  ) q(query), LATERAL (SELECT auth.org_list_members(:'erin_tok', q.query) AS j) x;
SELECT (auth.org_list_members(:'erin_tok', json_build_object('filterField', 'userId', 'filterValue', upper(:'grace'))::jsonb) #>> '{members,0,user,email}') AS by_user_id;
SELECT q.query, pg_temp.try(format('SELECT auth.org_list_members(%L, %L)', :'erin_tok', q.query)) AS result
  FROM (VALUES ('{"sortDirection": "sideways"}'), ('{"sortBy": "password"}'), ('{"sortBy": "role; DROP TABLE auth.users"}'),
               ('{"filterField": "email", "filterValue": "x"}'), ('{"filterField": "role", "filterOperator": "like", "filterValue": "x"}'),
               ('{"filterField": "role"}'), ('{"filterField": "role", "filterValue": ["a", "b"]}'),
               ('{"filterField": "createdAt", "filterValue": "yesterday-ish"}'),
               ('{"filterField": "createdAt", "filterOperator": "contains", "filterValue": "2020-01-01"}'),
               ('{"filterField": "role", "filterValue": {"a": 1}}'), ('{"organizationSlug": "nope"}')) q(query);

-- ---- set-active: a refused switch clears the active organization (and team), as Better-Auth's;
-- organizationId null clears both
SELECT auth.org_create_team(:'erin_tok', '{"name": "Ops"}') ->> 'id' AS ops \gset
SELECT auth.org_add_team_member(:'erin_tok', json_build_object('teamId', :'ops', 'userId', :'frank')::jsonb) IS NOT NULL AS frank_in_ops;
SELECT auth.org_set_active_team(:'frank_tok', json_build_object('teamId', :'ops')::jsonb) IS NOT NULL AS frank_on_ops;
SELECT auth.org_create(:'heidi_tok', '{"name": "Hooli", "slug": "hooli"}') ->> 'id' AS hooli \gset
SELECT body IS NULL AS no_body, error_code FROM auth.org_set_active(:'frank_tok', json_build_object('organizationId', :'hooli')::jsonb);
SELECT active_organization_id IS NULL AS org_cleared, active_team_id IS NULL AS team_cleared FROM auth.validate_session(:'frank_tok');
SELECT (auth.org_set_active(:'frank_tok', json_build_object('organizationId', :'initech')::jsonb)).body ->> 'slug' AS back_in_initech;
SELECT body IS NULL AS no_body, error_code FROM auth.org_set_active(:'frank_tok', '{"organizationId": "00000000-0000-4000-8000-000000000000"}');
SELECT active_organization_id IS NULL AS cleared_by_unknown_id FROM auth.validate_session(:'frank_tok');
SELECT (auth.org_set_active(:'frank_tok', json_build_object('organizationId', :'initech')::jsonb)).body IS NOT NULL AS back_again;
SELECT pg_temp.try(format('SELECT auth.org_set_active(%L, ''{"organizationSlug": "no-such-slug"}'')', :'frank_tok')) AS unknown_slug;
SELECT active_organization_id = :'initech' AS unknown_slug_keeps_it FROM auth.validate_session(:'frank_tok');
SELECT auth.org_set_active_team(:'frank_tok', json_build_object('teamId', :'ops')::jsonb) IS NOT NULL AS frank_on_ops_again;
SELECT body::text, error_code FROM auth.org_set_active(:'frank_tok', '{"organizationId": null, "organizationSlug": "initech"}');
SELECT active_organization_id, active_team_id FROM auth.validate_session(:'frank_tok');
SELECT body IS NULL AND error_code IS NULL AS no_session FROM auth.org_set_active('not-a-token', '{}');

-- ---- dynamic roles name only declared resources: the default statements', or a role's defined in SQL
SELECT q.body, pg_temp.try(format('SELECT auth.org_create_role(%L, %L)', :'erin_tok', q.body)) AS result
  FROM (VALUES ('{"role": "biller", "permission": {"invoice": ["pay"]}}'),
               ('{"role": "biller", "permission": {"member": ["create"], "invoice": ["pay"]}}'),
               ('{"role": "teamlead", "permission": {"teamMember": ["create"], "member": ["update"]}}')) q(body);
SELECT pg_temp.try(format('SELECT auth.org_update_role(%L, %L)', :'erin_tok', '{"roleName": "teamlead", "data": {"permission": {"invoice": ["read"]}}}')) AS update_undeclared;
SELECT auth.org_define_role('accountant', '{"invoice": ["read", "pay"]}') ->> 'role' AS declared_in_sql;
SELECT pg_temp.try(format('SELECT auth.org_create_role(%L, %L)', :'erin_tok', '{"role": "biller", "permission": {"invoice": ["pay"]}}')) AS now_declared,
       pg_temp.try(format('SELECT auth.org_update_role(%L, %L)', :'erin_tok', '{"roleName": "teamlead", "data": {"permission": {"invoice": ["read"]}}}')) AS update_now_declared;
SELECT auth.org_drop_role('accountant') AS dropped;

-- ---- teams: pgauth.team_member_limit, and the last team stays unless pgauth.allow_removing_all_teams
SELECT name, setting FROM pg_settings WHERE name IN ('pgauth.team_member_limit', 'pgauth.allow_removing_all_teams') ORDER BY name;
SET pgauth.team_member_limit = 1;
SELECT pg_temp.try(format('SELECT auth.org_add_team_member(%L, %L)', :'erin_tok', json_build_object('teamId', :'ops', 'userId', :'grace'))) AS team_full,
       pg_temp.try(format('SELECT auth.org_add_team_member(%L, %L)', :'erin_tok', json_build_object('teamId', :'ops', 'userId', :'frank'))) AS already_in;
RESET pgauth.team_member_limit;
SELECT pg_temp.try(format('SELECT auth.org_remove_team(%L, %L)', :'erin_tok', json_build_object('teamId', :'ops'))) AS last_team;
SET pgauth.allow_removing_all_teams = on;
SELECT auth.org_create_team(:'erin_tok', '{"name": "Spare"}') ->> 'id' AS spare \gset
RESET pgauth.allow_removing_all_teams;
SELECT auth.org_remove_team(:'erin_tok', json_build_object('teamId', :'spare')::jsonb) ->> 'message' AS one_of_two;
SET pgauth.allow_removing_all_teams = on;
SELECT auth.org_remove_team(:'erin_tok', json_build_object('teamId', :'ops')::jsonb) ->> 'message' AS allowed_last;
RESET pgauth.allow_removing_all_teams;

-- ---- deleting a user keeps every organization owned: refused for the only owner of an
-- organization with other members, on every path; the organization goes with its only member
SELECT pg_temp.try(format('SELECT auth.delete_user(%L::uuid)', :'erin')) AS delete_user,
       pg_temp.try(format('SELECT auth.delete_user(%L::uuid, ''erin-password'')', :'erin')) AS delete_user_password,
       pg_temp.try(format('DELETE FROM auth.users WHERE id = %L', :'erin')) AS plain_delete;
SELECT count(*) AS erin_still_owner FROM auth.members WHERE organization_id = :'initech' AND user_id = :'erin' AND role = 'owner';
-- two owners deleted by one statement: the second leaves none
SELECT auth.org_update_member_role(:'erin_tok', json_build_object('memberId', (SELECT id FROM auth.members WHERE user_id = :'frank' AND organization_id = :'initech'), 'role', 'owner')::jsonb) ->> 'role' AS frank_owner;
SELECT pg_temp.try(format('DELETE FROM auth.users WHERE id IN (%L, %L)', :'erin', :'frank')) AS both_owners;
-- with another owner left, an owner's deletion goes through
SELECT auth.delete_user(:'frank'::uuid) AS frank_deleted;
SELECT (SELECT count(*) FROM auth.members WHERE organization_id = :'initech') AS initech_members,
       (SELECT count(*) FROM auth.members WHERE organization_id = :'initech' AND role = 'owner') AS initech_owners;
-- heidi is Hooli's only member: Hooli goes with her (its invitation, with its unsent mail, its team and role)
SELECT auth.org_invite_member(:'heidi_tok', '{"email": "org-ivan@example.com", "role": "member"}') ->> 'id' AS inv_ivan \gset
SELECT auth.org_create_team(:'heidi_tok', '{"name": "Moonshots"}') ->> 'id' AS moonshots \gset
SELECT auth.org_create_role(:'heidi_tok', '{"role": "intern", "permission": {"teamMember": ["read"]}}') ->> 'success' AS intern_role;
SELECT auth.delete_user(:'heidi'::uuid) AS heidi_deleted;
SELECT (SELECT count(*) FROM auth.organizations WHERE id = :'hooli') AS hooli,
       (SELECT count(*) FROM auth.invitations WHERE organization_id = :'hooli') AS invitations,
       (SELECT count(*) FROM auth.teams WHERE organization_id = :'hooli') AS teams,
       (SELECT count(*) FROM auth.organization_roles WHERE organization_id = :'hooli') AS roles,
       (SELECT count(*) FROM auth.outbox WHERE recipient = 'org-ivan@example.com' AND verification_id IS NOT NULL) AS live_mail;
SELECT detail ->> 'slug' AS slug, detail ->> 'reason' AS reason, detail #>> '{members,0,userId}' = :'heidi' AS heidi
  FROM auth.audit_log WHERE event = 'organization_delete' ORDER BY id DESC LIMIT 1;
-- erin can go once grace owns Initech too; a user in no organization is unaffected; the last member takes Initech along
SELECT auth.org_update_member_role(:'erin_tok', json_build_object('memberId', (SELECT id FROM auth.members WHERE user_id = :'grace' AND organization_id = :'initech'), 'role', 'owner')::jsonb) ->> 'role' AS grace_owner;
SELECT auth.delete_user(:'erin'::uuid) AS erin_deleted, auth.delete_user(:'ivan'::uuid) AS ivan_deleted;
SELECT auth.delete_user(:'grace'::uuid) AS grace_deleted_last;
SELECT count(*) AS initech_left FROM auth.organizations WHERE id = :'initech';
-- one statement deleting several users is judged by what it leaves, whatever the row order:
-- all of an organization's members gone takes it along; its owner gone with others left is refused
SELECT user_id AS judy, session_token AS judy_tok FROM auth.sign_up_email('org-judy@example.com', 'judy-password', 'Judy') \gset
SELECT user_id AS ken FROM auth.sign_up_email('org-ken@example.com', 'ken-password1', 'Ken') \gset
SELECT user_id AS leo FROM auth.sign_up_email('org-leo@example.com', 'leo-password1', 'Leo') \gset
SELECT auth.org_create(:'judy_tok', '{"name": "Pied Piper", "slug": "pied-piper"}') ->> 'id' AS pied \gset
SELECT auth.org_add_member_admin(json_build_object('organizationId', :'pied', 'userId', u, 'role', 'member')::jsonb) ->> 'role' AS added
  FROM unnest(ARRAY[:'ken', :'leo']::uuid[]) u;
SELECT pg_temp.try(format('DELETE FROM auth.users WHERE id IN (%L, %L)', :'judy', :'ken')) AS owner_and_one_member,
       pg_temp.try(format('DELETE FROM auth.users WHERE id IN (%L, %L)', :'ken', :'judy')) AS same_other_order;
WITH d AS (DELETE FROM auth.users WHERE id IN (:'ken', :'judy', :'leo') RETURNING 1) SELECT count(*) AS everyone_deleted FROM d;
SELECT count(*) AS pied_left FROM auth.organizations WHERE id = :'pied';
SELECT detail ->> 'slug' AS slug, jsonb_array_length(detail -> 'members') AS members
  FROM auth.audit_log WHERE event = 'organization_delete' ORDER BY id DESC LIMIT 1;

-- ==== 0.7.0
-- The readers keep answers with their call site (the uuid of auth.user_id() and
-- auth.organization_id(), has_permission's answer for constant arguments) and memberships across
-- transactions. One plpgsql expression, evaluated for changing identities and memberships in one
-- backend, must give each time the answer of that moment: pat (admin), quinn (member), pat,
-- quinn again (same identity: the kept memberships), quinn after this backend promoted her, and
-- once more after it demoted her, without signing in again (the same identity, a new load).
SELECT user_id AS olga, session_token AS olga_tok FROM auth.sign_up_email('org-olga@example.com', 'olga-password', 'Olga') \gset
SELECT user_id AS pat, session_token AS pat_tok FROM auth.sign_up_email('org-pat@example.com', 'pat-password', 'Pat') \gset
SELECT user_id AS quinn, session_token AS quinn_tok FROM auth.sign_up_email('org-quinn@example.com', 'quinn-password', 'Quinn') \gset
SELECT auth.org_create(:'olga_tok', '{"name": "Umbrella", "slug": "umbrella"}') ->> 'id' AS umbrella \gset
SELECT auth.org_add_member_admin(json_build_object('organizationId', :'umbrella', 'userId', :'pat', 'role', 'admin')::jsonb) ->> 'role' AS pat_added;
SELECT auth.org_add_member_admin(json_build_object('organizationId', :'umbrella', 'userId', :'quinn', 'role', 'member')::jsonb) ->> 'id' AS quinn_member \gset
SELECT (auth.org_set_active(:'pat_tok', json_build_object('organizationId', :'umbrella')::jsonb)).body IS NOT NULL AS pat_active,
       (auth.org_set_active(:'quinn_tok', json_build_object('organizationId', :'umbrella')::jsonb)).body IS NOT NULL AS quinn_active;
-- p_tokens[i]: who signs in before check i (NULL: nobody new); p_roles[i]: quinn's new role before it
CREATE FUNCTION pg_temp.readers_over(p_tokens text[], p_roles text[], p_owner_tok text, p_org text, p_member text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. array_length(p_tokens, 1) LOOP
    IF p_roles[i] IS NOT NULL THEN
      PERFORM auth.org_update_member_role(p_owner_tok, jsonb_build_object('organizationId', p_org, 'memberId', p_member, 'role', p_roles[i]));
    END IF;
    IF p_tokens[i] IS NOT NULL THEN
      PERFORM auth.session_init(p_tokens[i], true);
    END IF;
    RETURN NEXT concat_ws(' ', auth.user_id(), auth.organization_id() IS NOT NULL, auth.member_role(),
                          auth.has_permission('member', 'delete'));
  END LOOP;
END $$;
SELECT replace(replace(r, :'pat', 'pat'), :'quinn', 'quinn') AS seen
  FROM pg_temp.readers_over(ARRAY[:'pat_tok', :'quinn_tok', :'pat_tok', :'quinn_tok', :'quinn_tok', NULL],
                            ARRAY[NULL, NULL, NULL, NULL, 'admin', 'member'],
                            :'olga_tok', :'umbrella', :'quinn_member') r;
SELECT auth.session_reset();
