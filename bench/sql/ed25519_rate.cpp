// Raw libsodium Ed25519 rates on one thread: the peer that auth.verify_jwt and
// auth.sign_jwt are compared with. Reads compact JWS tokens (one per line) and
// the signer's public key (JWK "x", base64url); verifies each token's signature
// over its own signing input, and signs the same signing inputs with a fresh key.
// usage: ed25519_rate <tokens-file> <x> <seconds>    prints "<verifies/s> <signs/s>"
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> b64url(const std::string& text) {
    std::vector<unsigned char> out(text.size());
    size_t len = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        std::exit(3);
    out.resize(len);
    return out;
}

struct Token {
    std::string input;
    std::vector<unsigned char> signature;
};

template <typename F>
double rate(double seconds, std::size_t n, F&& one) {
    long done = 0;
    auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
        for (std::size_t i = 0; i < n; ++i) one(i);
        done += static_cast<long>(n);
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    return done / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || sodium_init() < 0) return 2;
    std::vector<Token> tokens;
    std::ifstream in(argv[1]);
    for (std::string line; std::getline(in, line);) {
        auto dot = line.rfind('.');
        if (dot == std::string::npos) continue;
        tokens.push_back({line.substr(0, dot), b64url(line.substr(dot + 1))});
    }
    auto pk = b64url(argv[2]);
    double seconds = std::atof(argv[3]);
    if (tokens.empty() || pk.size() != crypto_sign_PUBLICKEYBYTES) return 4;
    double verify = rate(seconds, tokens.size(), [&](std::size_t i) {
        const Token& t = tokens[i];
        if (crypto_sign_verify_detached(t.signature.data(), reinterpret_cast<const unsigned char*>(t.input.data()),
                                        t.input.size(), pk.data()) != 0)
            std::exit(5);  // every token must verify: the peer does the same work
    });
    unsigned char spk[crypto_sign_PUBLICKEYBYTES], ssk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
    crypto_sign_keypair(spk, ssk);
    double sign = rate(seconds, tokens.size(), [&](std::size_t i) {
        const Token& t = tokens[i];
        crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(t.input.data()), t.input.size(), ssk);
    });
    sodium_memzero(ssk, sizeof ssk);
    std::printf("%.0f %.0f\n", verify, sign);
    return 0;
}
