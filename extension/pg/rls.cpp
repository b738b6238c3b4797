// Row-level security helpers, named like pg_session_jwt's: the init functions
// verify a JWT or a session token and keep the claims in backend memory;
// auth.jwt(), auth.user_id() and auth.session() read them. Nothing a role can
// SET reaches them. The identity ends with the transaction unless the caller
// asked for a session-wide one, so pooled connections (PgBouncer transaction
// mode) never hand one client's identity to the next.
#include "pg/rls.hpp"
#include "pg/org_grants.hpp"
#include "pg/datum.hpp"
#include "pg/tokens.hpp"
#include "pg/session.hpp"
#include "pg/session_lookup.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

#include <sodium.h>

#include <cctype>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace pgauth {
namespace {

struct Identity {
    Jsonb* claims = nullptr;  // TopMemoryContext copy; nullptr when nobody is signed in
    bool from_jwt = false;
    bool session_wide = false;
    bool has_user = false;
    pg_uuid_t user_id{};
    // the organization plugin: the session's (or the JWT org claim's) active organization and team
    bool has_organization = false, has_team = false;
    pg_uuid_t organization_id{}, team_id{};
};

Identity identity;
std::optional<pg_uuid_t> parse_uuid(std::string_view s);

// Bumped whenever the identity changes: the membership cache below belongs to one identity.
uint64 identity_generation = 0;

// Runs inside PostgreSQL (callbacks and pg_call): plain C, no throwing.
void forget_identity() {
    if (identity.claims) pfree(identity.claims);
    identity = Identity{};
    identity_generation++;
}

// The signed-in user's role and permissions in the active organization, and (only when
// auth.is_member asks) the list of its organizations: read with kept plans over schema-qualified
// names (no SQL function with SET in between, which would be re-planned), then answered from
// memory, however many rows a policy checks and however many transactions sign the same user
// in with the same active organization. The answer stays until auth.members or
// auth.organization_roles change (org_grants.hpp: organization_invalidations()).
struct Memberships {
    uint64 generation = 0;       // the identity_generation it was last checked against
    uint64 load = 0;             // which load this is (answers kept per call site name it)
    uint64 invalidations = 0;    // organization_invalidations() just before the load
    bool valid = false;
    bool has_user = false, has_organization = false;  // the identity it belongs to
    pg_uuid_t user_id{}, organization_id{};
    bool active_member = false;  // the user is a member of identity.organization_id
    std::string role;            // its role there (comma list)
    std::vector<Grant> permissions;  // (resource, action) of that role
    bool organizations_loaded = false;
    std::vector<pg_uuid_t> organizations;
};

Memberships memberships;

uint64 membership_loads = 0;

const Oid organizations_types[] = {UUIDOID};
KeptPlan organizations_plan("SELECT m.organization_id FROM auth.members m WHERE m.user_id OPERATOR(pg_catalog.=) $1",
                            1, organizations_types);

bool same_uuid(const pg_uuid_t& a, const pg_uuid_t& b) { return std::memcmp(a.data, b.data, UUID_LEN) == 0; }

// The readers a policy calls once per row are SECURITY INVOKER (docs/organizations.md, "Why the
// RLS readers are SECURITY INVOKER"): PostgreSQL's identity switch would cost more per row than
// the answer. The caller may not read auth's tables, so the membership load alone runs as the
// owner of the SQL function being called, as SECURITY DEFINER would run all of it; the previous
// identity comes back however the scope ends (return, C++ exception, or an error caught by a
// subtransaction, which restores it too).
class AsFunctionOwner {
public:
    explicit AsFunctionOwner(FunctionCallInfo fcinfo) {
        Oid function = fcinfo->flinfo->fn_oid;
        // noexcept: a syscache lookup; elog(ERROR) longjmps into pg_call
        Oid owner = pg_call([function]() noexcept {
            HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
            if (!HeapTupleIsValid(tuple)) elog(ERROR, "pgauth: cache lookup failed for function %u", function);
            Oid o = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple))->proowner;
            ReleaseSysCache(tuple);
            return o;
        });
        GetUserIdAndSecContext(&saved_user_, &saved_context_);
        SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
    }
    ~AsFunctionOwner() { SetUserIdAndSecContext(saved_user_, saved_context_); }
    AsFunctionOwner(const AsFunctionOwner&) = delete;
    AsFunctionOwner& operator=(const AsFunctionOwner&) = delete;

