// obs_insert_ceiling: how fast this machine can insert event rows, and how
// close event_writer comes to that. Mode `raw` pushes N event-shaped rows
// through one prepared INSERT in transactions of 1000 rows, on the real
// schema (embedded_migrations) with the writer's PRAGMAs: the ceiling. Mode
// `writer` pushes the same rows through event_writer in batches of 100 from a
// few threads, each keeping a few batches in flight, as the server's sessions
// would. Each prints `rows_per_second=<n>`; the target is writer >= 60% of raw.
// With --from-db (raw mode) the rows are the newest N of another database's
// `events`, exactly as stored there (offset, seq, id, payload, ...):
// scripts/bench-ingest passes the server's own database, so its ceiling
// inserts the very rows the server stored. With --sqlite-autocheckpoint P
// the raw loop lets SQLite checkpoint inside COMMIT every P WAL pages, as a
// loop left at SQLite's default (1000) does: a reference beside the ceiling,
// which never checkpoints and so never copies a row into the database file.
//
// Usage: obs_insert_ceiling [--mode raw|writer|both] [--rows N] [--threads T]
//                           [--in-flight K] [--checkpoint-pages P] [--repeat R]
//                           [--dir DIR] [--from-db PATH]
//                           [--sqlite-autocheckpoint P]
#include "domain/event.hpp"
#include "domain/uuid.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/migrations.hpp"
#include "persistence/sqlite_handle.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace obs;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t raw_rows_per_transaction = 1000;
constexpr std::size_t writer_batch_events = 100;
constexpr std::size_t runs = 50;

constexpr const char* sql_raw_insert =
    "INSERT INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload, "
    "fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

struct settings {
    std::string mode = "both";
    std::size_t rows = 200000;
    std::size_t threads = 4;
    std::size_t in_flight = 4;  // batches each thread keeps queued
    std::int64_t checkpoint_pages = persistence::writer_options{}.checkpoint_after_pages;
    std::size_t repeat = 3;  // runs of each mode, alternating; the best counts
    std::filesystem::path dir = std::filesystem::temp_directory_path();
    std::string from_db;  // raw mode only: insert this database's newest rows
    // Raw mode only: 0 keeps WAL checkpoints off (the ceiling); P > 0 lets
    // SQLite run its own checkpoint inside COMMIT once the WAL holds P pages,
    // as a loop left at SQLite's defaults does (1000).
    int sqlite_autocheckpoint = 0;
};

// One `events` row as the raw loop binds it.
struct event_row {
    std::int64_t offset = 0;
    std::string id;
    std::string run_id;
    std::int64_t seq = 0;
    std::string type;
    std::int64_t ts_ms = 0;
    std::int64_t received_ms = 0;
    std::optional<std::string> node;
    std::optional<std::string> parent_id;
    std::string payload;
    std::string fingerprint;  // empty, as the writer stores it; older rows have a hash
};

// Rows like a busy agent's: batches of 100 events of one run, types in turn,
// payloads of about 150 bytes, UUIDv7 ids.
std::vector<std::vector<domain::event>> make_batches(std::size_t rows) {
    const domain::event_type kinds[] = {domain::event_type::thought, domain::event_type::tool_call,
                                        domain::event_type::tool_result, domain::event_type::llm_call};
    const std::int64_t t0 = 1795817045123;
    std::vector<std::vector<domain::event>> batches;
    for (std::size_t i = 0; i < rows; ++i) {
        if (i % writer_batch_events == 0) batches.emplace_back();
        domain::event ev;
        ev.ts_ms = t0 + static_cast<std::int64_t>(i);
        ev.received_ms = ev.ts_ms + 3;
        ev.id = domain::make_uuid_v7(ev.ts_ms);
        ev.id_given = true;
        ev.run_id = "run-" + std::to_string((i / writer_batch_events) % runs);
        ev.type = kinds[i % 4];
        ev.node = "worker-" + std::to_string(i % 7);
        ev.payload_json = R"({"tool":"search","call_id":"c)" + std::to_string(i) +
                          R"(","arguments":{"q":"gear ratio of the second stage","page":3,"lang":"en"}})";
        batches.back().push_back(std::move(ev));
    }
    return batches;
}

