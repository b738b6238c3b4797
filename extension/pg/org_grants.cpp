// See org_grants.hpp.
#include "pg/org_grants.hpp"
#include "pg/datum.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

#include <cstring>
#include <unordered_map>

namespace pgauth {
namespace {

// auth.members and auth.organization_roles, looked up again at each read (a dropped and
// re-created extension has new ones).
Oid members_relid = InvalidOid, roles_relid = InvalidOid;
uint64 invalidations = 0;

void on_relcache_invalidation(Datum, Oid relid) {
    if (relid == InvalidOid || relid == members_relid || relid == roles_relid) invalidations++;
}

}  // namespace

void watch_organization_tables() {
    // noexcept: syscache lookups by name
    pg_call([]() noexcept {
        Oid auth = get_namespace_oid("auth", false);
        members_relid = get_relname_relid("members", auth);
        roles_relid = get_relname_relid("organization_roles", auth);
    });
}

namespace {

const Oid member_types[] = {UUIDOID, UUIDOID};
KeptPlan member_plan(
    "SELECT m.role FROM auth.members m"
    " WHERE m.organization_id OPERATOR(pg_catalog.=) $1 AND m.user_id OPERATOR(pg_catalog.=) $2",
    2, member_types);

// for each role name: the organization's own role, else the global one
const Oid grant_types[] = {UUIDOID, TEXTOID};
KeptPlan grant_plan(
    "SELECT p.key, a.value"
    " FROM pg_catalog.unnest(pg_catalog.string_to_array($2, ',')) rn(name)"
    " CROSS JOIN LATERAL (SELECT r.permission FROM auth.organization_roles r"
    "   WHERE r.role OPERATOR(pg_catalog.=) rn.name"
    "     AND (r.organization_id OPERATOR(pg_catalog.=) $1 OR r.organization_id IS NULL)"
    "   ORDER BY r.organization_id NULLS LAST LIMIT 1) r"
    " CROSS JOIN LATERAL pg_catalog.jsonb_each(r.permission) p"
    " CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof(p.value)"
    "   OPERATOR(pg_catalog.=) 'array' THEN p.value ELSE '[]'::pg_catalog.jsonb END) a",
    2, grant_types);

struct KeptGrants {
    uint64 invalidations;  // organization_invalidations() just before the read
    std::vector<Grant> grants;
};
// key: the organization's 16 bytes, then the roles
std::unordered_map<std::string, KeptGrants> kept_grants;
constexpr std::size_t max_kept_grants = 4096;  // then start over: roles are few, this is a bound

}  // namespace

uint64 organization_invalidations() { return invalidations; }

std::optional<std::string> member_role(const pg_uuid_t& organization, const pg_uuid_t& user) {
    watch_organization_tables();
    Datum args[2] = {uuid_datum(organization), uuid_datum(user)};
    if (member_plan.execute_latest(args, nullptr, 1) != 1) return std::nullopt;
    return spi_text(0, 1);
}

const std::vector<Grant>& role_grants(const pg_uuid_t& organization, const std::string& roles) {
    std::string key(reinterpret_cast<const char*>(organization.data), UUID_LEN);
    key += roles;
    auto found = kept_grants.find(key);
    if (found != kept_grants.end() && found->second.invalidations == invalidations) return found->second.grants;
    const uint64 before = invalidations;  // one arriving during the read leaves the answer stale
    watch_organization_tables();
    Datum args[2] = {uuid_datum(organization), text_datum(roles)};
    uint64 rows = grant_plan.execute_latest(args, nullptr, 0);
    KeptGrants fresh{before, {}};
    fresh.grants.reserve(rows);
    for (uint64 i = 0; i < rows; i++) fresh.grants.emplace_back(spi_text(i, 1), spi_text(i, 2));
    if (found != kept_grants.end()) {
        found->second = std::move(fresh);
        return found->second.grants;
    }
    if (kept_grants.size() >= max_kept_grants) kept_grants.clear();
    return kept_grants.emplace(std::move(key), std::move(fresh)).first->second.grants;
}

void register_organization_invalidations() { CacheRegisterRelcacheCallback(on_relcache_invalidation, 0); }

}  // namespace pgauth
