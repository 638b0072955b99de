// Read routes: GET /observability/runs, /runs/{id}, /runs/{id}/steps. Query
// parameters are checked strictly (unknown ones are a 400); the SQL runs on
// a reader thread.
#include "domain/time.hpp"
#include "domain/validation.hpp"
#include "persistence/queries.hpp"
#include "server/handlers.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>

namespace obs::server {
namespace {

std::int64_t parse_integer(const std::string& name, const std::string& text, std::int64_t min, std::int64_t max) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
        fail(error_code::bad_request,
             name + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return value;
}

std::int64_t parse_time(const std::string& name, const std::string& text) {
    auto ms = domain::parse_rfc3339(text);
    if (!ms) fail(error_code::bad_request, name + " must be an RFC 3339 time such as 2026-11-27T22:04:05.123Z");
    return *ms;
}

void require_known_run_id(const std::string& run_id) {
    if (!domain::is_valid_id(run_id)) fail(error_code::not_found, "no such run");
}

}  // namespace

query_params parse_query(std::string_view target) {
    query_params params;
    auto q = target.find('?');
    if (q == std::string_view::npos) return params;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto item = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (item.empty()) continue;
        auto eq = item.find('=');
        std::string key(item.substr(0, eq));
        std::string value(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
        for (auto* s : {&key, &value})
            for (auto& c : *s)
                if (c == '+') c = ' ';
        auto k = percent_decode(key);
        auto v = percent_decode(value);
        if (!k || !v) fail(error_code::bad_request, "the query has a malformed %-escape");
        params.emplace_back(std::move(*k), std::move(*v));
    }
    return params;
}

void reject_unknown_params(const query_params& params, std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : params) {
        bool known = false;
        for (auto name : allowed) known = known || key == name;
        if (!known) fail(error_code::bad_request, "unknown query parameter '" + key + "'");
    }
}

boost::asio::awaitable<http_answer> list_runs(app& a, http_request_view req) {
    auto params = parse_query(req.target);
    reject_unknown_params(params, {"status", "agent", "tag", "since", "until", "limit", "cursor"});
    persistence::run_filter filter;
    for (const auto& [key, value] : params) {
        if (key == "status") {
            if (value != "running" && value != "succeeded" && value != "failed" && value != "cancelled")
                fail(error_code::bad_request, "status must be running, succeeded, failed or cancelled");
            filter.status = value;
        } else if (key == "agent") {
            filter.agent = value;
        } else if (key == "tag") {
            filter.tag = value;
        } else if (key == "since") {
            filter.since_ms = parse_time(key, value);
        } else if (key == "until") {
            filter.until_ms = parse_time(key, value);
        } else if (key == "limit") {
            filter.limit = static_cast<std::size_t>(parse_integer(key, value, 1, 500));
        } else if (key == "cursor") {
            filter.cursor = value;
        }
    }
    auto query = [filter](sqlite3* db) { return persistence::list_runs(db, filter); };
    auto result = co_await a.read(std::move(query));
    if (!result.body) fail(error_code::bad_request, result.error);
    co_return json_answer(200, boost::json::serialize(*result.body));
}

boost::asio::awaitable<http_answer> get_run(app& a, std::string run_id, http_request_view req) {
    reject_unknown_params(parse_query(req.target), {});
    require_known_run_id(run_id);
    auto query = [run_id](sqlite3* db) { return persistence::get_run(db, run_id); };
    auto run = co_await a.read(std::move(query));
    if (!run) fail(error_code::not_found, "no run with id " + run_id);
    co_return json_answer(200, boost::json::serialize(*run));
}

boost::asio::awaitable<http_answer> list_steps(app& a, std::string run_id, http_request_view req) {
    auto params = parse_query(req.target);
    reject_unknown_params(params, {"after_seq", "type", "limit"});
    require_known_run_id(run_id);
    persistence::step_filter filter;
    for (const auto& [key, value] : params) {
        if (key == "after_seq") {
            filter.after_seq = parse_integer(key, value, 0, INT64_MAX);
        } else if (key == "limit") {
            filter.limit = static_cast<std::size_t>(parse_integer(key, value, 1, 1000));
        } else if (key == "type") {
            // Repeatable, and each value may list several types separated by commas.
            std::string_view rest(value);
            while (true) {
                auto comma = rest.find(',');
                auto name = rest.substr(0, comma);
                auto type = domain::parse_event_type(name);
                if (!type) fail(error_code::bad_request, "unknown event type '" + std::string(name) + "'");
                filter.types.push_back(*type);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        }
    }
    auto query = [run_id, filter](sqlite3* db) { return persistence::list_steps(db, run_id, filter); };
    auto body = co_await a.read(std::move(query));
    if (!body) fail(error_code::not_found, "no run with id " + run_id);
    co_return json_answer(200, std::move(*body));
}

}  // namespace obs::server
