// argon2id hashing; argon2id, Better-Auth scrypt and bcrypt verification.
#include "core/password.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/error.hpp"

namespace pgauth {
namespace {

constexpr std::uint64_t scrypt_n = 16384;
constexpr std::uint32_t scrypt_r = 16;
constexpr std::uint32_t scrypt_p = 1;
constexpr std::size_t scrypt_key_length = 64;

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

void check_params(const Argon2Params& params) {
    if (params.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN || params.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
        params.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN)
        throw std::invalid_argument("argon2id parameters below the library's minimum");
}

bool verify_bcrypt(std::string_view stored, std::string_view password) {
    if (password.find('\0') != std::string_view::npos) return false;
    auto data = std::make_unique<crypt_data>();
    std::string phrase(password);
    std::string setting(stored);
    const char* result = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
    bool match = result && result[0] != '*' && std::string_view(result).size() == stored.size() &&
                 equal_ct(as_bytes(result), as_bytes(stored));
    sodium_memzero(data.get(), sizeof(crypt_data));
    sodium_memzero(phrase.data(), phrase.size());
    return match;
}

// Parses the "m=..,t=..,p=.." of "$argon2id$v=19$m=..,t=..,p=..$salt$hash".
struct Argon2Cost {
    unsigned long long m_kib = 0, t = 0, p = 0;
};
std::optional<Argon2Cost> argon2_cost(std::string_view stored) {
    constexpr std::string_view prefix = "$argon2id$v=19$";
    if (!starts_with(stored, prefix)) return std::nullopt;
    std::string_view rest = stored.substr(prefix.size());
    Argon2Cost cost;
    for (auto [name, out] : {std::pair{'m', &cost.m_kib}, std::pair{'t', &cost.t}, std::pair{'p', &cost.p}}) {
        if (rest.size() < 3 || rest[0] != name || rest[1] != '=') return std::nullopt;
        rest.remove_prefix(2);
        std::size_t digits = 0;
        unsigned long long value = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            if (digits == 10) return std::nullopt;  // > 10 digits: nonsense, and keeps value from overflowing
            value = value * 10 + static_cast<unsigned long long>(rest[digits] - '0');
            digits++;
        }
        if (digits == 0) return std::nullopt;
        *out = value;
        rest.remove_prefix(digits);
        char separator = name == 'p' ? '$' : ',';
        if (rest.empty() || rest[0] != separator) return std::nullopt;
        rest.remove_prefix(1);
    }
    return cost;
}

bool verify_scrypt(std::string_view stored, std::string_view password) {
    auto expected = hex_decode(stored.substr(33));
    if (!expected || expected->size() != scrypt_key_length) return false;
    std::string derived =
        scrypt_raw(password, stored.substr(0, 32), scrypt_n, scrypt_r, scrypt_p, scrypt_key_length, scrypt_n);
    bool match = equal_ct(as_bytes(derived), as_bytes(*expected));
    sodium_memzero(derived.data(), derived.size());
    return match;
}

}  // namespace

HashKind classify_hash(std::string_view stored) {
    if (starts_with(stored, "$argon2id$")) return HashKind::argon2id;
    if ((starts_with(stored, "$2a$") || starts_with(stored, "$2b$") || starts_with(stored, "$2y$")) &&
        stored.size() == 60)
        return HashKind::bcrypt;
    if (stored.size() == 32 + 1 + 128 && stored[32] == ':' && is_lower_hex(stored.substr(0, 32)) &&
        is_lower_hex(stored.substr(33)))
        return HashKind::scrypt_better_auth;
    return HashKind::unknown;
}

std::string hash_password(std::string_view password, const Argon2Params& params) {
    check_params(params);
    crypto_init();
    char out[crypto_pwhash_STRBYTES] = {};
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.opslimit, params.memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("argon2id hashing failed (out of memory?)");
    return std::string(out);
}

std::string cost_over_limits(std::string_view stored, const HashLimits& limits) {
    switch (classify_hash(stored)) {
        case HashKind::argon2id: {
            auto cost = argon2_cost(stored);
            if (!cost) return "argon2id hash without parseable m, t and p parameters";
            if (cost->m_kib > limits.argon2_max_memlimit / 1024)
                return "argon2id m=" + std::to_string(cost->m_kib) + " KiB is above the limit of " +
                       std::to_string(limits.argon2_max_memlimit / 1024) + " KiB (pgauth.argon2_max_memlimit)";
            if (cost->t > limits.argon2_max_opslimit)
                return "argon2id t=" + std::to_string(cost->t) + " is above the limit of " +
                       std::to_string(limits.argon2_max_opslimit) + " (pgauth.argon2_max_opslimit)";
            if (cost->p > limits.argon2_max_parallelism)
                return "argon2id p=" + std::to_string(cost->p) + " is above the limit of " +
                       std::to_string(limits.argon2_max_parallelism);
            return {};
        }
        case HashKind::bcrypt: {
            char hi = stored[4], lo = stored[5];
            if (hi < '0' || hi > '9' || lo < '0' || lo > '9' || stored[6] != '$') return "bcrypt hash without a cost";
            int cost = (hi - '0') * 10 + (lo - '0');
            if (cost > limits.bcrypt_max_cost)
                return "bcrypt cost " + std::to_string(cost) + " is above the limit of " +
                       std::to_string(limits.bcrypt_max_cost) + " (pgauth.bcrypt_max_cost)";
            return {};
        }
        case HashKind::scrypt_better_auth:
            if (scrypt_n > limits.scrypt_max_n)
                return "scrypt N=" + std::to_string(scrypt_n) + " is above the limit of " +
                       std::to_string(limits.scrypt_max_n) + " (pgauth.scrypt_max_n)";
            return {};
        case HashKind::unknown: break;
    }
    return "unrecognised password hash format";
}

