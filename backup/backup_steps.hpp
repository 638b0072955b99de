// The steps of one backup that backup_runner::run (backup_job.cpp) takes in
// order: record the attempt, snapshot the database and list the files,
// archive them to S3 or to a local tarball, then remove the temporary files
// and complete the row. Each step is a coroutine on the io thread that hands
// its blocking work to the backup worker and resumes with the result; a step
// that fails with an exception sets `failure` (and the outcome's
// failure_kind) instead of throwing, so the next steps see it and skip.
// Internal to backup/.
//
// Every step takes references to run()'s locals: run() co_awaits each step
// at once, so it outlives them.
#pragma once

#include "backup/archive_producer.hpp"
#include "backup/backup_job.hpp"
#include "backup/backup_record.hpp"
#include "backup/curl_multi.hpp"
#include "backup/file_io.hpp"
#include "backup/part_pipeline.hpp"
#include "backup/snapshot.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace obs::backup::steps {

// What the steps use of the runner.
struct runner_parts {
    curl_multi& http;
    boost::asio::thread_pool& worker;
    boost::asio::any_io_executor io;
    part_channel*& channel_slot;  // the runner's way to stop an upload (active_state::channel)
};

// Where one backup's files go, from its start time.
struct backup_paths {
    std::string key;                    // the S3 object key ("" without S3)
    std::string snapshot_path;          // the snapshot, in data_dir
    std::filesystem::path local_dir;    // data_dir/backups
    std::string local_path;             // the local tarball
};
backup_paths paths_of(const backup_request& req, std::int64_t started_ms);

// What the worker prepares before any byte is archived.
struct prepared {
    snapshot_result snapshot;
    std::vector<archive_file> files;
};

// 1. Inserts the `backups` row (so that every attempt is listed) and sets
// out.id; on failure sets `failure` and out.failure.
boost::asio::awaitable<void> record_started(boost::asio::thread_pool& worker, const backup_request& req,
                                            std::int64_t started_ms, backup_outcome& out, std::string& failure);

// 2. Takes the snapshot and lists the files to archive; sets the outcome's
// database figures. On failure sets `failure` and returns nothing prepared.
boost::asio::awaitable<prepared> prepare_snapshot(boost::asio::thread_pool& worker, const backup_request& req,
                                                  const std::string& snapshot_path, backup_outcome& out,
                                                  std::string& failure);

// The producer of the archive of `prep`, parts sized for an upload when
// req.upload.
std::shared_ptr<archive_producer> make_producer(const backup_request& req, const prepared& prep,
                                                std::int64_t started_ms);

// 3. Archives and uploads to S3 as paths.key, or writes the local tarball
// through `staging` (its ".part" file); fills out.location, bytes and
// sha256, or the S3 error, or sets `failure`.
boost::asio::awaitable<void> store_archive(runner_parts parts, const backup_request& req, const backup_paths& paths,
                                           std::shared_ptr<archive_producer> producer,
                                           const std::shared_ptr<remove_guard>& staging, backup_outcome& out,
                                           std::string& failure);

// 4. Removes the temporary files (the guards' last owners, so off the io
// thread) and completes the row when one was written: "" or why the row
// could not be completed.
boost::asio::awaitable<std::string> remove_and_record(boost::asio::thread_pool& worker,
                                                      std::shared_ptr<remove_guard> snapshot_guard,
                                                      std::shared_ptr<remove_guard> staging_guard, backup_row row,
                                                      std::string db_path);

// The history row of a finished backup.
backup_row finished_row(const backup_outcome& out, std::int64_t started_ms);

}  // namespace obs::backup::steps
