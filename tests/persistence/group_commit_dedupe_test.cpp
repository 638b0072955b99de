// Tests of dedupe by id in persistence/group_commit.cpp (and
// group_commit_inserts.cpp), through event_writer: a duplicate answered with
// the stored numbers; a conflict rolling back only its own batch, within a
// group, for a lone event without a savepoint, and among server-named events;
// a taken server-made id replaced so its batch commits.
#include "persistence/event_writer.hpp"

#include "group_commit_fixtures.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <mutex>

using namespace obs::persistence;
using namespace obs::persistence::test;

BOOST_AUTO_TEST_SUITE(group_commit_suite)

BOOST_AUTO_TEST_CASE(duplicates_and_conflicts) {
    temp_db tmp;
    listener_log log;
    event_writer w(tmp.writer_opts());
    w.start({log.listener(), {}});
    const event first = thought("r", base_ts, "dup-1");
    auto f = submit(w, {first, thought("r")});
    BOOST_REQUIRE(wait(f).result == status::committed);

    event other_body = first;
    other_body.payload_json = R"({"text":"something else"})";
    event twin = thought("r", base_ts, "twin");
    event twin_other = twin;
    twin_other.ts_ms += 1;

    struct dedupe_case {
        std::string what;
        std::vector<event> batch;
        status expected;
        std::vector<bool> duplicates;  // with committed
        std::size_t conflict_index;    // with conflict
    };
    const dedupe_case cases[] = {
        {"same id, same body", {first}, status::committed, {true}, 0},
        {"new event beside a duplicate", {thought("r"), first}, status::committed, {false, true}, 0},
        {"same id, other body", {thought("r"), other_body}, status::conflict, {}, 1},
        {"same id twice in one batch, same body", {twin, twin}, status::committed, {false, true}, 0},
        {"same id twice in one batch, other body", {thought("r", base_ts, "t2"), thought("r"), thought("r", base_ts + 1, "t2")}, status::conflict, {}, 2},
    };
    for (const dedupe_case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const std::int64_t before = w.last_offset();
            const std::size_t listened_before = log.events.size();
            auto fc = submit(w, c.batch);
            const write_outcome o = wait(fc);
            BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(c.expected));
            if (c.expected == status::committed) {
                BOOST_REQUIRE(o.acks.size() == c.duplicates.size());
                std::int64_t fresh = 0;
                for (std::size_t i = 0; i < o.acks.size(); ++i) {
                    BOOST_TEST(o.acks[i].duplicate == c.duplicates[i]);
                    BOOST_TEST(o.acks[i].id == c.batch[i].id);
                    if (!c.duplicates[i]) ++fresh;
                }
                BOOST_TEST(w.last_offset() == before + fresh);
                std::lock_guard lk(log.mu);
                BOOST_TEST(log.events.size() == listened_before + static_cast<std::size_t>(fresh));
            } else {
                BOOST_TEST(o.conflict_index == c.conflict_index);
                BOOST_TEST(o.acks.empty());
                BOOST_TEST(o.message.find(c.batch[c.conflict_index].id) != std::string::npos);
                BOOST_TEST(w.last_offset() == before);  // nothing of the batch stored
            }
        }
    }
    // The duplicate of `first` carries first's stored numbers.
    auto fd = submit(w, {first});
    const write_outcome od = wait(fd);
    BOOST_TEST(od.acks.at(0).offset == 1);
    BOOST_TEST(od.acks.at(0).seq == 1);
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == w.last_offset());
    BOOST_TEST(query_int(db.get(), "SELECT max(seq) FROM events WHERE run_id = 'r'") ==
               query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'r'"));
}