// The batches as rows, numbered as the writer would: offsets from 1, seq
// per run from 1.
std::vector<event_row> rows_of(const std::vector<std::vector<domain::event>>& batches) {
    std::vector<event_row> rows;
    std::map<std::string, std::int64_t> last_seq;
    for (const auto& batch : batches) {
        for (const domain::event& ev : batch) {
            rows.push_back({static_cast<std::int64_t>(rows.size()) + 1, ev.id, ev.run_id, ++last_seq[ev.run_id],
                            std::string(domain::to_string(ev.type)), ev.ts_ms, ev.received_ms, ev.node,
                            ev.parent_id, ev.payload_json, ""});
        }
    }
    return rows;
}

// The newest `limit` rows of `path`'s events, oldest first, exactly as stored.
std::vector<event_row> load_rows(const std::string& path, std::size_t limit) {
    persistence::db_ptr db = persistence::open_database(path, true);
    persistence::stmt_ptr select = persistence::prepare(
        db.get(),
        "SELECT \"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload, fingerprint "
        "FROM (SELECT * FROM events ORDER BY \"offset\" DESC LIMIT ?1) ORDER BY \"offset\"");
    sqlite3_bind_int64(select.get(), 1, static_cast<std::int64_t>(limit));
    std::vector<event_row> rows;
    int rc;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
        sqlite3_stmt* st = select.get();
        const auto text = [st](int col) { return std::string{persistence::column_text_view(st, col)}; };
        rows.push_back({sqlite3_column_int64(st, 0), text(1), text(2), sqlite3_column_int64(st, 3), text(4),
                        sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6),
                        persistence::column_optional_text(st, 7), persistence::column_optional_text(st, 8), text(9),
                        text(10)});
    }
    persistence::check(db.get(), rc, "SELECT events");
    return rows;
}

