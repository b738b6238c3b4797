#!/usr/bin/env bash
# Tenant row-level security (issue 17): a policy on auth.organization_id() and
# auth.has_permission() over 1M rows in 1,000 organizations, against the same query filtered
# by a constant organization id with no policy (the table owner). Both transactions sign the
# same user in first (auth.session_init) and count the active organization's 1,000 rows.
# Target: the policy costs at most 20% more (ratio >= 0.83).
# Uses the cluster in $PGHOST/$PGPORT if set, else starts its own ('bench').
# usage: bench/sql/org_rls.sh [--smoke]   (smoke: 1 round of 1 s)
set -euo pipefail
cd "$(dirname "$0")/../.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-10}; clients=${BENCH_CLIENTS:-2}
[ $smoke = 1 ] && { rounds=1; secs=1; }
own=0
if [ -z "${PGPORT:-}" ]; then
  bash scripts/cluster.sh start bench >/dev/null; own=1
  # shellcheck disable=SC1091
  . .run/bench.env
fi
work=$(mktemp -d); trap 'rm -rf "$work"; [ $own = 1 ] && bash scripts/cluster.sh stop bench >/dev/null' EXIT
db=pgauth_bench_org
bash scripts/test-db.sh "$db" pgauth_bench_org_app pgauth_reader

psql -qAtd "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE public.bench_token AS
SELECT session_token AS tok FROM auth.sign_up_email('org-bench@example.com', 'org-bench-password', 'Bench');
SELECT tok FROM public.bench_token \gset
-- 1,000 organizations, the user a member of each (so the membership list is long too)
INSERT INTO auth.organizations (name, slug) SELECT 'Org ' || g, 'org-' || g FROM generate_series(1, 1000) g;
INSERT INTO auth.members (organization_id, user_id, role)
SELECT o.id, u.id, 'member' FROM auth.organizations o, auth.users u WHERE u.email = 'org-bench@example.com';
SELECT auth.org_define_role('member', '{"teamMember": ["read"], "ac": ["read"], "project": ["read"]}') IS NOT NULL;
SELECT (auth.org_set_active(:'tok', '{"organizationSlug": "org-500"}')).body IS NOT NULL;
CREATE TABLE public.projects (id bigserial PRIMARY KEY, org_id uuid NOT NULL, name text NOT NULL);
INSERT INTO public.projects (org_id, name)
SELECT o.id, 'project ' || g FROM auth.organizations o, generate_series(1, 1000) g;
CREATE INDEX projects_org_id_idx ON public.projects (org_id);
VACUUM (ANALYZE) public.projects;  -- all-visible: both queries scan the index only, whatever autovacuum did
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_read ON public.projects FOR SELECT
    USING (org_id = auth.organization_id() AND auth.has_permission('project', 'read'));
GRANT SELECT ON public.projects TO pgauth_bench_org_app;
SQL
tok=$(psql -qAtd "$db" -c "SELECT tok FROM public.bench_token")
org=$(psql -qAtd "$db" -c "SELECT id FROM auth.organizations WHERE slug = 'org-500'")

cat >"$work/policy.sql" <<SQL
BEGIN;
SELECT auth.session_init('$tok');
SELECT count(*) FROM public.projects;
COMMIT;
SQL
cat >"$work/constant.sql" <<SQL
BEGIN;
SELECT auth.session_init('$tok');
SELECT count(*) FROM public.projects WHERE org_id = '$org';
COMMIT;
SQL
# the policy sees exactly the constant query's rows
seen=$(PGUSER=pgauth_bench_org_app psql -qAtd "$db" -c "BEGIN" -c "SELECT auth.session_init('$tok')" -c "SELECT count(*) FROM public.projects" -c "COMMIT" | sed -n 2p)
[ "$seen" = 1000 ] || { echo "org_rls: the policy sees $seen rows, expected 1000" >&2; exit 1; }

tps() { pgbench -n -M prepared -c "$clients" -j "$clients" -T "$secs" "$@" "$db" 2>&1 | awk '/^tps = /{print $3}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for _ in $(seq 1 "$rounds"); do
  PGUSER=pgauth_bench_org_app tps -f "$work/policy.sql" >>"$work/policy"
  tps -f "$work/constant.sql" >>"$work/constant"
done
p=$(median <"$work/policy"); c=$(median <"$work/constant")
ratio=$(awk -v p="$p" -v c="$c" 'BEGIN { printf "%.2f", p / c }')
echo "| pgbench (session_init + the query, per transaction): policy on auth.organization_id() + auth.has_permission(), 1M rows / 1,000 orgs | $p tps | constant org id, no policy: $c tps | ratio $ratio (target >= 0.83) |"

# The query alone, inside one backend (no client round trip, no session_init): milliseconds per
# execution over n runs of the policy as written above, of the same policy with each helper in a
# scalar subquery (evaluated once per query: the recommended form for large scans), and of the
# constant filter; median of the rounds.
n=$([ $smoke = 1 ] && echo 50 || echo 1000)
psql -qd "$db" -c "GRANT pgauth_bench_org_app TO CURRENT_USER" >/dev/null 2>&1
inner() {  # $1: label, $2: role or empty, $3: query
  psql -qAtd "$db" 2>&1 >/dev/null <<SQL | sed -n 's/^NOTICE: *//p' >>"$work/inner"
SELECT auth.session_init('$tok', true);
${2:+SET ROLE $2;}
DO \$\$
DECLARE t0 timestamptz; c bigint;
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1..$n LOOP $3; END LOOP;
  RAISE NOTICE '$1 %', extract(epoch FROM clock_timestamp() - t0) * 1000 / $n;
END \$\$;
SQL
}
bare="org_id = auth.organization_id() AND auth.has_permission('project', 'read')"
wrapped="org_id = (SELECT auth.organization_id()) AND (SELECT auth.has_permission('project', 'read'))"
onecall="org_id = auth.organization_id('project', 'read')"
for _ in $(seq 1 "$rounds"); do
  psql -qd "$db" -c "ALTER POLICY projects_read ON public.projects USING ($bare)"
  inner bare pgauth_bench_org_app "SELECT count(*) INTO c FROM public.projects"
  psql -qd "$db" -c "ALTER POLICY projects_read ON public.projects USING ($wrapped)"
  inner wrapped pgauth_bench_org_app "SELECT count(*) INTO c FROM public.projects"
  psql -qd "$db" -c "ALTER POLICY projects_read ON public.projects USING ($onecall)"
  inner onecall pgauth_bench_org_app "SELECT count(*) INTO c FROM public.projects"
  inner constant "" "SELECT count(*) INTO c FROM public.projects WHERE org_id = '$org'"
done
pb=$(awk '$1 == "bare" {print $2}' "$work/inner" | median)
pw=$(awk '$1 == "wrapped" {print $2}' "$work/inner" | median)
po=$(awk '$1 == "onecall" {print $2}' "$work/inner" | median)
ci=$(awk '$1 == "constant" {print $2}' "$work/inner" | median)
r() { awk -v p="$1" -v c="$ci" 'BEGIN { printf "%.2f", c / p }'; }
printf '| in one backend, per query (1,000 rows counted) | policy %.3f ms (ratio %s) | policy with (SELECT auth...) %.3f ms (ratio %s) | one-call policy org_id = auth.organization_id(resource, action) %.3f ms (ratio %s) | constant org id, no policy %.3f ms | target ratio >= 0.83 |\n' \
  "$pb" "$(r "$pb")" "$pw" "$(r "$pw")" "$po" "$(r "$po")" "$ci"
