// How the server asks for a backup: the one backup_request that POST
// /observability/backup and the schedule (--backup-interval) both run, and
// the schedule's start. Scheduled backups go to S3 when it is configured
// (OBS_S3_BUCKET and the AWS_* variables), else stay local under
// <data-dir>/backups/ as ?upload=false does; the choice is made once, at
// startup, and logged. --backup-keep applies to both kinds of backup.
#pragma once

#include "backup/backup_job.hpp"
#include "backup/backup_schedule.hpp"
#include "server/app.hpp"
#include "server/config.hpp"

#include <memory>
#include <string>

namespace obs::server {

// The request of one backup: the database and data directory of `cfg`,
// S3 from the environment, gzip and part sizes, keep = cfg.backup_keep,
// the artifacts the snapshot refers to, and log lines through log_line.
// `started_by`: "manual" or "scheduled".
backup::backup_request make_backup_request(const config& cfg, bool upload, std::string started_by);

// When cfg.backup_interval_ms > 0: logs where scheduled backups go and
// starts the schedule on the io thread; else nullptr (nothing logged).
// The caller keeps it until shutdown and calls stop() on SIGTERM.
// REQUIRES: called on the io thread or before io.run(); `a` outlives it.
std::unique_ptr<backup::backup_schedule> start_backup_schedule(app& a);

}  // namespace obs::server
