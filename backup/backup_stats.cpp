// Counting backups into backup_stats (see backup_stats.hpp).
#include "backup/backup_stats.hpp"

#include "backup/backup_job.hpp"

namespace obs::backup {

std::string failure_reason(const backup_outcome& outcome) {
    switch (outcome.status) {
    case backup_status::ok:
    case backup_status::busy: return "";
    case backup_status::not_configured: return "not_configured";
    case backup_status::s3_error: return "s3";
    case backup_status::io_error: break;
    }
    return outcome.failure == failure_kind::disk_full ? "disk_full" : "io";
}

void count_backup(backup_stats& stats, const backup_outcome& outcome, std::int64_t finished_unix_ms) {
    if (outcome.status == backup_status::busy) return;
    stats.last_duration_ms = outcome.duration_ms;
    if (outcome.ok()) {
        ++stats.succeeded;
        stats.last_success_unix_ms = finished_unix_ms;
        stats.last_success_bytes = outcome.bytes;
        return;
    }
    ++stats.failures_by_reason[failure_reason(outcome)];
}

}  // namespace obs::backup