private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
};

// The cached answer belongs to whoever is signed in now (same user, same active organization).
bool same_identity(const Memberships& m) noexcept {
    bool user = identity.claims && identity.has_user, organization = user && identity.has_organization;
    return m.has_user == user && m.has_organization == organization &&
           (!user || same_uuid(m.user_id, identity.user_id)) &&
           (!organization || same_uuid(m.organization_id, identity.organization_id));
}

// Loaded, and no membership or role has changed since.
bool memberships_current() noexcept {
    return memberships.valid && memberships.invalidations == organization_invalidations();
}

Memberships& current_memberships(FunctionCallInfo fcinfo) {
    if (memberships_current() && (memberships.generation == identity_generation || same_identity(memberships))) {
        memberships.generation = identity_generation;
        return memberships;
    }
    Memberships fresh;
    fresh.generation = identity_generation;
    fresh.has_user = identity.claims && identity.has_user;
    fresh.has_organization = fresh.has_user && identity.has_organization;
    fresh.user_id = identity.user_id;
    fresh.organization_id = identity.organization_id;
    // one arriving during the load leaves the answer stale: the next call loads again
    fresh.invalidations = organization_invalidations();
    watch_organization_tables();
    if (fresh.has_organization) {
        AsFunctionOwner owner(fcinfo);
        SpiConnection spi;
        if (std::optional<std::string> role = member_role(identity.organization_id, identity.user_id)) {
            fresh.active_member = true;
            fresh.role = std::move(*role);
            fresh.permissions = role_grants(identity.organization_id, fresh.role);
        }
    }
    fresh.load = ++membership_loads;
    fresh.valid = true;
    memberships = std::move(fresh);
    return memberships;
}

const std::vector<pg_uuid_t>& current_organizations(FunctionCallInfo fcinfo) {
    Memberships& m = current_memberships(fcinfo);
    if (!m.organizations_loaded) {
        if (identity.claims && identity.has_user) {
            AsFunctionOwner owner(fcinfo);
            SpiConnection spi;
            Datum args[1] = {uuid_datum(identity.user_id)};
            uint64 rows = organizations_plan.execute_latest(args, nullptr, 0);
            for (uint64 i = 0; i < rows; i++) m.organizations.push_back(*DatumGetUUIDP(spi_cell(i, 1).value));
        }
        m.organizations_loaded = true;
    }
    return m.organizations;
}

// The org claim of a session JWT or of session_init's payload: {"id": uuid, "teamId": uuid|null}.
void remember_organization(const jwt::Json& claims) {
    if (claims.is_discarded() || !claims.is_object() || !claims.contains("org")) return;
    const jwt::Json& org = claims["org"];
    if (!org.is_object()) return;
    std::optional<pg_uuid_t> id, team;
    if (org.contains("id") && org["id"].is_string()) id = parse_uuid(org["id"].get_ref<const std::string&>());
    if (org.contains("teamId") && org["teamId"].is_string())
        team = parse_uuid(org["teamId"].get_ref<const std::string&>());
    if (!id) return;
    identity.has_organization = true;
    identity.organization_id = *id;
    if (team) {
        identity.has_team = true;
        identity.team_id = *team;
    }
}

void at_transaction_end(XactEvent event, void*) {
    if (identity.session_wide) return;
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_PREPARE:
            forget_identity();
            break;
        default:
            break;
    }
}

std::optional<pg_uuid_t> parse_uuid(std::string_view s) {
    if (s.size() != 36) return std::nullopt;
    pg_uuid_t out{};
    int byte = 0;
    for (std::size_t i = 0; i < s.size(); i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return std::nullopt;
            continue;
        }
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return std::nullopt;
        out.data[byte / 2] = static_cast<unsigned char>(byte % 2 ? out.data[byte / 2] | v : v << 4);
        byte++;
    }
    return out;
}

