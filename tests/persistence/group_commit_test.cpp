// Tests of persistence/group_commit.cpp through event_writer: what one group's
// transaction stores. Offsets gap-free and seq per run; dedupe by id
// (duplicate answered with the stored numbers, conflict rolling back only its
// own batch, also among server-named events); a taken server-made id
// replaced; the runs view after each event type; the in-transaction hook;
// a group that fails as a whole; and numbers continuing after a restart.
#include "persistence/event_writer.hpp"

#include "domain/uuid.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>
#include <stdexcept>

using namespace obs::persistence;
using namespace obs::persistence::test;
using obs::domain::event;
using obs::domain::event_type;
using status = write_outcome::status;

BOOST_AUTO_TEST_SUITE(group_commit_suite)

namespace {

// Collects every committed event the listener is handed.
struct listener_log {
    std::mutex mu;
    std::vector<obs::domain::stored_event> events;
    std::size_t calls = 0;
    commit_listener listener() {
        return [this](committed_events batch) {
            std::lock_guard lk(mu);
            ++calls;
            events.insert(events.end(), batch->begin(), batch->end());
        };
    }
};

std::int64_t count_events(sqlite3* db) { return query_int(db, "SELECT count(*) FROM events"); }

// `taken` with the same id and another body: a conflict when sent again.
event other_body_of(const event& taken) {
    event clash = taken;
    clash.payload_json = R"({"text":"other"})";
    refingerprint(clash);
    return clash;
}

// An event as decoded without a client id: named by the server, no fingerprint.
event server_named(const std::string& run_id, std::string id = {}) {
    event ev = thought(run_id);
    ev.id = id.empty() ? obs::domain::make_uuid_v7(ev.received_ms) : std::move(id);
    ev.id_given = false;
    ev.fingerprint.clear();
    return ev;
}

// A started writer, its commits logged, whose database holds one event:
// `taken`, a thought of run x with the client id "taken".
struct writer_with_a_taken_id {
    temp_db tmp;
    listener_log log;
    event_writer w{tmp.writer_opts()};
    const event taken = thought("x", base_ts, "taken");
    writer_with_a_taken_id() {
        w.start({log.listener(), {}});
        auto f = submit(w, {taken});
        BOOST_REQUIRE(wait(f).result == status::committed);
    }
};

}  // namespace

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
    refingerprint(other_body);
    event twin = thought("r", base_ts, "twin");
    event twin_other = twin;
    twin_other.ts_ms += 1;
    refingerprint(twin_other);

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

