// Password hashing: argon2id for new hashes; verification of argon2id,
// Better-Auth scrypt ("salthex:keyhex") and bcrypt ($2a$/$2b$/$2y$). PG-free.
// Callers pass passwords already NFKC-normalized (the PG layer does that).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgauth {

struct Argon2Params {
    unsigned long long opslimit = 2;        // t
    std::size_t memlimit = 19u * 1024 * 1024;  // m, bytes (OWASP minimum: 19 MiB)
};

enum class HashKind { argon2id, scrypt_better_auth, bcrypt, unknown };

// Recognizes the stored format without verifying anything.
HashKind classify_hash(std::string_view stored);

// argon2id PHC string ($argon2id$v=19$m=...,t=...,p=1$salt$hash).
std::string hash_password(std::string_view password, const Argon2Params& params);

// True when `password` matches `stored` (any supported format), in constant time
// with respect to the digest. False for a wrong password or an unknown format.
bool verify_password(std::string_view stored, std::string_view password);

// True when `stored` is not argon2id at exactly `params` (legacy format or weaker/other cost).
bool needs_rehash(std::string_view stored, const Argon2Params& params);

// Spends one argon2id verification at `params` against a fixed hash, so that an
// unknown account costs what a known one does.
void dummy_verify(std::string_view password, const Argon2Params& params);

// Better-Auth's scrypt: N=16384, r=16, p=1, dkLen=64, salt = salt_hex's bytes.
// Returns "salt_hex:keyhex". Exposed for tests and imports.
std::string better_auth_scrypt_hash(std::string_view password, std::string_view salt_hex);

// Raw scrypt (RFC 7914) — exposed for known-answer tests.
std::string scrypt_raw(std::string_view password, std::string_view salt, std::uint64_t N,
                       std::uint32_t r, std::uint32_t p, std::size_t dk_len);

}  // namespace pgauth
