// What /metrics reports about backups (issue 18): kept by backup_runner on
// the io thread, where every backup starts and ends, and read there by the
// metrics route. Figures of the last successful backup stay until the next
// one succeeds, so an alert can compare the last success time with now.
// backup_stats.cpp counts each backup; backup_schedule counts the ticks and
// the rotation its deletions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace obs::backup {

struct backup_stats {
    std::int64_t last_success_unix_ms = 0;  // 0: none since the server started
    std::int64_t last_duration_ms = 0;       // of the last backup that ended, failed or not
    std::uint64_t last_success_bytes = 0;    // tarball size of the last success
    std::uint64_t succeeded = 0;
    std::map<std::string, std::uint64_t> failures_by_reason;  // "s3", "io", "disk_full", "not_configured", ...
    std::uint64_t scheduled_started = 0;     // backups started by --backup-interval
    std::uint64_t scheduled_skipped = 0;     // schedule ticks skipped because one was running
    std::uint64_t rotated_deleted = 0;       // old backups deleted by --backup-keep
    std::uint64_t rotation_failed = 0;       // deletions by --backup-keep that failed (retried next rotation)
};

struct backup_outcome;

// The failures_by_reason key of a failed outcome: "not_configured", "s3",
// "disk_full" or "io"; "" for a success or a busy refusal (no backup ran).
std::string failure_reason(const backup_outcome& outcome);

// Counts one backup that ran (called by backup_runner::run as it ends, for
// manual and scheduled backups alike): a success sets the last_success_*
// figures from `outcome` and `finished_unix_ms`; every outcome but busy
// sets last_duration_ms; a failure counts under failure_reason().
void count_backup(backup_stats& stats, const backup_outcome& outcome, std::int64_t finished_unix_ms);

}  // namespace obs::backup
