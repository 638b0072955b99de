// Startup and shutdown pieces of main.cpp that are worth naming: the auth
// policy, the descriptor limit, the startup log line, the optional services
// (artifacts, backups) and the `restore` subcommand.
#pragma once

#include "server/app.hpp"
#include "server/config.hpp"

#include <memory>
#include <optional>
#include <string>

namespace obs::server {

// Why the server must not start with `cfg`'s auth settings (a non-loopback
// listen address without keys and without --insecure-no-auth), or nullopt.
std::optional<std::string> check_auth_policy(const config& cfg);

// Raises RLIMIT_NOFILE's soft limit to its hard limit (streams hold many
// connections); silently keeps the old limit when not allowed.
void raise_descriptor_limit();

// The services that live beside the app (artifact worker, ...); destroying
// the handle stops them. Sets the app's pointers to them.
struct services;
struct services_deleter {
    void operator()(services* s) const;
};
using services_handle = std::unique_ptr<services, services_deleter>;
services_handle start_services(app& a);

// The startup line: version, listen address, database, schema version,
// durability, and whether keys are required.
void log_startup(app& a, unsigned short port);

// `observability-server restore SOURCE --db PATH [--force]`: the exit code.
int run_restore_command(int argc, char** argv);

}  // namespace obs::server
