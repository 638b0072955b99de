// What /metrics reports about backups (issue 18): kept by backup_runner on
// the io thread, where every backup starts and ends, and read there by the
// metrics route. Figures of the last successful backup stay until the next
// one succeeds, so an alert can compare the last success time with now.
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
};

}  // namespace obs::backup