std::filesystem::path fresh_db(const settings& s, const char* mode) {
    const auto path = s.dir / ("obs-insert-ceiling-" + std::string{mode} + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    persistence::db_ptr db = persistence::open_database(path.string(), false);
    persistence::apply_migrations(db.get(), persistence::embedded_migrations());
    return path;
}

void remove_db(const std::filesystem::path& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

// CPU seconds of the whole process (all threads): on a shared machine the
// wall-clock rate moves with the neighbours' load, the CPU cost much less.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

void report(const char* mode, std::size_t rows, clock_type::duration elapsed, double cpu, const std::string& extra) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::printf("mode=%s rows=%zu seconds=%.3f cpu_seconds=%.3f rows_per_second=%.0f%s\n", mode, rows, seconds, cpu,
                static_cast<double>(rows) / seconds, extra.c_str());
    std::fflush(stdout);
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

void bind_text_or_null(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
    if (v)
        bind_text(s, i, *v);
    else
        sqlite3_bind_null(s, i);
}

double run_raw(const settings& s, const std::vector<event_row>& rows) {
    const auto path = fresh_db(s, "raw");
    persistence::db_ptr db = persistence::open_database(path.string(), false);
    persistence::apply_writer_pragmas(db.get(), persistence::writer_options{}.wal_size_limit_bytes);
    if (s.sqlite_autocheckpoint > 0) {
        persistence::check(db.get(), sqlite3_wal_autocheckpoint(db.get(), s.sqlite_autocheckpoint),
                           "wal_autocheckpoint");
    }
    persistence::stmt_ptr insert = persistence::prepare(db.get(), sql_raw_insert);
    persistence::stmt_ptr begin = persistence::prepare(db.get(), "BEGIN IMMEDIATE");
    persistence::stmt_ptr commit = persistence::prepare(db.get(), "COMMIT");

    const auto start = clock_type::now();
    const double cpu_start = cpu_seconds();
    std::size_t inserted = 0;
    for (const event_row& row : rows) {
        if (inserted % raw_rows_per_transaction == 0) {
            if (inserted > 0) persistence::check(db.get(), sqlite3_step(commit.get()), "COMMIT");
            sqlite3_reset(commit.get());
            persistence::check(db.get(), sqlite3_step(begin.get()), "BEGIN");
            sqlite3_reset(begin.get());
        }
        ++inserted;
        sqlite3_stmt* st = insert.get();
        sqlite3_bind_int64(st, 1, row.offset);
        bind_text(st, 2, row.id);
        bind_text(st, 3, row.run_id);
        sqlite3_bind_int64(st, 4, row.seq);
        bind_text(st, 5, row.type);
        sqlite3_bind_int64(st, 6, row.ts_ms);
        sqlite3_bind_int64(st, 7, row.received_ms);
        bind_text_or_null(st, 8, row.node);
        bind_text_or_null(st, 9, row.parent_id);
        bind_text(st, 10, row.payload);
        bind_text(st, 11, row.fingerprint);
        persistence::check(db.get(), sqlite3_step(st), "INSERT");
        sqlite3_reset(st);
    }
    persistence::check(db.get(), sqlite3_step(commit.get()), "COMMIT");
    sqlite3_reset(commit.get());
    const auto elapsed = clock_type::now() - start;
    report("raw", inserted, elapsed, cpu_seconds() - cpu_start,
           " transaction_rows=1000 sqlite_autocheckpoint=" + std::to_string(s.sqlite_autocheckpoint));
    const double rate = static_cast<double>(inserted) / std::chrono::duration<double>(elapsed).count();
    insert.reset();
    begin.reset();
    commit.reset();
    db.reset();
    remove_db(path);
    return rate;
}

// Counts a thread's batches in flight; the writer's callbacks release them.
struct window {
    std::mutex mu;
    std::condition_variable cv;
    std::size_t in_flight = 0;
    std::size_t failed = 0;
};

// `batches` is a copy made before the clock starts: the writer takes the
// events by move, as the server hands over decoded batches.
double run_writer(const settings& s, std::vector<std::vector<domain::event>> batches) {
    const auto path = fresh_db(s, "writer");
    persistence::writer_options opts;
    opts.db_path = path.string();
    opts.checkpoint_after_pages = s.checkpoint_pages;
    persistence::event_writer writer(opts);
    writer.start();
    std::vector<window> windows(s.threads);
    std::size_t rows = 0;
    for (const auto& b : batches) rows += b.size();

    const auto start = clock_type::now();
    const double cpu_start = cpu_seconds();
    std::vector<std::thread> submitters;
    for (std::size_t t = 0; t < s.threads; ++t) {
        submitters.emplace_back([&, t] {
            window& w = windows[t];
            for (std::size_t b = t; b < batches.size(); b += s.threads) {
                {
                    std::unique_lock lk(w.mu);
                    w.cv.wait(lk, [&] { return w.in_flight < s.in_flight; });
                    ++w.in_flight;
                }
                auto done = [&w](persistence::write_outcome o) {
                    std::lock_guard lk(w.mu);
                    --w.in_flight;
                    if (o.result != persistence::write_outcome::status::committed) ++w.failed;
                    w.cv.notify_all();
                };
                // threads x in_flight batches stay far below the queue's
                // bound, so a refusal is a failure here, not back-pressure.
                if (!writer.try_submit(std::move(batches[b]), done)) {
                    std::lock_guard lk(w.mu);
                    --w.in_flight;
                    ++w.failed;
                }
            }
            std::unique_lock lk(w.mu);
            w.cv.wait(lk, [&] { return w.in_flight == 0; });
        });
    }
    for (std::thread& th : submitters) th.join();
    const auto elapsed = clock_type::now() - start;
    const double cpu = cpu_seconds() - cpu_start;
    std::size_t failed = 0;
    for (window& w : windows) failed += w.failed;
    const std::uint64_t groups = writer.groups_committed();
    writer.stop();
    report("writer", rows, elapsed, cpu,
           " threads=" + std::to_string(s.threads) + " in_flight=" + std::to_string(s.in_flight) +
               " groups=" + std::to_string(groups) + " events_per_group=" +
               std::to_string(groups == 0 ? 0 : rows / groups) + " checkpoints=" +
               std::to_string(writer.checkpoints_run()) + " failed_batches=" + std::to_string(failed));
    remove_db(path);
    return static_cast<double>(rows) / std::chrono::duration<double>(elapsed).count();
}

bool parse_args(int argc, char** argv, settings& s) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const char* value = argv[i + 1];
        if (flag == "--mode") {
            s.mode = value;
        } else if (flag == "--rows") {
            s.rows = std::strtoull(value, nullptr, 10);
        } else if (flag == "--threads") {
            s.threads = std::strtoull(value, nullptr, 10);
        } else if (flag == "--in-flight") {
            s.in_flight = std::strtoull(value, nullptr, 10);
        } else if (flag == "--repeat") {
            s.repeat = std::strtoull(value, nullptr, 10);
        } else if (flag == "--checkpoint-pages") {
            s.checkpoint_pages = std::strtoll(value, nullptr, 10);
        } else if (flag == "--dir") {
            s.dir = value;
        } else if (flag == "--from-db") {
            s.from_db = value;
        } else if (flag == "--sqlite-autocheckpoint") {
            s.sqlite_autocheckpoint = std::atoi(value);
        } else {
            return false;
        }
    }
    return argc % 2 == 1 && s.rows > 0 && s.threads > 0 && s.in_flight > 0 && s.repeat > 0 &&
           (s.mode == "raw" || s.mode == "writer" || s.mode == "both") && (s.from_db.empty() || s.mode == "raw") &&
           s.sqlite_autocheckpoint >= 0;
}

}  // namespace

