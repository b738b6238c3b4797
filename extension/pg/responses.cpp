// Better-Auth's response bodies for the endpoints that change state:
// sign-up, sign-in, list-sessions and change-password. Each runs the SQL-level
// rule (auth.sign_up_email, ...) and builds the body with better_auth_json, so
// pgauth-http maps a row to a response without knowing any field.
#include "pg/better_auth_json.hpp"
#include "pg/datum.hpp"
#include "pg/session.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

#include <sodium.h>

namespace pgauth {
namespace {


// Internal SQL is schema-qualified throughout: see the note in session.cpp.
const Oid sign_up_types[] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INETOID, TEXTOID};
KeptPlan sign_up_plan(
    "SELECT s.user_id, s.session_token, s.expires_at FROM auth.sign_up_email($1, $2, $3, $4, $5, $6) s", 6,
    sign_up_types);

// auth.sign_in_attempt decides everything (password, ban, lockout, verification mail, the
// second factor, the audit row) and returns failures as a value so that its audit row commits.
const Oid sign_in_types[] = {TEXTOID, TEXTOID, BOOLOID, INETOID, TEXTOID, TEXTOID, TEXTOID};
KeptPlan sign_in_plan(
    "SELECT s.user_id, s.session_token, s.expires_at, s.two_factor_token, s.challenge_expires_at, s.error_code"
    " FROM auth.sign_in_attempt($1, $2, $3, $4, $5, $6, $7) s",
    7, sign_in_types);

// The verification mail of sign-up (send-on-sign-up) and of a refused sign-in
// (require-verification); $3 false: over the per-address limit the mail is skipped quietly.
const Oid queue_types[] = {UUIDOID, TEXTOID, BOOLOID};
KeptPlan queue_plan("SELECT auth.email_queue_verification($1, $2, $3)", 3, queue_types);

const Oid user_types[] = {UUIDOID};
KeptPlan user_plan(
    "SELECT u.id, u.email, u.name, u.image, u.email_verified, u.created_at, u.updated_at, u.role, u.para_wallet_id"
    " FROM auth.users u WHERE u.id OPERATOR(pg_catalog.=) $1",
    1, user_types);

const Oid list_types[] = {UUIDOID};
KeptPlan list_plan(
    "SELECT l.session_id, l.expires_at, l.created_at, l.updated_at, l.ip, l.user_agent"
    " FROM auth.list_sessions($1) l",
    1, list_types);

const Oid change_types[] = {UUIDOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
KeptPlan change_plan("SELECT auth.change_password($1, $2, $3, $4, $5)", 5, change_types);

std::optional<std::string> spi_text_or_null(uint64 row, int column) {
    if (spi_cell(row, column).null) return std::nullopt;
    return spi_text(row, column);
}

// The user with this id (a uuid Datum), read in a new SPI command so that it
// sees what the statement before it wrote. Needs an open SPI connection.
UserRecord read_user(Datum id) {
    Datum args[1] = {id};
    if (user_plan.execute(args, nullptr, false, 1) != 1) throw AuthError("USER_NOT_FOUND");
    UserRecord u;
    u.id = spi_text(0, 1);
    u.email = spi_text(0, 2);
    u.name = spi_text(0, 3);
    u.image = spi_text_or_null(0, 4);
    u.email_verified = DatumGetBool(spi_cell(0, 5).value);
    u.created_at = DatumGetTimestampTz(spi_cell(0, 6).value);
    u.updated_at = DatumGetTimestampTz(spi_cell(0, 7).value);
    u.role = spi_text_or_null(0, 8);
    u.para_wallet_id = spi_text_or_null(0, 9);
    return u;
}

Datum arg_or_null(FunctionCallInfo fcinfo, int n, char* null) {
    *null = arg_is_null(fcinfo, n) ? 'n' : ' ';
    return arg_is_null(fcinfo, n) ? Datum(0) : PG_GETARG_DATUM(n);
}

struct NewSession {
    UserRecord user;
    bool has_session = false;  // false: the user must verify the email first (no session was created)
    std::string token;
    TimestampTz expires_at = 0;
    ~NewSession() { sodium_memzero(token.data(), token.size()); }
};

// Runs a sign-up or sign-in plan returning (user_id, session_token, expires_at) and reads the
// user. With pgauth.email_require_verification an unverified user gets a NULL session; then,
// or with pgauth.email_send_on_sign_up (`queue_on_sign_up`), the verification mail to
// `callback` is queued in this transaction.
NewSession run_session_plan(KeptPlan& plan, const Datum* args, const char* nulls, bool queue_on_sign_up,
                            const std::optional<std::string>& callback) {
    SpiConnection spi;
    if (plan.execute(args, nulls, false, 0) != 1) throw AuthError("INTERNAL_ERROR", "no session was created");
    NewSession out;
    out.has_session = !spi_cell(0, 2).null;
    if (out.has_session) {
        out.token = spi_text(0, 2);
        out.expires_at = DatumGetTimestampTz(spi_cell(0, 3).value);
    }
    pg_uuid_t id = *DatumGetUUIDP(spi_cell(0, 1).value);  // a copy: the next plan replaces SPI_tuptable
    if (queue_on_sign_up || !out.has_session) {
        // over the per-address limit only the mail is skipped: the sign-up or the refusal stands
        Datum qargs[3] = {uuid_datum(id), callback ? text_datum(*callback) : Datum(0), BoolGetDatum(false)};
        char qnulls[3] = {' ', callback ? ' ' : 'n', ' '};
        queue_plan.execute(qargs, qnulls, false, 0);
    }
    out.user = read_user(uuid_datum(id));
    return out;
}

// One row (body json, session_token text, max_age bigint[, error_code text]) into the SRF
// result; a NULL body with error_code when the user must verify the email first.
Datum emit_session_row(FunctionCallInfo fcinfo, const std::string& body, const NewSession& s,
                       const char* error_code = nullptr) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    Datum values[4] = {error_code ? Datum(0) : text_datum(body), s.has_session ? text_datum(s.token) : Datum(0),
                       s.has_session ? Int64GetDatum(seconds_left(s.expires_at)) : Datum(0),
                       error_code ? text_datum(error_code) : Datum(0)};
    bool nulls[4] = {error_code != nullptr, !s.has_session, !s.has_session, error_code == nullptr};
    // noexcept: stores plain Datums in the tuplestore
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    return 0;
}

void init_srf(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    bits32 flags = rsinfo && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0;
    // noexcept: PostgreSQL SRF set-up
    pg_call([&]() noexcept { InitMaterializedSRF(fcinfo, flags); });
}

}  // namespace
}  // namespace pgauth

