// Helpers shared by the persistence tests: a temporary database that removes
// itself, hand-built events (so the writer is tested apart from validation),
// a future for each write, one-value queries, and a second connection that
// holds the write lock to make the writer wait on purpose.
#pragma once

#include "domain/event.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/sqlite_handle.hpp"

#include <cstdint>
#include <future>
#include <string>
#include <vector>

namespace obs::persistence::test {

inline constexpr std::int64_t base_ts = 1795817045123;  // 2026-11-27T22:04:05.123Z

// A database file under the temp directory with a name no other test (or
// test process) uses; the file and its -wal/-shm are removed on destruction.
class temp_db {
public:
    // With `migrate`, the embedded migrations are applied.
    explicit temp_db(bool migrate = true);
    ~temp_db();
    temp_db(const temp_db&) = delete;
    temp_db& operator=(const temp_db&) = delete;

    const std::string& path() const { return path_; }
    db_ptr open(bool read_only = false) const { return open_database(path_, read_only); }
    writer_options writer_opts() const;

private:
    std::string path_;
};

// An event of `type` for `run_id` with a client id and ts; the id is made
// unique when empty.
domain::event make_event(const std::string& run_id, domain::event_type type, std::string payload_json = "{}",
                         std::int64_t ts_ms = base_ts, std::string id = {});

domain::event run_started(const std::string& run_id, const std::string& name, const std::string& agent,
                          std::int64_t ts_ms, const std::string& tags_json = "[]",
                          const std::string& metadata_json = "{}", std::optional<std::string> parent = {});
domain::event run_finished(const std::string& run_id, const std::string& status, std::int64_t ts_ms);
domain::event llm_call(const std::string& run_id, std::int64_t in, std::int64_t out, double cost, std::int64_t ts_ms);
domain::event error_event(const std::string& run_id, std::int64_t ts_ms);
domain::event thought(const std::string& run_id, std::int64_t ts_ms = base_ts, std::string id = {});

// try_submit with a future for the outcome; a refused batch gets a `failed`
// outcome saying so. Safe on any thread (uses no Boost.Test macro).
std::future<write_outcome> submit(event_writer& w, std::vector<domain::event> batch, in_transaction_hook hook = {});
// The outcome, waiting at most a minute (then fails the test).
write_outcome wait(std::future<write_outcome>& f);

// The first column of the first row of `sql`; throws when it returns no row.
// Safe on any thread.
std::int64_t query_int(sqlite3* db, const std::string& sql);
std::string query_text(sqlite3* db, const std::string& sql);

// Another connection holding the database's write lock (BEGIN IMMEDIATE)
// until release() or destruction. The writer waits for it in its busy
// handler (5 s), so tests release it well within that.
class write_lock {
public:
    explicit write_lock(const temp_db& db);
    ~write_lock() { release(); }
    void release();

private:
    db_ptr db_;
    bool held_ = false;
};

// A hook that, run by the writer inside its group's transaction, says so and
// then waits until opened: everything submitted meanwhile queues up and
// becomes the next group, whole. Opened on destruction at the latest.
class gate {
public:
    gate() : opened_future_(opened_.get_future().share()) {}
    ~gate() { open(); }
    gate(const gate&) = delete;
    gate& operator=(const gate&) = delete;

    in_transaction_hook hook();  // call once
    void wait_entered();         // fails the test after a minute
    void open();

private:
    std::promise<void> entered_;
    std::promise<void> opened_;
    std::shared_future<void> opened_future_;
    bool is_open_ = false;
};

}  // namespace obs::persistence::test
