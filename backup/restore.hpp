// `observability-server restore SOURCE --db PATH [--data-dir DIR] [--force]`:
// brings a backup tarball back. The source (s3://bucket/key, downloaded by
// GetObject, or a local .tar.gz) is gunzipped and untarred as it streams into
// temporary files next to their destinations; only once the manifest's
// sha256s match every member and `PRAGMA integrity_check` says ok are the
// artifacts and then the database renamed into place. An existing database
// is refused unless --force; a failure at any step leaves the destination as
// it was and no temporary file behind.
//
// Blocking and self-contained: it runs its own io_context for S3, so main
// calls it before (instead of) starting the server. It holds the database's
// lock (persistence/database_lock.hpp) from the start to the end, and
// refuses, changing nothing, while another process (a running server) holds
// it.
#pragma once

#include "backup/s3_config.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace obs::backup {

struct restore_options {
    std::string source;    // "s3://bucket/key" or a local tarball path
    std::string db_path;   // where the database goes
    std::string data_dir;  // where artifacts/ go; "": <folder of db_path>/observability-data, the server's default
    bool force = false;    // replace an existing database
    std::optional<s3_config> s3;  // keys and endpoint for s3:// sources (the URL's bucket wins)
};

struct restore_result {
    bool ok = false;
    std::string message;          // why it failed, or what was restored
    std::uint64_t archive_bytes = 0;  // compressed bytes read
    std::int64_t events = 0;      // rows in the restored `events`
    std::int64_t last_offset = 0; // its max("offset")
    int schema_version = 0;       // from the manifest
    std::size_t artifacts = 0;    // artifact files restored
};

// Restores `options.source` into `options.db_path`. Never throws for
// expected failures (they are in the result).
restore_result restore_backup(const restore_options& options);

// The `restore` subcommand: `args` are the words after "restore"
// (SOURCE --db PATH [--data-dir DIR] [--force]); S3 settings come from the
// AWS environment variables. Prints one line to stdout on success or to
// stderr on failure; returns the exit code (0 ok, 1 failed, 2 usage).
int run_restore(const std::vector<std::string>& args);

}  // namespace obs::backup
