// Write routes: POST /observability/events, /runs, /runs/{id}/steps and
// /runs/{id}/finish. Bodies are decoded and validated in full on the io
// thread (domain/), then handed to the writer; the client is answered only
// after the batch's transaction committed.
#include "domain/plain_batch.hpp"
#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "domain/validation.hpp"
#include "persistence/queries.hpp"
#include "server/app.hpp"
#include "server/http/header_text.hpp"
#include "server/routes/routes.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace obs::server {
namespace {

template <class T>
using result = boost::system::result<T, api_error>;

enum class body_format { json, ndjson };

result<body_format> require_format(const request& req, bool ndjson_allowed) {
    const std::string_view sent = req.header("content-type").value_or("");
    const std::string_view type = media_type_of(sent);
    if (boost::beast::iequals(type, "application/json")) return body_format::json;
    if (ndjson_allowed && boost::beast::iequals(type, "application/x-ndjson")) return body_format::ndjson;
    return make_error(error_code::unsupported_media_type,
                      std::string("Content-Type must be application/json") +
                          (ndjson_allowed ? " or application/x-ndjson" : "") +
                          (sent.empty() ? " (none was sent)" : ", not " + std::string(type)));
}

result<boost::json::value> parse_body(const request& req, boost::json::storage_ptr storage = {}) {
    auto parsed = domain::parse_json(req.body, std::move(storage));
    if (!parsed.value)
        return make_error(error_code::bad_json, "body is not JSON at byte " + std::to_string(parsed.error->byte_offset) +
                                                    ": " + parsed.error->message);
    return std::move(*parsed.value);
}

api_error validation_error(std::vector<domain::violation> violations, bool strip_payload_prefix) {
    std::set<std::size_t> bad_events;
    for (auto& v : violations) {
        bad_events.insert(v.index);
        if (strip_payload_prefix && v.path.starts_with("payload.")) v.path.erase(0, 8);
    }
    api_error e = make_error(error_code::validation_failed,
                             bad_events.size() == 1 ? "1 event is invalid"
                                                    : std::to_string(bad_events.size()) + " events are invalid");
    e.details = domain::violations_to_json(violations);
    return e;
}

// {"accepted": n, "duplicates": d, "events": [{"id","offset","seq","duplicate"}]}.
// Ids are [A-Za-z0-9._:-] by validation, so they need no escaping. Written
// with appends only: a batch of 1000 is 1000 entries on the io thread.
std::string acks_body(const persistence::write_outcome& outcome) {
    std::size_t duplicates = 0;
    for (const auto& ack : outcome.acks) duplicates += ack.duplicate ? 1 : 0;
    std::string body;
    body.reserve(64 + outcome.acks.size() * 96);
    const auto append_number = [&body](std::int64_t n) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
        body.append(digits, end);
    };
    body.append("{\"accepted\":");
    append_number(static_cast<std::int64_t>(outcome.acks.size() - duplicates));
    body.append(",\"duplicates\":");
    append_number(static_cast<std::int64_t>(duplicates));
    body.append(",\"events\":[");
    for (std::size_t i = 0; i < outcome.acks.size(); ++i) {
        const auto& ack = outcome.acks[i];
        body.append(i == 0 ? "{\"id\":\"" : ",{\"id\":\"").append(ack.id).append("\",\"offset\":");
        append_number(ack.offset);
        body.append(",\"seq\":");
        append_number(ack.seq);
        body.append(ack.duplicate ? ",\"duplicate\":true}" : ",\"duplicate\":false}");
    }
    body.append("]}");
    return body;
}

std::optional<api_error> run_id_problem(const std::string& run_id) {
    if (domain::is_valid_id(run_id)) return std::nullopt;
    return make_error(error_code::bad_request, "a run id is 1-128 characters of [A-Za-z0-9._:-]");
}

// The id of the event a run-level route writes: fixed per run, so an
// identical repeat is a duplicate and a different body a conflict.
std::string run_event_id(std::string_view kind, const std::string& run_id) {
    return std::string(kind) + ":" + domain::sha256_hex(run_id).substr(0, 32);
}

// Writes one run-level event (run_started or run_finished) whose payload is
// the request body, then answers the run: `fresh_status` when stored now,
// 200 for an identical repeat.
boost::asio::awaitable<handler_result> write_run_event(app& a, domain::event_type type, std::string run_id,
                                                       boost::json::object payload, unsigned fresh_status) {
    boost::json::object envelope{{"id", run_event_id(domain::to_string(type), run_id)},
                                 {"run_id", run_id},
                                 {"type", domain::to_string(type)},
                                 {"payload", std::move(payload)}};
    std::vector<domain::violation> violations;
    auto ev = domain::decode_event(envelope, 0, domain::now_unix_ms(), violations);
    if (!ev) co_return validation_error(std::move(violations), true);
    std::vector<domain::event> batch;
    batch.push_back(std::move(*ev));
    auto outcome = co_await a.submit(std::move(batch));
    if (!outcome) co_return outcome.error();
    auto query = [run_id](sqlite3* db) { return persistence::get_run(db, run_id); };
    auto run = co_await a.read(std::move(query));
    if (!run) co_return run.error();
    if (!*run) co_return failure(error_code::internal, "the run was stored but could not be read back");
    co_return json_answer(outcome->acks.front().duplicate ? 200 : fresh_status, persistence::encode_run_detail(std::move(**run)));
}