using namespace pgauth;

// auth.sign_up_response(p_email, p_password, p_name, p_image, p_ip, p_user_agent, p_callback_url DEFAULT NULL)
//   -> TABLE (body json, session_token text, max_age bigint)
// With pgauth.email_send_on_sign_up or pgauth.email_require_verification the verification
// mail (to p_callback_url) is queued in the sign-up's transaction; with
// require-verification the body is {"token":null,"user":...} and no session is created.
PGAUTH_FUNCTION(pgauth_sign_up_response)
Datum pgauth_sign_up_response_impl(FunctionCallInfo fcinfo) {
    init_srf(fcinfo);
    Datum args[6];
    char nulls[6];
    for (int i = 0; i < 6; i++) args[i] = arg_or_null(fcinfo, i, &nulls[i]);
    bool queue = settings::email_send_on_sign_up || settings::email_require_verification;
    std::optional<std::string> callback;
    if (queue && PG_NARGS() > 6 && !arg_is_null(fcinfo, 6)) callback = text_arg(fcinfo, 6);
    NewSession s = run_session_plan(sign_up_plan, args, nulls, queue, callback);
    std::string body = "{\"token\":";
    if (s.has_session) append_json_string(body, s.token);
    else body.append("null");
    body.append(",\"user\":").append(user_json(s.user, false)).push_back('}');
    return emit_session_row(fcinfo, body, s);
}

