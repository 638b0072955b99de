// The backup orchestration (see backup_job.hpp): the runner, its worker
// thread and the order of one backup's steps (backup_steps.hpp, which hand
// every blocking step to that worker), plus the small helpers the routes use.
#include "backup/backup_job.hpp"

#include "backup/backup_record.hpp"
#include "backup/backup_rotation.hpp"
#include "backup/backup_steps.hpp"
#include "backup/file_io.hpp"
#include "backup/part_pipeline.hpp"
#include "backup/worker_share.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/asio/post.hpp>

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

namespace {

// The backup worker's nice value above the server's (see the runner's
// constructor), and the highest nice value there is.
constexpr int backup_worker_nice = 5;
constexpr int backup_worker_max_nice = 19;

}  // namespace

// Whether a backup runs, and how to stop it: shared by the runner and the
// run() coroutine so that either may go first at shutdown.
struct backup_runner::active_state {
    bool running = false;
    std::function<void(bool)> on_busy;  // the constructor's, called as running changes
    std::shared_ptr<worker_share> share;  // the worker's scheduling while running
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

backup_runner::backup_runner(asio::any_io_executor io, std::function<void(bool)> on_busy)
    : io_(io), http_(io), active_(std::make_shared<active_state>()) {
    active_->on_busy = std::move(on_busy);
    active_->share = std::make_shared<worker_share>(io);
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
    // only; threads the worker starts inherit it. While a backup runs,
    // worker_share lets the worker yield the core until it is starved.
    asio::post(worker_, [share = active_->share] {
        const auto tid = static_cast<id_t>(::gettid());
        share->set_worker(static_cast<pid_t>(tid));
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

asio::awaitable<backup_outcome> backup_runner::run(backup_request req) {
    backup_outcome out;
    const std::shared_ptr<active_state> active = active_;
    if (active->running) {
        out.status = backup_status::busy;
        out.message = "a backup is already running";
        co_return out;
    }
    active->running = true;
    if (active->on_busy) active->on_busy(true);
    active->share->start();
    struct running_reset {
        std::shared_ptr<active_state> state;
        ~running_reset() {
            state->running = false;
            state->share->stop();
            if (state->on_busy) state->on_busy(false);
            state->producer.reset();
            state->channel = nullptr;
        }
    } reset{active};

    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t started_ms = domain::now_unix_ms();
    if (req.data_dir.empty()) req.data_dir = ".";
    std::string failure;  // set by any step that fails with an exception

    co_await steps::record_started(worker_, req, started_ms, out, failure);
    const steps::backup_paths paths = steps::paths_of(req, started_ms);
    auto snapshot_guard = std::make_shared<remove_guard>(paths.snapshot_path);
    auto staging_guard = std::make_shared<remove_guard>(req.upload ? std::string() : paths.local_path + ".part");
    if (failure.empty() && req.upload && !req.s3) {
        out.status = backup_status::not_configured;
        out.message = "S3 is not configured" + (req.not_configured_reason.empty() ? "" : ": " + req.not_configured_reason);
    }
    steps::prepared prep;
    if (failure.empty() && out.ok()) prep = co_await steps::prepare_snapshot(worker_, req, paths.snapshot_path, out, failure);
    if (failure.empty() && out.ok()) {
        std::shared_ptr<archive_producer> producer = steps::make_producer(req, prep, started_ms);
        active->producer = producer;
        const steps::runner_parts parts{http_, worker_, io_, active->channel};
        co_await steps::store_archive(parts, req, paths, producer, staging_guard, out, failure);
    }
    if (!failure.empty()) {
        out.status = backup_status::io_error;
        out.message = out.failure == failure_kind::disk_full ? "the disk is full: " + failure : failure;
    }

    out.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const backup_row row = steps::finished_row(out, started_ms);
    const std::string record_error =
        co_await steps::remove_and_record(worker_, std::move(snapshot_guard), std::move(staging_guard), row, req.db_path);
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