int main(int argc, char** argv) {
    settings s;
    if (!parse_args(argc, argv, s)) {
        std::fprintf(stderr,
                     "usage: obs_insert_ceiling [--mode raw|writer|both] [--rows N] [--threads T] "
                     "[--in-flight K] [--checkpoint-pages P] [--repeat R] [--dir DIR] [--from-db PATH (raw mode)] "
                     "[--sqlite-autocheckpoint P (raw mode)]\n");
        return 2;
    }
    try {
        std::vector<std::vector<domain::event>> batches;
        std::vector<event_row> rows;
        if (s.from_db.empty()) {
            batches = make_batches(s.rows);
            rows = rows_of(batches);
        } else {
            rows = load_rows(s.from_db, s.rows);
            if (rows.empty()) throw std::runtime_error(s.from_db + " holds no events");
        }
        // Neighbours on a shared machine only ever slow a run down, so the
        // best of a few alternating runs is the fairest figure for each mode.
        double best_raw = 0;
        double best_writer = 0;
        for (std::size_t r = 0; r < s.repeat; ++r) {
            if (s.mode != "writer") best_raw = std::max(best_raw, run_raw(s, rows));
            if (s.mode != "raw") best_writer = std::max(best_writer, run_writer(s, batches));
        }
        if (best_raw > 0) std::printf("best_raw_rows_per_second=%.0f\n", best_raw);
        if (best_writer > 0) std::printf("best_writer_rows_per_second=%.0f\n", best_writer);
        if (best_raw > 0 && best_writer > 0) std::printf("writer_vs_raw=%.2f\n", best_writer / best_raw);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "obs_insert_ceiling: %s\n", e.what());
        return 1;
    }
    return 0;
}
