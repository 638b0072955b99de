// End-to-end: the server's memory stays bounded where a client controls the
// amount (issue 13, item 3). A run of 80 events of about 3.6 MB each, then
// four stream listeners that replay it from the start and never read, and
// four clients paging its steps with limit=1000 at the same time: the
// server's resident memory (sampled, and its peak) must stay under 256 MiB
// plus the stream queues' configured bound. The test also checks that the
// bounded pages lose nothing: every step is read exactly once through the
// cursor, and each listener, once it reads, gets whole frames from offset 1.
#include "tests/e2e/raw_socket.hpp"
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

using namespace obs::e2e;
using namespace std::chrono_literals;

namespace {

constexpr int event_count = 80;
constexpr std::size_t argument_bytes = 900'000;  // four of them: about 3.6 MB an event
constexpr long queue_bytes = 4 * 1024 * 1024;    // --stream-queue-bytes
constexpr int listeners = 4;
constexpr int pagers = 4;

// The goal of issue 13: 256 MiB plus the configured queue bounds. Under
// AddressSanitizer (this suite is built with the server's flags) shadow
// memory and the allocation quarantine inflate RSS several-fold, so the bound
// there is looser, still far below the 3.4 GB the unbounded pages took.
#ifdef __SANITIZE_ADDRESS__
constexpr long memory_bound_kib = 1024 * 1024;
#else
constexpr long memory_bound_kib = 256 * 1024;
#endif

std::string big_event(int i) {
    std::string body = R"({"events":[{"run_id":"big","type":"tool_call","payload":{"tool":"t","call_id":"c)" +
                       std::to_string(i) + R"(","arguments":{)";
    for (char k : {'a', 'b', 'c', 'd'}) {
        if (k != 'a') body += ',';
        body += '"';
        body += k;
        body += R"(":")" + std::string(argument_bytes, static_cast<char>('a' + i % 26)) + '"';
    }
    return body + "}}}]}";
}

// Samples the server's resident memory every 20 ms until stopped.
class rss_sampler {
public:
    explicit rss_sampler(const server_process& server)
        : thread_([this, &server] {
              while (!stop_) {
                  max_ = std::max(max_.load(), server.rss_kib());
                  std::this_thread::sleep_for(20ms);
              }
          }) {}
    ~rss_sampler() { finish(); }
    long finish() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        return max_;
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<long> max_{0};
    std::thread thread_;
};

// Resets the kernel's peak-RSS mark of `pid` (proc(5), clear_refs "5"), so
// the next peak covers the reading phase alone. False when not allowed.
bool reset_peak_rss(pid_t pid) {
    std::ofstream f("/proc/" + std::to_string(pid) + "/clear_refs");
    f << "5";
    f.flush();
    return static_cast<bool>(f);
}

struct pager_result {
    std::vector<std::int64_t> seqs;
    std::size_t pages = 0;
    std::size_t largest_page = 0;
    std::string failure;
};

// Follows next_after_seq through the whole run with limit=1000.
pager_result page_all(unsigned short port) {
    pager_result r;
    std::string target = "/observability/runs/big/steps?limit=1000";
    for (int guard = 0; guard < 200; ++guard) {
        const auto res = http_request(port, "GET", target);
        if (res.status != 200) {
            r.failure = "status " + std::to_string(res.status);
            return r;
        }
        ++r.pages;
        r.largest_page = std::max(r.largest_page, res.body.size());
        const auto body = boost::json::parse(res.body).as_object();
        const auto& steps = body.at("steps").as_array();
        if (steps.empty()) {
            r.failure = "an empty page";
            return r;
        }
        for (const auto& step : steps) {
            r.seqs.push_back(step.at("seq").as_int64());
            if (step.at("payload").at("arguments").at("d").as_string().size() != argument_bytes)
                r.failure = "a step's payload was cut";
        }
        if (body.at("next_after_seq").is_null()) return r;
        target = "/observability/runs/big/steps?limit=1000&after_seq=" +
                 std::to_string(body.at("next_after_seq").as_int64());
    }
    r.failure = "the cursor never ended";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounded_memory)

