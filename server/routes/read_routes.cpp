// Read routes: GET /observability/runs, /runs/{id}, /runs/{id}/steps. Query
// parameters are checked strictly (unknown ones are a 400); the SQL runs on
// a reader thread.
#include "domain/time.hpp"
#include "domain/validation.hpp"
#include "persistence/queries.hpp"
#include "server/app.hpp"
#include "server/http/query.hpp"
#include "server/routes/routes.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>

namespace obs::server {
namespace {

template <class T>
using result = boost::system::result<T, api_error>;

result<std::int64_t> parse_integer(const std::string& name, const std::string& text, std::int64_t min,
                                   std::int64_t max) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
        return make_error(error_code::bad_request,
                          name + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return value;
}

result<std::int64_t> parse_time(const std::string& name, const std::string& text) {
    auto ms = domain::parse_rfc3339(text);
    if (!ms) return make_error(error_code::bad_request, name + " must be an RFC 3339 time such as 2026-11-27T22:04:05.123Z");
    return *ms;
}

// An id that cannot exist is an unknown run.
std::optional<api_error> unknown_run(const std::string& run_id) {
    if (domain::is_valid_id(run_id)) return std::nullopt;
    return make_error(error_code::not_found, "no such run");
}

result<persistence::run_filter> run_filter_of(const query_params& params) {
    persistence::run_filter filter;
    for (const auto& [key, value] : params) {
        if (key == "status") {
            if (value != "running" && value != "succeeded" && value != "failed" && value != "cancelled")
                return make_error(error_code::bad_request, "status must be running, succeeded, failed or cancelled");
            filter.status = value;
        } else if (key == "agent") {
            filter.agent = value;
        } else if (key == "tag") {
            filter.tag = value;
        } else if (key == "since" || key == "until") {
            auto ms = parse_time(key, value);
            if (!ms) return ms.error();
            (key == "since" ? filter.since_ms : filter.until_ms) = *ms;
        } else if (key == "limit") {
            auto n = parse_integer(key, value, 1, 500);
            if (!n) return n.error();
            filter.limit = static_cast<std::size_t>(*n);
        } else if (key == "cursor") {
            filter.cursor = value;
        }
    }
    return filter;
}

result<persistence::step_filter> step_filter_of(const query_params& params) {
    persistence::step_filter filter;
    for (const auto& [key, value] : params) {
        if (key == "after_seq") {
            auto n = parse_integer(key, value, 0, INT64_MAX);
            if (!n) return n.error();
            filter.after_seq = *n;
        } else if (key == "limit") {
            auto n = parse_integer(key, value, 1, 1000);
            if (!n) return n.error();
            filter.limit = static_cast<std::size_t>(*n);
        } else if (key == "type") {
            // Repeatable, and each value may list several types separated by commas.
            std::string_view rest(value);
            while (true) {
                auto comma = rest.find(',');
                auto name = rest.substr(0, comma);
                auto type = domain::parse_event_type(name);
                if (!type) return make_error(error_code::bad_request, "unknown event type '" + std::string(name) + "'");
                filter.types.push_back(*type);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        }
    }
    return filter;
}

}  // namespace

boost::asio::awaitable<handler_result> list_runs(app& a, request req) {
    auto params = parse_query(req.target, {"status", "agent", "tag", "since", "until", "limit", "cursor"});
    if (!params) co_return params.error();
    auto filter = run_filter_of(*params);
    if (!filter) co_return filter.error();
    auto query = [filter = *filter](sqlite3* db) { return persistence::list_runs(db, filter); };
    auto found = co_await a.read(std::move(query));
    if (!found) co_return found.error();
    if (!found->body) co_return failure(error_code::bad_request, found->error);
    co_return json_answer(200, boost::json::serialize(*found->body));
}

boost::asio::awaitable<handler_result> get_run(app& a, request req) {
    const std::string run_id = req.param("run_id");
    if (auto params = parse_query(req.target, {}); !params) co_return params.error();
    if (auto unknown = unknown_run(run_id)) co_return *unknown;
    auto query = [run_id](sqlite3* db) { return persistence::get_run(db, run_id); };
    auto run = co_await a.read(std::move(query));
    if (!run) co_return run.error();
    if (!*run) co_return failure(error_code::not_found, "no run with id " + run_id);
    co_return json_answer(200, persistence::encode_run_detail(std::move(**run)));
}

boost::asio::awaitable<handler_result> list_steps(app& a, request req) {
    const std::string run_id = req.param("run_id");
    auto params = parse_query(req.target, {"after_seq", "type", "limit"});
    if (!params) co_return params.error();
    if (auto unknown = unknown_run(run_id)) co_return *unknown;
    auto filter = step_filter_of(*params);
    if (!filter) co_return filter.error();
    auto query = [run_id, filter = *filter](sqlite3* db) { return persistence::list_steps(db, run_id, filter); };
    auto body = co_await a.read(std::move(query));
    if (!body) co_return body.error();
    if (!*body) co_return failure(error_code::not_found, "no run with id " + run_id);
    co_return json_answer(200, std::move(**body));
}

}  // namespace obs::server
