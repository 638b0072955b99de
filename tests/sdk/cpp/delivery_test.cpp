// Delivery by the C++ SDK against the real server binary: batches from
// several threads stored once each and in order per run; gzip bodies while
// the server takes them and plain ones after a 415; 503 with Retry-After
// honoured; a 422 batch split so only the bad event is lost (reported once,
// counted); a full queue dropping and counting without blocking; close()
// delivering what is queued. The proxy (sdk_support.hpp) injects the answers
// a healthy server gives only under load, and passes the rest to the server.
#include "observability/provider.hpp"
#include "sdk_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <set>

namespace json = boost::json;
namespace e2e = obs::e2e;
using namespace obs::sdk_test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(sdk_cpp_delivery)

namespace {

struct server_fixture {
    e2e::temp_dir dir;
    e2e::server_process server{{(dir.path() / "obs.db").string(), {}, {}, true}};
};

struct collected_reports {
    std::mutex mu;
    std::vector<std::string> lines;
    observability::report_sink sink() {
        return [this](std::string_view m) {
            std::lock_guard lock(mu);
            lines.emplace_back(m);
        };
    }
    std::size_t count_containing(const std::string& s) {
        std::lock_guard lock(mu);
        std::size_t n = 0;
        for (const auto& l : lines) n += l.find(s) != std::string::npos ? 1 : 0;
        return n;
    }
};

observability::log_options in_run(const std::string& run, const std::string& node = "") {
    observability::log_options w;
    w.run_id = run;
    if (!node.empty()) w.node = node;
    return w;
}

bool server_takes_gzip(unsigned short port) {
    std::string line = R"({"run_id":"gzip-probe","type":"thought","payload":{"text":"probe"}})";
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, line.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(line.data());
    z.avail_in = static_cast<uInt>(line.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    const auto res = e2e::http_request(port, "POST", "/observability/events", out,
                                       {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}});
    return res.status == 201;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(four_threads_are_stored_once_each_in_order_per_run, server_fixture) {
    collected_reports reports;
    observability::options o;
    o.url = url_of(server.port());
    o.report = reports.sink();
    o.body_compression = observability::options::compression::gzip;
    const bool gzip_expected = server_takes_gzip(server.port());
    constexpr int per_thread = 1500;
    {
        observability::provider p(o);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&p, t] {
                for (int i = 0; i < per_thread; ++i)
                    p.log("thought", {{"text", "step " + std::to_string(i)}},
                          in_run("run-" + std::to_string(t % 2), "thread-" + std::to_string(t)));
            });
        for (auto& t : threads) t.join();
        BOOST_TEST(p.flush(20s));
        const auto s = p.stats();
        BOOST_TEST(s.sent == 4u * per_thread);
        BOOST_TEST(s.queued == 0u);
        BOOST_TEST(s.dropped == 0u);
        BOOST_TEST(s.rejected == 0u);
        BOOST_TEST(s.gzip == gzip_expected);
        BOOST_TEST_MESSAGE("server takes gzip bodies: " << gzip_expected);
    }
    for (const std::string run : {"run-0", "run-1"}) {
        const auto steps = stored_steps(server.port(), run);
        BOOST_TEST(steps.size() == 2u * per_thread);
        std::map<std::string, int> next;  // per node: the next step number expected
        std::set<std::string> ids;
        for (const auto& st : steps) {
            ids.insert(std::string(st.at("id").as_string()));
            const std::string node(st.at("node").as_string());
            const std::string text(st.at("payload").at("text").as_string());
            BOOST_TEST(text == "step " + std::to_string(next[node]++));
        }
        BOOST_TEST(ids.size() == steps.size());
    }
}