// Whether a repeated id is the same body is judged from the stored row
// (domain/same_body.hpp): payload members in another order are a duplicate,
// another node a conflict; and a row of an older version, which kept a hash
// of the client's body in `fingerprint`, is judged the same way.
BOOST_AUTO_TEST_CASE(a_repeated_id_is_judged_against_the_stored_row) {
    temp_db tmp;
    {
        // A row as an older version stored it, with the hash it kept.
        event_writer w(tmp.writer_opts());
        w.start();
        w.stop();
        db_ptr db = tmp.open();
        exec(db.get(), "INSERT INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, "
                       "payload, fingerprint) VALUES (1, 'old', 'r', 1, 'thought', 1000, 1200, NULL, NULL, "
                       "'{\"text\":\"t\"}', '" + std::string(64, 'a') + "')");
        exec(db.get(), "INSERT INTO runs(id, started_ms, last_event_ms, last_seq, step_count) VALUES ('r', 1000, 1000, 1, 1)");
    }
    event_writer w(tmp.writer_opts());
    w.start();
    event original = make_event("r", obs::domain::event_type::tool_call, R"({"tool":"t","call_id":"c","arguments":{"a":1,"b":[2,{"x":1,"y":2}]}})",
                                base_ts, "new");
    original.node = "worker-1";
    auto f0 = submit(w, {original});
    BOOST_REQUIRE(wait(f0).result == status::committed);

    event reordered = original;
    reordered.payload_json = R"({"arguments":{"b":[2,{"y":2,"x":1}],"a":1},"call_id":"c","tool":"t"})";
    reordered.received_ms += 5000;
    event other_node = original;
    other_node.node = "worker-2";
    event old_again = make_event("r", obs::domain::event_type::thought, R"({"text":"t"})", 1000, "old");
    event old_changed = make_event("r", obs::domain::event_type::thought, R"({"text":"u"})", 1000, "old");
    struct judged_case {
        const char* what;
        event ev;
        bool duplicate;
        std::int64_t stored_offset;
    };
    const judged_case cases[] = {
        {"payload members in another order", reordered, true, 2},
        {"another node", other_node, false, 0},
        {"an older version's row, the same body", old_again, true, 1},
        {"an older version's row, another body", old_changed, false, 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            auto f = submit(w, {c.ev});
            const write_outcome o = wait(f);
            if (c.duplicate) {
                BOOST_REQUIRE(o.result == status::committed);
                BOOST_TEST(o.acks.at(0).duplicate);
                BOOST_TEST(o.acks.at(0).offset == c.stored_offset);
            } else {
                BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(status::conflict));
            }
        }
    }
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == 2);
    BOOST_TEST(query_text(db.get(), "SELECT fingerprint FROM events WHERE id = 'new'") == "");
}

BOOST_FIXTURE_TEST_CASE(conflict_rolls_back_only_its_batch_within_a_group, writer_with_a_taken_id) {
    const std::uint64_t groups_before = w.groups_committed();
    const event clash = other_body_of(taken);

    gate g;
    auto fg = submit(w, {thought("gate")}, g.hook());
    g.wait_entered();  // the three below form the next group
    std::vector<std::future<write_outcome>> futures;
    futures.push_back(submit(w, {thought("x"), thought("y")}));
    futures.push_back(submit(w, {thought("x"), clash, thought("y")}));
    futures.push_back(submit(w, {thought("y"), thought("x")}));
    g.open();
    BOOST_REQUIRE(wait(fg).result == status::committed);
    std::vector<write_outcome> o;
    for (auto& f : futures) o.push_back(wait(f));
    BOOST_TEST(w.groups_committed() - groups_before == 2u);
    BOOST_TEST(static_cast<int>(o[0].result) == static_cast<int>(status::committed));
    BOOST_TEST(static_cast<int>(o[1].result) == static_cast<int>(status::conflict));
    BOOST_TEST(static_cast<int>(o[2].result) == static_cast<int>(status::committed));
    // Gap-free across the rolled-back batch (the gate's event is 2): 3, 4
    // then 5, 6.
    BOOST_TEST(o[0].acks[0].offset == 3);
    BOOST_TEST(o[2].acks[0].offset == 5);
    BOOST_TEST(o[2].acks[1].offset == 6);
    // Seq skips nothing either: x had 1, gets 2 then 3; y gets 1 then 2.
    BOOST_TEST(o[0].acks[0].seq == 2);
    BOOST_TEST(o[2].acks[1].seq == 3);
    BOOST_TEST(o[2].acks[0].seq == 2);
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == 6);
    BOOST_TEST(query_int(db.get(), "SELECT step_count FROM runs WHERE id = 'x'") == 3);
    BOOST_TEST(query_int(db.get(), "SELECT step_count FROM runs WHERE id = 'y'") == 2);
    std::lock_guard lk(log.mu);
    BOOST_REQUIRE(log.events.size() == 6u);
    BOOST_TEST(log.calls == 3u);  // one shared vector per group
    for (std::size_t i = 0; i < log.events.size(); ++i) BOOST_TEST(log.events[i].offset == static_cast<std::int64_t>(i + 1));
}

