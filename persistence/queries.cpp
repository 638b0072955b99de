// The runs' read queries (see queries.hpp): a page of runs with its cursor,
// and one run's detail. Every function runs its statements inside one read
// transaction (unless the caller already holds one) so a multi-statement
// answer is one consistent snapshot. List filters are bound parameters:
// optional WHERE terms are constant fragments chosen by which filters are
// present. The event log's queries are in queries_events.cpp.
#include "persistence/queries.hpp"

#include "domain/time.hpp"
#include "persistence/queries_support.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

namespace obs::persistence {

using namespace queries_support;

namespace {

constexpr const char* sql_run_columns =
    "SELECT id, name, agent, status, parent_run_id, tags, metadata, started_ms, ended_ms, last_event_ms, "
    "step_count, error_count, input_tokens, output_tokens, cost_usd FROM runs";
constexpr const char* sql_where_status = " AND status = ?";
constexpr const char* sql_where_agent = " AND agent = ?";
constexpr const char* sql_where_tag = " AND EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = ?)";
constexpr const char* sql_where_since = " AND started_ms >= ?";
constexpr const char* sql_where_until = " AND started_ms < ?";
constexpr const char* sql_where_before_cursor = " AND (started_ms, id) < (?, ?)";
constexpr const char* sql_runs_order = " ORDER BY started_ms DESC, id DESC LIMIT ?";
constexpr const char* sql_run_by_id = " WHERE id = ?1";
constexpr const char* sql_step_counts = "SELECT type, count(*) FROM events WHERE run_id = ?1 GROUP BY type";

constexpr std::size_t max_runs_page = 500;

boost::json::value text_or_null(sqlite3_stmt* s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return nullptr;
    return boost::json::string(column_text_view(s, col));
}

boost::json::value time_or_null(sqlite3_stmt* s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return nullptr;
    const std::int64_t ms = sqlite3_column_int64(s, col);
    if (ms < 0 || ms >= domain::rfc3339_ms_limit) return nullptr;  // not representable in RFC 3339
    return boost::json::string(domain::format_rfc3339_ms(ms));
}

// The stored JSON text of tags/metadata; the writer only stores what
// validation produced, so a parse failure means a damaged row: shown empty.
boost::json::value stored_json(sqlite3_stmt* s, int col, boost::json::value empty) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(column_text_view(s, col), ec);
    return ec ? empty : v;
}

// The run object of API.md from a row of sql_run_columns.
boost::json::object run_object(sqlite3_stmt* s) {
    boost::json::object run;
    run["id"] = boost::json::string(column_text_view(s, 0));
    run["name"] = text_or_null(s, 1);
    run["agent"] = text_or_null(s, 2);
    run["status"] = boost::json::string(column_text_view(s, 3));
    run["parent_run_id"] = text_or_null(s, 4);
    run["tags"] = stored_json(s, 5, boost::json::array{});
    run["metadata"] = stored_json(s, 6, boost::json::object{});
    run["started_at"] = time_or_null(s, 7);
    run["ended_at"] = time_or_null(s, 8);
    run["last_event_at"] = time_or_null(s, 9);
    run["step_count"] = sqlite3_column_int64(s, 10);
    run["error_count"] = sqlite3_column_int64(s, 11);
    return run;
}

// --- list_runs' cursor: base64url("<started_ms>.<id>"), no padding ---

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += b64_alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += b64_alphabet[(acc << (6 - bits)) & 0x3f];
    return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const std::size_t v = b64_alphabet.find(c);
        if (v == std::string_view::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // only the canonical form
    return out;
}

struct run_cursor {
    std::int64_t started_ms = 0;
    std::string id;
};

std::string encode_cursor(std::int64_t started_ms, std::string_view id) {
    return base64url_encode(std::to_string(started_ms) + "." + std::string{id});
}

std::optional<run_cursor> decode_cursor(std::string_view text) {
    const std::optional<std::string> raw = base64url_decode(text);
    if (!raw) return std::nullopt;
    const std::size_t dot = raw->find('.');  // ids may hold dots, numbers do not
    if (dot == std::string::npos) return std::nullopt;
    run_cursor c;
    const char* first = raw->data();
    const char* last = raw->data() + dot;
    const auto [end, ec] = std::from_chars(first, last, c.started_ms);
    if (ec != std::errc{} || end != last || dot == 0) return std::nullopt;
    c.id = raw->substr(dot + 1);
    if (!domain::is_valid_id(c.id)) return std::nullopt;
    return c;
}

}  // namespace

