// Rotation of backups (see backup_rotation.hpp): the plan from the history,
// then one delete per old tarball and one worker job that marks the rows.
#include "backup/backup_rotation.hpp"

#include "backup/hand_off.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/asio/this_coro.hpp>

#include <filesystem>
#include <system_error>

namespace obs::backup {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view name_start = "observability-";
constexpr std::string_view name_end = ".tar.gz";

// What happened to one tarball the plan named.
struct deletion {
    std::int64_t id = 0;
    std::string location;
    std::string error;  // "" when it is gone
};

// Removes local tarballs on the worker; a file already gone counts as removed
// (someone deleted it by hand: the row should say it cannot be restored).
std::vector<deletion> remove_local(const std::vector<backup_row>& rows) {
    std::vector<deletion> out;
    for (const auto& row : rows) {
        std::error_code ec;
        fs::remove(*row.location, ec);
        out.push_back(deletion{row.id, *row.location, ec ? ec.message() : std::string()});
    }
    return out;
}

// Marks the rows whose tarball is gone, on the worker; the error of the
// marking when it failed (the tarballs are gone all the same: a later
// rotation finds the rows again and marks them, S3 and remove() being
// idempotent).
std::string mark_deleted(const std::string& db_path, const std::vector<deletion>& done) {
    try {
        persistence::db_ptr db = persistence::open_database(db_path, false);
        const std::int64_t now = domain::now_unix_ms();
        for (const auto& d : done) {
            if (d.error.empty()) mark_backup_deleted(db.get(), d.id, now);
        }
        return {};
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace

std::string s3_location_prefix(const s3_config& s3) { return s3.location(s3.prefix); }

std::string local_location_prefix(const std::string& data_dir) {
    return (fs::path(data_dir.empty() ? "." : data_dir) / "backups").string() + "/";
}

bool is_rotatable_location(std::string_view location, std::string_view prefix) {
    if (!location.starts_with(prefix)) return false;
    const std::string_view name = location.substr(prefix.size());
    return name.size() > name_start.size() + name_end.size() && name.starts_with(name_start) &&
           name.ends_with(name_end) && name.find('/') == std::string_view::npos;
}

std::vector<backup_row> plan_rotation(const std::vector<backup_row>& kept_newest_first, std::string_view prefix,
                                      unsigned keep, std::int64_t newest_id) {
    std::vector<backup_row> candidates;
    for (const auto& row : kept_newest_first) {
        if (row.status == "succeeded" && !row.deleted_ms && row.location && is_rotatable_location(*row.location, prefix))
            candidates.push_back(row);
    }
    std::vector<backup_row> doomed;
    if (keep == 0 || candidates.size() <= keep) return doomed;
    bool newest_kept = false;
    for (std::size_t i = 0; i < keep; ++i) newest_kept = newest_kept || candidates[i].id == newest_id;
    if (!newest_kept) return doomed;
    doomed.assign(candidates.begin() + keep, candidates.end());
    return doomed;
}

asio::awaitable<rotation_result> rotate_backups(rotation_request req, curl_multi& http, asio::thread_pool& worker) {
    rotation_result result;
    auto log = [&req](const std::string& line) {
        if (req.log) req.log(line);
    };
    const asio::any_io_executor home = co_await asio::this_coro::executor;

    std::vector<backup_row> doomed;
    try {
        auto plan = [db_path = req.db_path, prefix = req.location_prefix, keep = req.keep, newest = req.newest_id] {
            persistence::db_ptr db = persistence::open_database(db_path, true);
            return plan_rotation(list_kept_backups(db.get(), prefix), prefix, keep, newest);
        };
        doomed = co_await async::run_on(worker.get_executor(), home, std::move(plan));
    } catch (const std::exception& e) {
        log("Backup rotation skipped: cannot read the history: " + std::string(e.what()));
        co_return result;
    }
    if (doomed.empty()) co_return result;

    std::vector<deletion> done;
    if (req.s3) {
        s3_client s3(http, *req.s3, req.s3_options);
        const std::string bucket_prefix = req.s3->location("");
        for (const auto& row : doomed) {
            std::string key = row.location->substr(bucket_prefix.size());
            auto r = co_await s3.delete_object(std::move(key));
            done.push_back(deletion{row.id, *row.location, r ? std::string() : r.error().describe()});
        }
    } else {
        auto remove = [doomed] { return remove_local(doomed); };
        done = co_await async::run_on(worker.get_executor(), home, std::move(remove));
    }

    auto mark = [db_path = req.db_path, done] { return mark_deleted(db_path, done); };
    const std::string mark_error = co_await async::run_on(worker.get_executor(), home, std::move(mark));
    for (const auto& d : done) {
        if (!d.error.empty()) {
            ++result.failed;
            log("Backup rotation could not delete " + d.location + " (kept for a later rotation): " + d.error);
        } else if (!mark_error.empty()) {
            ++result.failed;
            log("Backup rotation deleted " + d.location + " but could not record it: " + mark_error);
        } else {
            ++result.deleted;
            log("Backup rotation deleted " + d.location + " (backup " + std::to_string(d.id) + ")");
        }
    }
    co_return result;
}

}  // namespace obs::backup
