// obs_bench_stream: the load tool behind scripts/bench-stream. One run:
//   1. opens N listeners on GET /observability/stream (no filter: every
//      listener receives every event) and waits until all got their 200 head;
//   2. posts `thought` events at a steady rate for a bounded time, from a
//      second thread, recording each event's offset, send and 201 times;
//   3. waits (bounded) until every listener received the last acknowledged
//      offset, closes everything and joins the two records by offset.
// Prints one `RESULT key=value ...` line on stdout for the script, a readable
// summary on stderr. Exit status 0 once measured (lost or duplicated frames
// are reported, not fatal), 1 when the run could not happen, 2 on bad usage.
//
// Threads: the listeners on the main thread's io_context; the poster on its
// own io_context and thread. They meet only through asio::post and join().
#include "tests/bench/event_poster.hpp"
#include "tests/bench/proc_stats.hpp"
#include "tests/bench/stream_listeners.hpp"
#include "tests/bench/stream_report.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <unistd.h>

namespace obs::bench {

namespace asio = boost::asio;

namespace {

struct arguments {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    std::size_t listeners = 100;
    double rate = 500;               // events per second
    std::size_t batch = 1;           // events per POST
    double duration_s = 10;          // of the posting schedule
    std::size_t posters = 16;        // keep-alive POST connections: enough for 500 POSTs/s at 30 ms each
    std::size_t text_bytes = 64;     // size of each thought's text
    std::size_t connect_parallel = 256;
    double connect_timeout_s = 120;  // for every listener to be streaming
    double tail_timeout_s = 10;      // after the last answer, for the last frames
    int server_pid = 0;              // 0: no server CPU/RSS columns
};

const char* const usage =
    "usage: obs_bench_stream --port P [--host 127.0.0.1] [--listeners N] [--rate EVENTS_PER_S]\n"
    "         [--batch EVENTS_PER_POST] [--duration S] [--posters CONNS] [--text-bytes B]\n"
    "         [--connect-parallel K] [--connect-timeout S] [--tail-timeout S] [--server-pid PID]\n";

// Parses `--flag value` pairs; false (with a message) on anything else.
bool parse(int argc, char** argv, arguments& a) {
    std::map<std::string, std::string> values;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc || std::string(argv[i]).rfind("--", 0) != 0) {
            std::cerr << "obs_bench_stream: expected --flag value at '" << argv[i] << "'\n";
            return false;
        }
        values[argv[i] + 2] = argv[i + 1];
    }
    try {
        for (const auto& [key, v] : values) {
            if (key == "host") a.host = v;
            else if (key == "port") a.port = static_cast<unsigned short>(std::stoul(v));
            else if (key == "listeners") a.listeners = std::stoul(v);
            else if (key == "rate") a.rate = std::stod(v);
            else if (key == "batch") a.batch = std::stoul(v);
            else if (key == "duration") a.duration_s = std::stod(v);
            else if (key == "posters") a.posters = std::stoul(v);
            else if (key == "text-bytes") a.text_bytes = std::stoul(v);
            else if (key == "connect-parallel") a.connect_parallel = std::stoul(v);
            else if (key == "connect-timeout") a.connect_timeout_s = std::stod(v);
            else if (key == "tail-timeout") a.tail_timeout_s = std::stod(v);
            else if (key == "server-pid") a.server_pid = std::stoi(v);
            else {
                std::cerr << "obs_bench_stream: unknown flag --" << key << "\n";
                return false;
            }
        }
    } catch (const std::exception&) {
        std::cerr << "obs_bench_stream: a flag's value is not a number\n";
        return false;
    }
    if (a.rate <= 0 || a.batch < 1 || a.batch > 1000 || a.duration_s <= 0 || a.posters < 1 ||
        a.connect_parallel < 1) {
        std::cerr << "obs_bench_stream: need rate > 0, 1 <= batch <= 1000, duration > 0, posters >= 1\n";
        return false;
    }
    boost::system::error_code ec;
    asio::ip::make_address(a.host, ec);
    if (ec) {
        std::cerr << "obs_bench_stream: --host must be an IP address\n";
        return false;
    }
    return true;
}

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

