// Signing keys (auth.jwks) as the rest of the extension sees them: the
// current signing key and the published verification keys, from a per-backend
// cache that every change of auth.jwks invalidates. See signing_keys.cpp.
#pragma once
#include "pg/boundary.hpp"

extern "C" {
#include "utils/timestamp.h"
}

#include <string_view>

#include "core/jwt.hpp"

namespace pgauth {

// The current signing key, unsealed with the KEK in pgauth.key_file on first
// use (and created on first use when there is none and the server is
// writable). Throws AuthError SIGNING_KEY_UNAVAILABLE with the reason.
const jwt::SigningKey& signer();

// The published key named by `kid`. Throws AuthError INVALID_TOKEN when it is
// unknown or retired at `now`.
const jwt::PublicKey& verification_key(std::string_view kid, TimestampTz now);

// The KEK from pgauth.key_file, read now (never cached). Throws AuthError
// SIGNING_KEY_UNAVAILABLE when the file is unset, unreadable, group/other
// accessible or not a 32-byte key. Also seals the vault (vault.cpp).
jwt::SecretBytes read_kek();

}  // namespace pgauth
