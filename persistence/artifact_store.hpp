// Artifact content, stored by its sha256 under the data directory
// (`artifacts/sha256/ab/abcdef...`), and the `artifacts` rows that point at
// it. An upload is written to a temporary file in `artifacts/tmp/`, hashed as
// it goes, fsynced and only then renamed to its address, so a crash never
// leaves a partial file under a real name; identical content is stored once.
// A re-put replaces a row's pointer and the old content stays for any run
// that still refers to it; content is deleted only by remove_unreferenced,
// after the rows that pointed at it were deleted (retention, DELETE of a
// run). An upload pins its address from commit() until it is destroyed
// (after its row's transaction), so a deletion never removes content whose
// new row is on its way.
//
// Thread-safety: every file operation blocks (write, read, fsync) and belongs
// on a worker thread, never on the io thread. An artifact_upload or
// artifact_content is used by one thread at a time; artifact_store's const
// members may be called from any thread. The SQL functions run on the
// connection their caller owns.
#pragma once

#include "domain/sha256.hpp"

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::persistence {

// Owns a POSIX file descriptor (-1: none); closes it on destruction.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept;
    ~unique_fd();
    int get() const { return fd_; }

private:
    int fd_ = -1;
};

// Addresses of uploads between their commit() and their row's transaction;
// shared by the store and its uploads. Any thread.
class content_pins {
public:
    void pin(const std::string& sha256);
    void unpin(const std::string& sha256);
    // Runs `f()` while no pin can be added or removed; true when `sha256`
    // is pinned (then `f` is not run).
    template <class F>
    bool unless_pinned(const std::string& sha256, F f) {
        std::lock_guard lk(mu_);
        if (pinned_.count(sha256) != 0) return true;
        f();
        return false;
    }

private:
    std::mutex mu_;
    std::map<std::string, int> pinned_;  // address -> uploads holding it
};

// True when `s` is 64 lower-case hex digits (a content address).
bool is_sha256_hex(std::string_view s);

// What commit() stored.
struct stored_content {
    std::string sha256;            // the content's address
    std::uint64_t size = 0;        // bytes
    bool already_present = false;  // identical content was stored before: the upload was dropped
};

// One upload in progress: a temporary file that only commit() gives a real
// name. Destroying it before commit() removes the temporary file. Errors of
// the file system are thrown as std::system_error (message without paths).
class artifact_upload {
public:
    ~artifact_upload();
    artifact_upload(const artifact_upload&) = delete;
    artifact_upload& operator=(const artifact_upload&) = delete;

    // Appends `n` bytes and hashes them. REQUIRES: not committed or discarded.
    void write(const void* data, std::size_t n);
    // Bytes written so far.
    std::uint64_t size() const { return size_; }
    // fsyncs the file, renames it to its address (or drops it when that
    // address already holds the content) and fsyncs the folder, so the
    // content survives a crash once this returns. REQUIRES: called once.
    stored_content commit();
    // Removes the temporary file now. Idempotent; a no-op after commit().
    void discard() noexcept;

private:
    friend class artifact_store;
    artifact_upload(std::string content_root, std::string temp_path, unique_fd fd,
                    std::shared_ptr<content_pins> pins);

    std::string content_root_;  // <data>/artifacts/sha256
    std::string temp_path_;     // the temporary file; empty once renamed or removed
    unique_fd fd_;              // open for writing until commit()
    domain::sha256 hash_;       // of everything written so far
    std::uint64_t size_ = 0;    // bytes written so far
    std::shared_ptr<content_pins> pins_;
    std::string pinned_;        // the address this upload pins (after commit())
};