query_result list_runs(sqlite3* db, const run_filter& filter) {
    query_result result;
    std::optional<run_cursor> after;
    if (filter.cursor) {
        after = decode_cursor(*filter.cursor);
        if (!after) {
            result.error = "cursor is not a next_cursor of this route";
            return result;
        }
    }
    const std::size_t limit = std::clamp<std::size_t>(filter.limit, 1, max_runs_page);

    std::string sql = sql_run_columns;
    sql += " WHERE 1";
    if (filter.status) sql += sql_where_status;
    if (filter.agent) sql += sql_where_agent;
    if (filter.tag) sql += sql_where_tag;
    if (filter.since_ms) sql += sql_where_since;
    if (filter.until_ms) sql += sql_where_until;
    if (after) sql += sql_where_before_cursor;
    sql += sql_runs_order;

    read_transaction tx(db);
    stmt_ptr stmt = prepare(db, sql);
    sqlite3_stmt* s = stmt.get();
    int i = 0;
    if (filter.status) bind_text(s, ++i, *filter.status);
    if (filter.agent) bind_text(s, ++i, *filter.agent);
    if (filter.tag) bind_text(s, ++i, *filter.tag);
    if (filter.since_ms) sqlite3_bind_int64(s, ++i, *filter.since_ms);
    if (filter.until_ms) sqlite3_bind_int64(s, ++i, *filter.until_ms);
    if (after) {
        sqlite3_bind_int64(s, ++i, after->started_ms);
        bind_text(s, ++i, after->id);
    }
    // One row more than the page tells whether another page follows.
    sqlite3_bind_int64(s, ++i, static_cast<std::int64_t>(limit + 1));

    boost::json::array runs;
    std::optional<std::string> next_cursor;
    std::int64_t last_started_ms = 0;  // the key of the page's last run
    std::string last_id;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (runs.size() == limit) {
            next_cursor = encode_cursor(last_started_ms, last_id);
            rc = SQLITE_DONE;
            break;
        }
        runs.emplace_back(run_object(s));
        last_started_ms = sqlite3_column_int64(s, 7);
        last_id = std::string{column_text_view(s, 0)};
    }
    check(db, rc, "list runs");

    boost::json::object body;
    body["runs"] = std::move(runs);
    body["next_cursor"] = next_cursor ? boost::json::value(boost::json::string(*next_cursor)) : nullptr;
    result.body = std::move(body);
    return result;
}

std::string encode_run_detail(boost::json::object run) {
    const auto* cost = run.if_contains("cost_usd");
    if (cost == nullptr || !cost->is_double()) return boost::json::serialize(run);
    const double value = cost->get_double();
    run.erase("cost_usd");
    std::string text = boost::json::serialize(run);
    char number[32];
    const auto [end, ec] = std::to_chars(number, number + sizeof number, value);
    if (ec != std::errc{} || text.size() < 2) return boost::json::serialize(run);
    text.pop_back();  // the closing brace
    if (text.size() > 1) text += ',';
    text.append("\"cost_usd\":").append(number, end).append("}");
    return text;
}

std::optional<boost::json::object> get_run(sqlite3* db, const std::string& run_id) {
    read_transaction tx(db);
    stmt_ptr run_stmt = prepare(db, std::string{sql_run_columns} + sql_run_by_id);
    sqlite3_stmt* s = run_stmt.get();
    bind_text(s, 1, run_id);
    const int rc = sqlite3_step(s);
    check(db, rc, "get run");
    if (rc != SQLITE_ROW) return std::nullopt;

    boost::json::object run = run_object(s);
    run["input_tokens"] = sqlite3_column_int64(s, 12);
    run["output_tokens"] = sqlite3_column_int64(s, 13);
    run["cost_usd"] = sqlite3_column_double(s, 14);
    if (sqlite3_column_type(s, 8) == SQLITE_NULL) {
        run["duration_ms"] = nullptr;
    } else {
        run["duration_ms"] = sqlite3_column_int64(s, 8) - sqlite3_column_int64(s, 7);
    }

    stmt_ptr counts_stmt = prepare(db, sql_step_counts);
    sqlite3_stmt* c = counts_stmt.get();
    bind_text(c, 1, run_id);
    boost::json::object step_counts;
    int crc = 0;
    while ((crc = sqlite3_step(c)) == SQLITE_ROW) {
        step_counts[column_text_view(c, 0)] = sqlite3_column_int64(c, 1);
    }
    check(db, crc, sql_step_counts);
    run["step_counts"] = std::move(step_counts);
    return run;
}

}  // namespace obs::persistence