BOOST_AUTO_TEST_CASE(large_events_replayed_and_paged_in_bounded_memory) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(),
                                         {"--max-body-bytes", "8388608", "--stream-queue-bytes",
                                          std::to_string(queue_bytes), "--no-request-log"},
                                         {},
                                         true}};
    const long idle_kib = server.rss_kib();
    for (int i = 0; i < event_count; ++i) {
        const auto res = http_request(server.port(), "POST", "/observability/events", big_event(i));
        BOOST_TEST_REQUIRE(res.status == 201, res.body.substr(0, 300));
    }
    const long ingest_peak_kib = server.peak_rss_kib();
    const long after_ingest_kib = server.rss_kib();
    const bool reset = reset_peak_rss(server.pid());

    rss_sampler sampler(server);
    const auto opened = std::chrono::steady_clock::now();
    // Listeners replaying from the start that never read: each holds what
    // the server writes into a full socket and no more.
    std::vector<std::unique_ptr<raw_socket>> streams;
    for (int i = 0; i < listeners; ++i) {
        streams.push_back(std::make_unique<raw_socket>(server.port(), 4096));
        BOOST_TEST_REQUIRE(streams.back()->send("GET /observability/stream?last_event_id=0 HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    std::vector<pager_result> paged(pagers);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < pagers; ++i) threads.emplace_back([&, i] { paged[i] = page_all(server.port()); });
        for (auto& t : threads) t.join();
    }
    // Give the replays time to read and block on their full sockets.
    if (const auto since = std::chrono::steady_clock::now() - opened; since < 3s) std::this_thread::sleep_for(3s - since);
    const long read_peak_sampled = sampler.finish();
    const long read_peak_kib = server.peak_rss_kib();

    // The replays are whole and in order: each listener reads its first
    // three frames now.
    for (int i = 0; i < listeners; ++i) {
        BOOST_TEST_CONTEXT("listener " << i) {
            std::string bytes;
            std::vector<sse_frame> events;
            while (events.size() < 3 && streams[i]->read_some(bytes, 1 << 20, 10000ms) == raw_socket::got::data) {
                if (bytes.rfind("HTTP/1.1", 0) == 0) {
                    const auto head_end = bytes.find("\r\n\r\n");
                    if (head_end == std::string::npos) continue;
                    BOOST_TEST_REQUIRE(bytes.rfind("HTTP/1.1 200", 0) == 0);
                    bytes.erase(0, head_end + 4);
                }
                for (auto& f : take_frames(bytes))
                    if (f.has("data")) events.push_back(std::move(f));
            }
            BOOST_TEST_REQUIRE(events.size() >= 3u);
            for (std::size_t k = 0; k < 3; ++k) {
                const auto ev = boost::json::parse(events[k].fields["data"]);
                BOOST_TEST(ev.at("offset").as_int64() == static_cast<std::int64_t>(k + 1));
                BOOST_TEST(ev.at("payload").at("arguments").at("a").as_string().size() == argument_bytes);
            }
        }
    }

    const long budget_kib = memory_bound_kib + listeners * queue_bytes / 1024;
    BOOST_TEST_MESSAGE("server RSS (KiB): idle " << idle_kib << ", after ingest " << after_ingest_kib
                                                 << ", ingest peak " << ingest_peak_kib << "; while "
                                                 << listeners << " replays and " << pagers
                                                 << " pagers ran: sampled max " << read_peak_sampled << ", peak "
                                                 << (reset ? read_peak_kib : -1) << "; budget " << budget_kib);
    for (int i = 0; i < pagers; ++i) {
        BOOST_TEST_CONTEXT("pager " << i) {
            BOOST_TEST(paged[i].failure.empty(), paged[i].failure);
            std::vector<std::int64_t> all;
            for (std::int64_t s = 1; s <= event_count; ++s) all.push_back(s);
            BOOST_TEST(paged[i].seqs == all, boost::test_tools::per_element());
            // 8 MiB a page: two events of 3.6 MB, so at least 40 pages.
            BOOST_TEST(paged[i].pages >= 40u);
            BOOST_TEST(paged[i].largest_page <= 8u * 1024 * 1024 + 1024);
            BOOST_TEST_MESSAGE("pager " << i << ": " << paged[i].pages << " pages, largest " << paged[i].largest_page
                                        << " bytes");
        }
    }
    BOOST_TEST(ingest_peak_kib < budget_kib);
    BOOST_TEST(read_peak_sampled < budget_kib);
    if (reset) BOOST_TEST(read_peak_kib < budget_kib);
}

BOOST_AUTO_TEST_SUITE_END()