// Replaces the identity with `claims_json` (already verified; `claims` is its parse).
void remember(const std::string& claims_json, const jwt::Json& claims, bool from_jwt, bool session_wide) {
    std::optional<pg_uuid_t> user;
    if (!claims.is_discarded() && claims.contains("sub") && claims["sub"].is_string())
        user = parse_uuid(claims["sub"].get_ref<const std::string&>());
    Datum value = jsonb_datum(claims_json);
    // noexcept: MemoryContextAlloc and memcpy
    pg_call([&]() noexcept {
        Jsonb* copy = static_cast<Jsonb*>(MemoryContextAlloc(TopMemoryContext, VARSIZE(DatumGetPointer(value))));
        memcpy(copy, DatumGetPointer(value), VARSIZE(DatumGetPointer(value)));
        identity.claims = copy;
    });
    identity.from_jwt = from_jwt;
    identity.session_wide = session_wide;
    identity.has_user = user.has_value();
    if (user) identity.user_id = *user;
    remember_organization(claims);
    identity_generation++;
}

Datum copy_claims() {
    // noexcept: palloc and memcpy
    return pg_call([]() noexcept {
        Size size = VARSIZE(identity.claims);
        void* out = palloc(size);
        memcpy(out, identity.claims, size);
        return PointerGetDatum(out);
    });
}

bool session_wide_arg(FunctionCallInfo fcinfo) { return !arg_is_null(fcinfo, 1) && PG_GETARG_BOOL(1); }

}  // namespace

void register_identity_callbacks() {
    RegisterXactCallback(at_transaction_end, nullptr);
    register_organization_invalidations();
}

}  // namespace pgauth

using namespace pgauth;

// auth.jwt_session_init(jwt text, session_wide boolean DEFAULT false, audience text DEFAULT NULL) -> void
PGAUTH_FUNCTION(pgauth_jwt_session_init)
Datum pgauth_jwt_session_init_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });  // a failed init leaves nobody signed in
    if (arg_is_null(fcinfo, 0)) throw AuthError("INVALID_TOKEN", "the token is NULL");
    std::string token = text_arg(fcinfo, 0);
    // The audience defaults to pgauth.base_url (what session_jwt signs for): a JWT
    // issued for another audience must not sign anyone in here.
    std::string audience = !arg_is_null(fcinfo, 2) ? text_arg(fcinfo, 2)
                                                   : std::string(settings::base_url ? settings::base_url : "");
    std::string claims_json = verify_token(token, audience);
    // A JWT that names a session stops working when that session ends.
    jwt::Json claims = jwt::Json::parse(claims_json, nullptr, false);
    if (!claims.is_discarded() && claims.is_object() && claims.contains("sid")) {
        const jwt::Json& sid = claims["sid"];
        std::optional<pg_uuid_t> id = sid.is_string() ? parse_uuid(sid.get_ref<const std::string&>()) : std::nullopt;
        if (!id) throw AuthError("INVALID_TOKEN", "the sid claim is not a session id");
        TimestampTz now = GetCurrentTransactionStartTimestamp();
        // noexcept: an index scan over a copied uuid
        if (!pg_call([&]() noexcept { return session_is_live(*id, now); }))
            throw AuthError("INVALID_TOKEN", "the session named by sid has ended");
    }
    remember(claims_json, claims, true, session_wide_arg(fcinfo));
    PG_RETURN_VOID();
}

// auth.session_init(session_token text, session_wide boolean DEFAULT false) -> void
PGAUTH_FUNCTION(pgauth_session_init)
Datum pgauth_session_init_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });
    if (arg_is_null(fcinfo, 0)) throw AuthError("UNAUTHORIZED");
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> session = load_session(token, false);
    sodium_memzero(token.data(), token.size());
    if (!session) throw AuthError("UNAUTHORIZED");
    std::string claims_json = session_payload(*session);
    remember(claims_json, jwt::Json::parse(claims_json, nullptr, false), false, session_wide_arg(fcinfo));
    PG_RETURN_VOID();
}

// auth.session_reset() -> void: nobody is signed in any more.
PGAUTH_FUNCTION(pgauth_session_reset)
Datum pgauth_session_reset_impl(FunctionCallInfo fcinfo) {
    // noexcept: forget_identity is plain C (pfree)
    pg_call([]() noexcept { forget_identity(); });
    PG_RETURN_VOID();
}

// auth.jwt() -> jsonb: the claims of the JWT given to jwt_session_init, or NULL.
PGAUTH_FUNCTION(pgauth_jwt)
Datum pgauth_jwt_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims || !identity.from_jwt) PG_RETURN_NULL();
    return copy_claims();
}

// auth.session() -> jsonb: the claims of whoever is signed in (JWT or session), or NULL.
PGAUTH_FUNCTION(pgauth_session)
Datum pgauth_session_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims) PG_RETURN_NULL();
    return copy_claims();
}

