// Password hashing: argon2id, Better-Auth scrypt and bcrypt vectors, rehash rules.
#include <gtest/gtest.h>

#include <crypt.h>

#include <chrono>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/password.hpp"

using namespace pgauth;

namespace {
// Produced by Node's crypto.scryptSync (the algorithm Better-Auth 1.7 uses):
// scrypt(NFKC(pw), salt = the hex string's bytes, N=16384, r=16, p=1, dkLen=64).
constexpr char scrypt_vector[] =
    "9f86d081884c7d659a2feaa0c55ad015:4b4815da219a591e627a09dfe77facc2f861d0f7e1134116667673bbee7bcb28346bafde8c93fe8"
    "9f4993245be666a27d13ba76c59d4e274ae355547f4c70754";
constexpr char scrypt_password[] = "correct-horse-battery";
// Same, from the brief's exact command (salt "0123456789abcdef0123456789abcdef").
constexpr char scrypt_salt[] = "0123456789abcdef0123456789abcdef";
constexpr char scrypt_vector2[] =
    "0123456789abcdef0123456789abcdef:68b228eae069737062c56fbe239acdc9517ba0c0ed53447e2697faa281de7aab26e6e87571f29175"
    "a258c42d8a9fde39d6cd344c160472b76897c7bcfe0a1f53";
// Non-ASCII, already NFKC: "pässwörd-ü" as UTF-8 (70 c3a4 73 73 77 c3b6 72 64 2d c3bc), same salt.
constexpr char utf8_password[] = "p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbc";
constexpr char scrypt_vector_utf8[] =
    "0123456789abcdef0123456789abcdef:eb59224065c35f31aafa76e4df0e28c40ba27bc936a542857c9cafb2bed98d9baffc484a1d07f85b"
    "eea444034a7e56f53148bc06dfa958adb83560544f2b05f7";
// OpenBSD / John the Ripper bcrypt vector.
constexpr char bcrypt_vector[] = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
const Argon2Params fast{1, 8192 * 1024};
}  // namespace

// Lower-case suite name so that `ctest -R password` selects these tests.
class password : public ::testing::Test {
protected:
    static void SetUpTestSuite() { crypto_init(); }
};

TEST_F(password, Classify) {
    EXPECT_EQ(classify_hash(scrypt_vector), HashKind::scrypt_better_auth);
    EXPECT_EQ(classify_hash(bcrypt_vector), HashKind::bcrypt);
    EXPECT_EQ(classify_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), HashKind::argon2id);
    for (std::string_view s : {"", "hunter2", "$argon2i$v=19$m=4096,t=3,p=1$x$y", "$2a$05$short",
                               "9F86D081884C7D659A2FEAA0C55AD015:00", "md5$5f4dcc3b5aa765d61d8327deb882cf99"})
        EXPECT_EQ(classify_hash(s), HashKind::unknown) << s;
}

TEST_F(password, BetterAuthScryptVector) {
    EXPECT_EQ(better_auth_scrypt_hash(scrypt_password, "9f86d081884c7d659a2feaa0c55ad015"), scrypt_vector);
    EXPECT_TRUE(verify_password(scrypt_vector, scrypt_password));
    EXPECT_FALSE(verify_password(scrypt_vector, "correct-horse-batter"));
    std::string tampered = scrypt_vector;
    tampered.back() = tampered.back() == '4' ? '5' : '4';
    EXPECT_FALSE(verify_password(tampered, scrypt_password));
}

TEST_F(password, BetterAuthScryptNodeVectors) {
    EXPECT_EQ(better_auth_scrypt_hash(scrypt_password, scrypt_salt), scrypt_vector2);
    EXPECT_EQ(classify_hash(scrypt_vector2), HashKind::scrypt_better_auth);
    EXPECT_TRUE(verify_password(scrypt_vector2, scrypt_password));
    EXPECT_FALSE(verify_password(scrypt_vector2, "Correct-horse-battery"));

    ASSERT_EQ(std::string_view(utf8_password).size(), 13u);
    EXPECT_EQ(better_auth_scrypt_hash(utf8_password, scrypt_salt), scrypt_vector_utf8);
    EXPECT_EQ(classify_hash(scrypt_vector_utf8), HashKind::scrypt_better_auth);
    EXPECT_TRUE(verify_password(scrypt_vector_utf8, utf8_password));
    // the NFD spelling (a + U+0308 ...) is a different byte string: callers must normalize first
    EXPECT_FALSE(verify_password(scrypt_vector_utf8, "pa\xcc\x88ssw\xc3\xb6rd-\xc3\xbc"));
    EXPECT_FALSE(verify_password(scrypt_vector_utf8, ""));
}

TEST_F(password, Bcrypt) {
    EXPECT_TRUE(verify_password(bcrypt_vector, "U*U"));
    EXPECT_FALSE(verify_password(bcrypt_vector, "U*V"));
    // a fresh $2b$ hash from libxcrypt, and the same hash under the $2y$ prefix
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt), nullptr);
    crypt_data data{};
    std::string hash = crypt_rn("legacy pass", salt, &data, sizeof data);
    ASSERT_EQ(hash.size(), 60u);
    EXPECT_TRUE(verify_password(hash, "legacy pass"));
    EXPECT_FALSE(verify_password(hash, "legacy pasS"));
    EXPECT_TRUE(verify_password("$2y$" + hash.substr(4), "legacy pass"));
    EXPECT_FALSE(verify_password(hash, std::string("legacy pass\0x", 13)));
}