double mib(std::uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

// 100 * part / whole, or -1 when the samples are missing.
double percent(bool ok, double part, double whole) { return ok && whole > 0 ? 100.0 * part / whole : -1; }

// What is sampled when posting starts and when it ends.
struct window_sample {
    std::int64_t at_ns = 0;
    process_sample server;
    process_sample self;
    double self_cpu = 0;      // this process, all threads
    double listener_cpu = 0;  // the listeners' thread
    std::uint64_t reads = 0;  // the listeners' reads so far
};

// One run: the phases of the file comment, driven by callbacks on `io_`.
class bench_run {
public:
    explicit bench_run(const arguments& a)
        : args_(a),
          server_(asio::ip::make_address(a.host), a.port),
          listeners_(io_, {server_, a.listeners, a.connect_parallel}),
          poster_(poster_io_, {server_, a.rate, a.batch, millis(a.duration_s), a.posters, a.text_bytes}),
          deadline_(io_) {}

    // Runs to the end; returns the exit status.
    int run() {
        connect_started_ = now_ns();
        unix_minus_steady_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                now_ns();
        listeners_.start([this] { on_all_streaming(); },
                         [this](const std::string& why) {
                             failure_ = why;
                             finish(false);
                         });
        deadline_.expires_after(millis(args_.connect_timeout_s));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                failure_ = "only " + std::to_string(listeners_.streaming()) + " of " +
                           std::to_string(args_.listeners) + " listeners streaming after the connect timeout";
                finish(false);
            }
        });
        io_.run();
        if (poster_thread_.joinable()) {
            poster_thread_.join();
        }
        if (!failure_.empty()) {
            std::cerr << "obs_bench_stream: " << failure_ << "\n";
            return 1;
        }
        report();
        return 0;
    }

