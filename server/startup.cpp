// Startup pieces of main.cpp; see startup.hpp.
#include "server/startup.hpp"

#include "backup/backup_job.hpp"
#include "backup/backup_record.hpp"
#include "backup/restore.hpp"
#include "domain/time.hpp"
#include "backup/leftovers.hpp"
#include "backup/s3_config.hpp"
#include "persistence/sqlite_handle.hpp"
#include "server/log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <sys/resource.h>

namespace obs::server {

std::optional<std::string> check_auth_policy(const config& cfg) {
    if (!cfg.keys.empty() || is_loopback_host(cfg.listen_host) || cfg.insecure_no_auth) return std::nullopt;
    return "refusing to listen on " + cfg.listen_host +
           " without an API key: give --api-key scope:key (or --keys-file), listen on loopback, "
           "or pass --insecure-no-auth to accept unauthenticated clients from the network";
}

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur >= limit.rlim_max) return;
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

void sweep_crash_leftovers(const config& cfg) {
    const auto swept = backup::sweep_backup_leftovers(effective_data_dir(cfg), cfg.db_path);
    if (swept.removed > 0)
        log_line("info", "removed what an interrupted backup or restore left",
                 {{"files", swept.removed}, {"bytes", swept.bytes}});
    for (const auto& error : swept.errors) log_line("warning", "cannot remove a leftover", {{"reason", error}});
    auto db = persistence::open_database(cfg.db_path, false, cfg.sync);
    // A backup that a crash interrupted stays "running" in the history: say it failed.
    backup::mark_interrupted_backups(db.get(), domain::now_unix_ms());
}

void recall_last_backup(const config& cfg, backup::backup_stats& stats) {
    auto db = persistence::open_database(cfg.db_path, true);
    for (const auto& row : backup::list_backups(db.get(), 1000)) {
        if (row.status != "succeeded" || !row.finished_ms) continue;
        stats.last_success_unix_ms = *row.finished_ms;
        stats.last_success_bytes = static_cast<std::uint64_t>(row.bytes.value_or(0));
        stats.last_duration_ms = *row.finished_ms - row.started_ms;
        return;
    }
}

int run_restore_command(int argc, char** argv) {
    return backup::run_restore(std::vector<std::string>(argv, argv + argc));
}

void log_startup(app& a, unsigned short port) {
    const auto& cfg = a.cfg();
    boost::json::object fields{
        {"version", OBS_VERSION},
        {"listen", cfg.listen_host + ":" + std::to_string(port)},
        {"port", port},
        {"db", cfg.db_path},
        {"data_dir", effective_data_dir(cfg)},
        {"schema_version", a.schema_version()},
        {"durability", cfg.sync == persistence::durability::full ? "full" : "normal"},
        {"auth", a.auth().open() ? "none (loopback only)" : "bearer keys"},
    };
    // Whether POST /observability/backup can upload, and where; never keys.
    if (auto s3 = backup::s3_config_from_env())
        fields["s3_backups"] = boost::json::object{
            {"bucket", s3->bucket}, {"endpoint", s3->endpoint.empty() ? "AWS" : s3->endpoint}, {"prefix", s3->prefix}};
    else
        fields["s3_backups"] = "not configured (POST /observability/backup?upload=false keeps backups local)";
    if (!cfg.cors_origins.empty()) {
        boost::json::array origins;
        for (const auto& o : cfg.cors_origins) origins.push_back(boost::json::string(o));
        fields["cors_origins"] = std::move(origins);
    }
    if (a.auth().open() && !cfg.insecure_no_auth)
        log_line("warning", "no API key configured: every client on this machine has full access; "
                            "the server listens on loopback only");
    if (a.auth().open() && cfg.insecure_no_auth && !is_loopback_host(cfg.listen_host))
        log_line("warning", "--insecure-no-auth: anyone who can reach this address has full access");
    log_line("info", "listening", std::move(fields));
}

}  // namespace obs::server
