// The steps of one backup (see backup_steps.hpp). The io coroutine only
// awaits: every blocking step is a job on the worker thread, co_spawned
// there and awaited, and the archive's parts come back through a
// concurrent_channel.
#include "backup/backup_steps.hpp"

#include "backup/hand_off.hpp"
#include "backup/s3_client.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <utility>

namespace obs::backup::steps {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace asio::experimental::awaitable_operators;

namespace {

// A local tarball is written and synced behind in slices of this size
// rather than whole parts: ingestion's checkpoint fsyncs queue behind at
// most two slices of it on a shared disk.
constexpr std::size_t local_write_behind_bytes = std::size_t{1} << 20;

// Runs `f` on `worker` and resumes on the caller's executor (async::run_on).
template <class F>
auto on_worker(asio::thread_pool& worker, F f) -> asio::awaitable<decltype(f())> {
    auto home = co_await asio::this_coro::executor;
    co_return co_await async::run_on(worker.get_executor(), home, std::move(f));
}

// Writes the archive to `local_path` through `staging` (its ".part" file):
// in slices synced behind, then renamed into place. Blocking: on the worker.
archive_summary write_local_tarball(archive_producer& producer, const fs::path& local_dir,
                                    const std::string& local_path, remove_guard& staging) {
    fs::create_directories(local_dir);
    const std::string& tmp = staging.path();
    unique_fd fd = open_for_writing(tmp, true);
    std::uint64_t previous = 0, written = 0;
    archive_summary sum = producer.run([&](std::string part, bool) {
        // In slices: the disk queue then never holds more than two of them
        // ahead of the writer's own syncs.
        for (std::size_t at = 0; at < part.size(); at += local_write_behind_bytes) {
            const std::size_t n = std::min(local_write_behind_bytes, part.size() - at);
            write_all(fd.get(), part.data() + at, n, tmp);
            write_behind(fd.get(), previous, written, n);
            previous = written;
            written += n;
        }
        return true;
    });
    sync_fd(fd.get(), tmp);
    fd = unique_fd();
    fs::rename(tmp, local_path);
    staging.release();
    sync_parent_dir(local_path);
    return sum;
}

// Archives on the worker while the io thread uploads the parts as `key`;
// fills `out` (location, size, digest, or the S3 error) or `failure`.
asio::awaitable<void> archive_to_s3(runner_parts up, const backup_request& req, const std::string& key,
                                    std::shared_ptr<archive_producer> producer, backup_outcome& out,
                                    std::string& failure) {
    part_channel channel(up.io, 1);
    up.channel_slot = &channel;
    s3_client s3(up.http, *req.s3, req.s3_options);
    auto produce = [producer, &channel] { return produce_parts(*producer, channel); };
    auto producing = on_worker(up.worker, std::move(produce));
    auto uploading = upload_parts(s3, key, channel, *producer);
    auto both = std::move(producing) && std::move(uploading);
    auto [produced, uploaded] = co_await std::move(both);
    up.channel_slot = nullptr;
    if (!produced.error.empty()) {
        failure = "archive failed: " + produced.error;
    } else if (!uploaded.ok) {
        out.status = backup_status::s3_error;
        s3_error e = uploaded.s3.value_or(s3_error{0, "Unreachable", "upload stopped"});
        out.s3_code = e.code;
        out.message = e.describe();
    } else {
        out.location = req.s3->location(key);
        out.bytes = produced.summary.bytes;
        out.sha256 = produced.summary.sha256;
    }
}

}  // namespace

backup_paths paths_of(const backup_request& req, std::int64_t started_ms) {
    backup_paths paths;
    paths.key = req.s3 ? backup_key(req.s3->prefix, started_ms) : "";
    paths.snapshot_path = (fs::path(req.data_dir) / (".backup-" + std::to_string(started_ms) + ".db")).string();
    paths.local_dir = fs::path(req.data_dir) / "backups";
    paths.local_path = (paths.local_dir / backup_key("", started_ms)).string();
    return paths;
}

asio::awaitable<void> record_started(asio::thread_pool& worker, const backup_request& req, std::int64_t started_ms,
                                     backup_outcome& out, std::string& failure) {
    try {
        auto insert_row = [db_path = req.db_path, started_ms, started_by = req.started_by] {
            persistence::db_ptr db = persistence::open_database(db_path, false);
            return insert_backup_started(db.get(), started_ms, started_by);
        };
        out.id = co_await on_worker(worker, std::move(insert_row));
    } catch (const std::exception& e) {
        failure = std::string("cannot record the backup: ") + e.what();
        out.failure = failure_kind_of(e);
    }
}

asio::awaitable<prepared> prepare_snapshot(asio::thread_pool& worker, const backup_request& req,
                                           const std::string& snapshot_path, backup_outcome& out,
                                           std::string& failure) {
    prepared prep;
    try {
        auto snapshot = [&req, snapshot_path] {
            fs::create_directories(req.data_dir);
            prepared p;
            p.snapshot = take_snapshot(req.db_path, snapshot_path);
            p.files.push_back(archive_file{database_member_name, snapshot_path});
            auto extra = req.list_extra_files ? req.list_extra_files(snapshot_path) : list_artifact_files(req.data_dir);
            p.files.insert(p.files.end(), extra.begin(), extra.end());
            return p;
        };
        prep = co_await on_worker(worker, std::move(snapshot));
        out.db_bytes = prep.snapshot.db_bytes;
        out.events = prep.snapshot.events;
        out.last_offset = prep.snapshot.last_offset;
    } catch (const std::exception& e) {
        failure = std::string("snapshot failed: ") + e.what();
        out.failure = failure_kind_of(e);
    }
    co_return prep;
}

std::shared_ptr<archive_producer> make_producer(const backup_request& req, const prepared& prep,
                                                std::int64_t started_ms) {
    manifest_fields fields{req.server_version, prep.snapshot.schema_version, prep.snapshot.last_offset,
                           prep.snapshot.events, started_ms};
    archive_options options{req.gzip_level, req.part_size, 256 * 1024};
    if (req.upload) options.part_size = std::max(options.part_size, s3_min_part_size);
    return std::make_shared<archive_producer>(prep.files, fields, options);
}

asio::awaitable<void> store_archive(runner_parts parts, const backup_request& req, const backup_paths& paths,
                                    std::shared_ptr<archive_producer> producer,
                                    const std::shared_ptr<remove_guard>& staging, backup_outcome& out,
                                    std::string& failure) {
    try {
        if (req.upload) {
            co_await archive_to_s3(parts, req, paths.key, producer, out, failure);
        } else {
            auto write_local = [producer, local_dir = paths.local_dir, local_path = paths.local_path, staging] {
                return write_local_tarball(*producer, local_dir, local_path, *staging);
            };
            archive_summary s = co_await on_worker(parts.worker, std::move(write_local));
            out.location = paths.local_path;
            out.bytes = s.bytes;
            out.sha256 = s.sha256;
        }
    } catch (const std::exception& e) {
        failure = std::string("backup failed: ") + e.what();
        out.failure = failure_kind_of(e);
    }
}

asio::awaitable<std::string> remove_and_record(asio::thread_pool& worker, std::shared_ptr<remove_guard> snapshot_guard,
                                               std::shared_ptr<remove_guard> staging_guard, backup_row row,
                                               std::string db_path) {
    auto finish_up = [snapshot_guard = std::move(snapshot_guard), staging_guard = std::move(staging_guard),
                      row = std::move(row), db_path = std::move(db_path)]() mutable {
        snapshot_guard.reset();  // the last owner: removal happens here, off the io thread
        staging_guard.reset();
        if (row.id == 0) return std::string();
        try {
            persistence::db_ptr db = persistence::open_database(db_path, false);
            update_backup_finished(db.get(), row);
            return std::string();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    };
    co_return co_await on_worker(worker, std::move(finish_up));
}

backup_row finished_row(const backup_outcome& out, std::int64_t started_ms) {
    backup_row row;
    row.id = out.id;
    row.started_ms = started_ms;
    row.finished_ms = domain::now_unix_ms();
    row.status = out.ok() ? "succeeded" : "failed";
    if (out.ok()) {
        row.location = out.location;
        row.bytes = static_cast<std::int64_t>(out.bytes);
        row.sha256 = out.sha256;
    } else {
        row.error = out.message;
    }
    if (out.db_bytes > 0) {
        row.db_bytes = static_cast<std::int64_t>(out.db_bytes);
        row.events = out.events;
        row.last_offset = out.last_offset;
    }
    return row;
}

}  // namespace obs::backup::steps
