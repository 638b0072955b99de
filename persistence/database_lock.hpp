// The lock that says "a process is using this database": an exclusive
// flock(2) on `<db path>.lock`, a file beside the database. The server holds
// it from startup to exit (a second server on the same database is refused),
// and `restore` holds it while it replaces the database, so a restore never
// deletes the -wal/-shm of a database a running server is still writing to
// (issue 13, item 5).
//
// flock rather than fcntl locks: an flock belongs to the open file
// description, so it is not dropped when some other descriptor of the same
// file in the process is closed (SQLite opens and closes its own), and the
// kernel releases it when the process dies, even by SIGKILL: a stale lock
// file never blocks anything. The file itself is left in place (removing it
// would race with a process that has just opened it).
#pragma once

#include <optional>
#include <string>

namespace obs::persistence {

struct lock_attempt;
lock_attempt try_lock_database(const std::string& db_path);

// Holds the lock; releases it (closes the descriptor) on destruction.
class database_lock {
public:
    database_lock(database_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    database_lock& operator=(database_lock&& other) noexcept;
    database_lock(const database_lock&) = delete;
    database_lock& operator=(const database_lock&) = delete;
    ~database_lock();

    // The path of the lock file of the database at `db_path`.
    static std::string path_for(const std::string& db_path) { return db_path + ".lock"; }

private:
    friend lock_attempt try_lock_database(const std::string& db_path);
    explicit database_lock(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

// The outcome of try_lock_database: the lock, or why not. `busy` is true
// when another process (or another descriptor of this one) holds it.
struct lock_attempt {
    std::optional<database_lock> lock;
    bool busy = false;
    std::string message;  // empty on success; names the lock file otherwise
};

// Takes the lock of the database at `db_path` without waiting. The folder
// of `db_path` must exist; the lock file is created (mode 0644) if missing,
// and its descriptor is close-on-exec.
lock_attempt try_lock_database(const std::string& db_path);

}  // namespace obs::persistence