// Requests of several events are stored with multi-row INSERTs of up to 64
// rows each; a taken id makes such a request start over event by event,
// whether it stands first, at the edge of a chunk or in a later chunk. The
// outcome must be the event-by-event one wherever it stands: a duplicate
// answered with its stored numbers, a conflict storing nothing of its batch,
// a taken server-made id replaced; and the requests before and after it in
// the same group keep gap-free offsets and seqs.
BOOST_AUTO_TEST_CASE(a_taken_id_anywhere_in_long_batches) {
    enum class taken_kind { duplicate, conflict, server_made };
    const std::size_t batch_size = 150;  // chunks of 64, 64, 16, 4 and 2 rows
    const std::size_t positions[] = {0, 1, 63, 64, 127, 128, 143, 149};
    const std::pair<taken_kind, const char*> kinds[] = {{taken_kind::duplicate, "duplicate"},
                                                        {taken_kind::conflict, "conflict"},
                                                        {taken_kind::server_made, "taken server-made id"}};
    for (const auto& [kind, kind_name] : kinds) {
        for (const std::size_t at : positions) {
            BOOST_TEST_CONTEXT(kind_name << " at event " << at) {
                writer_with_a_taken_id fx;
                event_writer& w = fx.w;
                const event& taken = fx.taken;

                // Runs x and y alternate, so each chunk moves both.
                auto long_batch = [&] {
                    std::vector<event> batch;
                    for (std::size_t i = 0; i < batch_size; ++i) batch.push_back(server_named(i % 2 ? "y" : "x"));
                    return batch;
                };
                std::vector<std::vector<event>> batches{long_batch(), long_batch(), long_batch()};
                std::vector<event>& middle = batches[1];
                const std::string run_at = middle[at].run_id;
                if (kind == taken_kind::duplicate) middle[at] = taken;
                if (kind == taken_kind::conflict) middle[at] = other_body_of(taken);
                if (kind == taken_kind::server_made) middle[at] = server_named(run_at, "taken");

                gate g;
                auto fg = submit(w, {thought("gate")}, g.hook());
                g.wait_entered();  // the three below form the next group
                std::vector<std::future<write_outcome>> futures;
                for (const auto& batch : batches) futures.push_back(submit(w, batch));
                g.open();
                BOOST_REQUIRE(wait(fg).result == status::committed);
                std::vector<write_outcome> o;
                for (auto& f : futures) o.push_back(wait(f));

                BOOST_TEST(static_cast<int>(o[0].result) == static_cast<int>(status::committed));
                BOOST_TEST(static_cast<int>(o[2].result) == static_cast<int>(status::committed));
                if (kind == taken_kind::conflict) {
                    BOOST_TEST(static_cast<int>(o[1].result) == static_cast<int>(status::conflict));
                    BOOST_TEST(o[1].conflict_index == at);
                    BOOST_TEST(o[1].acks.empty());
                } else {
                    BOOST_REQUIRE(o[1].result == status::committed);
                    BOOST_REQUIRE(o[1].acks.size() == batch_size);
                    const event_ack& ack = o[1].acks[at];
                    if (kind == taken_kind::duplicate) {
                        BOOST_TEST(ack.duplicate);
                        BOOST_TEST(ack.offset == 1);
                        BOOST_TEST(ack.seq == 1);
                    } else {
                        BOOST_TEST(!ack.duplicate);
                        BOOST_TEST(ack.id != "taken");
                    }
                }

                // Every new event, in request order, continues the offsets
                // (the first event is 1, the gate's 2) and its run's seq, and
                // is stored under its numbers and id.
                db_ptr db = fx.tmp.open(true);
                std::int64_t next_offset = 3;
                std::map<std::string, std::int64_t> next_seq{{"x", 2}, {"y", 1}};
                std::size_t fresh = 0;
                for (std::size_t r = 0; r < o.size(); ++r) {
                    for (std::size_t i = 0; i < o[r].acks.size(); ++i) {
                        const event_ack& ack = o[r].acks[i];
                        if (ack.duplicate) continue;
                        const std::string& run_id = batches[r][i].run_id;
                        BOOST_TEST_CONTEXT("request " << r << " event " << i) {
                            BOOST_TEST(ack.offset == next_offset);
                            BOOST_TEST(ack.seq == next_seq[run_id]);
                            const std::string where = " FROM events WHERE \"offset\" = " + std::to_string(ack.offset);
                            BOOST_TEST(query_text(db.get(), "SELECT id" + where) == ack.id);
                            BOOST_TEST(query_text(db.get(), "SELECT run_id" + where) == run_id);
                            BOOST_TEST(query_int(db.get(), "SELECT seq" + where) == ack.seq);
                        }
                        ++next_offset;
                        ++next_seq[run_id];
                        ++fresh;
                    }
                }
                BOOST_TEST(fresh == (kind == taken_kind::server_made ? 3 * batch_size : 3 * batch_size - 1) -
                                        (kind == taken_kind::conflict ? batch_size - 1 : 0));
                BOOST_TEST(w.last_offset() == next_offset - 1);
                BOOST_TEST(count_events(db.get()) == next_offset - 1);
                for (const char* run : {"x", "y"}) {
                    BOOST_TEST_CONTEXT("run " << run) {
                        const std::string where = std::string(" FROM runs WHERE id = '") + run + "'";
                        BOOST_TEST(query_int(db.get(), "SELECT last_seq" + where) == next_seq[run] - 1);
                        BOOST_TEST(query_int(db.get(), "SELECT step_count" + where) == next_seq[run] - 1);
                    }
                }
                std::lock_guard lk(fx.log.mu);
                BOOST_REQUIRE(fx.log.events.size() == static_cast<std::size_t>(next_offset - 1));
                for (std::size_t i = 0; i < fx.log.events.size(); ++i)
                    BOOST_TEST(fx.log.events[i].offset == static_cast<std::int64_t>(i + 1));
            }
        }
    }
}

