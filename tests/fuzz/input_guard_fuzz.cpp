// libFuzzer harness for the input guard's scanner (http/input_guard.hpp).
// The first byte picks where the input is split into two reads; the scanner
// must never hand on more than it was given, must consume every byte it is
// given unless it refuses, must end every head it hands on with CRLF CRLF and
// must give the same requests whatever the split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "input_guard.hpp"

namespace {

struct Result {
    std::string forwarded;
    bool refused = false;
    int status = 0;
};

Result scan(const std::vector<std::string_view>& pieces) {
    pgauth::http::GuardLimits limits;
    limits.max_header_bytes = 2048;  // small caps reach the refusal paths sooner
    limits.max_target = 256;
    limits.max_header_lines = 16;
    limits.max_body = 4096;
    pgauth::http::RequestScanner scanner(limits);
    Result out;
    for (auto input : pieces) {
        for (;;) {
            auto step = scanner.next(input);
            if (step.consumed > input.size()) std::abort();
            input.remove_prefix(step.consumed);
            using Kind = pgauth::http::RequestScanner::Step::Kind;
            if (step.kind == Kind::NeedMore) {
                if (!input.empty()) std::abort();
                break;
            }
            if (step.kind == Kind::Refuse) {
                if (step.refusal.status < 400 || step.refusal.status > 599 || step.refusal.code.empty()) std::abort();
                out.refused = true;
                out.status = step.refusal.status;
                return out;
            }
            if (step.bytes.size() > limits.max_header_bytes + limits.max_body) std::abort();
            out.forwarded.append(step.bytes);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
    Result whole = scan({all});
    Result split = scan({all.substr(0, cut), all.substr(cut)});
    // Same verdict and the same bytes handed on, whatever the split.
    if (whole.refused != split.refused || whole.status != split.status) std::abort();
    if (whole.forwarded != split.forwarded) std::abort();
    // Nothing is invented: what is handed on is a prefix of the input.
    if (all.substr(0, whole.forwarded.size()) != whole.forwarded) std::abort();
    (void)pgauth::http::check_target(all);
    return 0;
}
