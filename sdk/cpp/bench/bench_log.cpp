// obs_sdk_bench: the C++ SDK's numbers for scripts/bench-sdk, as one JSON
// object on stdout with the keys of sdk/python/bench/bench_log.py:
//   log_us            log() in the calling thread, p50/p99/p999 in µs, one thread
//                     logging a tool_call, server up and down, with and without a spool
//   delivered_per_s   events stored per second from one process whose 4 threads log
//                     as fast as they can (each its own run), from the first log()
//                     until flush() returns, with the default options::connections
//   delivered_per_s_one_connection
//                     the same with connections = 1 (one batch in flight at a time)
//   close_10k         close() with 10,000 events queued and none sent yet
//   rss_server_down   RSS growth logging 150,000 events into the default max_queue
//                     with the server down (--phase rss, run in a fresh process)
//   obs_sdk_bench --url URL [--log-calls N] [--rate-events N] [--spool-root DIR] [--gzip 0|1]
//                 [--connections N]
//   obs_sdk_bench --url URL --phase rate   (the two delivered rates only)
//   obs_sdk_bench --url URL --phase log    (the log() costs only)
//   obs_sdk_bench --url URL --phase close  (close_10k only)
//   obs_sdk_bench --phase rss
#include "observability/provider.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// bench-ingest's batch-phase payload, so that the delivered rate and the
// server's reference rate store the same events but for what the SDK adds
// to each (its id and ts).
const boost::json::object& payload() {
    static const boost::json::object p{
        {"tool", "search"}, {"call_id", "c1"}, {"arguments", {{"q", "gear ratio"}, {"k", 5}}}};
    return p;
}

std::string down_url() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

bool use_gzip = false;  // the default to a loopback server (automatic)

observability::options quiet(const std::string& url) {
    observability::options o;
    o.url = url;
    o.body_compression = use_gzip ? observability::options::compression::gzip : observability::options::compression::none;
    o.report = [](std::string_view) {};
    return o;
}

std::string log_cost(const std::string& url, int n, const std::string& spool, bool up) {
    auto o = quiet(url);
    o.max_queue = static_cast<std::size_t>(std::max(100000, n + 10000));
    if (!spool.empty()) o.spool_dir = spool;
    observability::provider p(o);
    observability::log_options warm{"bench-warm", "worker-1", {}, {}, {}};
    for (int i = 0; i < 2000; ++i) p.log("tool_call", payload(), warm);
    observability::log_options where{"bench-log", "worker-1", {}, {}, {}};
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        boost::json::object data = payload();  // a caller builds its payload each time; not timed
        const auto t = clock_type::now();
        p.log("tool_call", std::move(data), where);
        samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
    }
    p.close(up ? std::chrono::seconds(10) : std::chrono::seconds(0));
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) { return samples[std::min(samples.size() - 1, static_cast<std::size_t>(samples.size() * q))]; };
    char out[200];
    std::snprintf(out, sizeof out, R"({"p50":%.2f,"p99":%.2f,"p999":%.2f,"n":%d})", at(0.5), at(0.99), at(0.999), n);
    return out;
}

std::size_t connections = observability::options{}.connections;

std::string delivered_rate(const std::string& url, int threads, int per_thread, std::size_t lanes,
                           const std::string& run_prefix) {
    auto o = quiet(url);
    o.connections = lanes;
    const auto total = static_cast<std::uint64_t>(threads) * static_cast<std::uint64_t>(per_thread);
    o.max_queue = total;  // measures delivery, not the queue bound
    observability::provider p(o);
    const auto start = clock_type::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            // No node: the reference's events have none.
            observability::log_options where{run_prefix + std::to_string(t), {}, {}, {}, {}};
            for (int i = 0; i < per_thread; ++i) p.log("tool_call", payload(), where);
        });
    for (auto& w : workers) w.join();
    const double logged_s = std::chrono::duration<double>(clock_type::now() - start).count();
    const auto stored_when_logged = p.stats().sent;  // delivery's progress while the loggers ran
    const bool flushed = p.flush(std::chrono::seconds(120));
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    const auto s = p.stats();
    const auto stored = s.sent + s.duplicates;
    char out[400];
    std::snprintf(out, sizeof out,
                  R"({"events":%llu,"seconds":%.3f,"logging_seconds":%.3f,"stored_when_logged":%llu,"per_s":%.0f,"delivered":%llu,"dropped":%llu,"retries":%llu,"gzip":%s,"all_delivered":%s,"connections":%zu})",
                  static_cast<unsigned long long>(total), elapsed, logged_s,
                  static_cast<unsigned long long>(stored_when_logged), stored / elapsed,
                  static_cast<unsigned long long>(stored), static_cast<unsigned long long>(s.dropped),
                  static_cast<unsigned long long>(s.retries), s.gzip ? "true" : "false",
                  flushed && stored == total ? "true" : "false", lanes);
    return out;
}