// The requests of a group go into the database together when none has a
// hook; a taken id among them (a duplicate, a conflict, a taken server-made
// id) sends them through one at a time, and a request with a hook goes
// alone. Every request must end as it would alone: here 40 lone-event
// requests, split by two hooks into a first run with a duplicate, a clean
// one, and one with a conflict and a taken server-made id.
BOOST_FIXTURE_TEST_CASE(many_requests_of_a_group_with_taken_ids_and_a_hook, writer_with_a_taken_id) {
    {
        db_ptr db = tmp.open();
        exec(db.get(), "CREATE TABLE side (note TEXT)");
    }
    const std::size_t duplicate_at = 5, conflict_at = 25, server_made_at = 35, requests = 40;
    auto hooked = [](std::size_t i) { return i == 10 || i == 20; };
    auto note = [](sqlite3* db) { exec(db, "INSERT INTO side VALUES ('hooked')"); };
    gate g;
    auto fg = submit(w, {thought("gate")}, g.hook());
    g.wait_entered();  // the 40 below form the next group
    std::vector<std::future<write_outcome>> futures;
    for (std::size_t i = 0; i < requests; ++i) {
        const std::string run = i % 3 ? "y" : "x";
        if (i == duplicate_at) {
            futures.push_back(submit(w, {taken}));
        } else if (i == conflict_at) {
            futures.push_back(submit(w, {other_body_of(taken)}));
        } else if (i == server_made_at) {
            futures.push_back(submit(w, {server_named(run, "taken")}));
        } else if (hooked(i)) {
            futures.push_back(submit(w, {server_named(run)}, note));
        } else {
            futures.push_back(submit(w, {server_named(run)}));
        }
    }
    g.open();
    BOOST_REQUIRE(wait(fg).result == status::committed);
    std::int64_t next_offset = 3;  // `taken` is 1, the gate's event 2
    std::map<std::string, std::int64_t> next_seq{{"x", 2}, {"y", 1}};
    for (std::size_t i = 0; i < requests; ++i) {
        BOOST_TEST_CONTEXT("request " << i) {
            const write_outcome o = wait(futures[i]);
            if (i == conflict_at) {
                BOOST_TEST(static_cast<int>(o.result) == static_cast<int>(status::conflict));
                BOOST_TEST(o.acks.empty());
                continue;
            }
            BOOST_REQUIRE(o.result == status::committed);
            BOOST_REQUIRE(o.acks.size() == 1u);
            if (i == duplicate_at) {
                BOOST_TEST(o.acks[0].duplicate);
                BOOST_TEST(o.acks[0].offset == 1);
                continue;
            }
            const std::string run = i % 3 ? "y" : "x";
            BOOST_TEST(!o.acks[0].duplicate);
            BOOST_TEST(o.acks[0].offset == next_offset++);
            BOOST_TEST(o.acks[0].seq == next_seq[run]++);
            if (i == server_made_at) BOOST_TEST(o.acks[0].id != "taken");
        }
    }
    BOOST_TEST(w.last_offset() == next_offset - 1);
    db_ptr db = tmp.open(true);
    BOOST_TEST(count_events(db.get()) == next_offset - 1);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM side") == 2);
    BOOST_TEST(query_int(db.get(), "SELECT last_seq FROM runs WHERE id = 'x'") == next_seq["x"] - 1);
    BOOST_TEST(query_int(db.get(), "SELECT step_count FROM runs WHERE id = 'y'") == next_seq["y"] - 1);
    std::lock_guard lk(log.mu);
    BOOST_REQUIRE(log.events.size() == static_cast<std::size_t>(next_offset - 1));
    for (std::size_t i = 0; i < log.events.size(); ++i)
        BOOST_TEST(log.events[i].offset == static_cast<std::int64_t>(i + 1));
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
