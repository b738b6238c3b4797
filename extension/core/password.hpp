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

// The most work a stored hash may ask for (pgauth.argon2_max_*, bcrypt_max_cost,
// scrypt_max_n). An imported hash declares its own cost, and verifying runs
// it in full: without limits one row could hold a backend for minutes at
// hundreds of MiB, and libsodium cannot be interrupted mid-hash.
struct HashLimits {
    unsigned long long argon2_max_opslimit = 10;           // t
    std::size_t argon2_max_memlimit = 64u * 1024 * 1024;   // m, bytes
    unsigned argon2_max_parallelism = 16;                  // p (lanes)
    int bcrypt_max_cost = 14;                              // log2 rounds
    std::uint64_t scrypt_max_n = std::uint64_t{1} << 17;   // N
};

enum class HashKind { argon2id, scrypt_better_auth, bcrypt, unknown };

// Recognizes the stored format without verifying anything.
HashKind classify_hash(std::string_view stored);

// argon2id PHC string ($argon2id$v=19$m=...,t=...,p=1$salt$hash).
std::string hash_password(std::string_view password, const Argon2Params& params);

// Empty when `stored` is within `limits`; otherwise why not (e.g. "argon2id m=262144 KiB
// is above the limit of 65536 KiB"). Unknown formats and malformed argon2id
// parameters are reported too: nothing unparsed is ever run.
std::string cost_over_limits(std::string_view stored, const HashLimits& limits);

// True when `password` matches `stored` (any supported format), in constant time
// with respect to the digest. False for a wrong password or an unknown format.
// Throws AuthError PASSWORD_HASH_UNVERIFIABLE, before any hashing, when the hash
// asks for more work than `limits` allow.
bool verify_password(std::string_view stored, std::string_view password, const HashLimits& limits = {});

// True when `stored` is not argon2id at exactly `params` (legacy format or weaker/other cost).
bool needs_rehash(std::string_view stored, const Argon2Params& params);

// Spends one argon2id verification at `params` against a fixed hash, so that an
// unknown account costs what a known one does.
void dummy_verify(std::string_view password, const Argon2Params& params);

// Better-Auth's scrypt: N=16384, r=16, p=1, dkLen=64, salt = salt_hex's bytes.
// Returns "salt_hex:keyhex". Exposed for tests and imports.
std::string better_auth_scrypt_hash(std::string_view password, std::string_view salt_hex);

// Raw scrypt (RFC 7914) — exposed for known-answer tests. Refuses (std::invalid_argument)
// N above `max_n` before doing any work.
std::string scrypt_raw(std::string_view password, std::string_view salt, std::uint64_t N,
                       std::uint32_t r, std::uint32_t p, std::size_t dk_len,
                       std::uint64_t max_n = HashLimits{}.scrypt_max_n);

}  // namespace pgauth
