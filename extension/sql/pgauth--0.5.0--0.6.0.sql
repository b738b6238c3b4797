-- pgauth 0.5.0 -> 0.6.0: organizations and the OAuth provider, completed.
\echo Use "ALTER EXTENSION pgauth UPDATE TO '0.6.0'" to load this file. \quit

-- Each area keeps its changes between its own markers. A function that exists in 0.5.0 is
-- re-created whole (CREATE OR REPLACE) in its area's section; the full script
-- pgauth--0.6.0.sql changes it in place.

-- ---------------------------------------------------------------- organizations (0.6.0)
-- (0.6.0) the active organization when the role grants a permission: a policy
-- USING (org_id = auth.organization_id('project', 'read')) is one index condition, evaluated once
-- per scan; "AND auth.has_permission(...)" in a policy is evaluated for every row.
CREATE FUNCTION auth.organization_id(resource text, action text) RETURNS uuid
    AS 'MODULE_PATHNAME', 'pgauth_permitted_organization_id' LANGUAGE C STABLE SECURITY DEFINER PARALLEL RESTRICTED;
COMMENT ON FUNCTION auth.organization_id(text, text) IS
  'The active organization of whoever is signed in when their role there grants resource:action; else NULL. For RLS: USING (org_id = auth.organization_id(''project'', ''read'')), the one-call form of auth.organization_id() AND auth.has_permission().';
REVOKE ALL ON FUNCTION auth.organization_id(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.organization_id(text, text) TO pgauth_reader, pgauth_service, pgauth_admin;
-- New internal helpers: the organization by slug, list-members' sort and filter, declared

-- resources (INVALID_RESOURCE), team seats (pgauth.team_member_limit), and the last-owner rule

-- on every path that deletes a user (two triggers).

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

-- Changed in 0.6.0: team seats, declared resources, the last team, list-members' page.

-- Adds a member (add-member, accepted invitations): the membership limit holds under the
-- organization lock the caller took.
CREATE OR REPLACE FUNCTION auth.org_insert_member(p_organization_id uuid, p_user_id uuid, p_roles text, p_team_id uuid,
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

CREATE OR REPLACE FUNCTION auth.org_add_team_member(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.org_remove_team(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.org_create_role(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.org_update_role(p_token text, p_body jsonb) RETURNS json
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

CREATE OR REPLACE FUNCTION auth.org_list_members(p_token text, p_body jsonb) RETURNS json
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

-- set-active returns (body, error_code): a refused switch clears the active organization and commits.
DROP FUNCTION auth.org_set_active(text, jsonb);

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

-- New endpoint: GET /organization/get-active-member-role.

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

REVOKE ALL ON FUNCTION auth.org_target_or_slug(jsonb, uuid), auth.org_member_field(jsonb, text),
    auth.org_filter_values(jsonb, text, text), auth.org_member_matches(auth.members, text, text, text[]),
    auth.org_check_resources(uuid, jsonb), auth.org_team_seat(uuid, uuid), auth.org_user_deleting(),
    auth.org_members_deleted(), auth.org_set_active(text, jsonb), auth.org_get_active_member_role(text, jsonb)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.org_set_active(text, jsonb), auth.org_get_active_member_role(text, jsonb)
  TO pgauth_service, pgauth_admin;
-- ---------------------------------------------------------------- organizations: end

-- ---------------------------------------------------------------- OAuth provider (0.6.0)
-- auth.oauth_issuer and auth.oauth_param, compiled: a token request reads about ten parameters,
-- and each call of a plpgsql or SQL function with a SET clause saves and restores the GUCs.
CREATE OR REPLACE FUNCTION auth.oauth_issuer() RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_issuer' LANGUAGE C STABLE SECURITY DEFINER;
CREATE OR REPLACE FUNCTION auth.oauth_param(p_params jsonb, p_name text, p_max integer DEFAULT 2048) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_param' LANGUAGE C IMMUTABLE SECURITY DEFINER;
-- auth.oauth_seconds and auth.oauth_at_hash, compiled: a SQL function that is not inlined is
-- parsed and planned again on every call, and the token endpoint calls them several times.
CREATE OR REPLACE FUNCTION auth.oauth_seconds(p_name text) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgauth_oauth_seconds' LANGUAGE C STABLE SECURITY DEFINER;
CREATE OR REPLACE FUNCTION auth.oauth_at_hash(p_token text, p_alg text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgauth_oauth_at_hash' LANGUAGE C IMMUTABLE SECURITY DEFINER;
-- Bounded cleanup of expired rows: called on a fraction of token-endpoint writes. It must cost
-- an index probe when nothing has expired, whatever the statistics say: a plan made while a table
-- looked small (a new table, before autovacuum analyzes it) would read the whole table on every
-- call once it is large, so this function plans with sequential scans off.
CREATE OR REPLACE FUNCTION auth.oauth_cleanup_some(p_limit integer) RETURNS integer
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
-- ---------------------------------------------------------------- OAuth provider: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