BOOST_FIXTURE_TEST_CASE(a_415_to_gzip_switches_to_plain_bodies_and_loses_nothing, server_fixture) {
    fault_proxy proxy(server.port(), [](const proxied_request& r, std::string&) -> std::optional<canned_answer> {
        if (r.headers.count("content-encoding"))
            return canned_answer{415, R"({"error":{"code":"unsupported_media_type","message":"no gzip"}})", {}};
        return std::nullopt;
    });
    collected_reports reports;
    observability::options o;
    o.url = url_of(proxy.port());
    o.report = reports.sink();
    o.body_compression = observability::options::compression::gzip;
    observability::provider p(o);
    for (int i = 0; i < 300; ++i) p.log("thought", {{"text", std::to_string(i)}}, in_run("gz"));
    BOOST_TEST(p.flush(10s));
    BOOST_TEST(!p.stats().gzip);
    BOOST_TEST(p.stats().sent == 300u);
    const auto requests = proxy.requests();
    BOOST_REQUIRE(!requests.empty());
    BOOST_TEST(requests.front().headers.count("content-encoding") == 1u);  // it tried gzip first
    BOOST_TEST(requests.front().answered == 415);
    std::size_t gzip_requests = 0;
    for (const auto& r : requests) gzip_requests += r.headers.count("content-encoding");
    BOOST_TEST(gzip_requests == 1u);  // and never again
    BOOST_TEST(reports.count_containing("gzip") == 1u);
    BOOST_TEST(stored_steps(server.port(), "gz").size() == 300u);
}

BOOST_FIXTURE_TEST_CASE(retry_after_is_honoured_and_every_event_arrives_once, server_fixture) {
    std::atomic<int> refusals{2};
    fault_proxy proxy(server.port(), [&](const proxied_request& r, std::string&) -> std::optional<canned_answer> {
        if (r.target == "/observability/events" && refusals.fetch_sub(1) > 0)
            return canned_answer{503, R"({"error":{"code":"overloaded","message":"busy"}})", {{"retry-after", "1"}}};
        return std::nullopt;
    });
    collected_reports reports;
    observability::options o;
    o.url = url_of(proxy.port());
    o.report = reports.sink();
    observability::provider p(o);
    for (int i = 0; i < 50; ++i) p.log("thought", {{"text", std::to_string(i)}}, in_run("ra"));
    BOOST_TEST(p.flush(15s));
    const auto requests = proxy.requests();
    BOOST_REQUIRE(requests.size() >= 3u);
    for (std::size_t i = 1; i < 3; ++i) {
        const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(requests[i].at - requests[i - 1].at);
        BOOST_TEST(gap.count() >= 1000, "gap " << gap.count() << " ms after a Retry-After: 1");
        BOOST_TEST(gap.count() < 2500);
    }
    BOOST_TEST(p.stats().retries == 2u);
    BOOST_TEST(p.stats().sent == 50u);
    BOOST_TEST(reports.count_containing("retrying") == 1u);
    BOOST_TEST(stored_steps(server.port(), "ra").size() == 50u);
}

BOOST_FIXTURE_TEST_CASE(a_422_batch_is_split_and_only_the_bad_events_are_lost, server_fixture) {
    // The server itself refuses the two events the proxy breaks (their text
    // becomes a number): the 422 and its details[].index are the server's.
    fault_proxy proxy(server.port(), [](const proxied_request& r, std::string& body) -> std::optional<canned_answer> {
        if (r.headers.count("content-encoding")) return canned_answer{415, "{}", {}};
        for (std::size_t pos; (pos = body.find(R"("text":"poison")")) != std::string::npos;)
            body.replace(pos, 15, R"("text":17)");
        return std::nullopt;
    });
    collected_reports reports;
    observability::options o;
    o.url = url_of(proxy.port());
    o.report = reports.sink();
    o.flush_at = 20;
    observability::provider p(o);
    std::vector<std::string> poison_ids;
    for (int i = 0; i < 20; ++i) {
        const bool poison = i == 4 || i == 13;
        auto id = p.log("thought", {{"text", poison ? "poison" : "ok " + std::to_string(i)}}, in_run("split"));
        if (poison) poison_ids.push_back(id);
    }
    BOOST_TEST(p.flush(10s));
    const auto s = p.stats();
    BOOST_TEST(s.rejected == 2u);
    BOOST_TEST(s.sent == 18u);
    for (const auto& id : poison_ids) BOOST_TEST(reports.count_containing(id) == 1u);
    BOOST_TEST(reports.count_containing("payload.text") == 2u);
    const auto steps = stored_steps(server.port(), "split");
    BOOST_REQUIRE(steps.size() == 18u);
    int expected = 0;
    for (const auto& st : steps) {
        if (expected == 4 || expected == 13) ++expected;
        BOOST_TEST(st.at("payload").at("text").as_string() == "ok " + std::to_string(expected++));
    }
}

