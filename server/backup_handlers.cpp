// Operations routes of the backup: POST /observability/backup (a consistent
// snapshot, tarred, gzipped and streamed to S3 or kept locally) and GET
// /observability/backups (the history, failures included). The work itself
// is backup/'s backup_runner; this file maps it onto the contract.
#include "backup/backup_job.hpp"
#include "backup/backup_record.hpp"
#include "persistence/artifact_store.hpp"
#include "server/handlers.hpp"
#include "server/log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace obs::server {
namespace {

error_code error_for(backup::backup_status status) {
    switch (status) {
        case backup::backup_status::busy: return error_code::conflict;
        case backup::backup_status::not_configured: return error_code::unavailable;
        case backup::backup_status::s3_error: return error_code::bad_gateway;
        default: return error_code::internal;
    }
}

}  // namespace

boost::asio::awaitable<http_answer> post_backup(app& a, http_request_view req) {
    auto params = parse_query(req.target);
    reject_unknown_params(params, {"upload"});
    bool upload = true;
    for (const auto& [key, value] : params) {
        if (value != "true" && value != "false") fail(error_code::bad_request, "upload must be true or false");
        upload = value == "true";
    }
    if (a.backups == nullptr) fail(error_code::unavailable, "backups are not available in this process");

    backup::backup_request request;
    request.db_path = a.cfg().db_path;
    request.data_dir = effective_data_dir(a.cfg());
    request.upload = upload;
    request.s3 = backup::s3_config_from_env();
    request.not_configured_reason = backup::s3_config_missing(backup::process_env());
    request.gzip_level = a.cfg().backup_gzip_level;
    request.part_size = a.cfg().backup_part_bytes;
    request.server_version = OBS_VERSION;
    // Exactly the artifact files the snapshot refers to (called on the worker).
    request.list_extra_files = [data_dir = request.data_dir](const std::string& snapshot_path) {
        auto snapshot = persistence::open_database(snapshot_path, true);
        std::vector<backup::archive_file> files;
        for (auto& [name, path] : persistence::artifact_files_for_backup(snapshot.get(), data_dir))
            files.push_back(backup::archive_file{std::move(name), std::move(path)});
        return files;
    };
    request.log = [](const std::string& line) {
        log_line(line.starts_with("Backup successful") ? "info" : "error", line);
    };
    auto outcome = co_await a.backups->run(std::move(request));
    if (!outcome.ok()) {
        api_error e = make_error(error_for(outcome.status), outcome.message);
        if (outcome.status == backup::backup_status::busy) e.message = "a backup is already running";
        throw api_failure(std::move(e));
    }
    co_return json_answer(201, boost::json::serialize(backup::to_json(outcome)));
}

boost::asio::awaitable<http_answer> list_backups(app& a, http_request_view req) {
    auto params = parse_query(req.target);
    reject_unknown_params(params, {"limit"});
    std::size_t limit = 50;
    for (const auto& [key, value] : params) {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < 1 || n > 500)
            fail(error_code::bad_request, "limit must be an integer from 1 to 500");
        limit = static_cast<std::size_t>(n);
    }
    auto query = [limit](sqlite3* db) {
        boost::json::array rows;
        for (const auto& row : backup::list_backups(db, limit)) rows.push_back(backup::to_json(row));
        return boost::json::serialize(boost::json::object{{"backups", std::move(rows)}});
    };
    auto body = co_await a.read(std::move(query));
    co_return json_answer(200, std::move(body));
}

}  // namespace obs::server