TEST_F(password, Argon2idRoundTrip) {
    std::string hash = hash_password("pässwörd-ü", fast);
    EXPECT_EQ(classify_hash(hash), HashKind::argon2id);
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=8192,t=1,p=1$", 0), 0u) << hash;
    EXPECT_TRUE(verify_password(hash, "pässwörd-ü"));
    EXPECT_FALSE(verify_password(hash, "passwörd-ü"));
    EXPECT_NE(hash_password("same", fast), hash_password("same", fast));
}

TEST_F(password, DefaultsAreOwaspMinimum) {
    std::string hash = hash_password("x", Argon2Params{});
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
    EXPECT_FALSE(needs_rehash(hash, Argon2Params{}));
}

TEST_F(password, NeedsRehash) {
    std::string weak = hash_password("x", fast);
    EXPECT_FALSE(needs_rehash(weak, fast));
    EXPECT_TRUE(needs_rehash(weak, Argon2Params{2, 8192 * 1024}));
    EXPECT_TRUE(needs_rehash(scrypt_vector, fast));
    EXPECT_TRUE(needs_rehash(bcrypt_vector, fast));
}

TEST_F(password, GarbageNeverVerifiesNorThrows) {
    for (std::string_view s : std::initializer_list<std::string_view>{"", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=1$$", "$2b$04$", std::string_view(bcrypt_vector, 59),
                               "9f86d081884c7d659a2feaa0c55ad015:zz", "\xff\xfe", "$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"})
        EXPECT_FALSE(verify_password(s, "anything")) << s;
}

TEST_F(password, DummyVerifyIsRepeatableAndThreadSafe) {
    const Argon2Params other{2, 8192 * 1024};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] { dummy_verify("guess", i % 2 ? fast : other); });
    for (auto& t : threads) t.join();
    EXPECT_NO_THROW(dummy_verify("", fast));
}

TEST_F(password, RejectsParametersBelowTheLibraryMinimum) {
    EXPECT_THROW(hash_password("x", Argon2Params{0, 0}), std::invalid_argument);
    EXPECT_THROW(dummy_verify("x", Argon2Params{1, 1024}), std::invalid_argument);
    EXPECT_NO_THROW(dummy_verify("x", fast));
}

// An imported hash declares its own cost; above the limits nothing is hashed.
TEST_F(password, PoisonedHashesAreRefusedFast) {
    const std::string argon2_poison =
        "$argon2id$v=19$m=262144,t=300,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    const std::string bcrypt_poison = "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    const HashLimits limits;
    EXPECT_NE(cost_over_limits(argon2_poison, limits).find("m=262144"), std::string::npos);
    EXPECT_NE(cost_over_limits(bcrypt_poison, limits).find("cost 31"), std::string::npos);
    EXPECT_NE(cost_over_limits("$argon2id$v=19$m=65536,t=11,p=1$c2FsdA$aGFzaA", limits).find("t=11"),
              std::string::npos);
    EXPECT_EQ(cost_over_limits("$argon2id$v=19$m=65536,t=10,p=1$c2FsdA$aGFzaA", limits), "");
    EXPECT_EQ(cost_over_limits(bcrypt_vector, limits), "");
    EXPECT_EQ(cost_over_limits(scrypt_vector, limits), "");
    EXPECT_NE(cost_over_limits("hunter2", limits), "");

    auto started = std::chrono::steady_clock::now();
    for (const std::string& poison : {argon2_poison, bcrypt_poison}) {
        try {
            verify_password(poison, "anything", limits);
            ADD_FAILURE() << "verified " << poison;
        } catch (const AuthError& e) {
            EXPECT_EQ(e.code(), "PASSWORD_HASH_UNVERIFIABLE");
        }
    }
    // scrypt's N is fixed by the Better-Auth format; the raw function refuses a large N before working
    EXPECT_THROW(scrypt_raw("pw", "salt", std::uint64_t{1} << 20, 8, 1, 64), std::invalid_argument);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
}

TEST_F(password, LimitsAreConfigurable) {
    HashLimits strict;
    strict.bcrypt_max_cost = 4;
    EXPECT_THROW(verify_password(bcrypt_vector, "U*U", strict), AuthError);  // the vector has cost 5
    strict.bcrypt_max_cost = 5;
    EXPECT_TRUE(verify_password(bcrypt_vector, "U*U", strict));
    HashLimits tiny;
    tiny.argon2_max_memlimit = 4096 * 1024;
    EXPECT_THROW(verify_password(hash_password("x", fast), "x", tiny), AuthError);  // fast uses 8 MiB
    tiny.scrypt_max_n = 8192;
    EXPECT_THROW(verify_password(scrypt_vector, scrypt_password, tiny), AuthError);
}
