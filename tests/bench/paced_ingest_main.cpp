// obs_bench_paced_ingest: POSTs single events (or batches) at a steady rate
// for a fixed time over keep-alive connections (the stream benchmark's
// event_poster) and prints one JSON line: the latency of each request from
// its send to its 201 (after commit), as p50/p99/max in ms, and how many
// requests failed or went out late. A steady rate, not "as fast as
// possible": scripts/bench-retention compares the latency agents see with
// and without background deletion at the same load, where a saturating load
// would measure the queue instead.
//   obs_bench_paced_ingest --port P [--rate EVENTS_PER_S] [--batch N] [--duration S] [--connections C]
#include "tests/bench/event_poster.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

double percentile_ms(std::vector<std::int64_t>& sorted_ns, double p) {
    if (sorted_ns.empty()) return 0;
    const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted_ns.size() - 1));
    return static_cast<double>(sorted_ns[at]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    obs::bench::event_poster::options o;
    unsigned short port = 0;
    double duration_s = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--port") port = static_cast<unsigned short>(std::stoul(value));
        else if (key == "--rate") o.events_per_second = std::stod(value);
        else if (key == "--batch") o.batch = std::stoul(value);
        else if (key == "--duration") duration_s = std::stod(value);
        else if (key == "--connections") o.connections = std::stoul(value);
        else {
            std::fprintf(stderr, "obs_bench_paced_ingest: unknown option %s\n", key.c_str());
            return 2;
        }
    }
    if (port == 0 || o.events_per_second <= 0 || o.batch < 1 || o.batch > 1000 || duration_s <= 0) {
        std::fprintf(stderr, "usage: obs_bench_paced_ingest --port P [--rate R] [--batch N] [--duration S] "
                             "[--connections C]\n");
        return 2;
    }
    o.server = {boost::asio::ip::make_address("127.0.0.1"), port};
    o.duration = std::chrono::milliseconds(static_cast<long long>(duration_s * 1000));
    o.run_id = "bench-paced";
    boost::asio::io_context io;
    obs::bench::event_poster poster(io, o);
    poster.start([] {});
    io.run();

    // One latency per request: the events of a batch share theirs.
    std::vector<std::int64_t> latencies;
    for (std::size_t i = 0; i < poster.events().size(); i += o.batch) {
        const auto& e = poster.events()[i];
        latencies.push_back(e.acked_ns - e.sent_ns);
    }
    std::sort(latencies.begin(), latencies.end());
    std::printf("{\"requests\": %zu, \"errors\": %llu, \"late\": %llu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
                "\"max_ms\": %.3f}\n",
                latencies.size(), static_cast<unsigned long long>(poster.errors()),
                static_cast<unsigned long long>(poster.late_requests()), percentile_ms(latencies, 0.5),
                percentile_ms(latencies, 0.99), latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1e6);
    return poster.errors() == 0 ? 0 : 1;
}