namespace {
// A uuid answer kept with its call site (fn_extra, which lives as long as the expression): a
// policy that calls a helper once per row gets the same bytes back without a palloc per row.
// Plain C on memory (no C++ object in the frame), so an out-of-memory longjmp skips nothing.
struct KeptUuid {
    uint64 generation;  // identity_generation when it was taken
    uint64 load;        // memberships.load, for the organization helpers
    pg_uuid_t value;
};

KeptUuid* kept_uuid(FunctionCallInfo fcinfo) {
    auto* kept = static_cast<KeptUuid*>(fcinfo->flinfo->fn_extra);
    if (!kept) {
        kept = static_cast<KeptUuid*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(KeptUuid)));
        fcinfo->flinfo->fn_extra = kept;
    }
    return kept;
}
}  // namespace

// auth.user_id() -> uuid: sub of whoever is signed in, or NULL.
extern "C" {
PG_FUNCTION_INFO_V1(pgauth_user_id);
PGDLLEXPORT Datum pgauth_user_id(PG_FUNCTION_ARGS) {
    if (!identity.claims || !identity.has_user) PG_RETURN_NULL();
    KeptUuid* kept = kept_uuid(fcinfo);
    if (kept->generation != identity_generation) {  // generation 0 is nobody: never kept
        kept->value = identity.user_id;
        kept->generation = identity_generation;
    }
    return UUIDPGetDatum(&kept->value);
}
}

namespace {
// The fast path of the per-row helpers: the identity's memberships are already loaded and
// checked against this identity. Plain C on data in memory (no allocation, no throwing), so it needs no boundary.
bool memberships_fresh() noexcept { return memberships_current() && memberships.generation == identity_generation; }

// A text argument's bytes when it needs no detoasting (constants and ordinary values never do).
bool plain_text(Datum d, std::string_view* out) noexcept {
    auto* v = reinterpret_cast<varlena*>(DatumGetPointer(d));
    if (VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v)) return false;
    *out = {VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v)};
    return true;
}

bool permitted(const Memberships& m, std::string_view resource, std::string_view action) noexcept {
    if (!m.active_member) return false;
    for (const auto& [r, a] : m.permissions)
        if (r == resource && a == action) return true;
    return false;
}

bool signed_in_with_organization() noexcept {
    return identity.claims && identity.has_user && identity.has_organization;
}
}  // namespace

// auth.organization_id() -> uuid: the active organization of whoever is signed in, while a member of it.
PGAUTH_FUNCTION(pgauth_organization_id_load)
Datum pgauth_organization_id_load_impl(FunctionCallInfo fcinfo) {
    if (!signed_in_with_organization() || !current_memberships(fcinfo).active_member) PG_RETURN_NULL();
    return uuid_datum(identity.organization_id);
}

extern "C" {
PG_FUNCTION_INFO_V1(pgauth_organization_id);
PGDLLEXPORT Datum pgauth_organization_id(PG_FUNCTION_ARGS) {
    if (!signed_in_with_organization()) PG_RETURN_NULL();
    if (!memberships_fresh()) return pgauth_organization_id_load(fcinfo);
    if (!memberships.active_member) PG_RETURN_NULL();
    KeptUuid* kept = kept_uuid(fcinfo);
    if (kept->generation != identity_generation || kept->load != memberships.load) {
        kept->value = identity.organization_id;
        kept->generation = identity_generation;
        kept->load = memberships.load;
    }
    return UUIDPGetDatum(&kept->value);
}
}

// auth.team_id() -> uuid: the active team, while a member of the active organization.
PGAUTH_FUNCTION(pgauth_team_id)
Datum pgauth_team_id_impl(FunctionCallInfo fcinfo) {
    if (!signed_in_with_organization() || !identity.has_team) PG_RETURN_NULL();
    if (!current_memberships(fcinfo).active_member) PG_RETURN_NULL();
    return uuid_datum(identity.team_id);
}

// auth.is_member(org uuid) -> boolean
PGAUTH_FUNCTION(pgauth_is_member)
Datum pgauth_is_member_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0) || !identity.claims || !identity.has_user) PG_RETURN_BOOL(false);
    const pg_uuid_t& org = *PG_GETARG_UUID_P(0);
    for (const pg_uuid_t& id : current_organizations(fcinfo))
        if (same_uuid(id, org)) PG_RETURN_BOOL(true);
    PG_RETURN_BOOL(false);
}

