// A small pool of reader threads, each owning one read-only connection, so
// read routes and the stream's replay never run SQLite on the io thread and
// never block the writer (WAL lets readers run beside it).
//
// Thread-safety: post() from any thread; jobs run on a pool thread.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace obs::persistence {

class read_pool {
public:
    using job = std::function<void(sqlite3* db)>;

    // Opens `threads` read-only connections to `db_path` and starts the
    // threads. Throws sqlite_error when a connection cannot be opened.
    read_pool(const std::string& db_path, std::size_t threads, std::size_t max_queued_jobs = 4096);
    ~read_pool();  // stop()
    read_pool(const read_pool&) = delete;
    read_pool& operator=(const read_pool&) = delete;

    // Queues `j`; returns false at once when the queue is full or stopping.
    // A job that throws has its exception swallowed after being logged to
    // stderr: jobs report their own errors through their own callbacks.
    bool post(job j);

    // Runs the queued jobs, then joins the threads. Idempotent.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace obs::persistence
