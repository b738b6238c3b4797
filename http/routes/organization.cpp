// Better-Auth's organization plugin endpoints under /api/auth/organization/:
// organizations, members, invitations, access control (has-permission and the
// dynamic roles), and teams. Every handler is the same three steps: take the
// JSON body (POST) or the query string as a JSON object of strings (GET), make
// one SQL call with the caller's credential (the extension checks every field,
// decides every rule, queues the invitation mail and builds Better-Auth's body),
// and pass the body through. A SQL NULL means the credential names no session
// (401); a JSON null is an answer of its own (set-active with organizationId
// null, get-full-organization without an active organization).
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "request_fields.hpp"
#include "routes/routes.hpp"
#include "server.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

// A query string is at most this many parameters, each value at most this many
// bytes once decoded (ids, slugs, emails, limits and filters: all short).
constexpr std::size_t max_query_params = 32;
constexpr std::size_t max_query_value_bytes = 4096;
constexpr std::size_t max_query_key_bytes = 64;

bool plain_key(std::string_view key) {
    if (key.empty() || key.size() > max_query_key_bytes) return false;
    for (unsigned char c : key)
        if (!std::isalnum(c) && c != '_') return false;
    return true;
}

// The query string as the text of {"key": "value", ...}. Keys are parameter names
// as Better-Auth's query schemas spell them (letters, digits, '_'); any other key,
// too many parameters, or a malformed value (bad percent-encoding, a control
// character, too long, not UTF-8) is 400 VALIDATION_ERROR.
std::string query_object(const Request& req) {
    const auto& query = req.raw().query();
    json out = json::object();
    std::size_t n = 0;
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
        if (++n > max_query_params) throw errors::make("VALIDATION_ERROR", "too many query parameters");
        if (!plain_key(it->first)) throw errors::make("VALIDATION_ERROR", "unknown query parameter");
        out[it->first] = *query_param(it->second, it->first, max_query_value_bytes);
    }
    try {
        return out.dump();  // strict: throws on bytes that are not UTF-8 (%ff, %c3%28)
    } catch (const json::type_error&) {
        throw errors::make("VALIDATION_ERROR", "query parameters must be UTF-8");
    }
}

// A statement may also return error_code: a refusal whose writes commit (set-active by a
// non-member clears the session's active organization, as Better-Auth does).
Response answer(const pqxx::result& r) {
    if (!r.empty() && r.columns() > 1 && !r[0]["error_code"].is_null()) throw errors::make(r[0]["error_code"].c_str());
    if (r.empty() || r[0]["body"].is_null()) throw errors::make("UNAUTHORIZED");
    Response res;
    res.header("cache-control", "no-store");
    res.body = r[0]["body"].c_str();
    return res;
}

// POST: the JSON object body, as jsonb.
Handler with_body(const char* statement) {
    return [statement](Context& ctx, const Request& req) {
        const json& body = req.json();
        require_no_nul(body);
        std::string token = ctx.require_session(req);
        return answer(ctx.exec(statement, token, body.dump()));
    };
}

// GET: the query string, as a jsonb object of strings.
Handler with_query(const char* statement) {
    return [statement](Context& ctx, const Request& req) {
        std::string query = query_object(req);
        std::string token = ctx.require_session(req);
        return answer(ctx.exec(statement, token, query));
    };
}

struct OrgRoute {
    Method method;
    const char* path;       // under /api/auth/organization/
    const char* statement;  // db/statements.cpp
};

// Better-Auth 1.x's paths and methods (packages/better-auth/src/plugins/organization/).
constexpr std::array routes{
    // organizations
    OrgRoute{Method::Post, "create", "org_create"},
    OrgRoute{Method::Post, "update", "org_update"},
    OrgRoute{Method::Post, "delete", "org_delete"},
    OrgRoute{Method::Get, "list", "org_list"},
    OrgRoute{Method::Get, "get-full-organization", "org_get_full"},
    OrgRoute{Method::Post, "set-active", "org_set_active"},
    OrgRoute{Method::Post, "check-slug", "org_check_slug"},
    // members and access control
    OrgRoute{Method::Get, "list-members", "org_list_members"},
    OrgRoute{Method::Post, "remove-member", "org_remove_member"},
    OrgRoute{Method::Post, "update-member-role", "org_update_member_role"},
    OrgRoute{Method::Get, "get-active-member", "org_get_active_member"},
    OrgRoute{Method::Get, "get-active-member-role", "org_get_active_member_role"},
    OrgRoute{Method::Post, "leave", "org_leave"},
    OrgRoute{Method::Post, "has-permission", "org_has_permission"},
    // invitations
    OrgRoute{Method::Post, "invite-member", "org_invite_member"},
    OrgRoute{Method::Post, "accept-invitation", "org_accept_invitation"},
    OrgRoute{Method::Post, "reject-invitation", "org_reject_invitation"},
    OrgRoute{Method::Post, "cancel-invitation", "org_cancel_invitation"},
    OrgRoute{Method::Get, "get-invitation", "org_get_invitation"},
    OrgRoute{Method::Get, "list-invitations", "org_list_invitations"},
    OrgRoute{Method::Get, "list-user-invitations", "org_list_user_invitations"},
    // teams
    OrgRoute{Method::Post, "create-team", "org_create_team"},
    OrgRoute{Method::Get, "list-teams", "org_list_teams"},
    OrgRoute{Method::Post, "update-team", "org_update_team"},
    OrgRoute{Method::Post, "remove-team", "org_remove_team"},
    OrgRoute{Method::Post, "set-active-team", "org_set_active_team"},
    OrgRoute{Method::Get, "list-user-teams", "org_list_user_teams"},
    OrgRoute{Method::Get, "list-team-members", "org_list_team_members"},
    OrgRoute{Method::Post, "add-team-member", "org_add_team_member"},
    OrgRoute{Method::Post, "remove-team-member", "org_remove_team_member"},
    // dynamic access control
    OrgRoute{Method::Post, "create-role", "org_create_role"},
    OrgRoute{Method::Post, "update-role", "org_update_role"},
    OrgRoute{Method::Post, "delete-role", "org_delete_role"},
    OrgRoute{Method::Get, "list-roles", "org_list_roles"},
    OrgRoute{Method::Get, "get-role", "org_get_role"},
};

}  // namespace

void register_organization_routes(Server& server) {
    const std::string base = "/api/auth/organization/";
    for (const auto& r : routes) {
        Handler handler = r.method == Method::Get ? with_query(r.statement) : with_body(r.statement);
        server.route(r.method, base + r.path, std::string("organization-") + r.path, std::move(handler));
    }
}

}  // namespace pgauth::http
