// Raw argon2id verification rate with libsodium, on N threads: the peer that
// sign-in throughput is compared with (same t and m as pgauth's settings).
// usage: pwhash_rate <opslimit> <memlimit_bytes> <threads> <seconds>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 5 || sodium_init() < 0) return 2;
    unsigned long long ops = std::strtoull(argv[1], nullptr, 10);
    size_t mem = std::strtoull(argv[2], nullptr, 10);
    int threads = std::atoi(argv[3]);
    double seconds = std::atof(argv[4]);
    char hash[crypto_pwhash_STRBYTES];
    const char pw[] = "correct-horse-battery";
    if (crypto_pwhash_argon2id_str(hash, pw, sizeof pw - 1, ops, mem) != 0) return 3;
    std::atomic<long> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                if (crypto_pwhash_argon2id_str_verify(hash, pw, sizeof pw - 1) != 0) std::abort();
                done.fetch_add(1, std::memory_order_relaxed);
            }
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : pool) t.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%.1f\n", done.load() / elapsed);
    return 0;
}