// auth.sign_in_response(p_email, p_password, p_remember_me, p_ip, p_user_agent, p_callback_url DEFAULT NULL,
//                       p_trust_device DEFAULT NULL)
//   -> TABLE (body json, session_token text, max_age bigint, error_code text, two_factor_token text)
// Failures (EMAIL_NOT_VERIFIED, INVALID_EMAIL_OR_PASSWORD, BANNED_USER, USER_INACTIVE) come back
// as error_code with body and session NULL: returned, not raised, so the verification mail and
// the audit row commit. A user with two-factor gets {"twoFactorRedirect":true}, no session, and
// two_factor_token (the pending challenge; max_age = its seconds left).
PGAUTH_FUNCTION(pgauth_sign_in_response)
Datum pgauth_sign_in_response_impl(FunctionCallInfo fcinfo) {
    init_srf(fcinfo);
    Datum args[7];
    char nulls[7];
    for (int i = 0; i < 7; i++) args[i] = arg_or_null(fcinfo, i, &nulls[i]);
    std::string callback = arg_is_null(fcinfo, 5) ? "" : text_arg(fcinfo, 5);
    NewSession s;
    std::optional<std::string> error, challenge;
    TimestampTz challenge_expires_at = 0;
    {
        SpiConnection spi;
        if (sign_in_plan.execute(args, nulls, false, 0) != 1) throw AuthError("INTERNAL_ERROR", "no sign-in result");
        if (!spi_cell(0, 6).null) error = spi_text(0, 6);
        if (!spi_cell(0, 4).null) {
            challenge = spi_text(0, 4);
            challenge_expires_at = DatumGetTimestampTz(spi_cell(0, 5).value);
        }
        s.has_session = !spi_cell(0, 2).null;
        if (s.has_session) {
            s.token = spi_text(0, 2);
            s.expires_at = DatumGetTimestampTz(spi_cell(0, 3).value);
        }
        if (!error && !challenge) {
            if (!s.has_session) throw AuthError("INTERNAL_ERROR", "no session was created");
            pg_uuid_t id = *DatumGetUUIDP(spi_cell(0, 1).value);
            s.user = read_user(uuid_datum(id));
        }
    }
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    if (error || challenge) {
        std::string body = "{\"twoFactorRedirect\":true}";
        Datum values[5] = {error ? Datum(0) : text_datum(body), Datum(0),
                           error ? Datum(0) : Int64GetDatum(seconds_left(challenge_expires_at)),
                           error ? text_datum(*error) : Datum(0), challenge ? text_datum(*challenge) : Datum(0)};
        bool vnulls[5] = {bool(error), true, bool(error), !error, !challenge};
        if (challenge) sodium_memzero(challenge->data(), challenge->size());
        // noexcept: stores plain Datums in the tuplestore
        pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, vnulls); });
        return 0;
    }
    std::string body = callback.empty() ? "{\"redirect\":false,\"token\":" : "{\"redirect\":true,\"token\":";
    append_json_string(body, s.token);
    if (!callback.empty()) {
        body.append(",\"url\":");
        append_json_string(body, callback);
    }
    body.append(",\"user\":").append(user_json(s.user, false)).push_back('}');
    Datum values[5] = {text_datum(body), text_datum(s.token), Int64GetDatum(seconds_left(s.expires_at)), Datum(0),
                       Datum(0)};
    bool vnulls[5] = {false, false, false, true, true};
    // noexcept: stores plain Datums in the tuplestore
    pg_call([&]() noexcept { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, vnulls); });
    return 0;
}

// auth.list_sessions_response(p_token text) -> json: the caller's live sessions
// as Better-Auth lists them, or NULL when the token names no live session.
PGAUTH_FUNCTION(pgauth_list_sessions_response)
Datum pgauth_list_sessions_response_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> me = load_session(token, true, ApiKeys::accepted);
    sodium_memzero(token.data(), token.size());
    if (!me) PG_RETURN_NULL();
    std::string out = "[";
    {
        SpiConnection spi;
        Datum args[1] = {uuid_datum(me->user_uuid)};
        uint64 rows = list_plan.execute(args, nullptr, true, 0);
        for (uint64 i = 0; i < rows; i++) {
            SessionRecord s;
            s.id = spi_text(i, 1);
            s.user_id = me->user.id;
            s.expires_at = DatumGetTimestampTz(spi_cell(i, 2).value);
            s.created_at = DatumGetTimestampTz(spi_cell(i, 3).value);
            s.updated_at = DatumGetTimestampTz(spi_cell(i, 4).value);
            s.ip = spi_text_or_null(i, 5);
            s.user_agent = spi_text_or_null(i, 6);
            if (i > 0) out.push_back(',');
            out.append(session_json(s, s.id));  // tokens are not stored; the id revokes it
        }
    }
    out.push_back(']');
    return text_datum(out);
}

// auth.change_password_response(p_token, p_current, p_new, p_revoke_others) -> json:
// {"token": <p_token when p_revoke_others, else null>, "user": {...}}, or NULL
// when the token names no live session. INVALID_PASSWORD etc. as auth.change_password.
PGAUTH_FUNCTION(pgauth_change_password_response)
Datum pgauth_change_password_response_impl(FunctionCallInfo fcinfo) {
    if (arg_is_null(fcinfo, 0)) PG_RETURN_NULL();
    std::string token = text_arg(fcinfo, 0);
    std::optional<LoadedSession> me = load_session(token, true);
    if (!me) {
        sodium_memzero(token.data(), token.size());
        PG_RETURN_NULL();
    }
    bool revoke_others = !arg_is_null(fcinfo, 3) && PG_GETARG_BOOL(3);
    std::string body;
    {
        SpiConnection spi;
        Datum user_id = uuid_datum(me->user_uuid);
        char n1, n2;
        Datum args[5] = {user_id, arg_or_null(fcinfo, 1, &n1), arg_or_null(fcinfo, 2, &n2),
                         BoolGetDatum(revoke_others), PG_GETARG_DATUM(0)};
        char nulls[5] = {' ', n1, n2, ' ', ' '};
        change_plan.execute(args, nulls, false, 0);
        body = "{\"token\":";
        if (revoke_others) append_json_string(body, token);
        else body.append("null");
        body.append(",\"user\":").append(user_json(read_user(user_id), false)).push_back('}');
    }
    sodium_memzero(token.data(), token.size());
    return text_datum(body);
}
