// What a member may do in an organization, shared by the RLS readers (rls.cpp) and
// has-permission (org_permission.cpp): one rule, one cache.
//
// A role's grants are kept in backend memory per (organization, roles) until auth.members or
// auth.organization_roles change. A statement trigger on each (auth.memberships_changed) sends
// a relcache invalidation of the table; every backend receives it before its next transaction
// (the changing backend at its next command) and bumps organization_invalidations(). A kept
// answer is valid while that counter has not moved since just before it was read.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "postgres.h"
#include "utils/uuid.h"
}

namespace pgauth {

using Grant = std::pair<std::string, std::string>;  // (resource, action)

// Counts the invalidations of auth.members and auth.organization_roles this backend received.
uint64 organization_invalidations();
// Looks the two tables up (again) so that their invalidations are counted: before any read of
// them that is kept (member_role and role_grants do it themselves).
void watch_organization_tables();

// Both below run inside an SPI connection, as a role that may read auth's tables, and read on a
// snapshot taken now (a statement's may predate a change whose invalidation already arrived).

// The member's role (a comma list) in the organization, or nothing when not a member.
std::optional<std::string> member_role(const pg_uuid_t& organization, const pg_uuid_t& user);

// The grants of a comma list of roles in an organization: for each name, the organization's own
// role of that name, else the global one.
const std::vector<Grant>& role_grants(const pg_uuid_t& organization, const std::string& roles);

// From _PG_init.
void register_organization_invalidations();

}  // namespace pgauth