// Parses and decodes a POST /observability/events body: the streaming fast
// path first (domain/plain_batch.hpp), and when it declines the full decoder,
// which reports every violation. The full decoder's JSON lives only for this
// call (the events keep copies of what they need), in an arena freed at
// once: node by node, freeing it cost as much as parsing it.
result<domain::batch_result> decode_events_body(const request& req, body_format format, std::int64_t now) {
    if (format == body_format::json) {
        if (auto events = domain::decode_plain_batch(req.body, now)) return domain::batch_result{std::move(*events), {}};
    }
    boost::json::monotonic_resource arena(std::max<std::size_t>(4096, req.body.size() * 2));
    const boost::json::storage_ptr storage(&arena);
    if (format == body_format::json) {
        auto body = parse_body(req, storage);
        if (!body) return body.error();
        if (const auto* obj = body->if_object(); obj != nullptr && !obj->contains("events") &&
                                                 (obj->contains("type") || obj->contains("run_id"))) {
            // One event on its own: say what the body must be rather than
            // list its fields as unknown.
            const std::string why =
                "the body must be {\"events\": [event, ...]} (or NDJSON, one event a line, with Content-Type: "
                "application/x-ndjson), not one event on its own";
            api_error e = validation_error({{0, "", why}}, false);
            e.message = why;
            return e;
        }
        return domain::decode_event_batch(*body, now);
    }
    auto lines = domain::parse_ndjson(req.body, storage);
    if (lines.error)
        return make_error(error_code::bad_json, "body is not NDJSON at byte " +
                                                    std::to_string(lines.error->byte_offset) + ": " +
                                                    lines.error->message);
    return domain::decode_event_list(lines.values, now);
}

// The answer to a stored batch: 201 with its acks, or why it was not stored.
// (The handlers await the writer themselves: a coroutine between them and
// app::submit was a frame more per request.)
handler_result acks_answer(const boost::system::result<persistence::write_outcome, api_error>& outcome) {
    if (!outcome) return outcome.error();
    return json_answer(201, acks_body(*outcome));
}

}  // namespace

boost::asio::awaitable<handler_result> post_events(app& a, request req) {
    auto format = require_format(req, true);
    if (!format) co_return format.error();
    auto decoded = decode_events_body(req, *format, domain::now_unix_ms());
    if (!decoded) co_return decoded.error();
    if (!decoded->ok()) co_return validation_error(std::move(decoded->violations), false);
    auto outcome = co_await a.submit(std::move(decoded->events));
    co_return acks_answer(outcome);
}

boost::asio::awaitable<handler_result> post_steps(app& a, request req) {
    const std::string run_id = req.param("run_id");
    if (auto problem = run_id_problem(run_id)) co_return *problem;
    if (auto format = require_format(req, false); !format) co_return format.error();
    auto body = parse_body(req);
    if (!body) co_return body.error();
    std::vector<boost::json::value> items;
    const auto* obj = body->if_object();
    if (obj != nullptr && obj->contains("steps") && !obj->contains("type")) {
        const auto* list = obj->at("steps").if_array();
        if (list == nullptr || obj->size() != 1)
            co_return validation_error({{0, obj->size() != 1 ? "" : "steps",
                                         obj->size() != 1 ? "only the key \"steps\" is allowed here" : "must be an array"}},
                                       false);
        items.assign(list->begin(), list->end());
    } else {
        items.push_back(std::move(*body));
    }
    auto decoded = domain::decode_event_list(items, domain::now_unix_ms(), run_id);
    if (!decoded.ok()) co_return validation_error(std::move(decoded.violations), false);
    auto outcome = co_await a.submit(std::move(decoded.events));
    co_return acks_answer(outcome);
}

boost::asio::awaitable<handler_result> post_run(app& a, request req) {
    if (auto format = require_format(req, false); !format) co_return format.error();
    auto body = parse_body(req);
    if (!body) co_return body.error();
    auto* obj = body->if_object();
    if (obj == nullptr) co_return validation_error({{0, "", "must be an object"}}, false);
    std::string run_id;
    if (auto* id = obj->if_contains("id")) {
        if (!id->is_string() || !domain::is_valid_id(id->get_string()))
            co_return validation_error({{0, "id", "must be an id: 1-128 characters of [A-Za-z0-9._:-]"}}, false);
        run_id = std::string(id->get_string());
        obj->erase("id");
    } else {
        run_id = domain::make_uuid_v7(domain::now_unix_ms());
    }
    boost::json::object payload = std::move(*obj);
    co_return co_await write_run_event(a, domain::event_type::run_started, std::move(run_id), std::move(payload), 201);
}

boost::asio::awaitable<handler_result> finish_run(app& a, request req) {
    std::string run_id = req.param("run_id");
    if (auto problem = run_id_problem(run_id)) co_return *problem;
    if (auto format = require_format(req, false); !format) co_return format.error();
    auto body = parse_body(req);
    if (!body) co_return body.error();
    auto* obj = body->if_object();
    if (obj == nullptr) co_return validation_error({{0, "", "must be an object"}}, false);
    auto query = [run_id](sqlite3* db) { return persistence::get_run(db, run_id); };
    auto existing = co_await a.read(std::move(query));
    if (!existing) co_return existing.error();
    if (!*existing) co_return failure(error_code::not_found, "no run with id " + run_id);
    boost::json::object payload = std::move(*obj);
    co_return co_await write_run_event(a, domain::event_type::run_finished, std::move(run_id), std::move(payload), 200);
}

}  // namespace obs::server
