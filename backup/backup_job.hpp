// One backup, end to end, as POST /observability/backup runs it: record the
// attempt, snapshot the database (backup worker), stream tar+gzip parts from
// the worker to the io thread with back-pressure (a concurrent_channel of
// capacity 1), upload them (PutObject for a single part, else a multipart
// upload, aborted on failure) or write the tarball under the data directory,
// remove the temporary files, complete the `backups` row, count the backup
// in stats(), and after a success rotate (backup_rotation.hpp) while still
// counted as running, so no other backup starts in between.
//
// Memory: at most about four parts at once (one being cut, one blocked in
// the channel's send, one buffered, one uploading).
//
// Executor: backup_runner lives on the io thread (its curl_multi does);
// run() must be co_awaited there. The snapshot, the archive and every SQLite
// or file call run on the runner's own worker thread.
#pragma once

#include "backup/archive_producer.hpp"
#include "backup/backup_stats.hpp"
#include "backup/curl_multi.hpp"
#include "backup/s3_client.hpp"
#include "backup/s3_config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace obs::backup {

struct backup_request {
    std::string db_path;   // the live database (migrated: `backups` must exist)
    std::string data_dir;  // snapshot staging; local tarballs go to data_dir/backups/
    bool upload = true;    // false: ?upload=false, keep the tarball locally
    std::optional<s3_config> s3;      // required when upload; nullopt gives not_configured
    std::string not_configured_reason; // e.g. s3_config_missing(): "set OBS_S3_BUCKET"
    int gzip_level = 1;                      // 0..9
    std::size_t part_size = s3_min_part_size; // raised to 5 MiB when uploading
    std::string server_version;              // written into the manifest
    // Extra files to archive (name in the tarball, path), called on the
    // worker with the snapshot's path once it is taken, so it can list
    // exactly what the snapshot refers to; empty: list_artifact_files(data_dir).
    std::function<std::vector<archive_file>(const std::string& snapshot_path)> list_extra_files;
    s3_client_options s3_options;
    // Log lines ("Backup successful: s3://bucket/key", "Backup failed: ...",
    // "Backup rotation deleted ..."); called on the io thread. Never given a secret.
    std::function<void(const std::string&)> log;
    std::string started_by = "manual";  // the row's started_by: manual|scheduled
    // --backup-keep: after a success, keep this many succeeded backups of
    // the destination (S3 prefix, or data_dir/backups/) and delete older
    // ones (backup_rotation.hpp); 0 keeps all.
    unsigned keep = 0;
};

enum class backup_status {
    ok,              // 201
    busy,            // 409: another backup runs (no row written)
    not_configured,  // 503: S3 settings missing
    s3_error,        // 502: S3 refused or could not be reached
    io_error,        // 500: the snapshot, a file or the database failed
};

// What made an io_error backup fail, when a client should be told more
// than "internal": disk_full is a full disk or quota (ENOSPC, EDQUOT, or
// SQLite's SQLITE_FULL) while writing the snapshot, the tarball or the
// `backups` row; the server answers it as unavailable (503) with the reason.
enum class failure_kind {
    none,       // succeeded, or failed for another reason
    disk_full,  // no space left on the device holding the data directory or database
};

// The failure_kind of an exception a backup step threw: disk_full for a
// std::system_error (std::filesystem errors included) whose code is ENOSPC
// or EDQUOT, or a persistence::sqlite_error whose code is SQLITE_FULL.
failure_kind failure_kind_of(const std::exception& e) noexcept;

struct backup_outcome {
    backup_status status = backup_status::ok;
    failure_kind failure = failure_kind::none;  // set with status io_error
    std::string message;   // why it failed (S3's code included); "" on success
    std::string s3_code;   // S3's error code for s3_error ("NoSuchBucket", "Unreachable")
    std::int64_t id = 0;   // the `backups` row, 0 when none was written
    std::string location;  // s3://bucket/key, or the local tarball's path
    std::uint64_t bytes = 0;       // tarball size
    std::string sha256;            // of the tarball as uploaded
    std::uint64_t db_bytes = 0;    // snapshot size
    std::int64_t events = 0;
    std::int64_t last_offset = 0;
    std::int64_t duration_ms = 0;
    bool ok() const noexcept { return status == backup_status::ok; }
};

// The 201 body: {"id", "location", "bytes", "sha256", "db_bytes", "events",
// "last_offset", "duration_ms"}. REQUIRES: o.ok().
boost::json::object to_json(const backup_outcome& o);

// The artifact content files under data_dir/artifacts/ (the tmp/ folder
// excepted) as archive members named "artifacts/...", sorted. Blocking.
std::vector<archive_file> list_artifact_files(const std::string& data_dir);

// The object key of a backup started at `unix_ms`:
// prefix + "observability-YYYYMMDDTHHMMSSmmmZ.tar.gz".
std::string backup_key(const std::string& prefix, std::int64_t unix_ms);

class backup_runner {
public:
    // REQUIRES: `io` is the io thread's executor (single-threaded).
    // `on_busy`, when set, is called on the io thread with true as a backup
    // starts and false as it ends (the server makes its writer's wakeups
    // preempt meanwhile: event_writer::set_prompt_wakeups).
    explicit backup_runner(boost::asio::any_io_executor io, std::function<void(bool)> on_busy = {});
    // Stops a backup in progress (its worker is told to stop) and joins the worker.
    ~backup_runner();
    backup_runner(const backup_runner&) = delete;
    backup_runner& operator=(const backup_runner&) = delete;

    // True while a run() is in progress (the route answers 409).
    bool running() const noexcept;

    // Runs one backup; never throws for expected failures (they are
    // outcomes and rows). Returns status busy at once when one is running.
    boost::asio::awaitable<backup_outcome> run(backup_request req);

    // Figures for /metrics; io thread only.
    backup_stats& stats() noexcept { return stats_; }
    const backup_stats& stats() const noexcept { return stats_; }

    // The curl multi handle the runner's uploads use (restores and tests may share it).
    curl_multi& http() noexcept { return http_; }

private:
    struct active_state;

    // Rotation after backup `newest_id` of `req` succeeded; counted in stats_.
    boost::asio::awaitable<void> rotate_(const backup_request& req, std::int64_t newest_id);

    boost::asio::any_io_executor io_;
    curl_multi http_;
    boost::asio::thread_pool worker_{1};  // the backup worker thread
    std::shared_ptr<active_state> active_;  // whether a backup runs and how to stop it
    backup_stats stats_;
};

}  // namespace obs::backup
