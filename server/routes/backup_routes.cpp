// Operations routes of the backup: POST /observability/backup (a consistent
// snapshot, tarred, gzipped and streamed to S3 or kept locally) and GET
// /observability/backups (the history, failures included). The work itself
// is backup/'s backup_runner; this file maps it onto the contract.
#include "backup/backup_job.hpp"
#include "backup/backup_record.hpp"
#include "server/app.hpp"
#include "server/backup_plan.hpp"
#include "server/http/query.hpp"
#include "server/log.hpp"
#include "server/routes/routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace obs::server {
namespace {

// The contract's error of a failed backup; its code alone picks the status.
api_error error_for(const backup::backup_outcome& outcome) {
    switch (outcome.status) {
        case backup::backup_status::busy: return make_error(error_code::conflict, "a backup is already running");
        case backup::backup_status::not_configured:
            return make_error(error_code::unavailable,
                              outcome.message +
                                  ". Set OBS_S3_BUCKET and the AWS_* variables (AWS_ENDPOINT_URL_S3 for an "
                                  "S3-compatible server), or keep the backup local with ?upload=false");
        case backup::backup_status::s3_error: return make_error(error_code::bad_gateway, outcome.message);
        default: break;
    }
    if (outcome.failure == backup::failure_kind::disk_full) {
        api_error e = make_error(error_code::unavailable, "the backup failed: the disk is full (" + outcome.message + ")");
        e.retry_after_seconds = 60;
        return e;
    }
    // Never a path or a stack in a 500: the reason is in the log and the history.
    return make_error(error_code::internal, "the backup failed; the backup history (GET observability backups) has the reason");
}

}  // namespace

boost::asio::awaitable<handler_result> post_backup(app& a, request req) {
    auto params = parse_query(req.target, {"upload"});
    if (!params) co_return params.error();
    bool upload = true;
    for (const auto& [key, value] : *params) {
        if (value != "true" && value != "false") co_return failure(error_code::bad_request, "upload must be true or false");
        upload = value == "true";
    }

    backup::backup_request request = make_backup_request(a.cfg(), upload, "manual");
    auto outcome = co_await a.backups().run(std::move(request));
    if (!outcome.ok()) co_return error_for(outcome);
    co_return json_answer(201, boost::json::serialize(backup::to_json(outcome)));
}

boost::asio::awaitable<handler_result> list_backups(app& a, request req) {
    auto params = parse_query(req.target, {"limit"});
    if (!params) co_return params.error();
    std::size_t limit = 50;
    for (const auto& [key, value] : *params) {
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < 1 || n > 500)
            co_return failure(error_code::bad_request, "limit must be an integer from 1 to 500");
        limit = static_cast<std::size_t>(n);
    }
    auto query = [limit](sqlite3* db) {
        boost::json::array rows;
        for (const auto& row : backup::list_backups(db, limit)) rows.push_back(backup::to_json(row));
        return boost::json::serialize(boost::json::object{{"backups", std::move(rows)}});
    };
    auto body = co_await a.read(std::move(query));
    if (!body) co_return body.error();
    co_return json_answer(200, std::move(*body));
}

}  // namespace obs::server
