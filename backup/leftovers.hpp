// What a killed backup or restore leaves behind, swept at server startup
// (issue 13, item 6). A backup writes its snapshot to
// `<data_dir>/.backup-<unix ms>.db` and a local tarball to
// `<data_dir>/backups/observability-<stamp>.tar.gz.part` before renaming it;
// a restore extracts into `<db dir>/.restore-<pid>-<n>.db` and
// `<data_dir>/.restore-<pid>-<n>/`. Each is removed by its own job on every
// way out except SIGKILL or a power cut; then only this sweep removes them
// (a snapshot is as large as the database).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace obs::backup {

struct sweep_result {
    std::size_t removed = 0;          // files and folders removed
    std::uint64_t bytes = 0;          // their size
    std::vector<std::string> paths;   // what was removed
    std::vector<std::string> errors;  // what could not be removed, and why
};

// Removes the leftovers named above, and nothing else (a name must match
// exactly: `.backup-` digits `.db`, with its `-journal`; `observability-`
// ... `.tar.gz.part`; `.restore-` digits `-` digits, `.db` and its journal
// beside the database). Never throws; a missing folder is not an error.
// REQUIRES: no backup or restore is running on these folders: call it at
// startup, after taking the database lock (persistence/database_lock.hpp),
// which a restore holds while it runs.
sweep_result sweep_backup_leftovers(const std::string& data_dir, const std::string& db_path);

}  // namespace obs::backup