// A lone event runs without a savepoint: its conflict must still leave the
// group, the offsets and the run's counters as if it had never come.
BOOST_AUTO_TEST_CASE(lone_events_conflict_and_duplicate_without_a_savepoint) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    const event taken = thought("x", base_ts, "taken");
    auto f0 = submit(w, {taken});
    BOOST_REQUIRE(wait(f0).result == status::committed);
    const event clash = other_body_of(taken);

    gate g;
    auto fg = submit(w, {thought("gate")}, g.hook());
    g.wait_entered();  // the four below form the next group
    std::vector<std::future<write_outcome>> futures;
    futures.push_back(submit(w, {clash}));
    futures.push_back(submit(w, {thought("x")}));
    futures.push_back(submit(w, {taken}));
    futures.push_back(submit(w, {thought("x")}));
    g.open();
    BOOST_REQUIRE(wait(fg).result == status::committed);
    std::vector<write_outcome> o;
    for (auto& f : futures) o.push_back(wait(f));
    BOOST_TEST(static_cast<int>(o[0].result) == static_cast<int>(status::conflict));
    BOOST_TEST(o[0].acks.empty());
    BOOST_REQUIRE(o[1].result == status::committed);
    BOOST_REQUIRE(o[2].result == status::committed);
    BOOST_REQUIRE(o[3].result == status::committed);
    BOOST_TEST(o[1].acks.at(0).offset == 3);  // the gate's event is 2
    BOOST_TEST(o[1].acks.at(0).seq == 2);
    BOOST_TEST(o[2].acks.at(0).duplicate);
    BOOST_TEST(o[2].acks.at(0).offset == 1);
    BOOST_TEST(o[3].acks.at(0).offset == 4);
    BOOST_TEST(o[3].acks.at(0).seq == 3);
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == 4);
    BOOST_TEST(query_int(db.get(), "SELECT step_count FROM runs WHERE id = 'x'") == 3);
    BOOST_TEST(query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'x'") == 3);
}

// Batches the server names (no client ids) run without a savepoint: a
// server-made id found taken is replaced, and the batch commits whole.
BOOST_AUTO_TEST_CASE(a_taken_server_made_id_is_replaced_and_the_batch_commits) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    auto f0 = submit(w, {thought("n", base_ts, "taken-id")});
    BOOST_REQUIRE(wait(f0).result == status::committed);
    auto f1 = submit(w, {server_named("n"), server_named("n", "taken-id"), server_named("n")});
    const write_outcome o = wait(f1);
    BOOST_REQUIRE(static_cast<int>(o.result) == static_cast<int>(status::committed));
    BOOST_REQUIRE(o.acks.size() == 3u);
    BOOST_TEST(o.acks[1].id != "taken-id");
    BOOST_TEST(!o.acks[1].duplicate);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(o.acks[i].offset == static_cast<std::int64_t>(i + 2));
        BOOST_TEST(o.acks[i].seq == static_cast<std::int64_t>(i + 2));
    }
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == 4);
    BOOST_TEST(query_int(db.get(), "SELECT count(DISTINCT id) FROM events") == 4);
    BOOST_TEST(query_text(db.get(), "SELECT id FROM events WHERE \"offset\" = 3") == o.acks[1].id);
}

// A client id that conflicts undoes its whole batch wherever it stands among
// server-named events: first (nothing written yet) or later (the savepoint).
BOOST_AUTO_TEST_CASE(a_client_id_conflict_among_server_named_events_stores_nothing) {
    struct layout_case {
        const char* name;
        std::size_t clash_at;
    };
    for (const layout_case c : {layout_case{"clash first", 0}, layout_case{"clash in the middle", 1},
                                layout_case{"clash last", 2}}) {
        BOOST_TEST_CONTEXT(c.name) {
            temp_db tmp;
            event_writer w(tmp.writer_opts());
            w.start();
            const event taken = thought("m", base_ts, "client-id");
            auto f0 = submit(w, {taken});
            BOOST_REQUIRE(wait(f0).result == status::committed);
            std::vector<event> batch{server_named("m"), server_named("m"), server_named("m")};
            batch[c.clash_at] = other_body_of(taken);
            auto f1 = submit(w, std::move(batch));
            const write_outcome o = wait(f1);
            BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(status::conflict));
            BOOST_TEST(o.conflict_index == c.clash_at);
            auto f2 = submit(w, {server_named("m")});
            const write_outcome next = wait(f2);
            BOOST_REQUIRE(next.result == status::committed);
            BOOST_TEST(next.acks.at(0).offset == 2);  // gap-free after the undone batch
            BOOST_TEST(next.acks.at(0).seq == 2);
            db_ptr db = tmp.open(true);
            BOOST_TEST(count_events(db.get()) == 2);
            BOOST_TEST(query_int(db.get(), "SELECT step_count FROM runs WHERE id = 'm'") == 2);
            BOOST_TEST(query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'm'") == 2);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
