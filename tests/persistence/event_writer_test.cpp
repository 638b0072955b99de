// Tests of persistence/event_writer.cpp: the queue and threads around the
// group transaction. Concurrent submitters committed in fewer transactions
// than requests with gap-free offsets; the queue's bound; the listener's
// order; stop() draining and truncating the WAL; checkpoints between groups; a
// WAL that grew behind a long read shrinking in steps; requests
// queued before start(); callbacks that throw; the writer thread's
// scheduling policy switched by set_prompt_wakeups.
#include "persistence/event_writer.hpp"

#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

#include <sched.h>

using namespace obs::persistence;
using namespace obs::persistence::test;
using obs::domain::event;
using status = write_outcome::status;

BOOST_AUTO_TEST_SUITE(event_writer_suite)

namespace {

std::vector<event> thoughts(const std::string& run_id, std::size_t n, std::size_t payload_bytes = 0) {
    std::vector<event> batch;
    for (std::size_t i = 0; i < n; ++i) {
        event ev = thought(run_id);
        if (payload_bytes > 0) {
            ev.payload_json = R"({"text":")" + std::string(payload_bytes, 'x') + "\"}";
        }
        batch.push_back(std::move(ev));
    }
    return batch;
}

// This process's threads whose policy is SCHED_BATCH (the writer's, unless
// its wakeups are to preempt).
int batch_threads() {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
        const pid_t tid = static_cast<pid_t>(std::stol(entry.path().filename().string()));
        if (sched_getscheduler(tid) == SCHED_BATCH) ++n;
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(concurrent_submitters_share_transactions) {
    struct load_case {
        std::size_t threads, batches_per_thread, events_per_batch;
    };
    for (const load_case c : {load_case{4, 10, 5}, load_case{8, 5, 1}, load_case{2, 3, 100}}) {
        BOOST_TEST_CONTEXT(c.threads << " threads x " << c.batches_per_thread << " batches x " << c.events_per_batch) {
            temp_db tmp;
            event_writer w(tmp.writer_opts());
            w.start();
            std::vector<std::vector<std::future<write_outcome>>> futures(c.threads);
            {
                // Held while everyone submits: the writer can take at most
                // the first request alone, the rest queue up behind it.
                write_lock lock(tmp);
                std::vector<std::thread> submitters;
                for (std::size_t t = 0; t < c.threads; ++t) {
                    submitters.emplace_back([&, t] {
                        for (std::size_t b = 0; b < c.batches_per_thread; ++b) {
                            futures[t].push_back(submit(w, thoughts("run-" + std::to_string(t), c.events_per_batch)));
                        }
                    });
                }
                for (std::thread& s : submitters) s.join();
            }
            std::vector<std::int64_t> offsets;
            for (std::size_t t = 0; t < c.threads; ++t) {
                std::int64_t expected_seq = 1;  // per run, in submission order
                for (auto& f : futures[t]) {
                    const write_outcome o = wait(f);
                    BOOST_REQUIRE(o.result == status::committed);
                    BOOST_REQUIRE(o.acks.size() == c.events_per_batch);
                    for (const event_ack& a : o.acks) {
                        BOOST_TEST(a.seq == expected_seq++);
                        offsets.push_back(a.offset);
                    }
                }
            }
            std::sort(offsets.begin(), offsets.end());
            const std::size_t total = c.threads * c.batches_per_thread * c.events_per_batch;
            BOOST_REQUIRE(offsets.size() == total);
            for (std::size_t i = 0; i < total; ++i) BOOST_TEST(offsets[i] == static_cast<std::int64_t>(i + 1));
            BOOST_TEST(w.groups_committed() <= 2u);
            BOOST_TEST(w.groups_committed() < c.threads * c.batches_per_thread);
            BOOST_TEST(w.last_offset() == static_cast<std::int64_t>(total));
            BOOST_TEST(w.queue_depth() == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(queue_is_bounded_in_events) {
    temp_db tmp;
    writer_options opts = tmp.writer_opts();
    opts.max_queued_events = 10;
    event_writer w(opts);
    w.start();
    std::vector<std::future<write_outcome>> futures;
    {
        write_lock lock(tmp);  // the writer cannot commit: nothing leaves the queue
        futures.push_back(submit(w, thoughts("q", 4)));
        futures.push_back(submit(w, thoughts("q", 6)));
        BOOST_TEST(w.queue_depth() == 10u);
        bool called = false;
        BOOST_TEST(!w.try_submit(thoughts("q", 1), [&called](write_outcome) { called = true; }));
        BOOST_TEST(!w.try_submit(thoughts("q", 11), [&called](write_outcome) { called = true; }));
        BOOST_TEST(!called);
        BOOST_TEST(w.queue_depth() == 10u);
    }
    for (auto& f : futures) BOOST_TEST(static_cast<int>(wait(f).result) == static_cast<int>(status::committed));
    BOOST_TEST(w.queue_depth() == 0u);
    auto again = submit(w, thoughts("q", 10));  // room again, up to the bound exactly
    BOOST_TEST(static_cast<int>(wait(again).result) == static_cast<int>(status::committed));
    BOOST_TEST(w.last_offset() == 20);
}

BOOST_AUTO_TEST_CASE(listener_sees_committed_events_in_offset_order) {
    temp_db tmp;
    std::mutex mu;
    std::vector<obs::domain::stored_event> seen;
    std::size_t calls = 0;
    std::size_t empty_calls = 0;
    event_writer w(tmp.writer_opts());
    w.start({[&](committed_events batch) {
                 std::lock_guard lk(mu);  // no Boost.Test macro on the writer thread
                 ++calls;
                 if (batch->empty()) ++empty_calls;
                 seen.insert(seen.end(), batch->begin(), batch->end());
             },
             {}});
    const event repeated = thought("l", base_ts, "repeated");
    std::vector<std::thread> submitters;
    std::vector<std::vector<std::future<write_outcome>>> futures(3);
    for (std::size_t t = 0; t < 3; ++t) {
        submitters.emplace_back([&, t] {
            for (int b = 0; b < 20; ++b) {
                std::vector<event> batch = thoughts("l" + std::to_string(t), 3);
                batch.push_back(repeated);  // stored once, then a duplicate
                futures[t].push_back(submit(w, std::move(batch)));
            }
        });
    }
    for (std::thread& s : submitters) s.join();
    std::map<std::int64_t, std::string> acked;  // offset -> id, from the acks
    for (auto& per_thread : futures) {
        for (auto& f : per_thread) {
            const write_outcome o = wait(f);
            BOOST_REQUIRE(o.result == status::committed);
            for (const event_ack& a : o.acks) {
                if (!a.duplicate) acked[a.offset] = a.id;
            }
        }
    }
    w.stop();
    std::lock_guard lk(mu);
    BOOST_REQUIRE(seen.size() == 3u * 20u * 3u + 1u);
    BOOST_TEST(calls <= w.groups_committed());
    BOOST_TEST(empty_calls == 0u);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        BOOST_TEST_CONTEXT("event " << i) {
            BOOST_TEST(seen[i].offset == static_cast<std::int64_t>(i + 1));
            BOOST_TEST(seen[i].id == acked.at(seen[i].offset));
            BOOST_TEST(!seen[i].payload_json.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(stop_commits_everything_queued_and_truncates_the_wal) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    std::vector<std::future<write_outcome>> futures;
    for (int i = 0; i < 50; ++i) futures.push_back(submit(w, thoughts("s", 20)));
    w.stop();
    for (auto& f : futures) {
        BOOST_REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);  // done before stop returned
        BOOST_TEST(static_cast<int>(f.get().result) == static_cast<int>(status::committed));
    }
    BOOST_TEST(w.last_offset() == 1000);
    BOOST_TEST(!w.try_submit(thoughts("s", 1), [](write_outcome) {}));
    w.stop();  // idempotent
    BOOST_TEST(std::filesystem::file_size(tmp.path() + "-wal") == 0u);
    db_ptr db = tmp.open(true);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM events") == 1000);
}

BOOST_AUTO_TEST_CASE(checkpoints_between_groups_keep_the_wal_short) {
    temp_db tmp;
    writer_options opts = tmp.writer_opts();
    opts.checkpoint_after_pages = 16;
    event_writer w(opts);
    w.start();
    // One group at a time (each waited for), about 10 WAL frames each: 40
    // groups would leave a WAL of 400+ frames without checkpoints.
    std::uintmax_t largest_wal = 0;
    for (int i = 0; i < 40; ++i) {
        auto f = submit(w, thoughts("c", 50, 400));
        BOOST_TEST_REQUIRE(static_cast<int>(wait(f).result) == static_cast<int>(status::committed));
        largest_wal = std::max(largest_wal, std::filesystem::file_size(tmp.path() + "-wal"));
    }
    BOOST_TEST(w.checkpoints_run() >= 5u);
    // The WAL restarts after each checkpoint: its file never holds much more
    // than the threshold plus a group (4 KiB pages plus frame headers).
    BOOST_TEST(largest_wal < 64u * 4120u, "largest WAL " << largest_wal << " bytes");
    w.stop();
    db_ptr db = tmp.open();
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM events") == 2000);
}

BOOST_AUTO_TEST_CASE(a_wal_grown_behind_a_long_read_shrinks_in_steps) {
    temp_db tmp;
    writer_options opts = tmp.writer_opts();
    opts.checkpoint_after_pages = 16;
    opts.wal_size_limit_bytes = 64 * 1024;
    opts.wal_shrink_step_bytes = 256 * 1024;
    event_writer w(opts);
    w.start();
    const std::string wal = tmp.path() + "-wal";
    std::int64_t committed = 0;
    auto commit = [&](int i) {
        auto f = submit(w, thoughts("grow", 50, 400));
        committed += 50;
        BOOST_TEST_REQUIRE(static_cast<int>(wait(f).result) == static_cast<int>(status::committed), "group " << i);
    };
    commit(0);
    {
        // A reader holding its snapshot (as a backup's does) keeps the WAL
        // from restarting, so it grows well past the limit.
        db_ptr reader = tmp.open(true);
        exec(reader.get(), "BEGIN");
        BOOST_TEST_REQUIRE(query_int(reader.get(), "SELECT count(*) FROM events") == 50);
        for (int i = 1; i <= 40; ++i) commit(i);
        exec(reader.get(), "COMMIT");
    }
    const auto grown = static_cast<std::int64_t>(std::filesystem::file_size(wal));
    BOOST_TEST_REQUIRE(grown > 4 * opts.wal_shrink_step_bytes, "WAL of " << grown << " bytes");
    // Released: every restart drops at most one step, until the limit.
    std::int64_t previous = grown, smallest = grown;
    for (int i = 0; i < 200 && smallest > opts.wal_size_limit_bytes; ++i) {
        commit(100 + i);
        const auto now = static_cast<std::int64_t>(std::filesystem::file_size(wal));
        BOOST_TEST(previous - now <= opts.wal_shrink_step_bytes, "group " << i << ": " << previous << " -> " << now);
        previous = now;
        smallest = std::min(smallest, now);
    }
    BOOST_TEST(smallest <= opts.wal_size_limit_bytes);
    w.stop();
    db_ptr db = tmp.open(true);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM events") == committed);
    BOOST_TEST(query_text(db.get(), "PRAGMA integrity_check") == "ok");
}

BOOST_AUTO_TEST_CASE(requests_queued_before_start_are_committed_by_stop) {
    temp_db tmp;
    std::future<write_outcome> f;
    {
        event_writer w(tmp.writer_opts());
        f = submit(w, thoughts("early", 3));
        BOOST_TEST(w.queue_depth() == 3u);
    }  // destroyed without start()
    const write_outcome o = wait(f);
    BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(status::committed));
    BOOST_TEST(o.acks.size() == 3u);
}

BOOST_AUTO_TEST_CASE(throwing_callbacks_do_not_stop_the_writer) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start({[](committed_events) { throw std::runtime_error("listener bug"); }, {}});
    BOOST_TEST(w.try_submit(thoughts("t", 1), [](write_outcome) { throw std::runtime_error("callback bug"); }));
    auto f = submit(w, thoughts("t", 1));
    BOOST_TEST(static_cast<int>(wait(f).result) == static_cast<int>(status::committed));
    BOOST_TEST(w.last_offset() == 2);
    BOOST_TEST(w.healthy());
}

BOOST_AUTO_TEST_CASE(group_end_listener_follows_each_groups_callbacks) {
    temp_db tmp;
    std::mutex mu;
    std::string order;  // L: the commit listener, D: a request's callback, E: the group's end
    event_writer w(tmp.writer_opts());
    w.start({[&](committed_events) {
                 std::lock_guard lk(mu);
                 order += 'L';
             },
             [&] {
                 std::lock_guard lk(mu);
                 order += 'E';
             }});
    {
        write_lock lock(tmp);  // requests pile up: later groups hold several
        for (int i = 0; i < 4; ++i) {
            BOOST_TEST(w.try_submit(thoughts("g", 2), [&](write_outcome) {
                std::lock_guard lk(mu);
                order += 'D';
            }));
        }
    }
    w.stop();  // commits what is queued and joins the writer: every call has happened
    BOOST_TEST_INFO("order: " << order);
    BOOST_TEST(std::regex_match(order, std::regex("(LD+E)+")));
    BOOST_TEST(std::count(order.begin(), order.end(), 'D') == 4);
}


BOOST_AUTO_TEST_CASE(jobs_wait_for_the_requests_queued_before_them_and_run_before_stop) {
    temp_db tmp;
    std::mutex mu;
    std::string order;  // G: a group's end, J: a job
    event_writer w(tmp.writer_opts());
    w.start({{}, [&] {
                 std::lock_guard lk(mu);
                 order += 'G';
             }});
    {
        write_lock lock(tmp);  // everything below queues while the first group waits
        BOOST_TEST(w.try_submit(thoughts("j", 1), [](write_outcome) {}));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the writer takes that group alone
        for (int i = 0; i < 3; ++i) {
            BOOST_TEST(w.try_submit_job([&](sqlite3* db) {
                // On the writer's connection: it can write, in its own transaction.
                exec(db, "BEGIN IMMEDIATE");
                exec(db, "COMMIT");
                std::lock_guard lk(mu);
                order += 'J';
            }));
            BOOST_TEST(w.try_submit(thoughts("j", 1), [](write_outcome) {}));
        }
    }
    w.stop();  // runs what is queued, jobs included
    BOOST_TEST_INFO("order: " << order);
    BOOST_TEST(std::count(order.begin(), order.end(), 'J') == 3);
    // The first group alone; then the three requests queued meanwhile as one
    // group, before any job (one job per turn after it); then the other jobs.
    BOOST_TEST(order == "GGJJJ");
    BOOST_TEST(!w.try_submit_job([](sqlite3*) {}), "a job was taken after stop()");
}

BOOST_AUTO_TEST_CASE(a_full_job_queue_refuses_and_a_throwing_job_is_contained) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    std::size_t accepted = 0;
    {
        write_lock lock(tmp);
        w.start();
        BOOST_TEST(w.try_submit(thoughts("q", 1), [](write_outcome) {}));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (std::size_t i = 0; i < event_writer::max_jobs + 5; ++i)
            accepted += w.try_submit_job([](sqlite3* db) {
                exec(db, "BEGIN IMMEDIATE");
                throw std::runtime_error("job bug");  // leaves its transaction open
            }) ? 1 : 0;
    }
    BOOST_TEST(accepted == event_writer::max_jobs);
    auto f = submit(w, thoughts("q", 1));
    BOOST_TEST(static_cast<int>(wait(f).result) == static_cast<int>(status::committed));
    BOOST_TEST(w.last_offset() == 2);
}
BOOST_AUTO_TEST_CASE(prompt_wakeups_switch_the_writer_thread_between_batch_and_other) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    BOOST_TEST(batch_threads() == 0);
    w.start();
    auto first = submit(w, thoughts("p", 1));  // the thread has run (and set its policy)
    BOOST_TEST(static_cast<int>(wait(first).result) == static_cast<int>(status::committed));
    BOOST_TEST(batch_threads() == 1);
    w.set_prompt_wakeups(true);
    BOOST_TEST(batch_threads() == 0);
    auto during = submit(w, thoughts("p", 1));  // and it keeps committing
    BOOST_TEST(static_cast<int>(wait(during).result) == static_cast<int>(status::committed));
    w.set_prompt_wakeups(false);
    BOOST_TEST(batch_threads() == 1);
    w.stop();
}

BOOST_AUTO_TEST_SUITE_END()
