// POST /organization/has-permission, compiled: the request every page of a B2B app makes. The
// common request (a signed-in session, its active organization, {"permissions": {resource:
// [actions]}} with well-formed names) is answered here with the session lookup of the hot path
// and the member's role and its grants (org_grants.hpp: a primary-key lookup, and grants kept in
// memory until a role or membership changes). Anything else (an API key, an organizationId, a malformed body) goes to the
// plpgsql rules, auth.org_has_permission_checked, which answer it exactly as before.
#include "pg/datum.hpp"
#include "pg/org_grants.hpp"
#include "core/jwt.hpp"
#include "pg/session.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/uuid.h"
}

#include <sodium.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace pgauth;

namespace {

// ^[A-Za-z][A-Za-z0-9_.:-]{0,63}$: auth.org_check_permission's rule for resource and action names.
bool permission_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (!alpha(s[0])) return false;
    for (char c : s)
        if (!alpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != ':' && c != '-') return false;
    return true;
}

// The wanted (resource, action) pairs of a body the fast path takes, or nothing.
std::optional<std::vector<Grant>> wanted_pairs(const jwt::Json& body) {
    if (!body.is_object() || body.size() != 1) return std::nullopt;
    auto it = body.begin();
    if (it.key() != "permissions" && it.key() != "permission") return std::nullopt;
    const jwt::Json& wanted = it.value();
    if (!wanted.is_object() || wanted.empty() || wanted.size() > 64) return std::nullopt;
    std::vector<Grant> pairs;
    for (auto r = wanted.begin(); r != wanted.end(); ++r) {
        if (!permission_name(r.key()) || !r.value().is_array() || r.value().size() > 64) return std::nullopt;
        for (const jwt::Json& a : r.value()) {
            if (!a.is_string() || !permission_name(a.get_ref<const std::string&>())) return std::nullopt;
            pairs.emplace_back(r.key(), a.get<std::string>());
        }
    }
    return pairs;
}

const Oid org_types[] = {UUIDOID};
KeptPlan organization_plan("SELECT 1 FROM auth.organizations o WHERE o.id OPERATOR(pg_catalog.=) $1", 1, org_types);

const Oid checked_types[] = {TEXTOID, JSONBOID};
KeptPlan checked_plan("SELECT auth.org_has_permission_checked($1, $2)::pg_catalog.text", 2, checked_types);

std::optional<pg_uuid_t> uuid_of(const std::string& s) {
    // noexcept: uuid_in of a value the session row held (it raises only on malformed text)
    Datum d = pg_call([&]() noexcept { return DirectFunctionCall1(uuid_in, CStringGetDatum(s.c_str())); });
    return *DatumGetUUIDP(d);
}

Datum json_answer(bool success) {
    // json_build_object's spacing, as the plpgsql rules answer
    return text_datum(success ? R"({"error" : null, "success" : true})" : R"({"error" : null, "success" : false})");
}

}  // namespace

// auth.org_has_permission(p_token text, p_body jsonb) -> json
PGAUTH_FUNCTION(pgauth_org_has_permission)
Datum pgauth_org_has_permission_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    std::string token = text_arg(fcinfo, 0);
    std::optional<std::vector<Grant>> wanted;
    if (!arg_is_null(fcinfo, 1) && !is_api_key_credential(token)) {
        jwt::Json body = jwt::Json::parse(jsonb_text(PG_GETARG_DATUM(1)), nullptr, false);
        if (!body.is_discarded()) wanted = wanted_pairs(body);
    }
    if (!wanted) {
        sodium_memzero(token.data(), token.size());
        Datum args[2] = {PG_GETARG_DATUM(0), arg_is_null(fcinfo, 1) ? Datum(0) : PG_GETARG_DATUM(1)};
        char nulls[2] = {' ', arg_is_null(fcinfo, 1) ? 'n' : ' '};
        std::optional<std::string> answer;
        {
            SpiConnection spi;
            checked_plan.execute(args, nulls, false, 1);
            if (!spi_cell(0, 1).null) answer = spi_text(0, 1);
        }
        if (!answer) PG_RETURN_NULL();
        return text_datum(*answer);
    }
    std::optional<LoadedSession> s = load_session(token, true, ApiKeys::accepted);
    sodium_memzero(token.data(), token.size());
    if (!s) PG_RETURN_NULL();
    if (!s->session.active_organization_id) throw AuthError("NO_ACTIVE_ORGANIZATION");
    pg_uuid_t org = *uuid_of(*s->session.active_organization_id);
    bool all_held = true;
    {
        SpiConnection spi;
        std::optional<std::string> role = member_role(org, s->user_uuid);
        if (!role) {
            Datum args[1] = {UUIDPGetDatum(&org)};
            if (organization_plan.execute(args, nullptr, true, 1) != 1) throw AuthError("ORGANIZATION_NOT_FOUND");
            throw AuthError("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
        }
        const std::vector<Grant>& grants = role_grants(org, *role);
        for (const auto& [resource, action] : *wanted) {
            bool held = false;
            for (const Grant& g : grants)
                if (g.first == resource && g.second == action) {
                    held = true;
                    break;
                }
            if (!held) {
                all_held = false;
                break;
            }
        }
    }
    return json_answer(all_held);
}
