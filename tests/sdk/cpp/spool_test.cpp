// The spool keeps every event whose log() returned: an agent process
// (obs_sdk_spool_child) logs N events and is SIGKILLed the moment it says so,
// with the server down or while it is delivering; a new provider on the same
// spool directory then delivers all N, each stored exactly once, in order.
// Also: more events than max_queue go to disk and are read back in order, and
// a second live provider cannot take a spool in use.
#include "observability/provider.hpp"
#include "sdk_support.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace e2e = obs::e2e;
using namespace obs::sdk_test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(sdk_cpp_spool)

namespace {

// Runs the child and SIGKILLs it as soon as it printed "logged N".
void run_child_and_kill(const std::filesystem::path& spool, const std::string& url, const std::string& run, int n,
                        int flush_at = 0) {
    int out[2];
    BOOST_REQUIRE(::pipe(out) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        const std::string count = std::to_string(n);
        const std::string batch = std::to_string(flush_at);
        ::execl(OBS_SDK_SPOOL_CHILD, OBS_SDK_SPOOL_CHILD, spool.c_str(), url.c_str(), run.c_str(), count.c_str(),
                flush_at > 0 ? batch.c_str() : static_cast<char*>(nullptr), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(out[1]);
    std::string said;
    char c;
    while (said.find('\n') == std::string::npos && ::read(out[0], &c, 1) == 1) said.push_back(c);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out[0]);
    BOOST_REQUIRE_EQUAL(said, "logged " + std::to_string(n) + "\n");
    BOOST_TEST(WIFSIGNALED(status));
}

void expect_all_in_order(unsigned short port, const std::string& run, int n) {
    const auto steps = stored_steps(port, run);
    BOOST_REQUIRE_EQUAL(steps.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) BOOST_TEST(steps[i].at("payload").at("text").as_string() == std::to_string(i));
}

}  // namespace

BOOST_AUTO_TEST_CASE(events_logged_while_the_server_is_down_survive_a_kill_of_the_agent) {
    e2e::temp_dir dir;
    const auto spool = dir.path() / "spool";
    constexpr int n = 3000;
    run_child_and_kill(spool, url_of(closed_port()), "spool-down", n);
    BOOST_TEST(segment_files(spool).size() >= 1u);

    e2e::server_process server({(dir.path() / "obs.db").string(), {}, {}, true});
    observability::options o;
    o.url = url_of(server.port());
    o.spool_dir = spool;
    {
        observability::provider p(o);
        BOOST_TEST(p.stats().queued == static_cast<std::uint64_t>(n));
        BOOST_TEST(p.flush(20s));
        BOOST_TEST(p.stats().sent == static_cast<std::uint64_t>(n));
        BOOST_TEST(p.stats().duplicates == 0u);
    }
    expect_all_in_order(server.port(), "spool-down", n);
    BOOST_TEST(segment_files(spool).size() == 0u);  // acknowledged segments are removed
}

BOOST_AUTO_TEST_CASE(a_kill_during_delivery_loses_nothing_and_stores_nothing_twice) {
    e2e::temp_dir dir;
    const auto spool = dir.path() / "spool";
    e2e::server_process server({(dir.path() / "obs.db").string(), {}, {}, true});
    // Batches of 3000 while it logs; the last 2000 are still unsent at the kill.
    constexpr int n = 20000;
    run_child_and_kill(spool, url_of(server.port()), "spool-up", n, 3000);
    // The killed agent's last request may still be committing: counted once
    // the stored events stop changing (a count taken during that commit was
    // a batch short, and the batch came back as duplicates).
    std::size_t stored_before = stored_steps(server.port(), "spool-up").size();
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(100ms);
        const std::size_t now = stored_steps(server.port(), "spool-up").size();
        if (now == stored_before) break;
        stored_before = now;
    }
    BOOST_TEST_MESSAGE("stored before the kill: " << stored_before << " of " << n);
    BOOST_TEST(stored_before <= static_cast<std::size_t>(n - 2000));

    observability::options o;
    o.url = url_of(server.port());
    o.spool_dir = spool;
    {
        observability::provider p(o);
        const auto leftovers = p.stats().queued;
        BOOST_TEST(leftovers >= n - stored_before);
        BOOST_TEST(p.flush(30s));
        const auto s = p.stats();
        // Resent events the old provider had delivered are duplicates, never stored again.
        BOOST_TEST(s.sent + stored_before == static_cast<std::uint64_t>(n));
        BOOST_TEST(s.sent + s.duplicates == leftovers);
    }
    expect_all_in_order(server.port(), "spool-up", n);
}

BOOST_AUTO_TEST_CASE(more_than_max_queue_goes_to_disk_and_comes_back_in_order) {
    e2e::temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    unsigned short port;
    {
        e2e::server_process first({db, {}, {}, true});
        port = first.port();
    }  // stopped: the provider starts with the server down
    observability::options o;
    o.url = url_of(port);
    o.spool_dir = dir.path() / "spool";
    o.max_queue = 50;
    o.report = [](std::string_view) {};
    observability::provider p(o);
    constexpr int n = 2500;
    for (int i = 0; i < n; ++i) {
        observability::log_options w;
        w.run_id = "overflow";
        p.log("thought", {{"text", std::to_string(i)}}, w);
    }
    BOOST_TEST(p.stats().dropped == 0u);
    BOOST_TEST(p.stats().spooled == static_cast<std::uint64_t>(n));
    e2e::server_process again({db, {"--listen", "127.0.0.1:" + std::to_string(port)}, {}, true});
    BOOST_TEST(p.flush(30s));
    BOOST_TEST(p.stats().sent == static_cast<std::uint64_t>(n));
    expect_all_in_order(port, "overflow", n);
}

BOOST_AUTO_TEST_CASE(one_live_provider_per_spool) {
    e2e::temp_dir dir;
    observability::options o;
    o.url = url_of(closed_port());
    o.spool_dir = dir.path() / "spool";
    o.report = [](std::string_view) {};
    observability::provider first(o);
    BOOST_CHECK_THROW(observability::provider second(o), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
