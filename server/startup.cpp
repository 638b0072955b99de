// Startup pieces of main.cpp; see startup.hpp.
#include "server/startup.hpp"

#include "backup/backup_job.hpp"
#include "backup/backup_record.hpp"
#include "backup/restore.hpp"
#include "domain/time.hpp"
#include "server/artifact_routes.hpp"
#include "server/log.hpp"

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

struct services {
    std::unique_ptr<artifact_service> artifacts;  // file I/O workers of the artifact routes
    std::unique_ptr<backup::backup_runner> backups;  // curl multi + the backup worker
};

void services_deleter::operator()(services* s) const {
    if (s->artifacts) s->artifacts->stop();
    delete s;  // the backup runner stops a backup in progress and joins its worker
}

services_handle start_services(app& a) {
    services_handle s(new services);
    const auto& cfg = a.cfg();
    s->artifacts = std::make_unique<artifact_service>(a.io(), effective_data_dir(cfg), cfg.max_artifact_bytes);
    a.artifacts = s->artifacts.get();
    // A backup that a crash interrupted stays "running" in the history: say it failed.
    {
        auto db = persistence::open_database(cfg.db_path, false, cfg.sync);
        backup::mark_interrupted_backups(db.get(), domain::now_unix_ms());
    }
    s->backups = std::make_unique<backup::backup_runner>(a.io().get_executor());
    a.backups = s->backups.get();
    return s;
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
    if (a.auth().open() && !cfg.insecure_no_auth)
        log_line("warning", "no API key configured: every client on this machine has full access; "
                            "the server listens on loopback only");
    if (a.auth().open() && cfg.insecure_no_auth && !is_loopback_host(cfg.listen_host))
        log_line("warning", "--insecure-no-auth: anyone who can reach this address has full access");
    log_line("info", "listening", std::move(fields));
}

}  // namespace obs::server
