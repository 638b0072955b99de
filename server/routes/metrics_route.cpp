// GET /metrics: what an operator alerts on, in Prometheus' text format 0.0.4
// (docs/operations.md lists every series and example alert rules). One
// function per area: HTTP, the writer, storage, streams, backups, the
// process. Runs on the io thread; the writer's histograms are read through
// their atomics, the storage figures on a reader connection.
//
// Storage figures: counting a million events costs a reader 25-45 ms (see
// persistence/storage_figures.hpp), so they are read again only when the
// kept copy is older than storage_max_age; several scrapers, or one that
// retries, then cost one count per period. File sizes are a stat() each,
// read on every scrape.
#include "backup/backup_job.hpp"
#include "domain/time.hpp"
#include "persistence/event_writer.hpp"
#include "server/app.hpp"
#include "server/process_stats.hpp"
#include "server/routes/exposition.hpp"
#include "server/routes/routes.hpp"
#include "server/stream/stream_hub.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <exception>

namespace obs::server {
namespace {

constexpr auto storage_max_age = std::chrono::seconds(5);
const std::array<const char*, 3> status_classes = {"2xx", "4xx", "5xx"};

// Backup failure reasons shown at 0 before any failure, so that an alert on
// increase() sees the first one (a series that appears at 1 shows no increase).
const std::array<const char*, 4> usual_backup_failures = {"s3", "io", "disk_full", "not_configured"};

std::uint64_t file_bytes(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void write_http(exposition& out, app& a) {
    const auto& c = a.counters();
    const auto& names = a.route_names();
    out.single("obs_http_requests_total", "counter", "HTTP requests received.", c.requests);
    out.family("obs_http_responses_total", "counter", "HTTP responses by status class (1xx and 3xx count as 2xx).");
    for (std::size_t k = 0; k < 3; ++k)
        out.sample("obs_http_responses_total", label("class", status_classes[k]), c.responses.by_class[k]);
    out.family("obs_http_route_responses_total", "counter", "HTTP responses by route and status class.");
    for (std::size_t r = 0; r < c.per_route.size() && r < names.size(); ++r)
        for (std::size_t k = 0; k < 3; ++k)
            out.sample("obs_http_route_responses_total",
                       label("route", names[r]) + "," + label("class", status_classes[k]), c.per_route[r].by_class[k]);
    // Only the pairs that answered at least once: 30 routes by 3 classes by
    // 17 series each would be 1500 lines of zeros.
    out.family("obs_http_request_duration_seconds", "histogram",
               "Time from a request's head read to its answer written (a stream: its head), by route and status class.");
    for (std::size_t r = 0; r < c.durations.size() && r < names.size(); ++r)
        for (std::size_t k = 0; k < 3; ++k) {
            const auto snap = c.durations[r].by_class[k].snapshot();
            if (snap.count() == 0) continue;
            out.histogram("obs_http_request_duration_seconds",
                          label("route", names[r]) + "," + label("class", status_classes[k]), snap);
        }
    out.single("obs_open_connections", "gauge", "Open HTTP connections.", c.open_connections);
    out.single("obs_rejected_overloaded_total", "counter", "Requests refused because a queue was full.",
               c.rejected_overloaded);
    out.family("obs_auth_failures_total", "counter", "Requests refused by the API key check, by status.");
    out.sample("obs_auth_failures_total", label("status", "401"), c.auth_failures[0]);
    out.sample("obs_auth_failures_total", label("status", "403"), c.auth_failures[1]);
}

void write_writer(exposition& out, app& a) {
    const auto& c = a.counters();
    auto& w = a.writer();
    out.single("obs_events_accepted_total", "counter", "Events stored.", c.events_accepted);
    out.single("obs_events_duplicate_total", "counter", "Events answered as duplicates.", c.events_duplicate);
    out.single("obs_write_queue_events", "gauge", "Events waiting for the writer.",
               static_cast<std::uint64_t>(w.queue_depth()));
    out.single("obs_write_queue_capacity_events", "gauge", "The write queue's bound (--queue-events).",
               static_cast<std::uint64_t>(a.cfg().queue_events));
    out.single("obs_last_offset", "gauge", "Offset of the last committed event.", w.last_offset());
    out.single("obs_write_groups_total", "counter", "Write transactions committed (each holds one or more requests).",
               w.groups_committed());
    out.family("obs_write_commit_duration_seconds", "histogram",
               "Time of each write transaction, BEGIN to COMMIT (failed ones included).");
    out.histogram("obs_write_commit_duration_seconds", "", w.commit_durations().snapshot());
    out.family("obs_write_group_events", "histogram", "Events per write transaction.");
    out.histogram("obs_write_group_events", "", w.group_sizes().snapshot());
    out.single("obs_wal_checkpoints_total", "counter", "WAL checkpoints run between write transactions.",
               w.checkpoints_run());
}

// Reads the storage figures again when the kept ones are older than
// storage_max_age; keeps the old ones when the read fails or the readers are
// busy (the scrape still answers).
boost::asio::awaitable<void> refresh_storage(app& a) {
    auto& c = a.counters();
    const auto now = std::chrono::steady_clock::now();
    if (c.storage && now - c.storage_read_at < storage_max_age) co_return;
    auto read = co_await a.read([](sqlite3* db) -> std::optional<persistence::storage_figures> {
        try {
            return persistence::read_storage_figures(db);
        } catch (const std::exception&) {
            return std::nullopt;
        }
    });
    if (read && *read) {
        c.storage = **read;
        c.storage_read_at = std::chrono::steady_clock::now();
    }
}

void write_storage(exposition& out, app& a) {
    const auto& db = a.cfg().db_path;
    out.single("obs_database_bytes", "gauge", "Size of the SQLite database file.", file_bytes(db));
    out.single("obs_wal_bytes", "gauge", "Size of the SQLite write-ahead log.", file_bytes(db + "-wal"));
    const auto& f = a.counters().storage;
    if (!f) return;  // never read yet: absent rather than a false zero
    out.single("obs_artifact_bytes", "gauge", "Bytes of artifact content stored (each content once).",
               f->artifact_bytes);
    out.single("obs_events_stored", "gauge", "Events in the database (read at most every 5 s).", f->events);
    out.single("obs_runs_stored", "gauge", "Runs in the database (read at most every 5 s).", f->runs);
    const double age =
        f->oldest_received_ms ? static_cast<double>(domain::now_unix_ms() - *f->oldest_received_ms) / 1000.0 : 0.0;
    out.single("obs_oldest_event_age_seconds", "gauge", "Age of the oldest event kept, by its receive time (0: none).",
               age < 0 ? 0.0 : age);
}

void write_streams(exposition& out, app& a) {
    auto& hub = a.hub();
    out.single("obs_stream_subscribers", "gauge", "Open stream listeners.",
               static_cast<std::uint64_t>(hub.subscribers()));
    out.single("obs_stream_replays_total", "counter", "Streams opened with a resume point (Last-Event-ID or last_event_id).",
               a.counters().stream_replays);
    out.single("obs_stream_frames_sent_total", "counter", "Frames written to stream listeners.", hub.frames_sent());
    out.single("obs_stream_overflows_total", "counter", "Listeners closed for falling behind.", hub.overflows());
    out.single("obs_stream_flushes_total", "counter", "Gathered socket writes to stream listeners.", hub.flushes());
}

void write_backups(exposition& out, app& a) {
    const auto& b = a.backups().stats();
    out.single("obs_backup_last_success_timestamp_seconds", "gauge",
               "Unix time the last successful backup ended (0: none since the server started).",
               static_cast<double>(b.last_success_unix_ms) / 1000.0);
    out.single("obs_backup_last_duration_seconds", "gauge", "Duration of the last backup that ended, failed or not.",
               static_cast<double>(b.last_duration_ms) / 1000.0);
    out.single("obs_backup_last_success_bytes", "gauge", "Size of the last successful backup's tarball.",
               b.last_success_bytes);
    out.single("obs_backups_succeeded_total", "counter", "Backups that succeeded.", b.succeeded);
    out.family("obs_backup_failures_total", "counter", "Backups that failed, by reason.");
    for (const char* reason : usual_backup_failures) {
        const auto it = b.failures_by_reason.find(reason);
        out.sample("obs_backup_failures_total", label("reason", reason),
                   it == b.failures_by_reason.end() ? std::uint64_t{0} : it->second);
    }
    for (const auto& [reason, n] : b.failures_by_reason) {
        if (std::find(usual_backup_failures.begin(), usual_backup_failures.end(), reason) !=
            usual_backup_failures.end())
            continue;
        out.sample("obs_backup_failures_total", label("reason", reason), n);
    }
    out.single("obs_backup_scheduled_started_total", "counter", "Backups started by --backup-interval.",
               b.scheduled_started);
    out.single("obs_backup_scheduled_skipped_total", "counter",
               "Scheduled backups skipped because one was still running.", b.scheduled_skipped);
    out.single("obs_backup_rotated_deleted_total", "counter", "Old backups deleted by --backup-keep.",
               b.rotated_deleted);
}

void write_deletions(exposition& out, app& a) {
    const auto& c = a.counters();
    out.single("obs_retention_runs_deleted_total", "counter", "Runs deleted by retention.", c.retention_deleted.runs);
    out.single("obs_retention_events_deleted_total", "counter", "Events deleted by retention.",
               c.retention_deleted.events);
    out.single("obs_retention_sweeps_total", "counter", "Retention sweeps completed.", c.retention_sweeps);
    out.single("obs_retention_pages_released_total", "counter",
               "Free database pages given back to the file system after deletions.", c.retention_pages_released);
    out.family("obs_artifact_files_deleted_total", "counter",
               "Artifact content files removed because no artifact referred to them any more, by cause.");
    out.sample("obs_artifact_files_deleted_total", label("by", "retention"), c.retention_deleted.artifact_files);
    out.sample("obs_artifact_files_deleted_total", label("by", "request"), c.request_deleted.artifact_files);
    out.single("obs_runs_deleted_by_request_total", "counter", "Runs deleted by DELETE /observability/runs/{run_id}.",
               c.request_deleted.runs);
}

void write_process(exposition& out) {
    out.family("obs_build_info", "gauge", "The server's version, as a label; always 1.");
    out.sample("obs_build_info", label("version", OBS_VERSION), std::uint64_t{1});
    const auto p = read_process_stats();
    if (!p) return;
    out.single("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", p->cpu_seconds);
    out.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p->resident_bytes);
    out.single("process_open_fds", "gauge", "Open file descriptors.", p->open_fds);
    out.single("process_max_fds", "gauge", "Most open file descriptors allowed (0: no limit).", p->max_fds);
    out.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
               p->start_time_seconds);
}

}  // namespace

boost::asio::awaitable<handler_result> metrics(app& a, request) {
    co_await refresh_storage(a);
    exposition out;
    write_http(out, a);
    write_writer(out, a);
    write_storage(out, a);
    write_streams(out, a);
    write_backups(out, a);
    write_deletions(out, a);
    write_process(out);
    co_return http_answer{200, out.text(), "text/plain; version=0.0.4; charset=utf-8", {}};
}

}  // namespace obs::server