std::string close_time(const std::string& url, int n) {
    auto o = quiet(url);
    o.flush_at = 1000000;
    o.flush_interval = std::chrono::hours(1);
    observability::provider p(o);
    observability::log_options where{"bench-close", "worker-1", {}, {}, {}};
    for (int i = 0; i < n; ++i) p.log("tool_call", payload(), where);
    const auto queued = p.stats().queued;
    const auto start = clock_type::now();
    p.close(std::chrono::seconds(30));
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    const auto s = p.stats();
    char out[200];
    std::snprintf(out, sizeof out, R"({"queued_at_close":%llu,"seconds":%.3f,"sent":%llu})",
                  static_cast<unsigned long long>(queued), elapsed,
                  static_cast<unsigned long long>(s.sent + s.duplicates));
    return out;
}

long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

void rss_phase(int n) {
    observability::provider p(quiet(down_url()));
    const long before = rss_kib();
    observability::log_options where{"bench-rss", "worker-1", {}, {}, {}};
    for (int i = 0; i < n; ++i) p.log("tool_call", payload(), where);
    const long after = rss_kib();
    const auto s = p.stats();
    p.close(std::chrono::seconds(0));
    std::printf(R"({"events":%d,"growth_mib":%.1f,"queued":%llu,"dropped":%llu})" "\n", n, (after - before) / 1024.0,
                static_cast<unsigned long long>(s.queued), static_cast<unsigned long long>(s.dropped));
}

}  // namespace

int main(int argc, char** argv) {
    std::string url, spool_root = "/tmp", phase;
    int log_calls = 50000, rate_events = 100000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--url") url = argv[i + 1];
        else if (flag == "--log-calls") log_calls = std::atoi(argv[i + 1]);
        else if (flag == "--rate-events") rate_events = std::atoi(argv[i + 1]);
        else if (flag == "--spool-root") spool_root = argv[i + 1];
        else if (flag == "--phase") phase = argv[i + 1];
        else if (flag == "--gzip") use_gzip = std::string(argv[i + 1]) != "0";
        else if (flag == "--connections") connections = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    }
    if (phase == "rss") {
        rss_phase(150000);
        return 0;
    }
    if (url.empty()) {
        std::fprintf(stderr, "usage: obs_sdk_bench --url URL [--log-calls N] [--rate-events N] [--spool-root DIR]\n");
        return 2;
    }
    const auto rates = [&] {
        // One connection first, so that the default's runs start on a
        // server that has already stored as many events.
        const std::string one = delivered_rate(url, 4, rate_events, 1, "bench-one-");
        return "\"delivered_per_s\":" + delivered_rate(url, 4, rate_events, connections, "bench-rate-") +
               ",\"delivered_per_s_one_connection\":" + one;
    };
    if (phase == "rate") {
        std::printf("{%s}\n", rates().c_str());
        return 0;
    }
    const std::string down = down_url();
    if (phase == "close") {
        std::printf("{\"close_10k\":%s}\n", close_time(url, 10000).c_str());
        return 0;
    }
    if (phase == "log") {  // the four log() costs only
        std::printf("{\"server_up\":%s,", log_cost(url, log_calls, "", true).c_str());
        std::printf("\"server_down\":%s,", log_cost(down, log_calls, "", false).c_str());
        std::printf("\"server_up_spool\":%s,", log_cost(url, log_calls, spool_root + "/up", true).c_str());
        std::printf("\"server_down_spool\":%s}\n", log_cost(down, log_calls, spool_root + "/down", false).c_str());
        return 0;
    }
    std::printf("{\"log_us\":{\"server_up\":%s,", log_cost(url, log_calls, "", true).c_str());
    std::printf("\"server_down\":%s,", log_cost(down, log_calls, "", false).c_str());
    std::printf("\"server_up_spool\":%s,", log_cost(url, log_calls, spool_root + "/up", true).c_str());
    std::printf("\"server_down_spool\":%s},", log_cost(down, log_calls, spool_root + "/down", false).c_str());
    std::printf("%s,", rates().c_str());
    std::printf("\"close_10k\":%s}\n", close_time(url, 10000).c_str());
    return 0;
}