bool verify_password(std::string_view stored, std::string_view password, const HashLimits& limits) {
    HashKind kind = classify_hash(stored);
    if (kind == HashKind::unknown) return false;
    // Malformed cost fields: no library gets to parse them, and nothing matches.
    if (kind == HashKind::argon2id && !argon2_cost(stored)) return false;
    if (kind == HashKind::bcrypt) {
        if (!(stored[4] >= '0' && stored[4] <= '9' && stored[5] >= '0' && stored[5] <= '9')) return false;
        int cost = (stored[4] - '0') * 10 + (stored[5] - '0');
        if (cost < 4 || cost > 31) return false;  // not bcrypt at all
    }
    if (std::string why = cost_over_limits(stored, limits); !why.empty())
        throw AuthError("PASSWORD_HASH_UNVERIFIABLE", "the stored password hash cannot be verified: " + why);
    switch (classify_hash(stored)) {
        case HashKind::argon2id: {
            crypto_init();
            std::string hash(stored);  // NUL-terminated copy
            return crypto_pwhash_argon2id_str_verify(hash.c_str(), password.data(), password.size()) == 0;
        }
        case HashKind::bcrypt: return verify_bcrypt(stored, password);
        case HashKind::scrypt_better_auth: return verify_scrypt(stored, password);
        case HashKind::unknown: break;
    }
    return false;
}

bool needs_rehash(std::string_view stored, const Argon2Params& params) {
    if (classify_hash(stored) != HashKind::argon2id) return true;
    std::string hash(stored);
    return crypto_pwhash_argon2id_str_needs_rehash(hash.c_str(), params.opslimit, params.memlimit) != 0;
}

void dummy_verify(std::string_view password, const Argon2Params& params) {
    check_params(params);
    crypto_init();
    static std::mutex mutex;
    static std::map<std::pair<unsigned long long, std::size_t>, std::string> hashes;
    std::string hash;
    {
        std::lock_guard lock(mutex);
        auto& cached = hashes[{params.opslimit, params.memlimit}];
        if (cached.empty()) {
            std::string secret = random_token(24);
            cached = hash_password(secret, params);
            sodium_memzero(secret.data(), secret.size());
        }
        hash = cached;
    }
    // The outcome is irrelevant; only the time spent matters.
    [[maybe_unused]] const int ignored =
        crypto_pwhash_argon2id_str_verify(hash.c_str(), password.data(), password.size());
}

std::string better_auth_scrypt_hash(std::string_view password, std::string_view salt_hex) {
    std::string key = scrypt_raw(password, salt_hex, scrypt_n, scrypt_r, scrypt_p, scrypt_key_length);
    std::string out = std::string(salt_hex) + ":" + hex_encode(as_bytes(key));
    sodium_memzero(key.data(), key.size());
    return out;
}

std::string scrypt_raw(std::string_view password, std::string_view salt, std::uint64_t N, std::uint32_t r,
                       std::uint32_t p, std::size_t dk_len, std::uint64_t max_n) {
    if (N > max_n) throw std::invalid_argument("scrypt N above the configured limit");
    // OpenSSL needs 128*r*(N+2) bytes for V plus 128*r*p for B; leave slack and
    // never ask for less than 64 MiB (Better-Auth's N=16384, r=16 needs ~32 MiB).
    constexpr std::uint64_t limit = std::uint64_t{1} << 40;
    if (r == 0 || p == 0 || N < 2 || N > limit / 128 / r || p > limit / 128 / r)
        throw std::invalid_argument("scrypt parameters out of range");
    const std::uint64_t needed = 128 * std::uint64_t{r} * (N + 2) + 128 * std::uint64_t{r} * p;
    const std::uint64_t maxmem = std::max<std::uint64_t>(needed + (std::uint64_t{1} << 20), std::uint64_t{64} << 20);
    std::string out(dk_len, '\0');
    if (EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                       salt.size(), N, r, p, maxmem, reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1)
        throw std::runtime_error("scrypt failed");
    return out;
}

}  // namespace pgauth
