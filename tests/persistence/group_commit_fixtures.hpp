// Helpers of the group-commit tests (group_commit_test.cpp,
// group_commit_dedupe_test.cpp, group_commit_batches_test.cpp): a log of what
// the commit listener is handed, events with a taken id or named by the
// server, and a started writer whose database already holds one event.
#pragma once

#include "persistence/event_writer.hpp"

#include "domain/uuid.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace obs::persistence::test {

// The names the three files use; they share one suite, group_commit_suite,
// so every case keeps the name it had when they were one file.
using domain::event;
using domain::event_type;
using status = write_outcome::status;

// Collects every committed event the listener is handed.
struct listener_log {
    std::mutex mu;
    std::vector<domain::stored_event> events;
    std::size_t calls = 0;
    commit_listener listener() {
        return [this](committed_events batch) {
            std::lock_guard lk(mu);
            ++calls;
            events.insert(events.end(), batch->begin(), batch->end());
        };
    }
};

inline std::int64_t count_events(sqlite3* db) { return query_int(db, "SELECT count(*) FROM events"); }

// `taken` with the same id and another body: a conflict when sent again.
inline domain::event other_body_of(const domain::event& taken) {
    domain::event clash = taken;
    clash.payload_json = R"({"text":"other"})";
    return clash;
}

// An event as decoded without a client id or ts: named by the server.
inline domain::event server_named(const std::string& run_id, std::string id = {}) {
    domain::event ev = thought(run_id);
    ev.id = id.empty() ? domain::make_uuid_v7(ev.received_ms) : std::move(id);
    ev.id_given = false;
    ev.ts_given = false;
    ev.ts_ms = ev.received_ms;
    return ev;
}

// A started writer, its commits logged, whose database holds one event:
// `taken`, a thought of run x with the client id "taken".
struct writer_with_a_taken_id {
    temp_db tmp;
    listener_log log;
    event_writer w{tmp.writer_opts()};
    const domain::event taken = thought("x", base_ts, "taken");
    writer_with_a_taken_id() {
        w.start({log.listener(), {}});
        auto f = submit(w, {taken});
        BOOST_REQUIRE(wait(f).result == write_outcome::status::committed);
    }
};

}  // namespace obs::persistence::test