BOOST_FIXTURE_TEST_CASE(automatic_compression_sends_plain_bodies_to_loopback, server_fixture) {
    fault_proxy proxy(server.port(), nullptr);
    observability::options o;
    o.url = url_of(proxy.port());
    observability::provider p(o);
    for (int i = 0; i < 10; ++i) p.log("thought", {{"text", "t"}}, in_run("auto"));
    BOOST_TEST(p.flush(10s));
    BOOST_TEST(!p.stats().gzip);
    for (const auto& r : proxy.requests()) BOOST_TEST(r.headers.count("content-encoding") == 0u);
    BOOST_TEST(stored_steps(server.port(), "auto").size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_drops_and_counts_without_blocking) {
    observability::options o;
    o.url = url_of(closed_port());
    o.max_queue = 100;
    o.report = [](std::string_view) {};
    observability::provider p(o);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 150; ++i) p.log("thought", {{"text", "t"}}, in_run("full"));
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count() < 1000);
    // The thread may hold one batch outside the queue: at most flush_at more fit.
    const auto s = p.stats();
    BOOST_TEST(s.dropped + s.queued == 150u);
    BOOST_TEST(s.dropped > 0u);
    const auto dropped_before = s.dropped;
    p.close(200ms);
    BOOST_TEST(p.stats().dropped == 150u);  // what was queued is lost without a spool, and counted
    BOOST_TEST(p.stats().queued == 0u);
    BOOST_TEST(p.stats().dropped > dropped_before);
}

BOOST_FIXTURE_TEST_CASE(close_delivers_ten_thousand_queued_events, server_fixture) {
    observability::options o;
    o.url = url_of(server.port());
    o.flush_interval = std::chrono::milliseconds(60000);  // only close() sends
    o.flush_at = 1000;
    observability::provider p(o);
    for (int i = 0; i < 10000; ++i) p.log("thought", {{"text", std::to_string(i)}}, in_run("close"));
    p.close(10s);
    BOOST_TEST(p.stats().sent == 10000u);
    BOOST_TEST(p.stats().dropped == 0u);
    BOOST_TEST(stored_steps(server.port(), "close").size() == 10000u);
}

// The queue stores lines back to back in 2 MiB blocks, reused once a
// batch is done: events larger than a block (a block of their own), events
// straddling block ends and the reuse of blocks must all come out whole and
// in order.
BOOST_FIXTURE_TEST_CASE(events_larger_than_a_queue_block_are_stored_whole_and_in_order, server_fixture) {
    observability::options o;
    o.url = url_of(server.port());
    o.report = [](std::string_view) {};
    o.flush_at = 7;
    observability::provider p(o);
    std::vector<json::array> sent_parts;
    for (int i = 0; i < 3000; ++i) {
        // Mostly small; every 500th 2.7 MiB in three strings (a text may hold
        // 1 MiB; the event is larger than a block), every 101st 300 KiB,
        // every 37th a few KiB: blocks fill unevenly and are reused.
        const std::size_t size = i % 500 == 499 ? (900u << 10)
                                 : i % 101 == 0 ? (300u << 10)
                                 : i % 37 == 0  ? 5000u + i
                                                : 20u + i % 50;
        json::array parts;
        for (int k = 0; k < (i % 500 == 499 ? 3 : 1); ++k) {
            std::string text(size, static_cast<char>('a' + (i + k) % 26));
            text.replace(0, std::to_string(i).size(), std::to_string(i));
            parts.emplace_back(text);
        }
        sent_parts.push_back(parts);
        p.log("tool_call", {{"tool", "t"}, {"call_id", "c" + std::to_string(i)}, {"arguments", {{"parts", parts}}}},
              in_run("blocks"));
    }
    BOOST_TEST(p.flush(60s));
    BOOST_TEST(p.stats().sent == sent_parts.size());
    const auto steps = stored_steps(server.port(), "blocks");
    BOOST_REQUIRE_EQUAL(steps.size(), sent_parts.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < steps.size(); ++i)
        mismatches += steps[i].at("payload").at("arguments").at("parts") != json::value(sent_parts[i]);
    BOOST_TEST(mismatches == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
