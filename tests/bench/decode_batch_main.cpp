// obs_bench_decode: the CPU cost of decoding POST /observability/events
// bodies on one core, in process (no sockets, no SQLite), for
// scripts/bench-decode. Bodies of 1000 events shaped like the SDKs' (a
// UUIDv7 `id` first, then run_id, type, ts, payload; a tool_call whose keys
// come unsorted, as a user's dict gives them), decoded by:
//   - the streaming fast path, bodies with ids
//   - the streaming fast path, the same bodies without ids
//   - the full decoder (parse_json into an arena, as the server does, and
//     decode_event_batch), bodies with ids
// Prints one line per variant: events per CPU-second of this thread (the
// machine is shared, so wall time would count the neighbours' turns), the
// median of ROUNDS runs of about SECONDS each.
// Usage: obs_bench_decode [rounds] [seconds]
#include "domain/plain_batch.hpp"
#include "domain/uuid.hpp"
#include "domain/validation.hpp"

#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace domain = obs::domain;
namespace json = boost::json;

constexpr std::int64_t now = 1795817045123;
constexpr std::size_t events_per_body = 1000;

std::string make_body(bool with_ids) {
    std::string body = "{\"events\":[";
    for (std::size_t i = 0; i < events_per_body; ++i) {
        if (i > 0) body.push_back(',');
        body.push_back('{');
        if (with_ids) body += "\"id\":\"" + domain::make_uuid_v7(now + static_cast<std::int64_t>(i)) + "\",";
        body += R"("run_id":"bench-run","type":"tool_call","ts":"2026-11-27T22:04:05.123Z",)"
                R"("payload":{"tool":"search","call_id":"c)" +
                std::to_string(i) + R"(","arguments":{"query":"gear ratio \"helical\"","k":5,"score":0.875}}})";
    }
    body += "]}";
    return body;
}

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Events decoded per CPU-second: runs `decode` (one body, returns its event
// count) for about `seconds`, `rounds` times; the median round.
double rate(const std::function<std::size_t()>& decode, int rounds, double seconds) {
    std::vector<double> rates;
    for (int r = 0; r < rounds; ++r) {
        std::size_t events = 0;
        const double start = thread_cpu_seconds();
        double spent = 0;
        do {
            events += decode();
            spent = thread_cpu_seconds() - start;
        } while (spent < seconds);
        rates.push_back(static_cast<double>(events) / spent);
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
}

std::size_t must(std::size_t n) {
    if (n != events_per_body) throw std::runtime_error("a bench body did not decode");
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
    const double seconds = argc > 2 ? std::atof(argv[2]) : 0.5;
    const std::string with_ids = make_body(true);
    const std::string without_ids = make_body(false);

    // The fast path must take both bodies, and agree with the full decoder
    // on the events, or the numbers below mean nothing.
    const auto fast = domain::decode_plain_batch(with_ids, now);
    const auto full = domain::decode_event_batch(*domain::parse_json(with_ids).value, now);
    if (!fast || !full.ok() || !domain::decode_plain_batch(without_ids, now)) {
        std::fprintf(stderr, "obs_bench_decode: a bench body is declined or invalid\n");
        return 1;
    }
    for (std::size_t i = 0; i < events_per_body; ++i)
        if ((*fast)[i].id != full.events[i].id || (*fast)[i].payload_json != full.events[i].payload_json) {
            std::fprintf(stderr, "obs_bench_decode: the decoders differ at event %zu\n", i);
            return 1;
        }

    const double fast_ids = rate([&] { return must(domain::decode_plain_batch(with_ids, now)->size()); },
                                 rounds, seconds);
    const double fast_plain = rate([&] { return must(domain::decode_plain_batch(without_ids, now)->size()); },
                                   rounds, seconds);
    const double full_ids = rate(
        [&] {
            json::monotonic_resource arena(with_ids.size() * 2);
            const auto parsed = domain::parse_json(with_ids, json::storage_ptr(&arena));
            return must(domain::decode_event_batch(*parsed.value, now).events.size());
        },
        rounds, seconds);
    std::printf("%-58s %12s\n", "decoder (1000-event bodies, one thread)", "events/CPU-s");
    std::printf("%-58s %12.0f\n", "fast path, ids", fast_ids);
    std::printf("%-58s %12.0f\n", "fast path, no ids", fast_plain);
    std::printf("%-58s %12.0f\n", "full decoder, ids", full_ids);
    return 0;
}
