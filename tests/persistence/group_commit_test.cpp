// Tests of persistence/group_commit.cpp through event_writer: what one group's
// transaction stores. Offsets gap-free and seq per run; the runs view after
// each event type; the in-transaction hook; a group that fails as a whole;
// and numbers continuing after a restart. Dedupe by id is tested in
// group_commit_dedupe_test.cpp, the multi-row INSERTs of long batches and
// many requests in group_commit_batches_test.cpp.
#include "persistence/event_writer.hpp"

#include "group_commit_fixtures.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <mutex>
#include <stdexcept>

using namespace obs::persistence;
using namespace obs::persistence::test;

BOOST_AUTO_TEST_SUITE(group_commit_suite)

BOOST_AUTO_TEST_CASE(offsets_are_global_and_seq_per_run) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    auto f1 = submit(w, {thought("a"), thought("b"), thought("a")});
    auto f2 = submit(w, {thought("b"), thought("a")});
    const write_outcome o1 = wait(f1);
    const write_outcome o2 = wait(f2);
    BOOST_REQUIRE(o1.result == status::committed);
    BOOST_REQUIRE(o2.result == status::committed);
    struct expect {
        std::int64_t offset, seq;
    };
    const expect e1[] = {{1, 1}, {2, 1}, {3, 2}};
    const expect e2[] = {{4, 2}, {5, 3}};
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("batch 1 event " << i) {
            BOOST_TEST(o1.acks[i].offset == e1[i].offset);
            BOOST_TEST(o1.acks[i].seq == e1[i].seq);
            BOOST_TEST(!o1.acks[i].duplicate);
        }
    }
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST_CONTEXT("batch 2 event " << i) {
            BOOST_TEST(o2.acks[i].offset == e2[i].offset);
            BOOST_TEST(o2.acks[i].seq == e2[i].seq);
        }
    }
    BOOST_TEST(w.last_offset() == 5);
    db_ptr db = tmp.open(true);
    BOOST_TEST(query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'a'") == 3);
    BOOST_TEST(query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'b'") == 2);
}

BOOST_AUTO_TEST_CASE(runs_view_after_each_event_type) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    db_ptr db = tmp.open(true);
    auto row = [&](const std::string& column) {
        return query_text(db.get(), "SELECT " + column + " FROM runs WHERE id = 'run'");
    };
    struct step_case {
        std::string what;
        event ev;
        std::vector<std::pair<std::string, std::string>> columns;  // column -> expected text
    };
    const std::int64_t t = base_ts;
    const step_case steps[] = {
        {"a step creates the run", thought("run", t),
         {{"status", "running"}, {"name", "<null>"}, {"started_ms", std::to_string(t)}, {"step_count", "1"},
          {"last_seq", "1"}, {"last_event_ms", std::to_string(t)}, {"tags", "[]"}}},
        {"run_started fills it", run_started("run", "nightly", "planner", t - 50, R"(["a","b"])", R"({"k":"v"})", "parent-1"),
         {{"name", "nightly"}, {"agent", "planner"}, {"parent_run_id", "parent-1"}, {"tags", R"(["a","b"])"},
          {"metadata", R"({"k":"v"})"}, {"started_ms", std::to_string(t - 50)}, {"step_count", "1"},
          {"last_event_ms", std::to_string(t)}, {"last_seq", "2"}}},
        {"llm_call adds usage", llm_call("run", 100, 20, 0.25, t + 10),
         {{"input_tokens", "100"}, {"output_tokens", "20"}, {"cost_usd", "0.25"}, {"step_count", "2"},
          {"last_event_ms", std::to_string(t + 10)}}},
        {"a second llm_call adds more", llm_call("run", 1, 2, 0.5, t + 5),
         {{"input_tokens", "101"}, {"output_tokens", "22"}, {"cost_usd", "0.75"}, {"last_event_ms", std::to_string(t + 10)}}},
        {"error counts", error_event("run", t + 20), {{"error_count", "1"}, {"step_count", "4"}}},
        {"run_finished closes it", run_finished("run", "failed", t + 30),
         {{"status", "failed"}, {"ended_ms", std::to_string(t + 30)}, {"step_count", "4"}, {"last_seq", "6"}}},
        {"events after run_finished are stored", thought("run", t + 40),
         {{"status", "failed"}, {"step_count", "5"}, {"last_event_ms", std::to_string(t + 40)}, {"last_seq", "7"}}},
    };
    for (const step_case& s : steps) {
        BOOST_TEST_CONTEXT(s.what) {
            auto f = submit(w, {s.ev});
            BOOST_REQUIRE(wait(f).result == status::committed);
            for (const auto& [column, expected] : s.columns) {
                BOOST_TEST_CONTEXT(column) { BOOST_TEST(row(column) == expected); }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(hook_runs_inside_the_batch_savepoint) {
    temp_db tmp;
    {
        db_ptr db = tmp.open();
        exec(db.get(), "CREATE TABLE side (note TEXT)");
    }
    event_writer w(tmp.writer_opts());
    w.start();
    auto insert_note = [](const char* note, bool then_throw) {
        return [note, then_throw](sqlite3* db) {
            stmt_ptr s = prepare(db, "INSERT INTO side VALUES (?1)");
            sqlite3_bind_text(s.get(), 1, note, -1, SQLITE_STATIC);
            check(db, sqlite3_step(s.get()), "insert note");
            if (then_throw) throw std::runtime_error("artifact file missing");
        };
    };
    gate g;
    auto fg = submit(w, {thought("gate")}, g.hook());
    g.wait_entered();
    std::vector<std::future<write_outcome>> futures;
    futures.push_back(submit(w, {thought("h")}, insert_note("kept", false)));
    futures.push_back(submit(w, {thought("h")}, insert_note("dropped", true)));
    futures.push_back(submit(w, {thought("h")}));
    g.open();
    std::vector<write_outcome> o;
    for (auto& f : futures) o.push_back(wait(f));
    BOOST_TEST(static_cast<int>(o[0].result) == static_cast<int>(status::committed));
    BOOST_TEST(static_cast<int>(o[1].result) == static_cast<int>(status::failed));
    BOOST_TEST(o[1].message == "artifact file missing");
    BOOST_TEST(static_cast<int>(o[2].result) == static_cast<int>(status::committed));
    BOOST_TEST(o[0].acks[0].offset == 2);
    BOOST_TEST(o[2].acks[0].offset == 3);  // no gap where the failed batch was
    BOOST_TEST(o[2].acks[0].seq == 2);
    BOOST_TEST(w.healthy());  // a hook's failure is its batch's, not the database's
    db_ptr db = tmp.open(true);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM side") == 1);
    BOOST_TEST(query_text(db.get(), "SELECT note FROM side") == "kept");
}

BOOST_AUTO_TEST_CASE(a_failed_group_fails_every_request_and_recovers) {
    temp_db tmp;
    listener_log log;
    event_writer w(tmp.writer_opts());
    w.start({log.listener(), {}});
    auto f0 = submit(w, {thought("g"), thought("g")});
    BOOST_REQUIRE(wait(f0).result == status::committed);
    // A hook that ends the transaction under the writer stands in for an I/O
    // error: the group cannot commit and everything in it is lost.
    auto end_transaction = [](sqlite3* db) { exec(db, "ROLLBACK"); };
    gate g;
    auto fg = submit(w, {thought("g")}, g.hook());
    g.wait_entered();
    std::vector<std::future<write_outcome>> futures;
    futures.push_back(submit(w, {thought("g"), thought("h")}));
    futures.push_back(submit(w, {thought("g")}, end_transaction));
    futures.push_back(submit(w, {thought("h")}));
    g.open();
    BOOST_REQUIRE(wait(fg).result == status::committed);
    for (std::size_t i = 0; i < futures.size(); ++i) {
        BOOST_TEST_CONTEXT("request " << i) {
            const write_outcome o = wait(futures[i]);
            BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(status::failed));
            BOOST_TEST(o.acks.empty());
            BOOST_TEST(!o.message.empty());
        }
    }
    BOOST_TEST(!w.healthy());
    BOOST_TEST(!w.health_reason().empty());
    const std::int64_t stored = 3;
    BOOST_TEST(w.last_offset() == stored);

    auto f1 = submit(w, {thought("g")});
    const write_outcome after = wait(f1);
    BOOST_REQUIRE(after.result == status::committed);
    BOOST_TEST(after.acks[0].offset == stored + 1);  // no gap left by the lost group
    BOOST_TEST(after.acks[0].seq == stored + 1);     // every stored event is run g's
    BOOST_TEST(w.healthy());
    BOOST_TEST(w.health_reason().empty());
    db_ptr db = tmp.open(true);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM runs WHERE id = 'h'") == 0);
    std::lock_guard lk(log.mu);
    BOOST_TEST(log.events.size() == static_cast<std::size_t>(stored + 1));
}

BOOST_AUTO_TEST_CASE(restart_continues_offsets_and_seq) {
    temp_db tmp;
    {
        event_writer w(tmp.writer_opts());
        w.start();
        auto f = submit(w, {thought("a"), thought("b"), thought("a")});
        BOOST_REQUIRE(wait(f).result == status::committed);
    }
    event_writer w(tmp.writer_opts());
    BOOST_TEST(w.last_offset() == 3);
    w.start();
    auto f = submit(w, {thought("a"), thought("b"), thought("c")});
    const write_outcome o = wait(f);
    BOOST_REQUIRE(o.result == status::committed);
    BOOST_TEST(o.acks[0].offset == 4);
    BOOST_TEST(o.acks[0].seq == 3);
    BOOST_TEST(o.acks[1].seq == 2);
    BOOST_TEST(o.acks[2].seq == 1);
    BOOST_TEST(o.acks[2].offset == 6);
}

BOOST_AUTO_TEST_SUITE_END()
