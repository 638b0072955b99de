// The backup request and the schedule's start (see backup_plan.hpp).
#include "server/backup_plan.hpp"

#include "backup/backup_rotation.hpp"
#include "persistence/artifact_store.hpp"
#include "server/log.hpp"

namespace obs::server {

namespace {

// Routine lines at info, the rest (failures, retries, skips) at warning or error.
void log_backup_line(const std::string& line) {
    const bool routine = line.starts_with("Backup successful") || line.starts_with("Backup rotation deleted");
    const bool failed = line.starts_with("Backup failed") || line.starts_with("Backup row");
    log_line(routine ? "info" : failed ? "error" : "warning", line);
}

}  // namespace

backup::backup_request make_backup_request(const config& cfg, bool upload, std::string started_by) {
    backup::backup_request request;
    request.db_path = cfg.db_path;
    request.data_dir = effective_data_dir(cfg);
    request.upload = upload;
    request.s3 = backup::s3_config_from_env();
    request.not_configured_reason = backup::s3_config_missing(backup::process_env());
    request.gzip_level = cfg.backup_gzip_level;
    request.part_size = cfg.backup_part_bytes;
    request.server_version = OBS_VERSION;
    request.started_by = std::move(started_by);
    request.keep = cfg.backup_keep;
    // Exactly the artifact files the snapshot refers to (called on the worker).
    request.list_extra_files = [data_dir = request.data_dir](const std::string& snapshot_path) {
        auto snapshot = persistence::open_database(snapshot_path, true);
        std::vector<backup::archive_file> files;
        for (auto& [name, path] : persistence::artifact_files_for_backup(snapshot.get(), data_dir))
            files.push_back(backup::archive_file{std::move(name), std::move(path)});
        return files;
    };
    request.log = log_backup_line;
    return request;
}

std::unique_ptr<backup::backup_schedule> start_backup_schedule(app& a) {
    const config& cfg = a.cfg();
    if (cfg.backup_interval_ms == 0) return nullptr;
    const auto s3 = backup::s3_config_from_env();
    const bool upload = s3.has_value();
    const auto options = backup::schedule_options_for(std::chrono::milliseconds(cfg.backup_interval_ms));
    log_line("info", "scheduled backups",
             {{"interval_ms", cfg.backup_interval_ms},
              {"keep", cfg.backup_keep},
              {"retry_first_ms", options.retry_base.count()},
              {"retry_max_ms", options.retry_cap.count()},
              {"destination", upload ? "s3" : "local"},
              {"location", upload ? backup::s3_location_prefix(*s3) : backup::local_location_prefix(effective_data_dir(cfg))}});
    auto make = [&cfg, upload] { return make_backup_request(cfg, upload, "scheduled"); };
    auto schedule = std::make_unique<backup::backup_schedule>(a.io().get_executor(), a.backups(), options,
                                                               std::move(make), log_backup_line);
    schedule->start();
    return schedule;
}

}  // namespace obs::server
