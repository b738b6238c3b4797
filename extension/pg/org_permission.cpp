// POST /organization/has-permission, compiled: the request every page of a B2B app makes. The
// common request (a signed-in session, its active organization, {"permissions": {resource:
// [actions]}} with well-formed names) is answered here with the session lookup of the hot path
// and one kept plan. Anything else (an API key, an organizationId, a malformed body) goes to the
// plpgsql rules, auth.org_has_permission_checked, which answer it exactly as before.
#include "pg/datum.hpp"
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

// The wanted "resource action" pairs of a body the fast path takes, or nothing.
std::optional<std::vector<std::string>> wanted_pairs(const jwt::Json& body) {
    if (!body.is_object() || body.size() != 1) return std::nullopt;
    auto it = body.begin();
    if (it.key() != "permissions" && it.key() != "permission") return std::nullopt;
    const jwt::Json& wanted = it.value();
    if (!wanted.is_object() || wanted.empty() || wanted.size() > 64) return std::nullopt;
    std::vector<std::string> pairs;
    for (auto r = wanted.begin(); r != wanted.end(); ++r) {
        if (!permission_name(r.key()) || !r.value().is_array() || r.value().size() > 64) return std::nullopt;
        for (const jwt::Json& a : r.value()) {
            if (!a.is_string() || !permission_name(a.get_ref<const std::string&>())) return std::nullopt;
            pairs.push_back(r.key() + " " + a.get<std::string>());
        }
    }
    return pairs;
}

const Oid org_user_types[] = {UUIDOID, UUIDOID};
// The member's granted "resource action" pairs: for each of its roles, the organization's own
// role of that name, else the global one (auth.org_permissions' rule). No row: not a member.
KeptPlan granted_plan(
    "SELECT pg_catalog.array_to_string(ARRAY(SELECT p.key OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) a.value"
    "   FROM pg_catalog.unnest(pg_catalog.string_to_array(m.role, ',')) rn(name)"
    "   CROSS JOIN LATERAL (SELECT r.permission FROM auth.organization_roles r"
    "        WHERE r.role OPERATOR(pg_catalog.=) rn.name"
    "          AND (r.organization_id OPERATOR(pg_catalog.=) m.organization_id OR r.organization_id IS NULL)"
    "        ORDER BY r.organization_id NULLS LAST LIMIT 1) r"
    "   CROSS JOIN LATERAL pg_catalog.jsonb_each(r.permission) p"
    "   CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof(p.value)"
    "        OPERATOR(pg_catalog.=) 'array' THEN p.value ELSE '[]'::pg_catalog.jsonb END) a), E'\\n')"
    " FROM auth.members m"
    " WHERE m.organization_id OPERATOR(pg_catalog.=) $1 AND m.user_id OPERATOR(pg_catalog.=) $2",
    2, org_user_types);

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
    std::optional<std::vector<std::string>> wanted;
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
    Datum args[2] = {UUIDPGetDatum(&org), UUIDPGetDatum(&s->user_uuid)};
    char nulls[2] = {' ', ' '};
    std::optional<std::string> granted;
    {
        SpiConnection spi;
        if (granted_plan.execute(args, nulls, true, 1) == 1) granted = spi_text(0, 1);
        else if (organization_plan.execute(args, nulls, true, 1) != 1) throw AuthError("ORGANIZATION_NOT_FOUND");
    }
    if (!granted) throw AuthError("YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION");
    std::vector<std::string_view> pairs;
    for (std::size_t start = 0; start <= granted->size();) {
        std::size_t end = granted->find('\n', start);
        if (end == std::string::npos) end = granted->size();
        pairs.emplace_back(granted->data() + start, end - start);
        start = end + 1;
    }
    for (const std::string& w : *wanted) {
        bool held = false;
        for (std::string_view g : pairs)
            if (g == w) {
                held = true;
                break;
            }
        if (!held) return json_answer(false);
    }
    return json_answer(true);
}
