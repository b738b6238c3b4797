// Signing keys (auth.jwks) as the rest of the extension sees them: the
// current signing key and the published verification keys, from a per-backend
// cache that every change of auth.jwks invalidates. See signing_keys.cpp.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "utils/timestamp.h"
}

#include <optional>
#include <span>
#include <string_view>

#include "core/jwt.hpp"

namespace pgauth {

// The current signing key, unsealed with the KEK in pgauth.key_file on first
// use (and created on first use when there is none and the server is
// writable). Throws AuthError SIGNING_KEY_UNAVAILABLE with the reason.
const jwt::SigningKey& signer();

// The current signing key of one algorithm (the OAuth provider's id_tokens):
// the newest published key of that algorithm with a private part. When there is
// none, one is created as a secondary key: published in the JWKS, never the
// session key, and not retired by a rotation to another algorithm.
const jwt::SigningKey& signer_for(jwt::Alg alg);

// The published key named by `kid`. Throws AuthError INVALID_TOKEN when it is
// unknown or retired at `now`.
const jwt::PublicKey& verification_key(std::string_view kid, TimestampTz now);

// The KEK from pgauth.key_file, read now (never cached). Throws AuthError
// SIGNING_KEY_UNAVAILABLE when the file is unset, unreadable, group/other
// accessible or not a 32-byte key. Also seals the vault (vault.cpp).
jwt::SecretBytes read_kek();

// The previous KEK from pgauth.previous_key_file while a rotation is under way
// (same file rules), or nothing when the setting is empty.
std::optional<jwt::SecretBytes> read_previous_kek();

// Opens a value sealed under the KEK: with the current KEK, else with the
// previous one (pgauth.previous_key_file), so sealed values keep opening while
// auth.reseal() moves them to the current KEK. `previous` (optional) says which
// opened it. Nothing when neither does; AuthError SIGNING_KEY_UNAVAILABLE when
// a configured key file is unusable.
std::optional<jwt::SecretBytes> open_sealed(std::span<const std::uint8_t> sealed, std::string_view aad,
                                            bool* previous = nullptr);

// The seal/open SQL functions of every area (vault, social provider tokens, outbox) share these:
// text argument `arg` sealed under the current KEK with `aad`, as bytea (the copy is wiped);
Datum seal_text_arg(FunctionCallInfo fcinfo, int arg, std::string_view aad);
// bytea argument `arg` opened with open_sealed, as text, or nothing when it does not open.
std::optional<Datum> open_bytea_arg(FunctionCallInfo fcinfo, int arg, std::string_view aad);

}  // namespace pgauth
