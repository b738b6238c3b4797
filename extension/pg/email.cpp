// Email flows (issue 14): the primitives the install script's plpgsql builds on.
//
//  * Secrets: link tokens (32 random bytes, base64url) and numeric OTPs, from
//    libsodium's CSPRNG.
//  * Digests: every token and OTP is stored as HMAC-SHA256 under a subkey
//    derived from the KEK (pgauth.key_file), over a kind (the purpose, and for
//    an OTP the address) and the secret. A dump holds no usable token, and a
//    6-digit OTP cannot be brute-forced from it without the KEK. OTPs are
//    compared in constant time.
//  * The outbox's secret part (url, token, otp) is sealed with
//    XChaCha20-Poly1305 under the KEK; the associated data binds it to its row
//    (id, recipient, template), so a sealed payload copied onto another row,
//    or a row whose recipient was changed, does not open.
//  * url_encode: JavaScript's encodeURIComponent, for the links' query values.
#include "pg/datum.hpp"
#include "pg/signing_keys.hpp"

#include "core/crypto.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>

namespace pgauth {
namespace {

constexpr std::string_view digest_label = "pgauth email digest v1";

// HMAC-SHA256(HMAC-SHA256(KEK, label), kind || 0x00 || secret)
Digest email_digest(std::string_view kind, std::string_view secret) {
    jwt::SecretBytes kek = read_kek();
    Digest subkey = hmac_sha256(kek.bytes(), as_bytes(digest_label));
    std::string message;
    message.reserve(kind.size() + 1 + secret.size());
    message.append(kind).push_back('\0');
    message.append(secret);
    Digest out = hmac_sha256({subkey.data(), subkey.size()}, as_bytes(message));
    sodium_memzero(subkey.data(), subkey.size());
    sodium_memzero(message.data(), message.size());
    return out;
}

// "pgauth outbox" 0x00 || id (8 bytes, big-endian) || recipient 0x00 || template
std::string outbox_aad(FunctionCallInfo fcinfo) {
    auto id = static_cast<std::uint64_t>(PG_GETARG_INT64(0));
    std::string aad("pgauth outbox");
    aad.push_back('\0');
    for (int shift = 56; shift >= 0; shift -= 8) aad.push_back(static_cast<char>((id >> shift) & 0xff));
    aad += text_arg(fcinfo, 1);
    aad.push_back('\0');
    aad += text_arg(fcinfo, 2);
    return aad;
}

}  // namespace
}  // namespace pgauth

using namespace pgauth;

// auth.email_new_token() -> text: 32 random bytes, base64url (43 characters).
PGAUTH_FUNCTION(pgauth_email_new_token)
Datum pgauth_email_new_token_impl(FunctionCallInfo fcinfo) {
    std::string token = random_token(32);
    Datum out = text_datum(token);
    sodium_memzero(token.data(), token.size());
    return out;
}

// auth.email_new_otp(p_length integer) -> text (STRICT): p_length uniform decimal digits.
PGAUTH_FUNCTION(pgauth_email_new_otp)
Datum pgauth_email_new_otp_impl(FunctionCallInfo fcinfo) {
    int32 length = PG_GETARG_INT32(0);
    if (length < 4 || length > 10) throw AuthError("VALIDATION_ERROR", "the OTP length must be 4 to 10 digits");
    std::string otp;
    for (int32 i = 0; i < length; i++) otp.push_back(static_cast<char>('0' + randombytes_uniform(10)));
    Datum out = text_datum(otp);
    sodium_memzero(otp.data(), otp.size());
    return out;
}

// auth.email_digest(p_kind text, p_secret text) -> bytea (STRICT): the keyed digest stored
// for a token or OTP. SIGNING_KEY_UNAVAILABLE without a KEK.
PGAUTH_FUNCTION(pgauth_email_digest)
Datum pgauth_email_digest_impl(FunctionCallInfo fcinfo) {
    std::string kind = text_arg(fcinfo, 0);
    std::string secret = text_arg(fcinfo, 1);
    Digest d = email_digest(kind, secret);
    sodium_memzero(secret.data(), secret.size());
    return bytea_datum(d);
}

// auth.email_digest_matches(p_digest bytea, p_kind text, p_secret text) -> boolean (STRICT):
// whether p_secret is the secret of p_digest, compared in constant time.
PGAUTH_FUNCTION(pgauth_email_digest_matches)
Datum pgauth_email_digest_matches_impl(FunctionCallInfo fcinfo) {
    std::vector<std::uint8_t> stored = bytea_bytes(PG_GETARG_DATUM(0));
    std::string kind = text_arg(fcinfo, 1);
    std::string secret = text_arg(fcinfo, 2);
    Digest d = email_digest(kind, secret);
    sodium_memzero(secret.data(), secret.size());
    bool same = equal_ct({stored.data(), stored.size()}, {d.data(), d.size()});
    PG_RETURN_BOOL(same);
}

// auth.outbox_seal(p_id bigint, p_recipient text, p_template text, p_secret text) -> bytea (STRICT)
PGAUTH_FUNCTION(pgauth_outbox_seal)
Datum pgauth_outbox_seal_impl(FunctionCallInfo fcinfo) {
    return seal_text_arg(fcinfo, 3, outbox_aad(fcinfo));
}

// auth.outbox_open(p_id bigint, p_recipient text, p_template text, p_sealed bytea) -> text (STRICT):
// the secret part, or NULL when it does not open (another row's payload, an altered row, or
// another KEK). SIGNING_KEY_UNAVAILABLE when there is no KEK at all (a configuration fault,
// not the row's).
PGAUTH_FUNCTION(pgauth_outbox_open)
Datum pgauth_outbox_open_impl(FunctionCallInfo fcinfo) {
    if (std::optional<Datum> secret = open_bytea_arg(fcinfo, 3, outbox_aad(fcinfo))) return *secret;
    PG_RETURN_NULL();
}

// auth.url_encode(p_value text) -> text (IMMUTABLE STRICT): encodeURIComponent.
PGAUTH_FUNCTION(pgauth_url_encode)
Datum pgauth_url_encode_impl(FunctionCallInfo fcinfo) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string in = text_arg(fcinfo, 0);
    std::string out;
    out.reserve(in.size() * 3);
    for (char c : in) {
        auto u = static_cast<unsigned char>(c);
        bool keep = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
                    u == '_' || u == '.' || u == '!' || u == '~' || u == '*' || u == '\'' || u == '(' || u == ')';
        if (keep) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        }
    }
    return text_datum(out);
}
