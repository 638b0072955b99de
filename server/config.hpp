// The server's configuration: every flag has a default and an OBS_...
// environment variable (the flag wins over the variable). `--help` prints
// the table that drives the parser, so help and behaviour cannot drift.
#pragma once

#include "persistence/sqlite_handle.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::server {

enum class scope { ingest, read, admin };

struct api_key {
    scope granted = scope::read;
    std::string secret;  // never logged
};

struct config {
    std::string listen_host = "127.0.0.1";
    unsigned short listen_port = 8000;
    std::string db_path = "observability.db";
    std::string data_dir;  // empty: "<db's folder>/observability-data"
    std::vector<api_key> keys;
    bool insecure_no_auth = false;
    persistence::durability sync = persistence::durability::normal;
    std::size_t max_body_bytes = 4 * 1024 * 1024;
    std::uint64_t max_artifact_bytes = 256ull * 1024 * 1024;
    std::size_t max_connections = 12000;
    unsigned header_timeout_ms = 10000;
    unsigned body_timeout_ms = 30000;
    unsigned idle_timeout_ms = 60000;
    std::size_t queue_events = 50000;
    std::size_t reader_threads = 2;
    std::size_t stream_max_subscribers = 10000;
    std::size_t stream_queue_frames = 4096;
    std::size_t stream_queue_bytes = 16 * 1024 * 1024;
    unsigned stream_ping_ms = 15000;
    int backup_gzip_level = 1;
    std::size_t backup_part_bytes = 5 * 1024 * 1024;
    bool log_requests = true;
    std::vector<std::string> cors_origins;  // origins given the CORS headers; "*" for any
    // Issue 18: durations in milliseconds, 0 = off.
    std::uint64_t retention_ms = 0;             // delete runs quiet for longer than this
    std::uint64_t retention_sweep_ms = 60000;   // how often the retention sweep looks
    std::uint64_t backup_interval_ms = 0;       // start a backup this often
    unsigned backup_keep = 0;                   // newest successful backups kept (0: all)
};

// What parse_config decided: run with `cfg`, or exit with `exit_code` after
// printing `message` (help text to stdout when exit_code is 0, else an error).
struct config_result {
    std::optional<config> cfg;
    int exit_code = 0;
    std::string message;
};

// Parses argv (after the program name) over the environment `getenv`.
config_result parse_config(int argc, const char* const* argv);

// "90d", "12h", "30m", "45s", "1500ms" (a whole number and one unit) in
// milliseconds; an error message when `text` is not one.
std::optional<std::uint64_t> parse_duration_ms(std::string_view text, std::string* error = nullptr);

// The data directory actually used (cfg.data_dir or its default).
std::string effective_data_dir(const config& cfg);

// True when `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace obs::server