// auth.has_permission(resource text, action text) -> boolean: in the active organization.
PGAUTH_FUNCTION(pgauth_has_permission_load)
Datum pgauth_has_permission_load_impl(FunctionCallInfo fcinfo) {
    if (!signed_in_with_organization()) PG_RETURN_BOOL(false);
    const Memberships& m = current_memberships(fcinfo);
    // noexcept: detoasting text datums
    text* resource = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    text* action = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(1); });
    PG_RETURN_BOOL(permitted(m, {VARDATA_ANY(resource), VARSIZE_ANY_EXHDR(resource)},
                             {VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action)}));
}

extern "C" {
PG_FUNCTION_INFO_V1(pgauth_has_permission);
PGDLLEXPORT Datum pgauth_has_permission(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || !signed_in_with_organization()) PG_RETURN_BOOL(false);
    // In a policy both arguments are constants: the answer is kept with the call site for as
    // long as the memberships it came from (same load, same identity).
    struct KeptAnswer {
        bool constant_arguments, known, answer;
        uint64 generation, load;
    };
    auto* kept = static_cast<KeptAnswer*>(fcinfo->flinfo->fn_extra);
    if (!kept) {
        kept = static_cast<KeptAnswer*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(KeptAnswer)));
        kept->constant_arguments = get_fn_expr_arg_stable(fcinfo->flinfo, 0) && get_fn_expr_arg_stable(fcinfo->flinfo, 1);
        fcinfo->flinfo->fn_extra = kept;
    }
    if (kept->known && memberships_fresh() && kept->load == memberships.load && kept->generation == identity_generation)
        PG_RETURN_BOOL(kept->answer);
    std::string_view resource, action;
    if (!memberships_fresh() || !plain_text(PG_GETARG_DATUM(0), &resource) || !plain_text(PG_GETARG_DATUM(1), &action))
        return pgauth_has_permission_load(fcinfo);
    bool answer = permitted(memberships, resource, action);
    if (kept->constant_arguments) *kept = {true, true, answer, identity_generation, memberships.load};
    PG_RETURN_BOOL(answer);
}
}

// auth.organization_id(resource text, action text) -> uuid: the active organization when the
// signed-in member's role there grants resource:action, else NULL. A policy written
// USING (org_id = auth.organization_id('project', 'read')) is one index condition, evaluated once
// per scan, where "org_id = auth.organization_id() AND auth.has_permission(...)" also filters
// every row (PostgreSQL evaluates a policy's Var-free clause per row, not once).
PGAUTH_FUNCTION(pgauth_permitted_organization_id)
Datum pgauth_permitted_organization_id_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0) || arg_is_null(fcinfo, 1) || !signed_in_with_organization()) PG_RETURN_NULL();
    const Memberships& m = current_memberships(fcinfo);
    // noexcept: detoasting text datums
    text* resource = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(0); });
    text* action = pg_call([&]() noexcept { return PG_GETARG_TEXT_PP(1); });
    if (!permitted(m, {VARDATA_ANY(resource), VARSIZE_ANY_EXHDR(resource)},
                   {VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action)}))
        PG_RETURN_NULL();
    return uuid_datum(identity.organization_id);
}

// auth.memberships_changed(): the statement trigger on auth.members and auth.organization_roles.
// A relcache invalidation of the table reaches every backend (this one at its next command, the
// others before their next transaction) and clears the memberships kept above.
PGAUTH_FUNCTION(pgauth_memberships_changed)
Datum pgauth_memberships_changed_impl(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_TRIGGER(fcinfo)) throw AuthError("INTERNAL_ERROR", "auth.memberships_changed() runs only as a trigger");
    Relation table = reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation;
    // noexcept: queues an invalidation message
    pg_call([table]() noexcept { CacheInvalidateRelcache(table); });
    return PointerGetDatum(nullptr);
}

// auth.member_role() -> text: the role (comma list) in the active organization.
PGAUTH_FUNCTION(pgauth_member_role)
Datum pgauth_member_role_impl(FunctionCallInfo fcinfo) {
    if (!identity.claims || !identity.has_user || !identity.has_organization) PG_RETURN_NULL();
    const Memberships& m = current_memberships(fcinfo);
    if (!m.active_member) PG_RETURN_NULL();
    return text_datum(m.role);
}