private:
    window_sample sample() {
        window_sample w;
        w.at_ns = now_ns();
        w.server = sample_process(args_.server_pid);
        w.self = sample_process(static_cast<int>(getpid()));
        w.self_cpu = this_process_cpu_seconds();
        w.listener_cpu = this_thread_cpu_seconds();
        w.reads = listeners_.reads();
        return w;
    }

    void on_all_streaming() {
        deadline_.cancel();
        streaming_at_ = now_ns();
        std::cerr << "obs_bench_stream: " << args_.listeners << " listeners streaming after "
                  << static_cast<double>(streaming_at_ - connect_started_) / 1e9 << " s; posting\n";
        before_ = sample();
        posting_.emplace(io_.get_executor());
        poster_thread_ = std::thread([this] {
            poster_.start([this] { asio::post(io_, [this] { on_posting_done(); }); });
            poster_io_.run();
        });
    }

    void on_posting_done() {
        posting_.reset();
        after_ = sample();
        std::int64_t last_offset = -1;
        for (const auto& e : poster_.events()) {
            last_offset = std::max(last_offset, e.offset);
        }
        if (last_offset < 0) {
            finish(false);
            return;
        }
        listeners_.await_offset(last_offset, [this] { finish(false); });
        deadline_.expires_after(millis(args_.tail_timeout_s));
        deadline_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                finish(true);
            }
        });
    }

    void finish(bool timed_out) {
        if (finished_at_ != 0) {
            return;  // the tail and its timeout can both be due
        }
        finished_at_ = now_ns();
        tail_timed_out_ = timed_out;
        deadline_.cancel();
        listeners_.close_all();
    }

    void report() const {
        const stream_summary s = summarize(poster_.events(), listeners_.records(), listeners_.receipts(),
                                           poster_.started_ns(), unix_minus_steady_ns_);
        const double window_s = static_cast<double>(after_.at_ns - before_.at_ns) / 1e9;
        const bool server_ok = before_.server.ok && after_.server.ok;
        const bool self_ok = before_.self.ok && after_.self.ok;
        // Until the last frame arrived (the tail wait ends on it) or the timeout.
        const double run_s = static_cast<double>(finished_at_ - poster_.started_ns()) / 1e9;
        const double posted_s = static_cast<double>(poster_.finished_ns() - poster_.started_ns()) / 1e9;
        using ull = unsigned long long;
        std::printf(
            "RESULT listeners=%zu rate=%.0f batch=%zu posted_per_s=%.1f events_acked=%zu post_errors=%llu "
            "late_posts=%llu max_post_lateness_ms=%.2f deliveries_per_s=%.0f reads_per_s=%.0f expected=%llu "
            "delivered=%llu commit_p50_ms=%.2f commit_p99_ms=%.2f commit_max_ms=%.2f send_p50_ms=%.2f "
            "send_p99_ms=%.2f send_max_ms=%.2f rcv_p50_ms=%.2f rcv_p99_ms=%.2f rcv_max_ms=%.2f lost=%llu "
            "duplicated=%llu unexpected=%llu overflowed=%zu "
            "closed=%zu bad_ids=%llu tail_timed_out=%d server_cpu_pct=%.1f server_rss_idle_mib=%.1f "
            "server_rss_mib=%.1f server_hwm_mib=%.1f server_wait_pct=%.1f client_cpu_pct=%.1f "
            "listener_thread_cpu_pct=%.1f client_wait_pct=%.1f connect_s=%.2f\n",
            s.listeners, args_.rate, args_.batch, posted_s > 0 ? static_cast<double>(s.events_acked) / posted_s : 0,
            s.events_acked, static_cast<ull>(poster_.errors()), static_cast<ull>(poster_.late_requests()),
            static_cast<double>(poster_.max_lateness_ns()) / 1e6, s.deliveries_per_second,
            run_s > 0 ? static_cast<double>(listeners_.reads() - before_.reads) / run_s : 0,
            static_cast<ull>(s.expected_deliveries), static_cast<ull>(s.delivered), s.commit_to_delivery.p50_ms,
            s.commit_to_delivery.p99_ms, s.commit_to_delivery.max_ms, s.send_to_delivery.p50_ms,
            s.send_to_delivery.p99_ms, s.send_to_delivery.max_ms, s.receive_to_delivery.p50_ms,
            s.receive_to_delivery.p99_ms, s.receive_to_delivery.max_ms, static_cast<ull>(s.lost),
            static_cast<ull>(s.duplicated), static_cast<ull>(s.unexpected), s.overflowed_listeners,
            s.closed_listeners, static_cast<ull>(s.bad_ids), tail_timed_out_ ? 1 : 0,
            percent(server_ok, after_.server.cpu_seconds - before_.server.cpu_seconds, window_s),
            mib(before_.server.rss_kib), mib(after_.server.rss_kib), mib(after_.server.hwm_kib),
            percent(server_ok, after_.server.wait_seconds - before_.server.wait_seconds, window_s),
            percent(true, after_.self_cpu - before_.self_cpu, window_s),
            percent(true, after_.listener_cpu - before_.listener_cpu, window_s),
            percent(self_ok, after_.self.wait_seconds - before_.self.wait_seconds, window_s),
            static_cast<double>(streaming_at_ - connect_started_) / 1e9);
        if (poster_.errors() > 0) {
            std::cerr << "obs_bench_stream: " << poster_.errors() << " failed posts; first: " << poster_.first_error()
                      << "\n";
        }
    }

    const arguments& args_;
    asio::io_context io_{1};         // the listeners' thread (the caller of run())
    asio::io_context poster_io_{1};  // the poster's thread
    asio::ip::tcp::endpoint server_;
    stream_listeners listeners_;
    event_poster poster_;
    std::thread poster_thread_;
    asio::steady_timer deadline_;  // the connect timeout, then the tail timeout
    // Keeps io_.run() from returning while only the poster's thread has work
    // (when no listener is left reading).
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> posting_;
    std::string failure_;  // why the run could not happen
    bool tail_timed_out_ = false;
    std::int64_t connect_started_ = 0;
    std::int64_t unix_minus_steady_ns_ = 0;  // Unix time = now_ns() + this
    std::int64_t streaming_at_ = 0;
    std::int64_t finished_at_ = 0;
    window_sample before_;  // when posting started (server RSS then: idle with the listeners)
    window_sample after_;   // when the last answer came
};

}  // namespace

}  // namespace obs::bench

int main(int argc, char** argv) {
    obs::bench::arguments args;
    if (!obs::bench::parse(argc, argv, args)) {
        std::cerr << obs::bench::usage;
        return 2;
    }
    return obs::bench::bench_run(args).run();
}
