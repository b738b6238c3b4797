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
-- has-permission, compiled (org_permission.cpp): the common request is answered with the
-- session lookup of the hot path and one kept plan; the plpgsql rules answer every other one.
-- The rules of has-permission in full; auth.org_has_permission (C++, org_permission.cpp) answers the
-- common request itself and hands every other one (an API key, an organizationId, a malformed body) here.
CREATE FUNCTION auth.org_has_permission_checked(p_token text, p_body jsonb) RETURNS json
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth, pg_temp AS $$
DECLARE
    c record := auth.org_caller(p_token, false);
    b jsonb;
    v_wanted jsonb;
    v_org uuid;
    v_granted text[];
    me auth.members;
BEGIN
    IF c.user_id IS NULL THEN
        RETURN NULL;
    END IF;
    b := auth.org_body(p_body);
    v_wanted := coalesce(b -> 'permissions', b -> 'permission');
    IF v_wanted IS NULL OR jsonb_typeof(v_wanted) <> 'object' OR v_wanted = '{}' THEN
        PERFORM auth.raise('VALIDATION_ERROR', 'permissions must be an object {resource: [action, ...]}');
    END IF;
    v_wanted := auth.org_check_permission(v_wanted);
    v_org := auth.org_target(b, c.active_organization_id);
    me := auth.org_member_of(v_org, c.user_id);
    -- "resource action" pairs (names never hold a space) and ANY(): an EXCEPT built a hash table
    -- sized for the planner's guess of the rows of two set-returning functions on every call
    v_granted := ARRAY(SELECT p.resource || ' ' || p.action FROM auth.org_permissions(v_org, me.role) p);
    RETURN json_build_object('error', NULL, 'success', NOT EXISTS (
        SELECT 1 FROM jsonb_each(v_wanted) w, jsonb_array_elements_text(w.value) a
         WHERE NOT (w.key || ' ' || a.value) = ANY (v_granted)));
END
$$;
COMMENT ON FUNCTION auth.org_has_permission_checked(text, jsonb) IS
  'Internal: has-permission with every rule and error, for what auth.org_has_permission does not answer itself.';
REVOKE ALL ON FUNCTION auth.org_has_permission_checked(text, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION auth.org_has_permission(p_token text, p_body jsonb) RETURNS json
    AS 'MODULE_PATHNAME', 'pgauth_org_has_permission' LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION auth.org_has_permission(text, jsonb) IS
  'POST /organization/has-permission {permissions: {resource: [action]}, organizationId?}: {error: null, success} = whether the caller''s role in the organization grants every listed action.';
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
-- userinfo, compiled: the token, its client and its user in one kept plan.
CREATE OR REPLACE FUNCTION auth.oauth_userinfo(p_access_token text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'pgauth_oauth_userinfo' LANGUAGE C VOLATILE SECURITY DEFINER;
-- ---------------------------------------------------------------- OAuth provider: end

-- ---------------------------------------------------------------- errors
-- New codes in the compiled catalog reach auth.error_codes.
INSERT INTO auth.error_codes AS e (code, sqlstate, http_status, message)
SELECT c.code, c.sqlstate, c.http_status, c.message FROM auth.error_code_catalog() c
ON CONFLICT (code) DO UPDATE
   SET sqlstate = excluded.sqlstate, http_status = excluded.http_status, message = excluded.message;
DELETE FROM auth.error_codes e
 WHERE NOT EXISTS (SELECT 1 FROM auth.error_code_catalog() c WHERE c.code OPERATOR(pg_catalog.=) e.code);