// Stored content opened for reading.
class artifact_content {
public:
    artifact_content(unique_fd fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
    std::uint64_t size() const { return size_; }
    // Reads up to `n` bytes at `offset` into `out`; returns how many were
    // read (fewer only at the end of the file). Throws std::system_error.
    std::size_t read_at(std::uint64_t offset, void* out, std::size_t n) const;

private:
    unique_fd fd_;          // open read-only
    std::uint64_t size_;    // the file's size when opened
};

class artifact_store {
public:
    // Uses `<data_dir>/artifacts/`; creates `sha256/` and `tmp/` in it.
    // Throws std::system_error when they cannot be created.
    explicit artifact_store(std::string data_dir);

    // Starts an upload (creates its temporary file). Throws std::system_error.
    std::unique_ptr<artifact_upload> begin_upload() const;
    // Opens the content with address `sha256`; nullopt when no such file.
    // Throws std::system_error for other failures. REQUIRES: is_sha256_hex.
    std::optional<artifact_content> open(const std::string& sha256) const;
    // Deletes every temporary file (uploads cut short by a crash). Call at
    // start-up, before any upload begins. Returns how many were removed.
    std::size_t remove_stale_temporaries() const;

    // Deletes the content of each address in `sha256s` that no row of
    // `db`'s artifacts table refers to and no upload pins; returns how many
    // files were removed. Call on the writer's connection after the
    // transaction that deleted the rows committed. Throws sqlite_error.
    std::size_t remove_unreferenced(sqlite3* db, const std::vector<std::string>& sha256s) const;

    // The absolute path of the content with address `sha256`.
    std::string path_of(std::string_view sha256) const;
    // Its path relative to the data directory: "artifacts/sha256/ab/abcdef...".
    static std::string relative_path_of(std::string_view sha256);
    // The folder of temporary files.
    const std::string& temp_dir() const { return temp_dir_; }

private:
    std::string data_dir_;      // as given
    std::string content_root_;  // <data_dir>/artifacts/sha256
    std::string temp_dir_;      // <data_dir>/artifacts/tmp
    std::shared_ptr<content_pins> pins_ = std::make_shared<content_pins>();
};

// One row of the `artifacts` table (migrations/0003_artifacts.sql).
struct artifact_row {
    std::string id;                      // the id of the `artifact` event that stored it
    std::string run_id;
    std::optional<std::string> step_id;  // X-Step-Id
    std::string name;
    std::string content_type;
    std::uint64_t size = 0;
    std::string sha256;
    std::int64_t created_ms = 0;  // Unix ms
};

// Inserts `row`, or replaces the row of the same (run_id, name). Runs inside
// the writer's transaction (an in_transaction_hook). Throws sqlite_error.
void upsert_artifact(sqlite3* db, const artifact_row& row);

// The writer's in-transaction work that stores `row` with its `artifact`
// event (event_writer::try_submit's hook): the server hands the typed row
// over and the SQL stays here.
std::function<void(sqlite3*)> artifact_row_writer(artifact_row row);

// What a lookup by (run, name) found.
struct artifact_lookup {
    bool run_exists = false;
    std::optional<artifact_row> row;  // set when the run has an artifact of that name
};
artifact_lookup find_artifact(sqlite3* db, const std::string& run_id, const std::string& name);

// The run's artifacts ordered by name; nullopt when there is no such run.
std::optional<std::vector<artifact_row>> list_artifacts(sqlite3* db, const std::string& run_id);

// The artifact object of API.md: {"id","run_id","step_id","name",
// "content_type","size","sha256","created_at"}, as JSON text.
std::string encode_artifact(const artifact_row& row);

// For a backup: (path inside the tarball, absolute path) of the content of
// every distinct sha256 that `snapshot_db`'s artifacts table refers to,
// ordered by sha256. The tarball path is relative_path_of(sha256), so a
// restore that extracts it under the data directory puts it back. Empty when
// the snapshot has no artifacts table. Throws sqlite_error.
std::vector<std::pair<std::string, std::string>> artifact_files_for_backup(sqlite3* snapshot_db,
                                                                           const std::string& data_dir);

}  // namespace obs::persistence
