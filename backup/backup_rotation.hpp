// Rotation of backups (--backup-keep N): after a backup succeeds, the
// newest N succeeded backups of the same destination are kept and the older
// succeeded ones deleted, S3 objects with DeleteObject and local tarballs
// with remove(); each deletion is noted in the row (`deleted_ms`), which
// stays `succeeded`. The plan is a pure function of the history so its
// rules can be tested on their own; rotate_backups() carries it out.
//
// Rules, in order: nothing is deleted when keep is 0 (keep all), when the
// backup just made is not among the rows kept (its row could not be
// recorded: the history is not to be trusted then), or for a row not
// `succeeded` (failed, running) or already deleted. Only tarballs this
// server names (prefix + "observability-*.tar.gz", no deeper folder) are
// candidates; anything else under the prefix is left alone. The newest
// succeeded backup is always kept, so the only good one never goes.
//
// Executor: rotate_backups runs on the io thread (the curl_multi's); SQLite
// and the file system are used on `worker` only. A failed delete is logged
// and counted, never thrown: the backup it follows has succeeded.
#pragma once

#include "backup/backup_record.hpp"
#include "backup/curl_multi.hpp"
#include "backup/s3_client.hpp"
#include "backup/s3_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::backup {

// Where the backups of a destination live, as their locations start:
// "s3://bucket/prefix" for S3, "<data_dir>/backups/" for local tarballs.
std::string s3_location_prefix(const s3_config& s3);
std::string local_location_prefix(const std::string& data_dir);

// True when `location` is prefix + "observability-<stamp>.tar.gz" with no
// further '/': a tarball this server wrote there (backup_key's form).
bool is_rotatable_location(std::string_view location, std::string_view prefix);

// The rows to delete. `kept_newest_first`: list_kept_backups() of the
// destination (succeeded, not deleted, newest first); `newest_id`: the
// backup that just succeeded. Empty when keep == 0 or newest_id is not
// among the first `keep` rotatable rows.
std::vector<backup_row> plan_rotation(const std::vector<backup_row>& kept_newest_first, std::string_view prefix,
                                      unsigned keep, std::int64_t newest_id);

struct rotation_request {
    std::string db_path;           // the live database (its `backups` rows)
    unsigned keep = 0;             // 0: keep all
    std::int64_t newest_id = 0;    // the backup that just succeeded
    std::string location_prefix;   // s3_location_prefix() or local_location_prefix()
    std::optional<s3_config> s3;   // set: the destination is S3; else local files
    s3_client_options s3_options;
    std::function<void(const std::string&)> log;  // one line per deletion or failure (io thread)
};

struct rotation_result {
    std::uint64_t deleted = 0;  // tarballs deleted and rows marked
    std::uint64_t failed = 0;   // deletions that failed (the row stays, a later rotation tries again)
};

// Deletes what plan_rotation() names for `req` and marks the rows. Never
// throws for a failed listing, delete or mark: those are counted and logged.
boost::asio::awaitable<rotation_result> rotate_backups(rotation_request req, curl_multi& http,
                                                       boost::asio::thread_pool& worker);

}  // namespace obs::backup
