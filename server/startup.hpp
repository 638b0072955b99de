// Startup and shutdown pieces of main.cpp that are worth naming: the auth
// policy, the descriptor limit, the sweep of crash leftovers, the startup
// log line and the `restore` subcommand.
#pragma once

#include "backup/backup_stats.hpp"
#include "server/app.hpp"
#include "server/config.hpp"

#include <optional>
#include <string>

namespace obs::server {

// Why the server must not start with `cfg`'s auth settings (a non-loopback
// listen address without keys and without --insecure-no-auth), or nullopt.
std::optional<std::string> check_auth_policy(const config& cfg);

// Raises RLIMIT_NOFILE's soft limit to its hard limit (streams hold many
// connections); silently keeps the old limit when not allowed.
void raise_descriptor_limit();

// Removes what a killed backup or restore left (backup/leftovers.hpp) and
// marks the backups a crash interrupted as failed. REQUIRES: the database
// lock is held.
void sweep_crash_leftovers(const config& cfg);

// Fills the last-success figures of `stats` from the newest succeeded row of
// the backup history, so that after a restart /metrics still tells when
// the last good backup was made (an alert on its age works from the start).
void recall_last_backup(const config& cfg, backup::backup_stats& stats);

// The startup line: version, listen address, database, schema version,
// durability, whether keys are required, S3 backups (bucket and endpoint,
// never keys) and CORS origins.
void log_startup(app& a, unsigned short port);

// `observability-server restore SOURCE --db PATH [--force]`: the exit code.
int run_restore_command(int argc, char** argv);

}  // namespace obs::server
