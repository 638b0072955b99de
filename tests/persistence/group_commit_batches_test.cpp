// Tests of the multi-row INSERTs of persistence/group_commit_inserts.cpp,
// through event_writer: a taken id anywhere in long batches (first, at a
// chunk's edge, in a later chunk), and many requests of one group sent
// together, split by hooks, some with taken ids. Each request must end as it
// would have alone, with gap-free offsets and seqs around it.
#include "persistence/event_writer.hpp"

#include "group_commit_fixtures.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>

using namespace obs::persistence;
using namespace obs::persistence::test;

BOOST_AUTO_TEST_SUITE(group_commit_suite)

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

BOOST_AUTO_TEST_SUITE_END()
