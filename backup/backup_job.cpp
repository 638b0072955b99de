// The backup orchestration (see backup_job.hpp). The io coroutine only
// awaits: every blocking step is a job on the worker thread, co_spawned
// there and awaited, and the archive's parts come back through a
// concurrent_channel.
#include "backup/backup_job.hpp"

#include "backup/hand_off.hpp"

#include "backup/backup_record.hpp"
#include "backup/backup_rotation.hpp"
#include "backup/file_io.hpp"
#include "backup/part_pipeline.hpp"
#include "backup/snapshot.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <sys/resource.h>
#include <unistd.h>

namespace obs::backup {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace asio::experimental::awaitable_operators;

namespace {

// A local tarball is written and synced behind in slices of this size
// rather than whole parts: ingestion's checkpoint fsyncs queue behind at
// most two slices of it on a shared disk.
constexpr std::size_t local_write_behind_bytes = std::size_t{1} << 20;

// The backup worker's nice value above the server's (see the runner's
// constructor), and the highest nice value there is.
constexpr int backup_worker_nice = 5;
constexpr int backup_worker_max_nice = 19;

// What the worker prepares before any byte is archived.
struct prepared {
    snapshot_result snapshot;
    std::vector<archive_file> files;
};

}  // namespace

// Whether a backup runs, and how to stop it: shared by the runner and the
// run() coroutine so that either may go first at shutdown.
struct backup_runner::active_state {
    bool running = false;
    std::shared_ptr<archive_producer> producer;
    part_channel* channel = nullptr;  // valid while the upload runs (io thread)
};

boost::json::object to_json(const backup_outcome& o) {
    return boost::json::object{{"id", o.id},           {"location", o.location}, {"bytes", o.bytes},
                               {"sha256", o.sha256},   {"db_bytes", o.db_bytes}, {"events", o.events},
                               {"last_offset", o.last_offset}, {"duration_ms", o.duration_ms}};
}

failure_kind failure_kind_of(const std::exception& e) noexcept {
    if (const auto* system = dynamic_cast<const std::system_error*>(&e)) {
        const std::error_code& code = system->code();
        const bool errno_category =
            code.category() == std::generic_category() || code.category() == std::system_category();
        if (errno_category && (code.value() == ENOSPC || code.value() == EDQUOT)) return failure_kind::disk_full;
    }
    if (const auto* sqlite = dynamic_cast<const persistence::sqlite_error*>(&e)) {
        if ((sqlite->code() & 0xff) == SQLITE_FULL) return failure_kind::disk_full;
    }
    return failure_kind::none;
}

int http_status_for(backup_status s) {
    switch (s) {
    case backup_status::ok: return 201;
    case backup_status::busy: return 409;
    case backup_status::not_configured: return 503;
    case backup_status::s3_error: return 502;
    case backup_status::io_error: return 500;
    }
    return 500;
}

std::vector<archive_file> list_artifact_files(const std::string& data_dir) {
    std::vector<archive_file> files;
    const fs::path root = fs::path(data_dir) / "artifacts";
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return files;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path rel = it->path().lexically_relative(root);
        if (it->is_directory() && rel == "tmp") {
            it.disable_recursion_pending();  // uploads in progress
            continue;
        }
        if (!it->is_regular_file()) continue;
        files.push_back(archive_file{"artifacts/" + rel.generic_string(), it->path().string()});
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return files;
}

std::string backup_key(const std::string& prefix, std::int64_t unix_ms) {
    std::string stamp;
    for (char c : domain::format_rfc3339_ms(unix_ms)) {
        if (c != '-' && c != ':' && c != '.') stamp += c;
    }
    return prefix + "observability-" + stamp + ".tar.gz";
}

backup_runner::backup_runner(asio::any_io_executor io)
    : io_(io), http_(io), active_(std::make_shared<active_state>()) {
    // The worker compresses for many seconds on the cores that serve the
    // agents, whose machines are busy. SCHED_IDLE starved it there (a
    // backup of 93 MB had had 2 CPU-seconds in 4 minutes beside a compile on
    // both cores); a nice value 5 above the server's, under SCHED_OTHER,
    // gives it a bounded low share instead: about a quarter of a core
    // against each busy nice-0 task (CFS weights 335 : 1024), so it always
    // progresses, while on an idle core it runs at full speed and a waking
    // io or writer thread still preempts it. (Nice 10, a tenth, took 128 s
    // for 130 MiB beside two busy loops in scripts/bench-backup.) Linux
    // applies the nice value of PRIO_PROCESS with a thread id to that thread
    // only; threads the worker starts inherit it.
    asio::post(worker_, [] {
        const auto tid = static_cast<id_t>(::gettid());
        errno = 0;
        const int current = ::getpriority(PRIO_PROCESS, tid);
        const int target = std::min(backup_worker_max_nice, (errno == 0 ? current : 0) + backup_worker_nice);
        if (::setpriority(PRIO_PROCESS, tid, target) != 0) {
            std::fprintf(stderr, "backup: the worker keeps its priority (nice %d refused: %s)\n", target,
                         std::strerror(errno));
        }
    });
}

backup_runner::~backup_runner() {
    if (active_->producer) active_->producer->cancel();
    if (active_->channel != nullptr) {
        active_->channel->close();
        active_->channel->cancel();  // unblocks the worker's send
    }
    worker_.join();
}

bool backup_runner::running() const noexcept { return active_->running; }

namespace {

// Runs `f` on `worker` and resumes on the caller's executor (async::run_on).
template <class F>
auto on_worker(asio::thread_pool& worker, F f) -> asio::awaitable<decltype(f())> {
    auto home = co_await asio::this_coro::executor;
    co_return co_await async::run_on(worker.get_executor(), home, std::move(f));
}

// The history row of a finished backup.
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

// What an upload to S3 uses of the runner.
struct s3_upload {
    curl_multi& http;
    asio::thread_pool& worker;
    asio::any_io_executor io;
    part_channel*& channel_slot;  // the runner's way to stop it (active_state::channel)
};

// Archives on the worker while the io thread uploads the parts as `key`;
// fills `out` (location, size, digest, or the S3 error) or `failure`.
asio::awaitable<void> archive_to_s3(s3_upload up, const backup_request& req, const std::string& key,
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

asio::awaitable<backup_outcome> backup_runner::run(backup_request req) {
    backup_outcome out;
    const std::shared_ptr<active_state> active = active_;
    if (active->running) {
        out.status = backup_status::busy;
        out.message = "a backup is already running";
        co_return out;
    }
    active->running = true;
    struct running_reset {
        std::shared_ptr<active_state> state;
        ~running_reset() {
            state->running = false;
            state->producer.reset();
            state->channel = nullptr;
        }
    } reset{active};

    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t started_ms = domain::now_unix_ms();
    if (req.data_dir.empty()) req.data_dir = ".";
    const std::string db_path = req.db_path;
    std::string failure;  // set by any step that fails with an exception

    // 1. The row, so that every attempt is listed.
    try {
        auto insert_row = [db_path, started_ms, started_by = req.started_by] {
            persistence::db_ptr db = persistence::open_database(db_path, false);
            return insert_backup_started(db.get(), started_ms, started_by);
        };
        out.id = co_await on_worker(worker_, std::move(insert_row));
    } catch (const std::exception& e) {
        failure = std::string("cannot record the backup: ") + e.what();
        out.failure = failure_kind_of(e);
    }

    const std::string key = req.s3 ? backup_key(req.s3->prefix, started_ms) : "";
    const std::string snapshot_path = (fs::path(req.data_dir) / (".backup-" + std::to_string(started_ms) + ".db")).string();
    auto snapshot_guard = std::make_shared<remove_guard>(snapshot_path);
    const fs::path local_dir = fs::path(req.data_dir) / "backups";
    const std::string local_path = (local_dir / backup_key("", started_ms)).string();
    auto staging_guard = std::make_shared<remove_guard>(req.upload ? std::string() : local_path + ".part");

    if (failure.empty() && req.upload && !req.s3) {
        out.status = backup_status::not_configured;
        out.message = "S3 is not configured" + (req.not_configured_reason.empty() ? "" : ": " + req.not_configured_reason);
    }

    // 2. Snapshot and the list of files, on the worker.
    prepared prep;
    if (failure.empty() && out.ok()) {
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
            prep = co_await on_worker(worker_, std::move(snapshot));
            out.db_bytes = prep.snapshot.db_bytes;
            out.events = prep.snapshot.events;
            out.last_offset = prep.snapshot.last_offset;
        } catch (const std::exception& e) {
            failure = std::string("snapshot failed: ") + e.what();
            out.failure = failure_kind_of(e);
        }
    }

    // 3. Archive and upload (or write locally).
    if (failure.empty() && out.ok()) {
        manifest_fields fields{req.server_version, prep.snapshot.schema_version, prep.snapshot.last_offset,
                               prep.snapshot.events, started_ms};
        archive_options options{req.gzip_level, req.part_size, 256 * 1024};
        if (req.upload) options.part_size = std::max(options.part_size, s3_min_part_size);
        auto producer = std::make_shared<archive_producer>(prep.files, fields, options);
        active->producer = producer;
        try {
            if (req.upload) {
                co_await archive_to_s3(s3_upload{http_, worker_, io_, active->channel}, req, key, producer, out, failure);
            } else {
                auto write_local = [producer, local_dir, local_path, staging_guard] {
                    return write_local_tarball(*producer, local_dir, local_path, *staging_guard);
                };
                archive_summary s = co_await on_worker(worker_, std::move(write_local));
                out.location = local_path;
                out.bytes = s.bytes;
                out.sha256 = s.sha256;
            }
        } catch (const std::exception& e) {
            failure = std::string("backup failed: ") + e.what();
            out.failure = failure_kind_of(e);
        }
    }
    if (!failure.empty()) {
        out.status = backup_status::io_error;
        out.message = out.failure == failure_kind::disk_full ? "the disk is full: " + failure : failure;
    }

    // 4. Temporary files go, and the row is completed, on the worker.
    out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const backup_row row = finished_row(out, started_ms);
    auto finish_up = [snapshot_guard = std::move(snapshot_guard), staging_guard = std::move(staging_guard), row,
                      db_path]() mutable {
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
    const std::string record_error = co_await on_worker(worker_, std::move(finish_up));
    if (req.log) {
        req.log(out.ok() ? "Backup successful: " + out.location : "Backup failed: " + out.message);
        if (!record_error.empty()) req.log("Backup row " + std::to_string(row.id) + " not completed: " + record_error);
    }
    count_backup(stats_, out, *row.finished_ms);
    if (out.ok() && req.keep > 0 && out.id != 0 && record_error.empty()) co_await rotate_(req, out.id);
    co_return out;
}

asio::awaitable<void> backup_runner::rotate_(const backup_request& req, std::int64_t newest_id) {
    rotation_request rot;
    rot.db_path = req.db_path;
    rot.keep = req.keep;
    rot.newest_id = newest_id;
    rot.location_prefix = req.upload ? s3_location_prefix(*req.s3) : local_location_prefix(req.data_dir);
    if (req.upload) rot.s3 = req.s3;
    rot.s3_options = req.s3_options;
    rot.log = req.log;
    const rotation_result r = co_await rotate_backups(std::move(rot), http_, worker_);
    stats_.rotated_deleted += r.deleted;
    stats_.rotation_failed += r.failed;
}

}  // namespace obs::backup
